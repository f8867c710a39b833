/* Test fixture of the sequencer tests: a simulated station (sim stage,
 * sim camera rendering a scene at the stage's true position, the real
 * matcher and an SQLite journal in a temporary directory), optionally with
 * the stage behind the SENTIO server over loopback TCP and the sequencer
 * driving it through the SENTIO client. Speed 0. */
#ifndef PV_TEST_SEQ_STATION_H
#define PV_TEST_SEQ_STATION_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "probevision/run.h"
#include "probevision/sim.h"

typedef struct seq_setup {
  const pv_scene *scene;
  const pv_image *templ;
  int width, height;
  pv_sim_stage_params stage;      /* speed is forced to 0 */
  double camera_fault;            /* nodata probability */
  int via_sentio;                 /* drive the stage over SENTIO/TCP */
  int sentio_retries;             /* the client's own retries of a move */
  pv_sim_faults server_faults;    /* of the SENTIO server */
  const pv_sequencer_params *seq; /* NULL: defaults */
  const pv_match_params *match;   /* NULL: defaults */
  const pv_targets *targets;      /* NULL: the scene's dies in order */
  int npoints;                    /* generated targets (targets NULL) */
  pv_acquisition acquisition;     /* the camera's (AUTO: the sim's software) */
  int record_settles;             /* put a settle recorder in front of the
                                     stage (station.settles) */
  /* NULL, or a stage put in front of the one the sequencer would drive
   * (after the settle recorder); the station destroys it */
  pv_stage *(*wrap)(pv_stage *inner, void *ctx);
  void *wrap_ctx;
} seq_setup;

/* Forwarders for test stages put in front of another: the wrapper's object
 * begins with the stage it wraps (`pv_stage *inner` as first member), and
 * its driver table uses fwd_* for every entry it does not watch or change.
 * Inline, so a test that does not use one gets no warning. */
static inline pv_stage *fwd_inner(void *self) { return *(pv_stage **)self; }
static inline int fwd_connect(void *self, pv_error *err) {
  return pv_stage_connect(fwd_inner(self), err);
}
static inline int fwd_move_abs(void *self, double x, double y, pv_error *err) {
  return pv_stage_move_abs(fwd_inner(self), x, y, err);
}
static inline int fwd_move_rel(void *self, double dx, double dy, pv_error *err) {
  return pv_stage_move_rel(fwd_inner(self), dx, dy, err);
}
static inline int fwd_wait_settled(void *self, int64_t *t, pv_error *err) {
  return pv_stage_wait_settled(fwd_inner(self), t, err);
}
static inline int fwd_get_position(void *self, double *x, double *y, pv_error *err) {
  return pv_stage_get_position(fwd_inner(self), x, y, err);
}
static inline int fwd_get_truth(void *self, double *x, double *y) {
  return pv_stage_get_truth(fwd_inner(self), x, y);
}
static inline int fwd_contact(void *self, double *z, pv_error *err) {
  return pv_stage_contact(fwd_inner(self), z, err);
}
static inline int fwd_separate(void *self, double *z, pv_error *err) {
  return pv_stage_separate(fwd_inner(self), z, err);
}
static inline int fwd_get_z(void *self, double *z, pv_stage_z *where, pv_error *err) {
  return pv_stage_get_z(fwd_inner(self), z, where, err);
}
static inline void fwd_destroy_nothing(void *self) { (void)self; } /* owned by the test */

/* A stage in front of another that remembers the last settle (stepper
 * thread only). */
typedef struct settle_recorder {
  pv_stage *inner;
  int64_t last_settled_ns;
  int settles;
} settle_recorder;

typedef struct station {
  pv_stage *sim_stage;        /* the simulated stage (truth) */
  pv_stage *stage;            /* what the sequencer drives */
  pv_sentio_server *server;   /* via_sentio only */
  pv_camera *cam;
  pv_matcher *matcher;
  pv_journal *journal;
  int64_t run_id;
  pv_targets targets;
  pv_sequencer *seq;
  char db[160];
  void *sim_cam;              /* the sim camera's driver object (records) */
  pv_stage *recording;        /* record_settles: the recorder's stage */
  settle_recorder *settles;   /*   and its state (owned by that stage) */
  pv_stage *wrapped;          /* seq_setup.wrap's stage */
} station;

static int rec_wait_settled(void *self, int64_t *t, pv_error *err) {
  settle_recorder *r = self;
  int rc = pv_stage_wait_settled(r->inner, t, err);
  if (rc == 0) r->last_settled_ns = *t, r->settles++;
  return rc;
}
static void rec_destroy(void *self) { free(self); }
static const pv_stage_driver settle_recorder_driver = {
    .name = "settle-recorder", .connect = fwd_connect, .move_abs = fwd_move_abs,
    .move_rel = fwd_move_rel, .wait_settled = rec_wait_settled,
    .get_position = fwd_get_position, .get_truth = fwd_get_truth, .destroy = rec_destroy,
    .contact = fwd_contact, .separate = fwd_separate, .get_z = fwd_get_z};

static char seq_dir[64];

static inline int seq_dir_make(void) {
  if (getenv("PV_TEST_DEBUG") != NULL) pv_log_set_level(PV_LOG_DEBUG);
  snprintf(seq_dir, sizeof seq_dir, "/tmp/pv-seq-XXXXXX");
  return mkdtemp(seq_dir) == NULL ? -1 : 0;
}

