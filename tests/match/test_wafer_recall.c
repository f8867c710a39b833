/* match: recall on simulated wafer frames, with the parameters the
 * sequencer uses (the default max_results, 16, about the number of dies
 * in view). Frames rendered by the scene module (Mono8, sensor noise, blur,
 * illumination gradient) at fractional stage positions show many dies.
 * Searched in a region of 0.45 pitch around where it must be, every die
 * mark whose whole template rectangle is in view is the region's best
 * match, within a pixel, and the only candidate there. Searched in the
 * whole frame, the at most 16 matches are all die marks, best first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"
#include "probevision/scene.h"

#define W 1024
#define H 768

static void recall_at(const pv_scene *s, pv_matcher *m, const pv_image *t,
                      pv_image *im, double x, double y, uint64_t seed) {
  const pv_wafer_params *wp = pv_scene_params(s);
  assert_int_equal(pv_scene_render(s, x, y, seed, PV_PIXFMT_MONO8, im->data,
                                   W, H, W), PV_OK);
  double half = (t->width - 1) / 2.0, s_px = wp->um_per_px;
  double rad = 0.45 * fmin(wp->pitch_x_um, wp->pitch_y_um) / s_px;
  pv_match out[16];
  int expected = 0;
  double mx_[1024], my_[1024];
  for (int k = 0; k < pv_scene_die_count(s); k++) {
    double mx, my;
    pv_scene_die_mark(s, k, &mx, &my);
    double i = (mx - x) / s_px + (W - 1) / 2.0, j = (my - y) / s_px + (H - 1) / 2.0;
    if (i - half < 0 || j - half < 0 || i + half > W - 1 || j + half > H - 1)
      continue; /* not wholly in view */
    assert_true(expected < 1024);
    mx_[expected] = i, my_[expected] = j;
    expected++;
    /* the region is centred a little off the mark, as after a landing error */
    double ci = i + 0.3 * rad, cj = j - 0.2 * rad;
    pv_match_region r = {ci - rad, cj - rad, ci + rad, cj + rad, 1, 0};
    int n = pv_matcher_find_in(m, im, &r, out, 16);
    if (n < 1 || fabs(out[0].x - i) > 1.0 || fabs(out[0].y - j) > 1.0)
      fail_msg("die %d at (%.2f, %.2f): region best %s (%.2f, %.2f) of %d", k, i, j,
               n < 1 ? "none" : "at", n < 1 ? 0.0 : out[0].x, n < 1 ? 0.0 : out[0].y, n);
    for (int q = 1; q < n; q++) /* no other mark-like candidate near it */
      assert_true(out[q].score < out[0].score - 0.3);
  }
  assert_true(expected >= 12); /* the geometry really shows many dies */
  int n = pv_matcher_find(m, im, out, 16);
  assert_true(n >= (expected < 16 ? expected : 16));
  for (int q = 0; q < n; q++) {
    int die = 0;
    for (int e = 0; e < expected && !die; e++)
      die = fabs(out[q].x - mx_[e]) <= 1.0 && fabs(out[q].y - my_[e]) <= 1.0;
    int edge = out[q].x - half < 1.5 || out[q].y - half < 1.5 ||
               out[q].x + half > W - 2.5 || out[q].y + half > H - 2.5;
    if (!die && !edge)
      fail_msg("match at (%.2f, %.2f) score %.3f is no die mark", out[q].x,
               out[q].y, out[q].score);
    if (q > 0) assert_true(out[q].score <= out[q - 1].score);
  }
}

static void every_die_in_view_is_found(void **state) {
  (void)state;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  wp.cols = 12;
  wp.rows = 12;
  wp.pitch_x_um = 420;
  wp.pitch_y_um = 400;
  wp.mark_x_um = 160;
  wp.mark_y_um = 150;
  wp.um_per_px = 2.0;
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&wp, &s), PV_OK);
  pv_image t = {0};
  assert_int_equal(pv_scene_template(s, &t), PV_OK);
  pv_matcher *m = NULL; /* default parameters, as the sequencer's */
  assert_int_equal(pv_matcher_create(W, H, &t, NULL, &m), PV_OK);
  pv_image im = fx_image(W, H, 0);
  static const double pos[3][2] = {
      {2100.0, 2000.0}, {2311.37, 1873.61}, {1733.9, 2466.25}};
  for (int k = 0; k < 3; k++)
    recall_at(s, m, &t, &im, pos[k][0], pos[k][1], 100 + (uint64_t)k);
  fx_free(&im);
  pv_matcher_destroy(m);
  pv_image_free(&t);
  pv_scene_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_die_in_view_is_found),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
