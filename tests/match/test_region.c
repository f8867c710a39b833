/* match: search in a region of interest (pv_matcher_find_in), rectangles
 * and the ellipses inscribed in them. Nothing outside the region is ever
 * reported, nothing reported is better than the brute-force best of the
 * region; where the region holds an instance (a die mark on a wafer frame,
 * an exact copy on a natural scene) the best reported is the brute-force
 * argmax of pv_ncc_at over exactly the region's placements, with the same
 * score, also when a better instance lies just outside; a region holding
 * no placement gives 0 matches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"
#include "probevision/scene.h"

#define W 320
#define H 240
#define TW 24

/* Whether centre (x, y) is in r (its rectangle, and its ellipse if set). */
static int in_region(const pv_match_region *r, double x, double y) {
  if (x < r->x0 || x > r->x1 || y < r->y0 || y > r->y1) return 0;
  if (!r->ellipse) return 1;
  double ex = (x - (r->x0 + r->x1) / 2) / fmax((r->x1 - r->x0) / 2, 1e-9);
  double ey = (y - (r->y0 + r->y1) / 2) / fmax((r->y1 - r->y0) / 2, 1e-9);
  return ex * ex + ey * ey <= 1.0;
}

/* Brute-force argmax over the placements whose centre is in r; -2 if none. */
static double brute_in(const pv_image *im, const pv_image *t,
                       const pv_match_region *r, int *bu, int *bv) {
  double best = -2.0, hx = (t->width - 1) / 2.0, hy = (t->height - 1) / 2.0;
  for (int v = 0; v + t->height <= im->height; v++)
    for (int u = 0; u + t->width <= im->width; u++) {
      if (!in_region(r, u + hx, v + hy)) continue;
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
  for (int i = 0; i < n; i++) /* subpixel is off: centres are exact */
    if (!in_region(r, out[i].x, out[i].y))
      fail_msg("match %d at (%.2f, %.2f) outside region [%.1f, %.1f] x [%.1f, %.1f]",
               i, out[i].x, out[i].y, r->x0, r->x1, r->y0, r->y1);
}

/* Random regions (inside, cut by the edges, a single placement, ellipses)
 * on a natural scene with pasted copies of the template: what is reported
 * lies in the region and is never better than the brute-force best there
 * (the coarse-to-fine search may miss a weak or odd-placed maximum of such
 * high-frequency texture, as it does over the whole image). */
static void natural_regions_are_sound(void **state) {
  (void)state;
  fx_seed(11);
  pv_image im = fx_image(W, H, 0);
  fx_smooth(&im, 220, 6.0);
  pv_image t = fx_cut(&im, 140, 100, TW, TW);
  for (int k = 0; k < 8; k++) fx_paste(&im, &t, fx_int(0, W - TW), fx_int(0, H - TW), 4.0);
  pv_matcher *m = make(&t, -1.0);
  pv_match out[16];
  int found = 0;
  for (int trial = 0; trial < 200; trial++) {
    double cx = fx_int(-20, W + 20), cy = fx_int(-20, H + 20);
    double rx = trial % 10 == 0 ? 0.0 : fx_int(0, 60), ry = trial % 10 == 0 ? 0.0 : fx_int(0, 60);
    pv_match_region r = {cx - rx, cy - ry, cx + rx, cy + ry, trial % 2, 0};
    if (trial % 10 == 0) r.x0 = r.x1 = floor(cx) + 0.5, r.y0 = r.y1 = floor(cy) + 0.5;
    int bu = -1, bv = -1;
    double best = brute_in(&im, &t, &r, &bu, &bv);
    int n = pv_matcher_find_in(m, &im, &r, out, 16);
    assert_true(n >= 0);
    if (best < -1.5) {
      assert_int_equal(n, 0); /* no placement in the region */
      continue;
    }
    assert_inside(out, n, &r);
    if (n >= 1) found++;
    if (n >= 1 && out[0].score > best + 1e-6)
      fail_msg("trial %d: reported %.6f above the region's best %.6f", trial, out[0].score, best);
  }
  assert_true(found >= 150); /* not vacuous: most regions report their best */
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

/* Simulated wafer frames (the alignment's case: the die's template, many
 * identical marks): for discs and rectangles around where a mark must be,
 * off by up to 40 px, the best reported is the brute-force best of the
 * region, placement and score, whenever the region holds the mark. */
static void wafer_regions_are_exact(void **state) {
  (void)state;
  enum { WW = 640, WH = 512 };
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  wp.cols = wp.rows = 12;
  wp.pitch_x_um = wp.pitch_y_um = 400;
  wp.mark_x_um = wp.mark_y_um = 150;
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&wp, &s), PV_OK);
  pv_image t = {0};
  assert_int_equal(pv_scene_template(s, &t), PV_OK);
  pv_match_params p;
  pv_match_params_default(&p);
  p.subpixel = 0;
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(WW, WH, &t, &p, &m), PV_OK);
  pv_image im = fx_image(WW, WH, 0);
  pv_match out[16];
  int exact = 0;
  fx_seed(21);
  for (int trial = 0; trial < 16; trial++) {
    double mx, my;
    assert_int_equal(pv_scene_die_mark(s, fx_int(13, 130), &mx, &my), 0);
    double ox = (fx_rand() - 0.5) * 80, oy = (fx_rand() - 0.5) * 80; /* um */
    assert_int_equal(pv_scene_render(s, mx + ox, my + oy, 40 + (uint64_t)trial,
                                     PV_PIXFMT_MONO8, im.data, WW, WH, WW), PV_OK);
    /* the mark is at the centre minus the offset; search around the centre */
    double cx = (WW - 1) / 2.0 + fx_int(-10, 10), cy = (WH - 1) / 2.0 + fx_int(-10, 10);
    double rad = fx_int(25, 40);
    pv_match_region r = {cx - rad, cy - rad, cx + rad, cy + rad, trial % 2, 0};
    int bu = -1, bv = -1;
    double best = brute_in(&im, &t, &r, &bu, &bv);
    int n = pv_matcher_find_in(m, &im, &r, out, 16);
    assert_inside(out, n, &r);
    if (best < 0.8) continue; /* the mark is not in this region */
    exact++;
    double h = (t.width - 1) / 2.0;
    if (n < 1 || fabs(out[0].x - (bu + h)) > 1e-9 || fabs(out[0].y - (bv + h)) > 1e-9 ||
        fabs(out[0].score - best) > 1e-6)
      fail_msg("trial %d: best %s (%.1f, %.1f) %.6f, brute force (%.1f, %.1f) %.6f", trial,
               n < 1 ? "none" : "at", n < 1 ? 0 : out[0].x, n < 1 ? 0 : out[0].y,
               n < 1 ? 0 : out[0].score, bu + h, bv + h, best);
  }
  assert_true(exact >= 8);
  print_message("%d of 16 wafer regions held the mark; all exact\n", exact);
  fx_free(&im);
  pv_matcher_destroy(m);
  pv_image_free(&t);
  pv_scene_destroy(s);
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
  pv_match_region r = {160 + hx, 90 + hx, 180 + hx, 110 + hx, 0, 0};
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
  pv_match_region off = {W + 50, 0, W + 90, H, 0, 0}; /* right of the image */
  assert_int_equal(pv_matcher_find_in(m, &im, &off, out, 4), 0);
  pv_match_region inverted = {100, 100, 90, 110, 1, 0};
  assert_int_equal(pv_matcher_find_in(m, &im, &inverted, out, 4), 0);
  pv_match_region nan = {NAN, 0, 10, 10, 1, 0};
  assert_int_equal(pv_matcher_find_in(m, &im, &nan, out, 4), 0);
  /* between two placements' centres: none (TW even: centres at k + 0.5) */
  pv_match_region between = {100.1, 100.1, 100.4, 100.4, 0, 0};
  assert_int_equal(pv_matcher_find_in(m, &im, &between, out, 4), 0);
  assert_int_equal(pv_matcher_find_in(m, &im, NULL, out, 4), PV_EINVAL);
  pv_matcher_destroy(m);
  fx_free(&t);
  fx_free(&im);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(natural_regions_are_sound),
      cmocka_unit_test(wafer_regions_are_exact),
      cmocka_unit_test(outside_never_wins),
      cmocka_unit_test(empty_and_bad_regions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
