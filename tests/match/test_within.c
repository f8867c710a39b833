/* match: a find's `within` (pv_match_region.within). With within d the
 * answer is the full find's answer cut where scores fall below the best's
 * minus d: the same placements, the same scores, in the same order (the
 * search prunes harder, never differently). Negative or NaN within is
 * refused. Scenes: planted copies of a random template at five noise
 * levels (distinct scores) over smooth texture, several seeds, whole image
 * and a disc, and d from "ties only" to "everything". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"

#define W 320
#define H 240
#define TS 24
#define NSPOTS 6

static const double noise[NSPOTS] = {2, 8, 16, 28, 45, 70}; /* spread of scores */

/* A scene with NSPOTS copies of a random TS x TS template at random,
 * non-overlapping spots. */
static pv_image scene(pv_image *t) {
  pv_image im = fx_image(W, H, 0);
  fx_smooth(&im, 80, 6);
  *t = fx_image(TS, TS, 0);
  for (int i = 0; i < TS * TS; i++) t->data[i] = (uint8_t)fx_int(30, 225);
  for (int k = 0; k < NSPOTS; k++) /* a 6 x 4 grid of cells, one copy per cell */
    fx_paste(&im, t, (k % 3) * 100 + fx_int(4, 60), (k / 3) * 120 + fx_int(4, 80), noise[k]);
  return im;
}

/* The full find's answer cut at best - d equals the find with within d. */
static void check(pv_matcher *m, const pv_image *im, pv_match_region r, double d) {
  pv_match all[16], cut[16];
  r.within = 0;
  int n = pv_matcher_find_in(m, im, &r, all, 16);
  assert_true(n >= 1);
  int want = 0;
  while (want < n && all[want].score >= all[0].score - d) want++;
  /* a score within rounding of the cut could fall either way: not a case */
  if (want < n && all[want].score > all[0].score - d - 1e-4) return;
  if (want > 0 && all[want - 1].score < all[0].score - d + 1e-4 && want > 1) return;
  r.within = d;
  int k = pv_matcher_find_in(m, im, &r, cut, 16);
  if (k != want)
    fail_msg("within %.3f: %d matches, the full find has %d at >= %.4f (best %.4f)", d, k,
             want, all[0].score - d, all[0].score);
  for (int i = 0; i < k; i++) {
    assert_true(cut[i].x == all[i].x);
    assert_true(cut[i].y == all[i].y);
    assert_true(cut[i].score == all[i].score);
  }
}

static void within_cuts_the_full_answer(void **state) {
  (void)state;
  static const double ds[] = {1e-9, 0.02, 0.05, 0.1, 0.2, 0.4, 2.0};
  int scenes = 0;
  for (int seed = 1; seed <= 12; seed++) {
    fx_seed((uint64_t)seed * 7919);
    pv_image t, im = scene(&t);
    pv_match_params p;
    pv_match_params_default(&p);
    p.threshold = 0.3;
    pv_matcher *m = NULL;
    assert_int_equal(pv_matcher_create(W, H, &t, &p, &m), PV_OK);
    pv_match_region whole = {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 0};
    pv_match_region disc = {40, 30, 280, 210, 1, 0};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
      check(m, &im, whole, ds[i]);
      check(m, &im, disc, ds[i]);
    }
    scenes++;
    pv_matcher_destroy(m);
    fx_free(&im);
    fx_free(&t);
  }
  assert_int_equal(scenes, 12);
}

/* d large enough keeps everything; d tiny keeps the best (and exact ties). */
static void extremes(void **state) {
  (void)state;
  fx_seed(4242);
  pv_image t, im = scene(&t);
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(W, H, &t, NULL, &m), PV_OK);
  pv_match all[16], got[16];
  int n = pv_matcher_find(m, &im, all, 16);
  assert_true(n >= 3); /* the planted copies with little noise score high */
  pv_match_region r = {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 2.0};
  assert_int_equal(pv_matcher_find_in(m, &im, &r, got, 16), n);
  r.within = 1e-9;
  assert_int_equal(pv_matcher_find_in(m, &im, &r, got, 16), 1);
  assert_true(got[0].score == all[0].score);
  pv_matcher_destroy(m);
  fx_free(&im);
  fx_free(&t);
}

static void bad_within_refused(void **state) {
  (void)state;
  fx_seed(5);
  pv_image t, im = scene(&t);
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(W, H, &t, NULL, &m), PV_OK);
  pv_match out[4];
  pv_match_region r = {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, -0.1};
  assert_int_equal(pv_matcher_find_in(m, &im, &r, out, 4), PV_EINVAL);
  r.within = NAN;
  assert_int_equal(pv_matcher_find_in(m, &im, &r, out, 4), PV_EINVAL);
  pv_matcher_destroy(m);
  fx_free(&im);
  fx_free(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(within_cuts_the_full_answer),
      cmocka_unit_test(extremes),
      cmocka_unit_test(bad_within_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
