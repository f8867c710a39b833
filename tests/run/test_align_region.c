/* run: alignment searches only where the target's mark must be. On dense
 * wafers (die pitch at the scene's minimum, a dozen identical marks in
 * view) no point is ever ok on a neighbouring die; the search radius is
 * derived from the marks and the targets, or configured and checked on
 * the first frame; two candidates within the margin are `ambiguous`; a
 * correction never takes the chuck farther than the radius from the
 * target. */
#include "seq_station.h"

#define W 1224
#define H 1024
#define PITCH 400.0
#define TOL 2.0

static pv_scene *scene;
static pv_image templ;

static int group_setup(void **state) {
  (void)state;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  wp.cols = wp.rows = 30;
  wp.pitch_x_um = wp.pitch_y_um = PITCH;
  wp.mark_x_um = wp.mark_y_um = 150;
  return seq_world_open(&wp, &scene, &templ);
}

static int group_teardown(void **state) {
  (void)state;
  return seq_world_close(scene, &templ);
}

static pv_run_summary run(station *s, const seq_setup *o, int n, int expect_rc) {
  station_open(s, o);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s->seq, &s->targets, NULL, 0, n, NULL, NULL, NULL, &sum),
                   expect_rc);
  return sum;
}

/* No ok point is farther from its own die's mark than the tolerance (plus
 * the simulated stage's half micrometre of noise), and the statuses add up. */
static void assert_never_wrong_die(const station *s, int n) {
  char q[160];
  snprintf(q, sizeof q, "status = 'ok' AND truth_error_um > %.2f", TOL + 0.5);
  assert_int_equal(count_points(s, q), 0);
  assert_int_equal(count_points(s, "1"), n);
}

static void dense_wafer_every_ok_is_its_own_die(void **state) {
  (void)state;
  static const double errs[][2] = {{0.01, 0.3}, {0.08, 1.0}};
  for (int k = 0; k < 2; k++) {
    seq_setup o;
    seq_setup_default(&o, scene, &templ, W, H);
    o.stage.error_frac = errs[k][0];
    o.stage.error_um = errs[k][1];
    o.stage.seed = 7 + (uint64_t)k;
    o.npoints = 16; /* neighbouring dies of a row, PITCH apart */
    station s;
    pv_run_summary sum = run(&s, &o, 16, PV_OK);
    assert_never_wrong_die(&s, 16);
    assert_true(sum.counts[PV_POINT_OK] >= 15);
    /* auto: 0.45 x the spacing of the marks in view and of the targets */
    assert_true(fabs(sum.search_radius_um - 0.45 * PITCH) < 1.0);
    print_message("landing error %.2f x length + %.1f um: %d ok, truth max %.2f um\n",
                  errs[k][0], errs[k][1], sum.counts[PV_POINT_OK], sum.truth_max_um);
    station_close(&s);
  }
}

/* Targets three dies apart: the radius still comes from the marks in the
 * first frame, not from the targets' spacing. */
static void sparse_targets_on_dense_marks(void **state) {
  (void)state;
  pv_target items[8];
  for (int i = 0; i < 8; i++) {
    double x, y;
    assert_int_equal(pv_scene_die_mark(scene, 3 * i + 30 * 2, &x, &y), 0);
    items[i] = (pv_target){i, x, y, ""};
  }
  pv_targets t = {items, 8};
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.targets = &t;
  station s;
  pv_run_summary sum = run(&s, &o, 8, PV_OK);
  assert_true(fabs(sum.search_radius_um - 0.45 * PITCH) < 1.0);
  assert_never_wrong_die(&s, 8);
  assert_int_equal(sum.counts[PV_POINT_OK], 8);
  station_close(&s);
}

/* A landing error larger than a configured radius: the mark is outside
 * the region, so the point is no_match (never ok elsewhere), and the
 * chuck never goes farther than the radius from the target. */
static void landing_beyond_the_radius_is_never_ok(void **state) {
  (void)state;
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.search_radius_um = 40;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.stage.error_um = 60;
  o.stage.seed = 3;
  o.seq = &sp;
  o.npoints = 16;
  station s;
  pv_run_summary sum = run(&s, &o, 16, PV_OK);
  assert_never_wrong_die(&s, 16);
  assert_true(sum.counts[PV_POINT_NO_MATCH] >= 2); /* the error does exceed 40 um */
  assert_int_equal(count_points(&s, "status = 'no_match' AND error LIKE '%within 40.0 um%'"),
                   sum.counts[PV_POINT_NO_MATCH]);
  /* every commanded correction stays within the radius of the target */
  assert_int_equal(count_points(&s, "iterations > 0 AND (x_final_um - x_target_um) * "
                                    "(x_final_um - x_target_um) + (y_final_um - y_target_um) * "
                                    "(y_final_um - y_target_um) > 40.5 * 40.5"), 0);
  station_close(&s);
}

/* Two candidates in the region scoring within the margin: ambiguous,
 * never ok (a margin of 1 makes any second candidate count). */
static void two_candidates_within_the_margin_are_ambiguous(void **state) {
  (void)state;
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.ambiguity_margin = 1.0;
  pv_match_params mp;
  pv_match_params_default(&mp);
  mp.threshold = 0.05;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.seq = &sp;
  o.match = &mp;
  o.npoints = 4;
  station s;
  pv_run_summary sum = run(&s, &o, 4, PV_OK);
  assert_int_equal(sum.counts[PV_POINT_AMBIGUOUS], 4);
  assert_int_equal(count_points(&s, "status = 'ambiguous' AND iterations = 1 AND "
                                    "error LIKE 'two candidates within 180.0 um%'"), 4);
  station_close(&s);
}

/* A configured radius that holds two marks of the first frame stops the
 * run before anything is recorded, saying what to set. */
static void a_radius_holding_two_marks_stops_the_run(void **state) {
  (void)state;
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.search_radius_um = 300;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.seq = &sp;
  o.npoints = 4;
  station s;
  pv_run_summary sum = run(&s, &o, 4, PV_EINVAL);
  assert_int_equal(sum.done, 0);
  assert_int_equal(count_points(&s, "1"), 0);
  assert_non_null(strstr(sum.error, "align.search_radius_um = 300.0 um"));
  assert_non_null(strstr(sum.error, "every 400.0 um"));
  station_close(&s);
  sp.search_radius_um = 1.5; /* not above the tolerance (2 um) */
  run(&s, &o, 4, PV_EINVAL);
  assert_int_equal(count_points(&s, "1"), 0);
  station_close(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(dense_wafer_every_ok_is_its_own_die),
      cmocka_unit_test(sparse_targets_on_dense_marks),
      cmocka_unit_test(landing_beyond_the_radius_is_never_ok),
      cmocka_unit_test(two_candidates_within_the_margin_are_ambiguous),
      cmocka_unit_test(a_radius_holding_two_marks_stops_the_run),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
