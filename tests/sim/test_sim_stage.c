/* sim: the simulated stage's landing error, backlash, reported position vs
 * truth, travel range, motion in time and injected faults. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/sim.h"

static pv_stage *make_stage(pv_sim_stage_params *p) {
  pv_stage *st = NULL;
  assert_int_equal(pv_sim_stage_create(p, &st), PV_OK);
  assert_string_equal(pv_stage_driver_name(st), "sim");
  assert_int_equal(pv_stage_connect(st, NULL), PV_OK);
  return st;
}

static pv_sim_stage_params instant(void) {
  pv_sim_stage_params p;
  pv_sim_stage_params_default(&p);
  p.speed = 0;
  return p;
}

/* The offset true - commanded after a move. */
static void offset(pv_stage *st, double *ox, double *oy) {
  double x, y, tx, ty;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_int_equal(pv_stage_get_truth(st, &tx, &ty), PV_OK);
  *ox = tx - x;
  *oy = ty - y;
}

/* Moves of `step` um along +x; returns the mean of what each move adds to
 * the positioning error beyond the faded offset it inherited (the move's own
 * landing error), and its maximum in *max_err. fade: the part of the offset
 * kept by a move of this length (exp(-step / 1000 um)). */
static double mean_error_of_moves(pv_stage *st, double step, int n,
                                  double *max_err) {
  double sum = 0, x = -100000, fade = exp(-step / 1000.0);
  *max_err = 0;
  assert_int_equal(pv_stage_move_abs(st, x, 0, NULL), PV_OK);
  x += step; /* the first +x move may reverse the axis: not measured */
  assert_int_equal(pv_stage_move_abs(st, x, 0, NULL), PV_OK);
  for (int i = 0; i < n; i++) {
    double ox0, oy0, ox, oy;
    offset(st, &ox0, &oy0);
    x += step;
    assert_int_equal(pv_stage_move_abs(st, x, 0, NULL), PV_OK);
    int64_t t;
    assert_int_equal(pv_stage_wait_settled(st, &t, NULL), PV_OK);
    offset(st, &ox, &oy);
    double e = hypot(ox - fade * ox0, oy - fade * oy0);
    sum += e;
    if (e > *max_err) *max_err = e;
  }
  return sum / n;
}

static void landing_error_scales_with_move_length(void **state) {
  (void)state;
  pv_sim_stage_params p = instant();
  pv_stage *st = make_stage(&p);
  double max_err;
  /* 1 mm moves: proportional part error_frac * 1000 = 10 um, plus a small
   * gaussian. */
  double mean = mean_error_of_moves(st, 1000, 150, &max_err);
  double expect = p.error_frac * 1000;
  assert_true(mean > expect - 2 && mean < expect + 2);
  /* 10 um moves in one direction add about a micrometre at most. */
  mean = mean_error_of_moves(st, 10, 150, &max_err);
  assert_true(mean < 1.0);
  assert_true(max_err < 1.6);
  /* Very long moves: the proportional part is capped at 40 um. */
  mean = mean_error_of_moves(st, 20000, 8, &max_err);
  assert_true(max_err < 40 + 2);
  assert_true(mean > 40 - 2);
  pv_stage_destroy(st);
}

/* A short correction keeps the error of the long move before it, so a
 * relative correction measured by vision converges. */
static void corrections_keep_the_error_they_correct(void **state) {
  (void)state;
  pv_sim_stage_params p = instant();
  p.error_um = 0;
  p.backlash_um = 0;
  pv_stage *st = make_stage(&p);
  assert_int_equal(pv_stage_move_abs(st, 3000, 2000, NULL), PV_OK);
  double ox, oy;
  offset(st, &ox, &oy);
  assert_true(hypot(ox, oy) > 10); /* a 3.6 mm step lands tens of um off */
  /* correct by the measured error, as vision would */
  assert_int_equal(pv_stage_move_rel(st, -ox, -oy, NULL), PV_OK);
  double tx, ty;
  assert_int_equal(pv_stage_get_truth(st, &tx, &ty), PV_OK);
  double miss = hypot(tx - 3000, ty - 2000);
  assert_true(miss < 0.05 * hypot(ox, oy) + 0.5);
  pv_stage_destroy(st);
}

