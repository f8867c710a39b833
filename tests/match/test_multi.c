/* match: several instances. Planted copies are all found, best first, with
 * no duplicates; overlap-based suppression, threshold and max_out hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"

#define W 220
#define H 180
#define TS 24

static const int spots[5][2] = {{10, 12}, {120, 20}, {60, 90}, {170, 140}, {15, 140}};
static const double noise[5] = {4, 20, 40, 60, 80}; /* distinct scores */

static pv_image scene(pv_image *t) {
  pv_image im = fx_image(W, H, 0);
  fx_smooth(&im, 80, 6);
  *t = fx_image(TS, TS, 0);
  for (int i = 0; i < TS * TS; i++) t->data[i] = (uint8_t)fx_int(30, 225);
  for (int k = 0; k < 5; k++) fx_paste(&im, t, spots[k][0], spots[k][1], noise[k]);
  return im;
}

static int near_spot(const pv_match *m) {
  for (int k = 0; k < 5; k++)
    if (fabs(m->x - (spots[k][0] + (TS - 1) / 2.0)) <= 1.0 &&
        fabs(m->y - (spots[k][1] + (TS - 1) / 2.0)) <= 1.0)
      return k;
  return -1;
}

static double overlap(const pv_match *a, const pv_match *b) {
  double ox = TS - fabs(a->x - b->x), oy = TS - fabs(a->y - b->y);
  return ox > 0 && oy > 0 ? ox * oy / (TS * TS) : 0.0;
}

static pv_matcher *make(const pv_image *t, double threshold, double ovl, int max) {
  pv_match_params p;
  pv_match_params_default(&p);
  p.threshold = threshold;
  p.overlap = ovl;
  p.max_results = max;
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(W, H, t, &p, &m), PV_OK);
  return m;
}

static void all_instances_best_first(void **state) {
  (void)state;
  fx_seed(21);
  pv_image t, im = scene(&t);
  pv_matcher *m = make(&t, 0.5, 0.25, 16);
  pv_match out[16];
  int n = pv_matcher_find(m, &im, out, 16);
  assert_int_equal(n, 5);
  int seen[5] = {0};
  for (int i = 0; i < n; i++) {
    int k = near_spot(&out[i]);
    assert_true(k >= 0);
    assert_false(seen[k]);
    seen[k] = 1;
    assert_true(out[i].score >= 0.5);
    if (i > 0) assert_true(out[i].score <= out[i - 1].score);
  }
  /* less noise, better score: the order follows the planted noise */
  for (int i = 0; i < n; i++) assert_int_equal(near_spot(&out[i]), i);
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

static void threshold_and_max_out(void **state) {
  (void)state;
  fx_seed(21);
  pv_image t, im = scene(&t);
  double exact[5];
  for (int k = 0; k < 5; k++) exact[k] = pv_ncc_at(&im, &t, spots[k][0], spots[k][1]);
  double thr = (exact[1] + exact[2]) / 2; /* between the 2nd and 3rd */
  pv_matcher *m = make(&t, thr, 0.25, 16);
  pv_match out[16];
  assert_int_equal(pv_matcher_find(m, &im, out, 16), 2);
  assert_int_equal(near_spot(&out[0]), 0);
  assert_int_equal(near_spot(&out[1]), 1);
  pv_matcher_destroy(m);
  m = make(&t, 0.3, 0.25, 16);
  assert_int_equal(pv_matcher_find(m, &im, out, 3), 3); /* max_out */
  for (int i = 0; i < 3; i++) assert_int_equal(near_spot(&out[i]), i);
  pv_matcher_destroy(m);
  m = make(&t, 0.3, 0.25, 2); /* max_results */
  assert_int_equal(pv_matcher_find(m, &im, out, 16), 2);
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

static void overlapping_instances_and_suppression(void **state) {
  (void)state;
  fx_seed(22);
  pv_image im = fx_image(120, 80, 0);
  fx_smooth(&im, 30, 6);
  pv_image t = fx_image(TS, TS, 0);
  for (int i = 0; i < TS * TS; i++) t.data[i] = (uint8_t)fx_int(30, 225);
  fx_paste(&im, &t, 30, 30, 0); /* two copies, the second covering a */
  fx_paste(&im, &t, 30 + TS / 2, 30, 0); /* half of the first: overlap 0.5 */
  pv_match a = {30 + (TS - 1) / 2.0, 30 + (TS - 1) / 2.0, 0};
  pv_match b = {a.x + TS / 2, a.y, 0};
  pv_match out[8];
  pv_matcher *m = make(&t, 0.3, 0.6, 8);
  int n = pv_matcher_find(m, &im, out, 8);
  int fa = 0, fb = 0;
  for (int i = 0; i < n; i++) {
    fa |= hypot(out[i].x - a.x, out[i].y - a.y) <= 1.0;
    fb |= hypot(out[i].x - b.x, out[i].y - b.y) <= 1.0;
    for (int j = 0; j < i; j++) assert_true(overlap(&out[i], &out[j]) <= 0.6 + 0.1);
  }
  assert_true(fa && fb);
  assert_true(hypot(out[0].x - b.x, out[0].y - b.y) <= 1.0); /* intact copy */
  pv_matcher_destroy(m);
  m = make(&t, 0.3, 0.25, 8); /* 0.5 > 0.25: the weaker one is suppressed */
  n = pv_matcher_find(m, &im, out, 8);
  assert_true(n >= 1);
  assert_true(hypot(out[0].x - b.x, out[0].y - b.y) <= 1.0);
  for (int i = 0; i < n; i++) {
    assert_false(hypot(out[i].x - a.x, out[i].y - a.y) <= 1.0);
    for (int j = 0; j < i; j++) assert_true(overlap(&out[i], &out[j]) <= 0.25 + 0.1);
  }
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(all_instances_best_first),
      cmocka_unit_test(threshold_and_max_out),
      cmocka_unit_test(overlapping_instances_and_suppression),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
