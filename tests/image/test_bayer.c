/* image: pixel-format names, image views, Bayer and Mono8 -> luma (full
 * size and 2x2-binned). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/image.h"

enum { W = 40, H = 30, SPLIT = 20 }; /* left and right halves, two colours */

static const int left_rgb[3] = {200, 100, 50}, right_rgb[3] = {30, 180, 220};

static int expected_luma(const int *c) {
  return (int)(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] + 0.5);
}

/* The colour of site (x, y), written out from the format names: "BG" means
 * row 0 = B G B G..., row 1 = G R G R... (0 = R, 1 = G, 2 = B). */
static int site(const char *order, int x, int y) {
  static const char *rows[4][2] = {
      {"BG", "GR"}, {"GB", "RG"}, {"GR", "BG"}, {"RG", "GB"}};
  static const char *names[4] = {"BG", "GB", "GR", "RG"};
  for (int i = 0; i < 4; i++)
    if (strcmp(order, names[i]) == 0) {
      char ch = rows[i][y & 1][x & 1];
      return ch == 'R' ? 0 : ch == 'G' ? 1 : 2;
    }
  fail();
  return -1;
}

static void mosaic(const char *order, uint8_t *raw, int stride) {
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      const int *c = x < SPLIT ? left_rgb : right_rgb;
      raw[y * stride + x] = (uint8_t)c[site(order, x, y)];
    }
}

static void pixfmt_names_round_trip(void **state) {
  (void)state;
  assert_string_equal(pv_pixfmt_name(PV_PIXFMT_BAYER_BG8), "BayerBG8");
  assert_string_equal(pv_pixfmt_name(PV_PIXFMT_MONO8), "Mono8");
  for (int f = 0; f < PV_PIXFMT_COUNT; f++)
    assert_int_equal(pv_pixfmt_parse(pv_pixfmt_name(f)), f);
  assert_int_equal(pv_pixfmt_parse("BayerXY8"), -1);
  assert_int_equal(pv_pixfmt_parse(NULL), -1);
  assert_int_equal(pv_bayer_site_colour(PV_PIXFMT_BAYER_GR8, 1, 0), 0);
  assert_int_equal(pv_bayer_site_colour(PV_PIXFMT_MONO8, 0, 0), -1);
}

static void alloc_and_view(void **state) {
  (void)state;
  pv_image img, v;
  assert_int_equal(pv_image_alloc(&img, 10, 8), PV_OK);
  assert_int_equal(img.stride, 10);
  assert_int_equal(img.data[79], 0);
  assert_int_equal(pv_image_view(&img, 2, 3, 8, 5, &v), PV_OK);
  assert_ptr_equal(v.data, img.data + 3 * 10 + 2);
  assert_int_equal(v.stride, 10);
  assert_int_equal(pv_image_view(&img, 3, 3, 8, 5, &v), PV_EINVAL);
  assert_int_equal(pv_image_view(&img, -1, 0, 2, 2, &v), PV_EINVAL);
  assert_int_equal(pv_image_alloc(&v, 0, 5), PV_EINVAL);
  assert_int_equal(pv_image_alloc(&v, PV_IMAGE_MAX_DIM + 1, 1), PV_EINVAL);
  pv_image_free(&img);
  assert_null(img.data);
  pv_image_free(&img); /* zeroed: no-op */
  pv_image_free(NULL);
}

/* Flat colour regions demosaic to their luma everywhere, image borders
 * included; only the two columns at the colour edge mix. */
static void bayer_flat_regions_give_their_luma(void **state) {
  (void)state;
  const char *orders[4] = {"BG", "GB", "GR", "RG"};
  const pv_pixfmt fmts[4] = {PV_PIXFMT_BAYER_BG8, PV_PIXFMT_BAYER_GB8,
                             PV_PIXFMT_BAYER_GR8, PV_PIXFMT_BAYER_RG8};
  const int stride = W + 7;
  uint8_t raw[H * (W + 7)];
  pv_image luma, bin;
  assert_int_equal(pv_image_alloc(&luma, W, H), PV_OK);
  assert_int_equal(pv_image_alloc(&bin, W / 2, H / 2), PV_OK);
  int yl = expected_luma(left_rgb), yr = expected_luma(right_rgb);
  for (int n = 0; n < 4; n++) {
    memset(raw, 0, sizeof raw);
    mosaic(orders[n], raw, stride);
    assert_int_equal(pv_frame_to_luma(raw, W, H, stride, fmts[n], &luma), PV_OK);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        if (x == SPLIT - 1 || x == SPLIT) continue;
        int want = x < SPLIT ? yl : yr;
        assert_in_range(luma.data[y * W + x], want - 1, want + 1);
      }
    assert_int_equal(pv_frame_to_luma_bin2(raw, W, H, stride, fmts[n], &bin), PV_OK);
    for (int y = 0; y < H / 2; y++)
      for (int x = 0; x < W / 2; x++) {
        int want = 2 * x < SPLIT ? yl : yr;
        assert_in_range(bin.data[y * (W / 2) + x], want - 1, want + 1);
      }
  }
  pv_image_free(&luma);
  pv_image_free(&bin);
}

static void mono8_is_copied_and_averaged(void **state) {
  (void)state;
  const int stride = 13, w = 10, h = 6;
  uint8_t raw[6 * 13];
  for (int i = 0; i < (int)sizeof raw; i++) raw[i] = (uint8_t)(i * 7);
  pv_image luma, bin;
  assert_int_equal(pv_image_alloc(&luma, w, h), PV_OK);
  assert_int_equal(pv_image_alloc(&bin, w / 2, h / 2), PV_OK);
  assert_int_equal(pv_frame_to_luma(raw, w, h, stride, PV_PIXFMT_MONO8, &luma), PV_OK);
  for (int y = 0; y < h; y++)
    assert_memory_equal(luma.data + y * w, raw + y * stride, w);
  assert_int_equal(pv_frame_to_luma_bin2(raw, w, h, stride, PV_PIXFMT_MONO8, &bin), PV_OK);
  for (int y = 0; y < h / 2; y++)
    for (int x = 0; x < w / 2; x++) {
      const uint8_t *p = raw + 2 * y * stride + 2 * x;
      double mean = (p[0] + p[1] + p[stride] + p[stride + 1]) / 4.0;
      assert_true(fabs(bin.data[y * (w / 2) + x] - mean) <= 0.5);
    }
  pv_image_free(&luma);
  pv_image_free(&bin);
}

static void bad_arguments_are_refused(void **state) {
  (void)state;
  uint8_t raw[64] = {0};
  pv_image luma;
  assert_int_equal(pv_image_alloc(&luma, 8, 8), PV_OK);
  assert_int_equal(pv_frame_to_luma(raw, 8, 8, 8, PV_PIXFMT_COUNT, &luma), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma(raw, 8, 8, 7, PV_PIXFMT_MONO8, &luma), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma(raw, 8, 4, 8, PV_PIXFMT_BAYER_BG8, &luma), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_bin2(raw, 8, 8, 8, PV_PIXFMT_BAYER_BG8, &luma), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma(NULL, 8, 8, 8, PV_PIXFMT_MONO8, &luma), PV_EINVAL);
  pv_image_free(&luma);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pixfmt_names_round_trip),
      cmocka_unit_test(alloc_and_view),
      cmocka_unit_test(bayer_flat_regions_give_their_luma),
      cmocka_unit_test(mono8_is_copied_and_averaged),
      cmocka_unit_test(bad_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
