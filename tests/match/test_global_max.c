/* The matcher finds the global maximum on scenes made from real
 * photographs (photo_corpus.h): for every photograph and every template
 * size from 24 to 256 px, the best match of pv_matcher_find (whole frame)
 * and of pv_matcher_find_in (a disc near the pasted copy) must be the
 * exhaustive TM_CCOEFF_NORMED argmax computed by an independent exact
 * reference (within 1 px, or a placement whose exact score ties within
 * 1e-4) on at least 99% of the finds: per scene the best only
 * (max_out 1), up to 16 matches, and the region (357 of 360 today; the
 * misses: a low-contrast 32x24 template pasted with an offset, whose
 * coarse score at level 1 is 0.16 for an exact 0.907, and a region find
 * whose true peak, 13 px from the one found, scores lower at every coarse
 * level). Every disagreement is printed (photo, size, both
 * placements and scores). Requires scripts/fetch-photos; fails naming the folder if the
 * photographs are missing. With the argument --quick (the sanitizer
 * builds) one scene in three runs. Set PV_PHOTO_VERBOSE=1 for a line per
 * scene.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "photo_corpus.h"

static int quick;

/* Runs one scene, counting its finds in *finds; returns the number of
 * disagreements (0 to 3). */
static int run_scene(int pi, int si, const pv_image *photo, int verbose,
                     int *finds) {
  int size = pc_sizes[si];
  int w = 640 + 180 * ((pi + si) % 3), h = (pi + si) % 2 ? 512 : 480;
  int tw = size, th = pi % 4 == 3 ? size * 3 / 4 : size;
  pc_scene s;
  pc_make(photo, w, h, tw, th, (uint64_t)(pi * 100 + si + 1), &s);
  double *sc = pc_scores(&s.img, &s.templ);
  int ru, rv, gu, gv, bad = 0;
  double rbest = pc_argmax(sc, &s.img, &s.templ, NULL, &ru, &rv);
  double gbest = pc_argmax(sc, &s.img, &s.templ, &s.region, &gu, &gv);
  /* the reference itself is exact: it matches the direct sum */
  assert_true(fabs(rbest - pv_ncc_at(&s.img, &s.templ, ru, rv)) < 1e-9);
  pv_match_params p;
  pv_match_params_default(&p);
  p.subpixel = 0;
  p.threshold = 0.3;
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(w, h, &s.templ, &p, &m), PV_OK);
  pv_match out[16];
  int n = pv_matcher_find(m, &s.img, out, 16);
  (*finds)++;
  assert_true(n >= 1); /* the clean copy scores far above 0.3 */
  int fu = (int)lround(out[0].x - (tw - 1) / 2.0);
  int fv = (int)lround(out[0].y - (th - 1) / 2.0);
  pv_match one[1]; /* the best only: the pruning depends on how many */
  (*finds)++;
  int n1 = pv_matcher_find(m, &s.img, one, 1);
  int ou = n1 == 1 ? (int)lround(one[0].x - (tw - 1) / 2.0) : -1;
  int ov = n1 == 1 ? (int)lround(one[0].y - (th - 1) / 2.0) : -1;
  if (n1 != 1 || !pc_agrees(&s.img, &s.templ, ou, ov, ru, rv)) {
    printf("MISS best   %-16s %3dx%-3d found (%d,%d), max (%d,%d) %.6f\n",
           pc_photos[pi], tw, th, ou, ov, ru, rv, rbest);
    bad++;
  }
  if (!pc_agrees(&s.img, &s.templ, fu, fv, ru, rv)) {
    printf("MISS whole  %-16s %3dx%-3d found (%d,%d) %.6f, max (%d,%d) %.6f\n",
           pc_photos[pi], tw, th, fu, fv, pv_ncc_at(&s.img, &s.templ, fu, fv),
           ru, rv, rbest);
    bad++;
  } else if (verbose) {
    printf("ok   whole  %-16s %3dx%-3d (%d,%d) %.6f\n", pc_photos[pi], tw, th,
           ru, rv, rbest);
  }
  if (gu >= 0 && gbest >= p.threshold) {
    n = pv_matcher_find_in(m, &s.img, &s.region, out, 2);
    (*finds)++;
    int ok = n >= 1;
    if (ok) {
      fu = (int)lround(out[0].x - (tw - 1) / 2.0);
      fv = (int)lround(out[0].y - (th - 1) / 2.0);
      ok = pc_agrees(&s.img, &s.templ, fu, fv, gu, gv);
    }
    if (!ok) {
      printf("MISS region %-16s %3dx%-3d found %s(%d,%d), max (%d,%d) %.6f\n",
             pc_photos[pi], tw, th, n >= 1 ? "" : "nothing ", fu, fv, gu, gv,
             gbest);
      bad++;
    }
  }
  pv_matcher_destroy(m);
  free(sc);
  pc_free(&s);
  return bad;
}

static void test_global_max_on_photographs(void **state) {
  (void)state;
  int verbose = getenv("PV_PHOTO_VERBOSE") != NULL;
  int total = 0, bad = 0;
  for (int pi = 0; pi < PC_NPHOTOS; pi++) {
    pv_image photo;
    char msg[1400];
    if (pc_load(pi, &photo, msg, sizeof msg) != PV_OK) fail_msg("%s", msg);
    for (int si = 0; si < PC_NSIZES; si++) {
      if (quick && (pi + si) % 3 != 0) continue;
      bad += run_scene(pi, si, &photo, verbose, &total);
    }
    free(photo.data);
  }
  printf("global maximum: %d of %d finds agree with the exhaustive argmax\n",
         total - bad, total);
  /* the requirement: at least 99% (every miss is printed above); the
   * quick subset (a third, sanitizer builds) holds one scene of the full
   * run's misses, so there: no more misses than the full run has (3) */
  if (quick)
    assert_true(bad <= 3);
  else
    assert_true(100 * (total - bad) >= 99 * total);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--quick") == 0) quick = 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_global_max_on_photographs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
