/* probevision run: the target list, the results journal (SQLite), the
 * measurement hook and the sequencer that steps through the targets,
 * aligns each one by vision and records it.
 *
 * Threads: a sequencer, its journal and its stage belong to one thread (the
 * stepper); targets are plain data (read-only use from any thread).
 * Coordinates are stage micrometres throughout.
 */
#ifndef PROBEVISION_RUN_H
#define PROBEVISION_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "probevision/camera.h"
#include "probevision/core.h"
#include "probevision/match.h"
#include "probevision/stage.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants -------------------------------------------------------- */

#define PV_TARGETS_MAX 1000000      /* rows in a targets file */
#define PV_TARGETS_LINE_MAX 4096    /* bytes in one line (without newline) */
#define PV_TARGET_NAME_MAX 64       /* name bytes including the NUL */
#define PV_MEASURE_OUTPUT_MAX 4096  /* hook stdout bytes kept */
#define PV_POINT_ERROR_MAX (PV_ERROR_MSG_MAX + 64) /* error text per point */
#define PV_HASH_HEX 17              /* 16 hex digits and the NUL */

/* ---- targets ---------------------------------------------------------- */

typedef struct pv_target {
  int64_t index;                 /* >= 0, unique in a list */
  double x_um, y_um;
  char name[PV_TARGET_NAME_MAX]; /* "" when the file has no names */
} pv_target;

typedef struct pv_targets {
  pv_target *items; /* count entries, in file order; owned */
  int count;
} pv_targets;

/* Reads a CSV targets file: a header naming the columns (index, x_um, y_um
 * or index, x_mm, y_mm, optional name; any order), then one row per
 * target; blank lines and '#' comments skipped. Malformed input: PV_EPARSE
 * with "FILE:LINE: ..." in err; unreadable: PV_EIO. On success *out owns
 * the list (free with pv_targets_free); on failure *out is empty. */
int pv_targets_load(const char *path, pv_targets *out, pv_error *err);
/* A regular grid of dies (the simulated wafer's, for the demo list): die
 * k = r * cols + c (0 <= c < cols, 0 <= r < rows) has its alignment mark at
 * (mark_x_um + c * pitch_x_um, mark_y_um + r * pitch_y_um). */
typedef struct pv_die_grid {
  int cols, rows;
  double pitch_x_um, pitch_y_um;
  double mark_x_um, mark_y_um; /* die (0, 0)'s mark */
} pv_die_grid;
/* The built-in demo list: n points over the grid's dies in order (die
 * i % (cols * rows)), index i, name "die-C-R", at the die's mark.
 * PV_EINVAL when n or the grid is out of range; on failure *out is empty.
 * Thread-safe (no shared state). */
int pv_targets_generate(const pv_die_grid *grid, int n, pv_targets *out);
/* Frees the list and zeroes *t. Accepts NULL and an empty list. */
void pv_targets_free(pv_targets *t);
/* FNV-1a 64 of the canonical text "index,x,y,name\n" per target (%.17g
 * numbers), so equal lists hash equal whatever their file's units. */
uint64_t pv_targets_hash(const pv_targets *t);
/* A run that steps by the station's own wafer map (`--targets sentio-map`)
 * has no list: its targets hash is FNV-1a 64 of the text "sentio-map\n",
 * so such a run resumes only as a map run (the route itself is the
 * station's; resuming checks that the last recorded die still exists on
 * it). Thread-safe. */
#define PV_TARGETS_SENTIO_MAP "sentio-map"
uint64_t pv_targets_map_hash(void);

/* FNV-1a 64 of n bytes continuing from h (start with PV_FNV1A64_INIT), and
 * its 16-digit lower-case hex form. */
#define PV_FNV1A64_INIT UINT64_C(0xcbf29ce484222325)
uint64_t pv_fnv1a64(uint64_t h, const void *data, size_t n);
void pv_hash_hex(uint64_t h, char out[PV_HASH_HEX]);

/* ---- point results ---------------------------------------------------- */

#define PV_POINT_STATUS_MAP(XX)                                                \
  XX(OK, "ok")                                                                 \
  XX(NO_MATCH, "no_match")                                                     \
  XX(LOW_SCORE, "low_score")                                                   \
  XX(AMBIGUOUS, "ambiguous")                                                   \
  XX(NOT_CONVERGED, "not_converged")                                           \
  XX(CAMERA_ERROR, "camera_error")                                             \
  XX(STAGE_ERROR, "stage_error")                                               \
  XX(MEASURE_FAILED, "measure_failed")                                         \
  XX(SKIPPED, "skipped")

