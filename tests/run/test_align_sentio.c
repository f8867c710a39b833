/* run: every correction is applied once. The sequencer drives the
 * simulated stage through the SENTIO client and server over loopback TCP;
 * the server carries out moves and then holds back their replies past the
 * client's timeout (the station moved, the answer was lost), and the
 * in-process stage loses replies the same way. Corrections are absolute
 * targets, so a retried move lands where the first one did: every point is
 * ok on its own die's mark. */
#include "seq_station.h"

#define W 640
#define H 512

#include "seq_world.h"

/* After each point (before the next move): how far the chuck truly is
 * from the target, from the simulated stage behind the server. */
typedef struct truth_check { pv_stage *sim; double max_um; int n; } truth_check;

static void on_point(void *ctx, int done, int total, const pv_point_result *last) {
  (void)done, (void)total;
  truth_check *t = ctx;
  double x, y;
  assert_int_equal(pv_stage_get_truth(t->sim, &x, &y), 0);
  double d = hypot(x - last->x_target_um, y - last->y_target_um);
  if (d > t->max_um) t->max_um = d;
  t->n++;
}

static void check(seq_setup *o, int n) {
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.stage_retries = 5; /* 0.4^6: a point always gets its move through */
  o->seq = &sp;
  station s;
  station_open(&s, o);
  pv_run_summary sum;
  truth_check t = {s.sim_stage, 0, 0};
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, n, on_point, &t, NULL, &sum),
                   PV_OK);
  assert_int_equal(sum.done, n);
  assert_int_equal(t.n, n);
  assert_int_equal(sum.counts[PV_POINT_OK], n);
  assert_true(t.max_um <= 2.5); /* landed once, on the mark, at every point */
  assert_int_equal(count_points(&s, "status = 'ok' AND iterations >= 2"), n); /* corrected */
  print_message("%d points: truth max %.2f um, %.1f s\n", n, t.max_um, sum.elapsed_s);
  station_close(&s);
}

static void lost_move_replies_over_sentio(void **state) {
  (void)state;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.via_sentio = 1;
  o.sentio_retries = 0; /* every retry is the sequencer's */
  o.server_faults.stage_timeout = 0.4;
  o.server_faults.seed = 5;
  o.stage.error_frac = 0.02; /* 20 um on a die step: every point needs a correction */
  o.npoints = 8;
  check(&o, 8);
}

static void lost_move_replies_in_process(void **state) {
  (void)state;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.stage.fault_timeout = 0.4;
  o.stage.timeout_ms = 1;
  o.stage.error_frac = 0.02;
  o.npoints = 12;
  check(&o, 12);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lost_move_replies_over_sentio),
      cmocka_unit_test(lost_move_replies_in_process),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
