/* run: the sequencer on the simulated station (sim stage, sim camera over
 * the synthetic wafer, the real matcher and journal), small frames and
 * speed 0 so that it runs fast. */
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

#define W 640
#define H 512

static char dir[64];
static pv_scene *scene;
static pv_image templ;

typedef struct station {
  pv_stage *stage;
  pv_camera *cam;
  pv_matcher *matcher;
  pv_journal *journal;
  int64_t run_id;
  pv_targets targets;
  pv_sequencer *seq;
  char db[128];
} station;

static int group_setup(void **state) {
  if (getenv("PV_TEST_DEBUG") != NULL) pv_log_set_level(PV_LOG_DEBUG);
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/pv-seq-XXXXXX");
  if (mkdtemp(dir) == NULL) return -1;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  if (pv_scene_create(&wp, &scene) != 0) return -1;
  return pv_scene_template(scene, &templ);
}

static int group_teardown(void **state) {
  (void)state;
  pv_image_free(&templ);
  pv_scene_destroy(scene);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void open_station(station *s, double stage_fault, double camera_fault, int npoints,
                         const pv_sequencer_params *sp_in) {
  static int seq;
  memset(s, 0, sizeof *s);
  pv_error err;
  pv_sim_stage_params stp;
  pv_sim_stage_params_default(&stp);
  stp.speed = 0;
  stp.fault_error = stage_fault;
  assert_int_equal(pv_sim_stage_create(&stp, &s->stage), 0);

  pv_sim_camera_params cp;
  pv_sim_camera_params_default(&cp);
  cp.width = W;
  cp.height = H;
  cp.speed = 0;
  cp.fault_nodata = camera_fault;
  const pv_camera_driver *drv;
  void *self;
  assert_int_equal(pv_sim_camera_new(&cp, scene, pv_sim_stage_truth(s->stage), &drv, &self), 0);
  pv_camera_params camp;
  pv_camera_params_default(&camp);
  if (pv_camera_create(drv, self, &camp, &s->cam, &err) != 0) fail_msg("camera: %s", err.msg);

  pv_match_params mp;
  pv_match_params_default(&mp);
  assert_int_equal(pv_matcher_create(W, H, &templ, &mp, &s->matcher), 0);

  snprintf(s->db, sizeof s->db, "%s/r%d.db", dir, seq++);
  if (pv_journal_open(s->db, &s->journal, &err) != 0) fail_msg("journal: %s", err.msg);
  assert_int_equal(pv_journal_begin_run(s->journal, "c", "t", "", &s->run_id, &err), 0);
  const pv_wafer_params *wp = pv_scene_params(scene);
  pv_die_grid g = {wp->cols, wp->rows, wp->pitch_x_um, wp->pitch_y_um, wp->mark_x_um, wp->mark_y_um};
  assert_int_equal(pv_targets_generate(&g, npoints, &s->targets), 0);

  pv_sequencer_params sp;
  if (sp_in != NULL) sp = *sp_in;
  else pv_sequencer_params_default(&sp);
  sp.um_per_px = pv_scene_params(scene)->um_per_px;
  if (camera_fault > 0) sp.frame_timeout_ms = 50, sp.frame_retries = 1;
  pv_sequencer_io io = {s->cam, s->stage, s->matcher, s->journal, s->run_id};
  assert_int_equal(pv_sequencer_create(&sp, &io, W, H, &s->seq), 0);
}

static void close_station(station *s) {
  pv_sequencer_destroy(s->seq);
  pv_targets_free(&s->targets);
  pv_journal_close(s->journal);
  pv_matcher_destroy(s->matcher);
  pv_camera_destroy(s->cam);
  pv_stage_destroy(s->stage);
}

/* Count of rows of the points table matching a condition. */
static int count_points(const station *s, const char *where) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(s->db, &db), SQLITE_OK);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM points WHERE %s", where);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s", sqlite3_errmsg(db));
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

typedef struct progress {
  int calls, last_done, total, stop_after;
  volatile sig_atomic_t *stop;
} progress;

static void on_point(void *ctx, int done, int total, const pv_point_result *last) {
  progress *p = ctx;
  assert_int_equal(done, p->last_done + 1);
  assert_non_null(last);
  p->calls++;
  p->last_done = done;
  p->total = total;
  if (p->stop_after > 0 && done == p->stop_after) *p->stop = 1;
}

static void aligns_every_point_onto_its_true_mark(void **state) {
  (void)state;
  station s;
  open_station(&s, 0, 0, 10, NULL);
  progress pr = {0};
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, 10, on_point, &pr, NULL, &sum),
                   PV_OK);
  assert_int_equal(sum.done, 10);
  assert_int_equal(sum.counts[PV_POINT_OK], 10);
  assert_int_equal(pr.calls, 10);
  assert_int_equal(pr.total, 10);
  assert_false(sum.stopped);
  assert_true(sum.truth_max_um <= 2.5);
  assert_true(sum.residual_max_um <= 2.0);
  assert_true(sum.frames >= 10);
  assert_true(sum.min_settle_margin_ns > 0); /* no frame from before a settle */
  assert_int_equal(count_points(&s, "status = 'ok' AND truth_error_um <= 2.5 AND "
                                    "residual_um <= 2 AND iterations BETWEEN 1 AND 3 AND "
                                    "score >= 0.5 AND x_final_um IS NOT NULL"), 10);
  print_message("10 points: truth error mean %.2f max %.2f um, residual max %.2f um, "
                "%d frames, %.2f s\n", sum.truth_mean_um, sum.truth_max_um,
                sum.residual_max_um, sum.frames, sum.elapsed_s);
  close_station(&s);
}