static inline int seq_dir_remove(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", seq_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* Group set-up of a test file: the temporary directory, the scene of wp
 * (NULL: the default wafer) and its template. 0 or -1. */
static inline int seq_world_open(const pv_wafer_params *wp, pv_scene **scene,
                                 pv_image *templ) {
  pv_wafer_params def;
  pv_wafer_params_default(&def);
  if (seq_dir_make() != 0 || pv_scene_create(wp ? wp : &def, scene) != 0) return -1;
  return pv_scene_template(*scene, templ);
}

static inline int seq_world_close(pv_scene *scene, pv_image *templ) {
  pv_image_free(templ);
  pv_scene_destroy(scene);
  return seq_dir_remove();
}

static inline void seq_setup_default(seq_setup *o, const pv_scene *scene,
                                     const pv_image *templ, int w, int h) {
  memset(o, 0, sizeof *o);
  o->scene = scene;
  o->templ = templ;
  o->width = w;
  o->height = h;
  pv_sim_stage_params_default(&o->stage);
}

static inline void open_sentio(station *s, const seq_setup *o) {
  pv_error err;
  if (pv_sentio_server_start(s->sim_stage, "127.0.0.1", 0, &o->server_faults, &s->server,
                             &err) != 0)
    fail_msg("sentio server: %s", err.msg);
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  p.port = pv_sentio_server_port(s->server);
  p.timeout_ms = 300;
  p.retries = o->sentio_retries;
  if (pv_sentio_stage_create(&p, &s->stage, &err) != 0) fail_msg("sentio stage: %s", err.msg);
  if (pv_stage_connect(s->stage, &err) != 0) fail_msg("sentio connect: %s", err.msg);
}

static inline void station_open(station *s, const seq_setup *o) {
  static int serial;
  memset(s, 0, sizeof *s);
  pv_error err;
  pv_sim_stage_params stp = o->stage;
  stp.speed = 0;
  assert_int_equal(pv_sim_stage_create(&stp, &s->sim_stage), 0);
  s->stage = s->sim_stage;
  if (o->via_sentio) open_sentio(s, o);
  if (o->record_settles) {
    s->settles = calloc(1, sizeof *s->settles);
    s->settles->inner = s->stage;
    assert_int_equal(pv_stage_create(&settle_recorder_driver, s->settles, &s->recording), 0);
    s->stage = s->recording;
  }
  if (o->wrap != NULL) {
    s->wrapped = o->wrap(s->stage, o->wrap_ctx);
    assert_non_null(s->wrapped);
  }

  pv_sim_camera_params cp;
  pv_sim_camera_params_default(&cp);
  cp.width = o->width;
  cp.height = o->height;
  cp.speed = 0;
  cp.fault_nodata = o->camera_fault;
  const pv_camera_driver *drv;
  void *self;
  assert_int_equal(pv_sim_camera_new(&cp, o->scene, pv_sim_stage_truth(s->sim_stage), &drv,
                                     &self), 0);
  s->sim_cam = self;
  pv_camera_params camp;
  pv_camera_params_default(&camp);
  camp.acquisition = o->acquisition;
  if (pv_camera_create(drv, self, &camp, &s->cam, &err) != 0) fail_msg("camera: %s", err.msg);

  pv_match_params mp;
  pv_match_params_default(&mp);
  if (o->match != NULL) mp = *o->match;
  assert_int_equal(pv_matcher_create(o->width, o->height, o->templ, &mp, &s->matcher), 0);

  snprintf(s->db, sizeof s->db, "%s/r%d.db", seq_dir, serial++);
  if (pv_journal_open(s->db, &s->journal, &err) != 0) fail_msg("journal: %s", err.msg);
  assert_int_equal(pv_journal_begin_run(s->journal, "c", "t", "", &s->run_id, &err), 0);
  if (o->targets != NULL) {
    s->targets.count = o->targets->count;
    s->targets.items = malloc((size_t)o->targets->count * sizeof *s->targets.items);
    memcpy(s->targets.items, o->targets->items,
           (size_t)o->targets->count * sizeof *s->targets.items);
  } else {
    const pv_wafer_params *wp = pv_scene_params(o->scene);
    pv_die_grid g = {wp->cols,       wp->rows,       wp->pitch_x_um,
                     wp->pitch_y_um, wp->mark_x_um, wp->mark_y_um};
    assert_int_equal(pv_targets_generate(&g, o->npoints, &s->targets), 0);
  }

  pv_sequencer_params sp;
  if (o->seq != NULL) sp = *o->seq;
  else pv_sequencer_params_default(&sp);
  sp.um_per_px = pv_scene_params(o->scene)->um_per_px;
  if (o->camera_fault > 0) sp.frame_timeout_ms = 50, sp.frame_retries = 1;
  pv_sequencer_io io = {s->cam, s->wrapped ? s->wrapped : s->stage, s->matcher, s->journal,
                        s->run_id};
  assert_int_equal(pv_sequencer_create(&sp, &io, o->width, o->height, &s->seq), 0);
}

static inline void station_close(station *s) {
  pv_sequencer_destroy(s->seq);
  pv_targets_free(&s->targets);
  pv_journal_close(s->journal);
  pv_matcher_destroy(s->matcher);
  pv_camera_destroy(s->cam);
  pv_stage_destroy(s->wrapped);
  if (s->recording) {
    s->stage = s->settles->inner;
    pv_stage_destroy(s->recording);
  }
  if (s->stage != s->sim_stage) pv_stage_destroy(s->stage);
  pv_sentio_server_stop(s->server);
  pv_stage_destroy(s->sim_stage);
}

/* Count of rows of the points table matching a condition. */
static inline int count_points(const station *s, const char *where) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM points WHERE %s", where);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

#endif
