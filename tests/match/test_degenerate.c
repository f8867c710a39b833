/* match: degenerate input. Flat templates and flat windows score 0 (never
 * NaN, never 1); impossible sizes and missing arguments are PV_EINVAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"

static pv_matcher *make(int w, int h, const pv_image *t, double threshold) {
  pv_match_params p;
  pv_match_params_default(&p);
  p.threshold = threshold;
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(w, h, t, &p, &m), PV_OK);
  return m;
}

static void flat_template_scores_zero(void **state) {
  (void)state;
  fx_seed(31);
  pv_image im = fx_image(64, 48, 0), t = fx_image(16, 16, 77);
  fx_smooth(&im, 30, 20);
  assert_true(pv_ncc_at(&im, &t, 3, 4) == 0.0);
  pv_matcher *m = make(64, 48, &t, -1.0);
  pv_match out[4];
  assert_int_equal(pv_matcher_find(m, &im, out, 4), 0); /* nothing to find */
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

static void flat_windows_score_zero(void **state) {
  (void)state;
  fx_seed(32);
  pv_image im = fx_image(64, 48, 200), t = fx_image(16, 16, 0);
  fx_smooth(&t, 10, 30);
  assert_true(pv_ncc_at(&im, &t, 0, 0) == 0.0);
  pv_matcher *m = make(64, 48, &t, -1.0);
  pv_match out[4];
  int n = pv_matcher_find(m, &im, out, 4);
  assert_true(n >= 0);
  for (int i = 0; i < n; i++) assert_true(out[i].score == 0.0);
  pv_matcher_destroy(m);
  m = make(64, 48, &t, 0.5);
  assert_int_equal(pv_matcher_find(m, &im, out, 4), 0);
  /* textured left half, flat right half: no NaN anywhere, the flat part 0 */
  for (int y = 0; y < 48; y++)
    for (int x = 0; x < 24; x++) *fx_px(&im, x, y) = (uint8_t)fx_int(0, 255);
  assert_true(pv_ncc_at(&im, &t, 40, 10) == 0.0);
  n = pv_matcher_find(m, &im, out, 4);
  for (int i = 0; i < n; i++) assert_true(out[i].score >= 0.5 && out[i].score <= 1.0);
  pv_matcher_destroy(m);
  /* one pixel off flat is not flat: a defined score */
  pv_image one = fx_image(16, 16, 50);
  *fx_px(&one, 3, 3) = 51;
  double s = pv_ncc_at(&one, &one, 0, 0);
  assert_true(fabs(s - 1.0) < 1e-9);
  fx_free(&one);
  fx_free(&t);
  fx_free(&im);
}

static void impossible_sizes(void **state) {
  (void)state;
  pv_image im = fx_image(64, 48, 0), big = fx_image(200, 100, 0);
  pv_image t = fx_image(80, 20, 0), tiny = fx_image(4, 4, 9);
  pv_matcher *m = NULL;
  /* template larger than the largest image */
  assert_int_equal(pv_matcher_create(64, 48, &t, NULL, &m), PV_EINVAL);
  assert_null(m);
  assert_int_equal(pv_matcher_create(64, 48, &tiny, NULL, &m), PV_EINVAL);
  pv_image t2 = fx_image(16, 16, 0);
  fx_smooth(&t2, 10, 30);
  assert_int_equal(pv_matcher_create(100, 80, &t2, NULL, &m), PV_OK);
  pv_match out[2];
  pv_image small = fx_image(12, 40, 0); /* narrower than the template */
  assert_int_equal(pv_matcher_find(m, &small, out, 2), PV_EINVAL);
  assert_int_equal(pv_matcher_find(m, &big, out, 2), PV_EINVAL); /* > max */
  assert_true(pv_matcher_find(m, &im, out, 2) >= 0);
  pv_matcher_destroy(m);
  assert_true(pv_ncc_at(&im, &t2, 60, 0) == 0.0); /* outside: 0 */
  assert_true(pv_ncc_at(&im, &t2, -1, 0) == 0.0);
  fx_free(&small);
  fx_free(&t2);
  fx_free(&tiny);
  fx_free(&t);
  fx_free(&big);
  fx_free(&im);
}

static void null_and_bad_arguments(void **state) {
  (void)state;
  pv_image t = fx_image(16, 16, 0), im = fx_image(32, 32, 0), nodata = {16, 16, 16, NULL};
  fx_smooth(&t, 10, 30);
  pv_matcher *m = NULL;
  pv_match_params p;
  pv_match_params_default(&p);
  assert_int_equal(pv_matcher_create(32, 32, &t, &p, NULL), PV_EINVAL);
  assert_int_equal(pv_matcher_create(32, 32, NULL, &p, &m), PV_EINVAL);
  assert_int_equal(pv_matcher_create(32, 32, &nodata, &p, &m), PV_EINVAL);
  assert_int_equal(pv_matcher_create(0, 0, &t, &p, &m), PV_EINVAL);
  p.threshold = 1.5;
  assert_int_equal(pv_matcher_create(32, 32, &t, &p, &m), PV_EINVAL);
  pv_match_params_default(&p);
  p.max_results = 0;
  assert_int_equal(pv_matcher_create(32, 32, &t, &p, &m), PV_EINVAL);
  pv_match_params_default(&p);
  p.overlap = -0.1;
  assert_int_equal(pv_matcher_create(32, 32, &t, &p, &m), PV_EINVAL);
  assert_null(m);
  assert_int_equal(pv_matcher_create(32, 32, &t, NULL, &m), PV_OK);
  pv_match out[2];
  assert_int_equal(pv_matcher_find(NULL, &im, out, 2), PV_EINVAL);
  assert_int_equal(pv_matcher_find(m, NULL, out, 2), PV_EINVAL);
  assert_int_equal(pv_matcher_find(m, &nodata, out, 2), PV_EINVAL);
  assert_int_equal(pv_matcher_find(m, &im, NULL, 2), PV_EINVAL);
  assert_int_equal(pv_matcher_find(m, &im, out, -1), PV_EINVAL);
  assert_int_equal(pv_matcher_find(m, &im, NULL, 0), 0);
  assert_true(pv_ncc_at(NULL, &t, 0, 0) == 0.0);
  assert_true(pv_ncc_at(&im, NULL, 0, 0) == 0.0);
  pv_matcher_destroy(m);
  pv_matcher_destroy(NULL);
  pv_match_params_default(NULL);
  fx_free(&t);
  fx_free(&im);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(flat_template_scores_zero),
      cmocka_unit_test(flat_windows_score_zero),
      cmocka_unit_test(impossible_sizes),
      cmocka_unit_test(null_and_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
