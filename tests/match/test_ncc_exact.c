/* match: the fast coarse-to-fine search finds the global maximum of the
 * exact full-resolution TM_CCOEFF_NORMED surface (brute force of
 * pv_ncc_at) on natural-looking, noisy and repetitive scenes, with the
 * exact score, with both kernel sets (AVX2 and portable). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"

/* Runs the matcher with a threshold of -1 and compares its best match with
 * the brute-force argmax, once with the best kernels this CPU has (AVX2 on
 * most x86-64) and once with the portable ones (PV_MATCH_SIMD=portable,
 * read by pv_matcher_create). */
static void expect_global_max(const pv_image *im, const pv_image *t) {
  int bu = -1, bv = -1;
  double best = fx_brute(im, t, &bu, &bv);
  pv_match_params p;
  pv_match_params_default(&p);
  p.threshold = -1.0;
  for (int portable = 0; portable <= 1; portable++) {
    if (portable)
      setenv("PV_MATCH_SIMD", "portable", 1);
    else
      unsetenv("PV_MATCH_SIMD");
    pv_matcher *m = NULL;
    assert_int_equal(pv_matcher_create(im->width, im->height, t, &p, &m), PV_OK);
    pv_match out[4];
    int n = pv_matcher_find(m, im, out, 4);
    assert_true(n >= 1);
    double u = out[0].x - (t->width - 1) / 2.0, v = out[0].y - (t->height - 1) / 2.0;
    if (fabs(out[0].score - best) > 0.01 || fabs(u - bu) > 1.5 || fabs(v - bv) > 1.5)
      fail_msg("%s kernels, %dx%d in %dx%d: found (%.2f, %.2f) score %.4f, "
               "brute force (%d, %d) score %.4f", portable ? "portable" : "best",
               t->width, t->height, im->width, im->height, u, v, out[0].score,
               bu, bv, best);
    for (int i = 1; i < n; i++) assert_true(out[i].score <= out[0].score);
    pv_matcher_destroy(m);
  }
  unsetenv("PV_MATCH_SIMD");
}

static void reference_is_normalised(void **state) {
  (void)state;
  fx_seed(1);
  pv_image im = fx_image(40, 30, 0);
  fx_smooth(&im, 20, 20);
  pv_image t = fx_cut(&im, 7, 5, 16, 12);
  assert_true(fabs(pv_ncc_at(&im, &t, 7, 5) - 1.0) < 1e-9);
  pv_image g = fx_cut(&im, 7, 5, 16, 12); /* gain and offset: still 1 */
  for (int y = 0; y < 12; y++)
    for (int x = 0; x < 16; x++) *fx_px(&g, x, y) = (uint8_t)(*fx_px(&t, x, y) / 2 + 40);
  assert_true(pv_ncc_at(&im, &g, 7, 5) > 0.99);
  for (int y = 0; y < 12; y++) /* negative: -1 */
    for (int x = 0; x < 16; x++) *fx_px(&g, x, y) = (uint8_t)(255 - *fx_px(&t, x, y));
  assert_true(fabs(pv_ncc_at(&im, &g, 7, 5) + 1.0) < 1e-9);
  double s = pv_ncc_at(&im, &t, 20, 10);
  assert_true(s > -1.0 && s < 1.0);
  fx_free(&g);
  fx_free(&t);
  fx_free(&im);
}

static void natural_scenes(void **state) {
  (void)state;
  fx_seed(2);
  for (int trial = 0; trial < 30; trial++) {
    int w = fx_int(40, 120), h = fx_int(40, 120);
    int tw = fx_int(8, w < 48 ? w - 8 : 40), th = fx_int(8, h < 48 ? h - 8 : 40);
    pv_image im = fx_image(w, h, 0);
    fx_smooth(&im, w * h / 80, 8);
    pv_image t = fx_cut(&im, fx_int(0, w - tw), fx_int(0, h - th), tw, th);
    for (int i = 0; i < tw * th; i++) /* a noisy, dimmer copy */
      t.data[i] = fx_clamp(t.data[i] * 0.8 + 20 + (fx_rand() - 0.5) * 24);
    expect_global_max(&im, &t);
    fx_free(&t);
    fx_free(&im);
  }
}

