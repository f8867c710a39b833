/* run: the sequencer on the simulated station (sim stage, sim camera over
 * the synthetic wafer, the real matcher and journal), small frames and
 * speed 0 so that it runs fast. */
#include "seq_station.h"

#define W 640
#define H 512

#include "seq_world.h"

static void open_station(station *s, double stage_fault, double camera_fault, int npoints,
                         const pv_sequencer_params *sp) {
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.stage.fault_error = stage_fault;
  o.camera_fault = camera_fault;
  o.npoints = npoints;
  o.seq = sp;
  station_open(s, &o);
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
  assert_int_equal(count_points(&s, "status = 'ok' AND truth_error_um <= 2.5 AND "
                                    "residual_um <= 2 AND iterations BETWEEN 1 AND 3 AND "
                                    "score >= 0.5 AND x_final_um IS NOT NULL"), 10);
  print_message("10 points: truth error mean %.2f max %.2f um, residual max %.2f um, "
                "%d frames, %.2f s\n", sum.truth_mean_um, sum.truth_max_um,
                sum.residual_max_um, sum.frames, sum.elapsed_s);
  station_close(&s);
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
  station_close(&s);
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
  station_close(&s);
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
  station_close(&s);
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
  station_close(&s);
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
  station_close(&s);
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