static void stage_faults_are_recorded_and_the_run_goes_on(void **state) {
  (void)state;
  station s;
  open_station(&s, 1.0, 0, 4, NULL);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, 4, NULL, NULL, NULL, &sum),
                   PV_OK);
  assert_int_equal(sum.done, 4);
  assert_int_equal(sum.counts[PV_POINT_STAGE_ERROR], 4);
  assert_int_equal(sum.frames, 0);
  assert_int_equal(count_points(&s, "status = 'stage_error' AND error LIKE '%injected fault%'"
                                    " AND residual_um IS NULL AND iterations = 0"), 4);
  close_station(&s);
}

static void camera_faults_are_recorded_and_the_run_goes_on(void **state) {
  (void)state;
  station s;
  open_station(&s, 0, 1.0, 3, NULL);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, 3, NULL, NULL, NULL, &sum),
                   PV_OK);
  assert_int_equal(sum.done, 3);
  assert_int_equal(sum.counts[PV_POINT_CAMERA_ERROR], 3);
  assert_int_equal(count_points(&s, "status = 'camera_error' AND error LIKE 'camera:%'"), 3);
  close_station(&s);
}

static void match_every_skip_list_and_stop_flag(void **state) {
  (void)state;
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.match_every = 2;
  station s;
  open_station(&s, 0, 0, 8, &sp);
  unsigned char skip[8] = {0, 0, 1, 0, 0, 0, 0, 0};
  volatile sig_atomic_t stop = 0;
  progress pr = {.stop_after = 4, .stop = &stop};
  pv_run_summary sum;
  /* Positions 1..7 minus 2 (already recorded); stop after the 4th point. */
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, skip, 1, 7, on_point, &pr, &stop, &sum),
                   PV_OK);
  assert_true(sum.stopped);
  assert_int_equal(sum.done, 4);
  assert_int_equal(pr.total, 6);
  assert_int_equal(count_points(&s, "1"), 4);
  assert_int_equal(count_points(&s, "idx IN (1, 3, 4, 5)"), 4);
  /* Odd positions are not aligned (match_every 2), even ones are. */
  assert_int_equal(count_points(&s, "idx IN (1, 3, 5) AND status = 'ok' AND iterations = 0"
                                    " AND residual_um IS NULL AND score IS NULL"), 3);
  assert_int_equal(count_points(&s, "idx = 4 AND status = 'ok' AND iterations >= 1"), 1);
  close_station(&s);
}

static void a_journal_failure_ends_the_run_with_its_error(void **state) {
  (void)state;
  station s;
  open_station(&s, 0, 0, 3, NULL);
  pv_point_result taken;
  memset(&taken, 0, sizeof taken);
  taken.idx = 1;
  taken.x_target_um = taken.y_target_um = NAN;
  taken.x_final_um = taken.y_final_um = taken.residual_um = taken.score = NAN;
  taken.truth_error_um = NAN;
  pv_error err;
  assert_int_equal(pv_journal_record(s.journal, s.run_id, &taken, &err), 0);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, 3, NULL, NULL, NULL, &sum),
                   PV_ECONFLICT);
  assert_int_equal(sum.done, 1); /* point 0 recorded, point 1 refused, 2 never run */
  assert_int_equal(count_points(&s, "idx = 2"), 0);
  close_station(&s);
}

static void measurement_hook_runs_after_an_aligned_point(void **state) {
  (void)state;
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  snprintf(sp.measure_command, sizeof sp.measure_command,
           "echo \"$PV_INDEX $PV_NAME\"; test $PV_INDEX != 1");
  station s;
  open_station(&s, 0, 0, 2, &sp);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, 2, NULL, NULL, NULL, &sum),
                   PV_OK);
  assert_int_equal(sum.counts[PV_POINT_OK], 1);
  assert_int_equal(sum.counts[PV_POINT_MEASURE_FAILED], 1);
  assert_int_equal(count_points(&s, "idx = 0 AND status = 'ok' AND measure_output = "
                                    "'0 die-0-0\n' AND error IS NULL"), 1);
  assert_int_equal(count_points(&s, "idx = 1 AND status = 'measure_failed' AND "
                                    "measure_output = '1 die-1-0\n' AND error LIKE '%status 1%'"),
                   1);
  close_station(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(aligns_every_point_onto_its_true_mark),
      cmocka_unit_test(stage_faults_are_recorded_and_the_run_goes_on),
      cmocka_unit_test(camera_faults_are_recorded_and_the_run_goes_on),
      cmocka_unit_test(match_every_skip_list_and_stop_flag),
      cmocka_unit_test(a_journal_failure_ends_the_run_with_its_error),
      cmocka_unit_test(measurement_hook_runs_after_an_aligned_point),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