typedef enum pv_point_status {
#define PV__POINT_STATUS_ENUM(name, text) PV_POINT_##name,
  PV_POINT_STATUS_MAP(PV__POINT_STATUS_ENUM)
#undef PV__POINT_STATUS_ENUM
  PV_POINT_STATUS_COUNT
} pv_point_status;

/* "no_match" etc.; "?" when out of range. Static strings, thread-safe. */
const char *pv_point_status_name(pv_point_status s);
/* Back from the name; -1 when unknown. */
int pv_point_status_parse(const char *name);

/* One point's outcome. A double that is NAN is stored as NULL (does not
 * apply / never measured); so is an empty error, and measure_output unless
 * `measured` is set. Times are wall-clock ns (pv_wall_ns). */
typedef struct pv_point_result {
  int64_t idx;
  char name[PV_TARGET_NAME_MAX];
  double x_target_um, y_target_um;
  double x_final_um, y_final_um; /* the stage's reported position */
  double residual_um;            /* last measured |offset| */
  double score;                  /* match score of the chosen match */
  int iterations;                /* frames matched */
  pv_point_status status;
  double truth_error_um;         /* simulated stages only */
  int measured;                  /* the hook ran: measure_output applies */
  char measure_output[PV_MEASURE_OUTPUT_MAX + 1];
  char error[PV_POINT_ERROR_MAX];
  int64_t started_wall_ns, finished_wall_ns;
  /* The frame of the final alignment decision: the camera's frame id (0:
   * none, or unknown; stored as NULL) and how long after the last settle
   * its exposure began, in ms (NAN: no frame; journals older than these
   * columns read back 0 / NAN). */
  uint64_t frame_id;
  double exposure_margin_ms;
  /* The chuck height reached at contact, um (NAN: no contact: probe
   * contact off, or the point failed before it). */
  double contact_z_um;
  /* Map runs: the station's die (has_die 1); else has_die 0 and the die
   * columns are stored as NULL. */
  int has_die;
  int die_col, die_row, die_site;
} pv_point_result;

/* ---- journal ---------------------------------------------------------- */

typedef enum pv_run_status {
  PV_RUN_RUNNING, PV_RUN_FINISHED, PV_RUN_ABORTED
} pv_run_status;

typedef struct pv_journal pv_journal;

/* Opens (creating if needed) the SQLite results file: WAL journal,
 * synchronous=FULL, 5 s busy timeout, schema created or verified. A file
 * that is not SQLite or holds other tables of the same names: PV_EDB with
 * the path in err. One thread at a time per journal. */
int pv_journal_open(const char *path, pv_journal **out, pv_error *err);
void pv_journal_close(pv_journal *j); /* accepts NULL */

/* Inserts a run with status 'running'; hashes are pv_hash_hex strings and
 * config_text the effective configuration (all copied). */
int pv_journal_begin_run(pv_journal *j, const char *config_hash,
                         const char *targets_hash, const char *config_text,
                         int64_t *run_id, pv_error *err);
/* The newest run still 'running', with its hashes; PV_ENOTFOUND if none. */
int pv_journal_last_unfinished(pv_journal *j, int64_t *run_id,
                               char config_hash[PV_HASH_HEX],
                               char targets_hash[PV_HASH_HEX], pv_error *err);
/* For each target position i sets recorded[i] to 1 when the run already
 * holds a point with targets->items[i].index, else 0. Returns how many are
 * recorded (>= 0) or a negative status. */
int pv_journal_recorded(pv_journal *j, int64_t run_id,
                        const pv_targets *targets, unsigned char *recorded,
                        pv_error *err);
/* Inserts one point in one transaction. A point already recorded for
 * (run_id, idx) is never replaced: PV_ECONFLICT. */
int pv_journal_record(pv_journal *j, int64_t run_id,
                      const pv_point_result *p, pv_error *err);
/* The run's recorded point of highest idx: its idx and, when it has one,
 * its die (has_die 1). PV_ENOTFOUND when the run holds no point. */
int pv_journal_last_point(pv_journal *j, int64_t run_id, int64_t *idx,
                          int *has_die, pv_map_die *die, pv_error *err);
/* Sets the run's status and finished_at (now). */
int pv_journal_finish_run(pv_journal *j, int64_t run_id, pv_run_status st,
                          pv_error *err);

/* ---- reading a journal (reports) -------------------------------------- */

typedef struct pv_run_record {
  int64_t id;
  char status[16];                      /* "running", "finished", "aborted" */
  char started_at[32], finished_at[32]; /* ISO-8601 UTC as stored; "" if none */
  char config_hash[PV_HASH_HEX], targets_hash[PV_HASH_HEX];
} pv_run_record;

