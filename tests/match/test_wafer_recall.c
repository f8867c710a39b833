/* match: multi-instance recall on simulated wafer frames. Frames rendered
 * by the scene module (Mono8, sensor noise, blur, illumination gradient) at
 * fractional stage positions show many dies; every die mark whose whole
 * template rectangle is in view (from the camera geometry of scene.h) must
 * be found within a pixel, once; anything else reported must be a mark cut
 * by the frame edge (a placement touching the edge). */
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
  pv_match out[64];
  int n = pv_matcher_find(m, im, out, 64);
  assert_true(n >= 0);
  double half = (t->width - 1) / 2.0, s_px = wp->um_per_px;
  int expected = 0, found[64] = {0};
  for (int k = 0; k < pv_scene_die_count(s); k++) {
    double mx, my;
    pv_scene_die_mark(s, k, &mx, &my);
    double i = (mx - x) / s_px + (W - 1) / 2.0, j = (my - y) / s_px + (H - 1) / 2.0;
    if (i - half < 0 || j - half < 0 || i + half > W - 1 || j + half > H - 1)
      continue; /* not wholly in view */
    expected++;
    int hits = 0;
    for (int q = 0; q < n; q++)
      if (fabs(out[q].x - i) <= 1.0 && fabs(out[q].y - j) <= 1.0) {
        hits++;
        found[q] = 1;
      }
    if (hits != 1)
      fail_msg("die %d at (%.2f, %.2f): found %d times among %d matches", k,
               i, j, hits, n);
  }
  assert_true(expected >= 12); /* the geometry really shows many dies */
  assert_true(n >= expected);
  for (int q = 0; q < n; q++) {
    /* anything else is a mark cut by the frame edge, matched at the edge */
    int edge = out[q].x - half < 1.5 || out[q].y - half < 1.5 ||
               out[q].x + half > W - 2.5 || out[q].y + half > H - 2.5;
    if (!found[q] && !edge)
      fail_msg("match at (%.2f, %.2f) score %.3f is no die mark", out[q].x,
               out[q].y, out[q].score);
    assert_true(out[q].score >= 0.5);
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
  pv_match_params p;
  pv_match_params_default(&p);
  p.max_results = 64;
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(W, H, &t, &p, &m), PV_OK);
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
