/* Internal functions of the run module (src/run/). */
#ifndef PV_RUN_INTERNAL_H
#define PV_RUN_INTERNAL_H

#include "probevision/run.h"

/* ---- spacing.c ---- */
/* Smallest distance (um) between two distinct target positions of t
 * (revisits of a position within 1 um do not count); INFINITY when there
 * are fewer than two. Exact on grids, an upper bound otherwise (see
 * spacing.c). Allocates a scratch copy; PV_ENOMEM if that fails.
 * Thread-safe. */
int pv__targets_spacing(const pv_targets *t, double *out);
/* Smallest distance (um) between two of the n matches that score at least
 * min_score; INFINITY when fewer than two do. Thread-safe. */
double pv__marks_spacing(const pv_match *m, int n, double min_score,
                         double um_per_px);

/* ---- sequencer.c: the state shared with contact.c and map_run.c ---- */
#define PV__MATCHES_MAX 64

struct pv_sequencer {
  pv_sequencer_params p;
  pv_sequencer_io io;
  int max_w, max_h; /* the largest usable frame */
  pv_match matches[PV__MATCHES_MAX];
  pv_point_result res;
  int frames;
  int64_t min_margin_ns;
  double targets_spacing_um; /* of the current run's list */
  double radius_um;          /* resolved search radius; NAN until then */
  char config_error[PV_ERROR_MSG_MAX]; /* set: the run cannot align */
  double cmd_x, cmd_y;       /* the last commanded stage position */
  int separation_failed;     /* the chuck may still be in contact: stop */
};

/* Per-run bookkeeping of the point loops (sequencer.c, map_run.c). */
typedef struct pv__run_loop {
  pv_run_summary *out;
  pv_progress_cb progress;
  void *ctx;
  int total; /* 0: not known (map runs) */
  double res_sum, res_max, truth_sum, truth_max;
  int res_n, truth_n;
  int64_t t0;
} pv__run_loop;

/* Empty summary: zero counts, NAN statistics, margins unknown. */
void pv__summary_init(pv_run_summary *out);
/* Starts a run's loop (out already initialised): resets the
 * sequencer's per-run state, and with probe contact on makes sure the
 * chuck is at separation before the first XY move. Returns 0, or
 * PV_ESTAGE with out->error set (nothing moved in XY). Stepper thread. */
int pv__loop_begin(pv_sequencer *s, pv__run_loop *L, pv_run_summary *out,
                   pv_progress_cb progress, void *ctx, int total);
/* Runs one point at t (pre_settled > 0: the stage is already at t, settled
 * then, e.g. stepped there by the station's map), records it and logs it.
 * die (may be NULL) is the station's die of a map run. Returns 0 to go
 * on, or a negative status that ends the run: the journal's error,
 * PV_EINVAL (configuration cannot align, out->error set) or PV_ESTAGE (a
 * separation failed: the point is recorded, out->error set). */
int pv__loop_point(pv_sequencer *s, pv__run_loop *L, int pos, const pv_target *t,
                   int64_t pre_settled, const pv_map_die *die);
/* Fills the summary's statistics. */
void pv__loop_end(pv_sequencer *s, pv__run_loop *L);

/* ---- contact.c: Z around the measurement ---- */
/* With probe contact on: reads Z and moves to separation unless already
 * there. 0 or PV_ESTAGE with msg set. Stepper thread. */
int pv__z_ensure_separation(pv_sequencer *s, char *msg, size_t cap);
/* After a point aligned (s->res.status OK): contact (when on), the
 * measurement hook (when configured), separation (always after a contact
 * attempt). Sets res.status / error / contact_z_um; a failed separation
 * sets s->separation_failed. Stepper thread. */
void pv__z_measure(pv_sequencer *s);

#endif