static void backlash_on_reversal(void **state) {
  (void)state;
  pv_sim_stage_params p = instant();
  p.error_frac = 0;
  p.error_um = 0;
  p.backlash_um = 2;
  pv_stage *st = make_stage(&p);
  const struct { double x, y; int rev_x, rev_y; } steps[] = {
      {100, 50, 0, 0},  /* first moves: no reversal */
      {200, 60, 0, 0},
      {150, 60, -1, 0}, /* x reverses (moving -): lags by +2 */
      {100, 70, 0, 0},  /* same direction: no new lag; y unchanged dir */
      {300, 40, 1, -1}, /* both reverse */
  };
  double ox = 0, oy = 0, cx = 0, cy = 0;
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    double keep = exp(-hypot(steps[i].x - cx, steps[i].y - cy) / 1000.0);
    ox = ox * keep - steps[i].rev_x * 2.0;
    oy = oy * keep - steps[i].rev_y * 2.0;
    cx = steps[i].x;
    cy = steps[i].y;
    assert_int_equal(pv_stage_move_abs(st, steps[i].x, steps[i].y, NULL), PV_OK);
    double tx, ty;
    pv_stage_get_truth(st, &tx, &ty);
    assert_float_equal(tx, steps[i].x + ox, 1e-9);
    assert_float_equal(ty, steps[i].y + oy, 1e-9);
  }
  pv_stage_destroy(st);
}

static void reports_commanded_position_not_truth(void **state) {
  (void)state;
  pv_sim_stage_params p = instant();
  pv_stage *st = make_stage(&p);
  assert_int_equal(pv_stage_move_abs(st, 5000, -3000, NULL), PV_OK);
  assert_int_equal(pv_stage_move_rel(st, 12.5, 7.25, NULL), PV_OK);
  double x, y, tx, ty;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_float_equal(x, 5012.5, 1e-9);
  assert_float_equal(y, -2992.75, 1e-9);
  pv_stage_get_truth(st, &tx, &ty);
  assert_true(hypot(tx - x, ty - y) > 0);
  assert_true(hypot(tx - x, ty - y) < 45); /* the 5.8 mm step's error */
  /* The truth source agrees with get_truth. */
  pv_truth_source ts = pv_sim_stage_truth(st);
  assert_non_null(ts.position_at);
  double sx, sy;
  ts.position_at(ts.ctx, pv_now_ns(), &sx, &sy);
  assert_float_equal(sx, tx, 1e-12);
  assert_float_equal(sy, ty, 1e-12);
  pv_stage_destroy(st);
}

static void moves_outside_the_range_fail(void **state) {
  (void)state;
  pv_sim_stage_params p = instant();
  p.x_max_um = 1000;
  pv_stage *st = make_stage(&p);
  assert_int_equal(pv_stage_move_abs(st, 900, 0, NULL), PV_OK);
  pv_error err = {{0}};
  assert_int_equal(pv_stage_move_abs(st, 1001, 0, &err), PV_ERANGE);
  assert_non_null(strstr(err.msg, "range"));
  assert_int_equal(pv_stage_move_rel(st, 200, 0, &err), PV_ERANGE);
  assert_int_equal(pv_stage_move_abs(st, 0, -150001, &err), PV_ERANGE);
  assert_int_equal(pv_stage_move_abs(st, NAN, 0, &err), PV_ERANGE);
  double x, y;
  pv_stage_get_position(st, &x, &y, NULL);
  assert_float_equal(x, 900, 1e-9);
  assert_float_equal(y, 0, 1e-9);
  pv_stage_destroy(st);
}

