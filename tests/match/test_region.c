/* match: search in a region of interest (pv_matcher_find_in). The best
 * match reported for a region must be the brute-force argmax of pv_ncc_at
 * over exactly the placements whose centre lies in the region, with the
 * same score, on scenes where a better instance lies just outside it; a
 * region holding no placement gives 0 matches; nothing outside is ever
 * reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"

#define W 320
#define H 240
#define TW 24

/* Brute-force argmax over the placements whose centre is in r; -2 if none. */
static double brute_in(const pv_image *im, const pv_image *t,
                       const pv_match_region *r, int *bu, int *bv) {
  double best = -2.0, hx = (t->width - 1) / 2.0, hy = (t->height - 1) / 2.0;
  for (int v = 0; v + t->height <= im->height; v++)
    for (int u = 0; u + t->width <= im->width; u++) {
      if (u + hx < r->x0 || u + hx > r->x1 || v + hy < r->y0 || v + hy > r->y1)
        continue;
      double s = pv_ncc_at(im, t, u, v);
      if (s > best) best = s, *bu = u, *bv = v;
    }
  return best;
}

static pv_matcher *make(const pv_image *t, double threshold) {
  pv_match_params p;
  pv_match_params_default(&p);
  p.threshold = threshold;
  p.subpixel = 0; /* integer placements: compared with the brute force */
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(W, H, t, &p, &m), PV_OK);
  return m;
}

static void assert_inside(const pv_match *out, int n, const pv_match_region *r) {
  for (int i = 0; i < n; i++)
    if (out[i].x < r->x0 || out[i].x > r->x1 || out[i].y < r->y0 || out[i].y > r->y1)
      fail_msg("match %d at (%.2f, %.2f) outside region [%.1f, %.1f] x [%.1f, %.1f]",
               i, out[i].x, out[i].y, r->x0, r->x1, r->y0, r->y1);
}

/* Random regions (inside, cut by the edges, a single placement) on a
 * natural scene with pasted copies of the template: the region's best is
 * the brute-force best of the region. */
static void region_best_is_the_brute_force_best(void **state) {
  (void)state;
  fx_seed(11);
  pv_image im = fx_image(W, H, 0);
  fx_smooth(&im, 220, 6.0);
  pv_image t = fx_cut(&im, 140, 100, TW, TW);
  for (int k = 0; k < 6; k++) fx_paste(&im, &t, fx_int(0, W - TW), fx_int(0, H - TW), 30.0);
  pv_matcher *m = make(&t, -1.0);
  pv_match out[16];
  for (int trial = 0; trial < 60; trial++) {
    double cx = fx_int(-20, W + 20), cy = fx_int(-20, H + 20);
    double rx = trial % 10 == 0 ? 0.0 : fx_int(0, 60), ry = trial % 10 == 0 ? 0.0 : fx_int(0, 60);
    pv_match_region r = {cx - rx, cy - ry, cx + rx, cy + ry};
    if (trial % 10 == 0) r.x0 = r.x1 = floor(cx) + 0.5, r.y0 = r.y1 = floor(cy) + 0.5;
    int bu = -1, bv = -1;
    double best = brute_in(&im, &t, &r, &bu, &bv);
    int n = pv_matcher_find_in(m, &im, &r, out, 16);
    assert_true(n >= 0);
    if (best < -1.5) {
      assert_int_equal(n, 0); /* no placement in the region */
      continue;
    }
    assert_true(n >= 1);
    assert_inside(out, n, &r);
    double hx = (TW - 1) / 2.0;
    if (fabs(out[0].x - (bu + hx)) > 1e-9 || fabs(out[0].y - (bv + hx)) > 1e-9)
      fail_msg("trial %d, region [%.1f, %.1f] x [%.1f, %.1f]: best at (%.1f, %.1f) "
               "score %.6f, brute force (%.1f, %.1f) %.6f", trial, r.x0, r.x1, r.y0,
               r.y1, out[0].x, out[0].y, out[0].score, bu + hx, bv + hx, best);
    assert_true(fabs(out[0].score - best) < 1e-6);
  }
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

/* A perfect copy just outside the region neither appears nor suppresses
 * the weaker copy inside it; the whole-image search reports both. */
static void outside_never_wins(void **state) {
  (void)state;
  fx_seed(5);
  pv_image im = fx_image(W, H, 0);
  fx_smooth(&im, 160, 4.0);
  pv_image t = fx_cut(&im, 30, 30, TW, TW);
  fx_smooth(&im, 160, 4.0); /* a new background: t appears only as pasted */
  fx_paste(&im, &t, 166, 100, 40.0); /* noisy copy, its left third then */
  fx_paste(&im, &t, 150, 100, 0.0);  /* covered by an exact copy: score 1 */
  pv_matcher *m = make(&t, 0.3);
  double hx = (TW - 1) / 2.0;
  pv_match out[16];
  int n = pv_matcher_find(m, &im, out, 16);
  assert_true(n >= 1);
  assert_true(fabs(out[0].x - (150 + hx)) < 0.5 && out[0].score > 0.999);
  /* centres 150+hx (outside) and 166+hx (inside) */
  pv_match_region r = {160 + hx, 90 + hx, 180 + hx, 110 + hx};
  n = pv_matcher_find_in(m, &im, &r, out, 16);
  assert_true(n >= 1);
  assert_inside(out, n, &r);
  int bu = -1, bv = -1;
  double best = brute_in(&im, &t, &r, &bu, &bv);
  assert_true(best < 0.999); /* the exact copy is outside */
  assert_true(fabs(out[0].score - best) < 1e-6);
  assert_true(fabs(out[0].x - (bu + hx)) < 1e-9 && fabs(out[0].y - (bv + hx)) < 1e-9);
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

static void empty_and_bad_regions(void **state) {
  (void)state;
  fx_seed(3);
  pv_image im = fx_image(W, H, 0);
  fx_smooth(&im, 100, 4.0);
  pv_image t = fx_cut(&im, 60, 60, TW, TW);
  pv_matcher *m = make(&t, -1.0);
  pv_match out[4];
  pv_match_region off = {W + 50, 0, W + 90, H}; /* right of the image */
  assert_int_equal(pv_matcher_find_in(m, &im, &off, out, 4), 0);
  pv_match_region inverted = {100, 100, 90, 110};
  assert_int_equal(pv_matcher_find_in(m, &im, &inverted, out, 4), 0);
  pv_match_region nan = {NAN, 0, 10, 10};
  assert_int_equal(pv_matcher_find_in(m, &im, &nan, out, 4), 0);
  /* between two placements' centres: none (TW even: centres at k + 0.5) */
  pv_match_region between = {100.1, 100.1, 100.4, 100.4};
  assert_int_equal(pv_matcher_find_in(m, &im, &between, out, 4), 0);
  assert_int_equal(pv_matcher_find_in(m, &im, NULL, out, 4), PV_EINVAL);
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(region_best_is_the_brute_force_best),
      cmocka_unit_test(outside_never_wins),
      cmocka_unit_test(empty_and_bad_regions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