/* Called for each point; a non-zero return stops the reading and is
 * returned by pv_journal_read_run. *p is valid only during the call. */
typedef int (*pv_point_visit_fn)(void *ctx, const pv_point_result *p);

/* Opens the journal at path read-only (its own connection; a run may be
 * writing it at the same time), fills *run for run_id (<= 0: the newest
 * run), then calls visit (may be NULL) for each of its points in the order
 * they were recorded; NULL columns come back as NAN / "" / 0 like
 * pv_journal_record stored them. PV_ENOTFOUND when the run does not exist,
 * PV_EDB with the path in err on a database error. Thread-safe (no shared
 * state). */
int pv_journal_read_run(const char *path, int64_t run_id, pv_run_record *run,
                        pv_point_visit_fn visit, void *ctx, pv_error *err);

/* ---- measurement hook ------------------------------------------------- */

typedef struct pv_measure_env {
  int64_t run_id, index;
  const char *name;
  double x_um, y_um;
} pv_measure_env;

/* Runs `/bin/sh -c command` in its own process group with PV_RUN,
 * PV_INDEX, PV_NAME, PV_X_UM, PV_Y_UM added to the environment. Keeps the
 * first min(cap - 1, PV_MEASURE_OUTPUT_MAX) bytes of its stdout in out
 * (NUL-terminated; the rest is read and discarded); stderr is inherited.
 * *exit_status: the exit code, 128 + signal if killed, -1 if unknown.
 * PV_ETIMEDOUT (group killed) after timeout_s (<= 0: no limit); PV_ECHILD
 * on a non-zero exit or a signal. Thread-safe (fork/exec only; no global state). */
int pv_measure_run(const char *command, double timeout_s,
                   const pv_measure_env *env, char *out, size_t cap,
                   int *exit_status, pv_error *err);

/* ---- sequencer -------------------------------------------------------- */

typedef struct pv_sequencer_params {
  double tolerance_um;   /* converged when |offset| <= this (default 2) */
  int max_iterations;    /* frames per point (default 3) */
  int match_every;       /* align every n-th point, by position (default 1) */
  double min_score;      /* below: low_score (default 0.5) */
  /* Only a match within this distance of where the target's mark must be
   * is used, and no correction takes the chuck farther than this from the
   * target. 0: auto, 0.45 x the smallest of pitch_hint_um, the spacing of
   * the targets and the spacing of the marks in the first frame. */
  double search_radius_um;
  double ambiguity_margin; /* two candidates in the region within this
                              score of each other: ambiguous (0.1) */
  double pitch_hint_um;  /* smallest spacing of identical marks known
                            beforehand (a simulated wafer's pitch); 0: none */
  int frame_timeout_ms;  /* per wait for a fresh frame (default 2000) */
  int frame_retries;     /* extra waits before camera_error (default 2) */
  double um_per_px;      /* calibration (default 1.5) */
  int flip_x, flip_y, swap_xy; /* image -> stage axes (swap first) */
  int stage_retries;     /* extra move attempts before stage_error (2) */
  char measure_command[1024]; /* "" = no hook */
  double measure_timeout_s;  /* (default 60) */
  /* 1: the probing cycle with Z: XY moves only at separation (the chuck is
   * brought there before the run's first move), after alignment contact,
   * the measurement, back to separation. The stage must have Z
   * (pv_sequencer_create: PV_EUNSUPPORTED otherwise). 0 (default): vision
   * only, Z is never touched. */
  int contact;
} pv_sequencer_params;

typedef struct pv_sequencer_io {
  pv_camera *cam;
  pv_stage *stage;
  pv_matcher *matcher;
  pv_journal *journal;
  int64_t run_id;
} pv_sequencer_io;

typedef struct pv_run_summary {
  int counts[PV_POINT_STATUS_COUNT];
  int done;                   /* points processed in this call */
  double residual_mean_um, residual_max_um;  /* NAN when none */
  double truth_mean_um, truth_max_um;        /* NAN when none */
  double elapsed_s;
  int stopped;                /* the stop flag ended the run early */
  int frames;                 /* frames matched */
  /* min over used frames of exposure_ns - t_settled (always > 0);
   * INT64_MAX when no frame was used */
  int64_t min_settle_margin_ns;
  double search_radius_um;    /* the radius used; NAN before the first frame */
  /* Why the run stopped early: the configuration cannot align
   * (pv_sequencer_run returned PV_EINVAL) or the stage failed in a way
   * that forbids going on (PV_ESTAGE: a separation failed, so the chuck
   * may be in contact, or the station's map could not be stepped); ""
   * otherwise. */
  char error[PV_ERROR_MSG_MAX];
  int end_of_route;           /* map runs: the route's last die was done */
} pv_run_summary;