static void truth_moves_in_time_then_settles(void **state) {
  (void)state;
  pv_sim_stage_params p;
  pv_sim_stage_params_default(&p);
  p.error_frac = 0;
  p.error_um = 0;
  p.speed_um_s = 1000; /* 1000 um take 1 s nominal */
  p.settle_ms = 30;
  p.speed = 0.1;       /* ten times faster: 100 ms travel, 3 ms settle */
  pv_stage *st = make_stage(&p);
  pv_truth_source ts = pv_sim_stage_truth(st);
  int64_t before = pv_now_ns();
  assert_int_equal(pv_stage_move_abs(st, 1000, 0, NULL), PV_OK);
  int64_t after = pv_now_ns();
  const int64_t travel = 100 * PV_NS_PER_MS;
  /* The motion started between `before` and `after`. */
  double x, y;
  int64_t t = after + travel / 2;
  ts.position_at(ts.ctx, t, &x, &y);
  assert_true(x >= 1000.0 * (double)(t - after) / (double)travel - 1e-6);
  assert_true(x <= 1000.0 * (double)(t - before) / (double)travel + 1e-6);
  assert_float_equal(y, 0, 1e-12);
  double prev = -1;
  for (int i = 0; i <= 10; i++) {
    ts.position_at(ts.ctx, after + i * travel / 10, &x, &y);
    assert_true(x >= prev);
    prev = x;
  }
  int64_t settled;
  assert_int_equal(pv_stage_wait_settled(st, &settled, NULL), PV_OK);
  assert_true(settled >= before + travel + 3 * PV_NS_PER_MS);
  assert_true(pv_now_ns() >= settled);
  ts.position_at(ts.ctx, settled, &x, &y);
  assert_float_equal(x, 1000, 1e-9);
  pv_stage_destroy(st);
}

static void instant_stage_settles_now(void **state) {
  (void)state;
  pv_sim_stage_params p = instant();
  pv_stage *st = make_stage(&p);
  assert_int_equal(pv_stage_move_abs(st, 100000, 0, NULL), PV_OK);
  int64_t before = pv_now_ns(), settled;
  assert_int_equal(pv_stage_wait_settled(st, &settled, NULL), PV_OK);
  assert_true(settled >= before);
  pv_stage_destroy(st);
}

static void injected_faults_fail_moves(void **state) {
  (void)state;
  pv_sim_stage_params p = instant();
  p.fault_error = 1.0;
  pv_stage *st = make_stage(&p);
  pv_error err = {{0}};
  assert_int_equal(pv_stage_move_abs(st, 10, 10, &err), PV_ESTAGE);
  assert_true(strlen(err.msg) > 0);
  double x, y;
  pv_stage_get_position(st, &x, &y, NULL);
  assert_float_equal(x, 0, 1e-12);
  pv_stage_destroy(st);

  p.fault_error = 0.5;
  st = make_stage(&p);
  int failed = 0;
  for (int i = 1; i <= 200; i++) {
    int rc = pv_stage_move_abs(st, i, 0, NULL);
    assert_true(rc == PV_OK || rc == PV_ESTAGE);
    failed += rc == PV_ESTAGE;
  }
  assert_true(failed > 50 && failed < 150);
  pv_stage_destroy(st);
}

static void destroy_accepts_null_and_non_sim_has_no_truth(void **state) {
  (void)state;
  pv_stage_destroy(NULL);
  pv_truth_source ts = pv_sim_stage_truth(NULL);
  assert_null(ts.position_at);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(landing_error_scales_with_move_length),
      cmocka_unit_test(backlash_on_reversal),
      cmocka_unit_test(corrections_keep_the_error_they_correct),
      cmocka_unit_test(reports_commanded_position_not_truth),
      cmocka_unit_test(moves_outside_the_range_fail),
      cmocka_unit_test(truth_moves_in_time_then_settles),
      cmocka_unit_test(instant_stage_settles_now),
      cmocka_unit_test(injected_faults_fail_moves),
      cmocka_unit_test(destroy_accepts_null_and_non_sim_has_no_truth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
