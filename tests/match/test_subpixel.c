/* match: sub-pixel positions. A smooth continuous scene (Gaussian blobs) is
 * rendered once as is, to cut the template, and again shifted by known
 * fractions of a pixel (evaluating the function at shifted coordinates);
 * the reported centres must follow the shift. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"

#define BLOBS 60
static double bx[BLOBS], by[BLOBS], bs[BLOBS], ba[BLOBS];

static double scene(double x, double y) {
  double v = 128.0;
  for (int k = 0; k < BLOBS; k++) {
    double q = ((x - bx[k]) * (x - bx[k]) + (y - by[k]) * (y - by[k])) / (2 * bs[k] * bs[k]);
    v += ba[k] * exp(-q);
  }
  return v;
}

static void render(pv_image *im, double sx, double sy) {
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++) *fx_px(im, x, y) = fx_clamp(scene(x - sx, y - sy));
}

static void errors_for(int tsize, double *mean, double *max, int *count) {
  const int w = 160, h = 140, u0 = 50, v0 = 40;
  pv_image im = fx_image(w, h, 0);
  render(&im, 0, 0);
  pv_image t = fx_cut(&im, u0, v0, tsize, tsize);
  pv_match_params p;
  pv_match_params_default(&p);
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(w, h, &t, &p, &m), PV_OK);
  for (int i = 0; i < 25; i++) {
    double sx = -3.0 + 0.27 * i, sy = 2.0 - 0.19 * i; /* fractions 0 .. 0.9 */
    render(&im, sx, sy);
    pv_match out[2];
    assert_true(pv_matcher_find(m, &im, out, 2) >= 1);
    double ex = u0 + sx + (tsize - 1) / 2.0, ey = v0 + sy + (tsize - 1) / 2.0;
    double e = hypot(out[0].x - ex, out[0].y - ey);
    *mean += e;
    if (e > *max) *max = e;
    (*count)++;
  }
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

static void fractional_shifts_are_recovered(void **state) {
  (void)state;
  fx_seed(11);
  for (int k = 0; k < BLOBS; k++) {
    bx[k] = fx_rand() * 160;
    by[k] = fx_rand() * 140;
    bs[k] = 3.0 + fx_rand() * 5.0;
    ba[k] = (fx_rand() - 0.5) * 140;
  }
  double mean = 0, max = 0;
  int count = 0;
  errors_for(48, &mean, &max, &count); /* searched through the pyramid */
  errors_for(20, &mean, &max, &count); /* searched at full resolution */
  mean /= count;
  print_message("sub-pixel error over %d shifts: mean %.4f px, max %.4f px\n",
                count, mean, max);
  assert_true(mean <= 0.05);
  assert_true(max <= 0.15);
}

static void integer_shift_off_gives_integer_centre(void **state) {
  (void)state;
  pv_image im = fx_image(80, 70, 0);
  fx_seed(12);
  fx_smooth(&im, 60, 0);
  pv_image t = fx_cut(&im, 21, 17, 24, 24);
  pv_match_params p;
  pv_match_params_default(&p);
  p.subpixel = 0;
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(80, 70, &t, &p, &m), PV_OK);
  pv_match out[1];
  assert_int_equal(pv_matcher_find(m, &im, out, 1), 1);
  assert_true(out[0].x == 21 + 11.5 && out[0].y == 17 + 11.5);
  assert_true(fabs(out[0].score - 1.0) < 1e-6);
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fractional_shifts_are_recovered),
      cmocka_unit_test(integer_shift_off_gives_integer_centre),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