/* Called after each point (in the sequencer's thread); total is 0 when
 * not known (map runs). */
typedef void (*pv_progress_cb)(void *ctx, int done, int total,
                               const pv_point_result *last);

typedef struct pv_sequencer pv_sequencer;

void pv_sequencer_params_default(pv_sequencer_params *p);
/* Allocates everything the point loop needs (the match list; frames are
 * converted into the matcher's own buffer, pv_matcher_find_frame). Frames
 * larger than max_w x max_h are unusable. io's objects are borrowed and
 * must outlive the sequencer. */
int pv_sequencer_create(const pv_sequencer_params *p,
                        const pv_sequencer_io *io, int max_w, int max_h,
                        pv_sequencer **out);
void pv_sequencer_destroy(pv_sequencer *s); /* accepts NULL */

/* ---- per-frame vision (vision.c): what one alignment frame says ------- */

typedef struct pv_vision_result {
  pv_point_status status; /* ok, no_match, low_score or ambiguous */
  double dx_um, dy_um;    /* ok: the mark's stage offset from the
                             commanded position (else 0) */
  int candidates;         /* matches in the disc */
  double score;           /* the best one's score (NAN: none) */
  double next_score;      /* the second's (NAN: none) */
  double x_px, y_px;      /* the best one's image position (NAN: none) */
  char error[PV_POINT_ERROR_MAX]; /* why not ok; "" when ok */
} pv_vision_result;

/* The sequencer's vision step for one alignment frame f (any format
 * pv_matcher_find_frame takes): searches only the disc of radius_um around
 * where the target's mark must appear, the image centre moved by
 * (off_x_um, off_y_um) = target - commanded position through p's
 * calibration (um_per_px, swap_xy, flip_x, flip_y), converting to luma only
 * the pixels that search reads; then exactly one candidate in the disc,
 * scoring at least p->min_score and more than p->ambiguity_margin above any
 * other there, is ok, with its offset; otherwise the status says why.
 * Returns 0, or a negative pv_status when the frame cannot be searched
 * (then status no_match, error "match: ..."). Allocates nothing. Threads:
 * the matcher's rule (one thread at a time per matcher). */
int pv_vision_locate(const pv_sequencer_params *p, pv_matcher *m, const pv_frame *f,
                     double radius_um, double off_x_um, double off_y_um,
                     pv_vision_result *out);

/* Runs target positions first_pos .. first_pos + npoints - 1, skipping a
 * position whose skip[pos] is set (skip may be NULL). Each point is
 * recorded in the journal before the next starts. *stop (may be NULL) is
 * checked between points (a point in progress finishes, back at
 * separation). Returns PV_OK when the points ran (failed points
 * included), the journal's error (fatal: a result is never dropped),
 * PV_EINVAL with out->error set when the first frame shows that the
 * search radius cannot tell the dies apart (nothing is recorded then), or
 * PV_ESTAGE with out->error set when the chuck could not be brought to
 * separation (no XY move follows; the point is recorded as stage_error).
 * Allocates a scratch copy of the target positions while it starts. */
int pv_sequencer_run(pv_sequencer *s, const pv_targets *targets,
                     const unsigned char *skip, int first_pos, int npoints,
                     pv_progress_cb progress, void *ctx,
                     volatile sig_atomic_t *stop, pv_run_summary *out);

/* Where a map run starts: at the route's first die (resume 0), or after
 * the die (col, row, site) recorded last as point last_idx (resume 1). */
typedef struct pv_map_start {
  int resume;
  int64_t last_idx;
  int col, row, site;
} pv_map_start;

/* Steps by the station's own wafer map (the stage needs map_step): the
 * station moves the chuck to the route's first die (or, resuming, to the
 * last recorded die and then the next), the point is aligned there,
 * measured and recorded as idx 0, 1, ... with its die, then the station
 * steps to the next die, up to the die flagged end_of_route
 * (out->end_of_route set) or max_points points (<= 0: no limit). Stepping
 * FIRST/DIE is retried stage_retries times; a failed NEXT is retried as
 * DIE (the last done die) then NEXT, so a lost reply never skips a die.
 * Returns as pv_sequencer_run; PV_ESTAGE with out->error when the map
 * cannot be stepped. Stepper thread. */
int pv_sequencer_run_map(pv_sequencer *s, const pv_map_start *start, int max_points,
                         pv_progress_cb progress, void *ctx,
                         volatile sig_atomic_t *stop, pv_run_summary *out);

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_RUN_H */