static void planted_copies_in_noise(void **state) {
  (void)state;
  fx_seed(3);
  for (int trial = 0; trial < 30; trial++) {
    int w = fx_int(40, 120), h = fx_int(40, 120);
    int tw = fx_int(8, w < 48 ? w - 8 : 40), th = fx_int(8, h < 48 ? h - 8 : 40);
    pv_image im = fx_image(w, h, 0), t = fx_image(tw, th, 0);
    for (int i = 0; i < w * h; i++) im.data[i] = (uint8_t)fx_int(0, 255);
    fx_smooth(&t, tw * th / 30, 60);
    fx_paste(&im, &t, fx_int(0, w - tw), fx_int(0, h - th), 60);
    expect_global_max(&im, &t);
    fx_free(&t);
    fx_free(&im);
  }
}

static void repetitive_texture_with_a_defect(void **state) {
  (void)state;
  fx_seed(4);
  for (int trial = 0; trial < 30; trial++) {
    int w = fx_int(60, 120), h = fx_int(60, 120);
    int tw = fx_int(12, 40), th = fx_int(12, 40);
    int px = fx_int(5, 11), py = fx_int(5, 11);
    uint8_t tile[11 * 11];
    for (int i = 0; i < px * py; i++) tile[i] = (uint8_t)fx_int(40, 215);
    pv_image im = fx_image(w, h, 0);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        *fx_px(&im, x, y) = fx_clamp(tile[(y % py) * px + x % px] + (fx_rand() - 0.5) * 6);
    int u = fx_int(0, w - tw), v = fx_int(0, h - th); /* defect inside */
    int dx = u + fx_int(2, tw - 5), dy = v + fx_int(2, th - 5);
    for (int y = dy; y < dy + 3; y++)
      for (int x = dx; x < dx + 3; x++) *fx_px(&im, x, y) = (uint8_t)(*fx_px(&im, x, y) ^ 0x80);
    pv_image t = fx_cut(&im, u, v, tw, th);
    for (int i = 0; i < tw * th; i++) t.data[i] = fx_clamp(t.data[i] + (fx_rand() - 0.5) * 6);
    expect_global_max(&im, &t);
    fx_free(&t);
    fx_free(&im);
  }
}

static void larger_template_uses_the_pyramid(void **state) {
  (void)state;
  fx_seed(5);
  for (int trial = 0; trial < 6; trial++) { /* 64 px: top level 2 */
    pv_image im = fx_image(150, 130, 0);
    fx_smooth(&im, 300, 10);
    pv_image t = fx_cut(&im, fx_int(0, 86), fx_int(0, 66), 64, 64);
    for (int i = 0; i < 64 * 64; i++) t.data[i] = fx_clamp(t.data[i] + (fx_rand() - 0.5) * 30);
    expect_global_max(&im, &t);
    fx_free(&t);
    fx_free(&im);
  }
}

/* Larger frames and templates: the search starts 2-3 levels up, so the
 * pruning between levels is what is tested. One smooth scene, one
 * repetitive one (a 13 x 11 tile: many near-equal coarse peaks). */
static void deeper_pyramids(void **state) {
  (void)state;
  fx_seed(6);
  for (int trial = 0; trial < 2; trial++) {
    pv_image im = fx_image(200, 160, 0);
    int ts = trial ? 40 : 48;
    if (trial) {
      uint8_t tile[13 * 11];
      for (int i = 0; i < 13 * 11; i++) tile[i] = (uint8_t)fx_int(40, 215);
      for (int y = 0; y < 160; y++)
        for (int x = 0; x < 200; x++)
          *fx_px(&im, x, y) = fx_clamp(tile[(y % 11) * 13 + x % 13] + (fx_rand() - 0.5) * 20);
    } else {
      fx_smooth(&im, 320, 10);
    }
    pv_image t = fx_cut(&im, fx_int(0, 200 - ts), fx_int(0, 160 - ts), ts, ts);
    for (int i = 0; i < ts * ts; i++) t.data[i] = fx_clamp(t.data[i] + (fx_rand() - 0.5) * 30);
    expect_global_max(&im, &t);
    fx_free(&t);
    fx_free(&im);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reference_is_normalised),
      cmocka_unit_test(natural_scenes),
      cmocka_unit_test(planted_copies_in_noise),
      cmocka_unit_test(repetitive_texture_with_a_defect),
      cmocka_unit_test(larger_template_uses_the_pyramid),
      cmocka_unit_test(deeper_pyramids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
