/* image: every Bayer -> luma kernel (scalar, SSE2, AVX2, forced through the
 * internal hook and PV_LUMA_SIMD) gives the scalar reference's bytes, full
 * size and 2x2-binned, for the five formats, many sizes (2, 3, odd, around
 * multiples of 16, 32 and 64), strides wider than the row and unaligned
 * starts; the reference is within 1 grey level of the exact float formula. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bayer_internal.h"
#include "bayer_testlib.h"
#include "probevision/image.h"

static int pick_width(void) {
  static const int base[] = {16, 32, 64, 96, 128};
  switch (rnd_in(0, 3)) {
  case 0: return rnd_in(2, 9);
  case 1: return base[rnd_in(0, 4)] + rnd_in(-3, 3);
  case 2: return rnd_in(2, 300);
  default: return 2 * rnd_in(1, 150) + 1;
  }
}

/* Converts with kernel k; returns 0 when k is not supported here. */
static int convert(pv__luma_kernel k, const uint8_t *f, int w, int h, int stride,
                   pv_pixfmt fmt, pv_image *full, pv_image *bin) {
  if (pv__luma_kernel_set(k) != k) return 0;
  assert_int_equal(pv_frame_to_luma(f, w, h, stride, fmt, full), PV_OK);
  if (w >= 2 && h >= 2)
    assert_int_equal(pv_frame_to_luma_bin2(f, w, h, stride, fmt, bin), PV_OK);
  return 1;
}

static void every_kernel_gives_the_reference_bytes(void **state) {
  (void)state;
  int compared[PV__LUMA_KERNELS] = {0};
  for (int it = 0; it < 600; it++) {
    pv_pixfmt fmt = (pv_pixfmt)(it % PV_PIXFMT_COUNT);
    int w = pick_width(), h = rnd_in(2, 3) + (rnd() & 1) * rnd_in(0, 12);
    int stride = w + (rnd() & 1) * rnd_in(1, 40), offset = rnd_in(0, 31);
    uint8_t *block, *f = random_frame(h, stride, offset, &block);
    pv_image ref, refb, got, gotb;
    assert_int_equal(pv_image_alloc(&ref, w, h), PV_OK);
    assert_int_equal(pv_image_alloc(&got, w, h), PV_OK);
    assert_int_equal(pv_image_alloc(&refb, w / 2 > 0 ? w / 2 : 1, h / 2), PV_OK);
    assert_int_equal(pv_image_alloc(&gotb, refb.width, refb.height), PV_OK);
    assert_true(convert(PV__LUMA_SCALAR, f, w, h, stride, fmt, &ref, &refb));
    for (int k = 1; k < PV__LUMA_KERNELS; k++) {
      memset(got.data, 0xa5, (size_t)w * h);
      memset(gotb.data, 0xa5, (size_t)gotb.width * gotb.height);
      if (!convert((pv__luma_kernel)k, f, w, h, stride, fmt, &got, &gotb)) continue;
      compared[k]++;
      if (memcmp(got.data, ref.data, (size_t)w * h) != 0 ||
          memcmp(gotb.data, refb.data, (size_t)gotb.width * gotb.height) != 0) {
        print_error("%s differs: %s %dx%d stride %d offset %d\n",
                    pv__luma_kernel_name((pv__luma_kernel)k), pv_pixfmt_name(fmt), w,
                    h, stride, offset);
        fail();
      }
    }
    pv_image_free(&ref);
    pv_image_free(&got);
    pv_image_free(&refb);
    pv_image_free(&gotb);
    free(block);
  }
  for (int k = 1; k < PV__LUMA_KERNELS; k++)
    print_message("%s: %d frames compared\n", pv__luma_kernel_name((pv__luma_kernel)k),
                  compared[k]);
#ifdef PV__LUMA_X86
  assert_true(compared[PV__LUMA_SSE2] > 0); /* SSE2 is part of x86-64 */
#endif
  pv__luma_kernel_set(PV__LUMA_KERNELS);
}

static void reference_is_within_one_of_the_float_formula(void **state) {
  (void)state;
  assert_int_equal(pv__luma_kernel_set(PV__LUMA_SCALAR), PV__LUMA_SCALAR);
  double worst = 0, worst_bin = 0;
  for (int it = 0; it < 120; it++) {
    pv_pixfmt fmt = (pv_pixfmt)(1 + it % 4);
    int w = rnd_in(2, 70), h = rnd_in(2, 40), stride = w + rnd_in(0, 5);
    uint8_t *block, *f = random_frame(h, stride, rnd_in(0, 7), &block);
    pv_image full, bin;
    assert_int_equal(pv_image_alloc(&full, w, h), PV_OK);
    assert_int_equal(pv_image_alloc(&bin, w / 2, h / 2), PV_OK);
    assert_int_equal(pv_frame_to_luma(f, w, h, stride, fmt, &full), PV_OK);
    assert_int_equal(pv_frame_to_luma_bin2(f, w, h, stride, fmt, &bin), PV_OK);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double e = fabs(full.data[y * w + x] - float_luma(f, w, h, stride, fmt, x, y));
        if (e > worst) worst = e;
      }
    for (int y = 0; y < h / 2; y++)
      for (int x = 0; x < w / 2; x++) {
        double e = fabs(bin.data[y * (w / 2) + x] - float_cell(f, stride, fmt, x, y));
        if (e > worst_bin) worst_bin = e;
      }
    pv_image_free(&full);
    pv_image_free(&bin);
    free(block);
  }
  print_message("largest distance to the float formula: %.4f full, %.4f binned\n",
                worst, worst_bin);
  assert_true(worst <= 1.0);
  assert_true(worst_bin <= 1.0);
  pv__luma_kernel_set(PV__LUMA_KERNELS);
}

/* Saturated input (all 255, all 0) stays 255 and 0 in every kernel: the
 * 16-bit sums must not wrap. */
static void extremes_do_not_wrap(void **state) {
  (void)state;
  enum { W = 131, H = 5 };
  static uint8_t f[W * H];
  pv_image full, bin;
  assert_int_equal(pv_image_alloc(&full, W, H), PV_OK);
  assert_int_equal(pv_image_alloc(&bin, W / 2, H / 2), PV_OK);
  for (int v = 0; v <= 255; v += 255)
    for (int k = 0; k < PV__LUMA_KERNELS; k++)
      for (int fmt = 0; fmt < PV_PIXFMT_COUNT; fmt++) {
        if ((int)pv__luma_kernel_set((pv__luma_kernel)k) != k) continue;
        memset(f, v, sizeof f);
        assert_int_equal(pv_frame_to_luma(f, W, H, W, fmt, &full), PV_OK);
        assert_int_equal(pv_frame_to_luma_bin2(f, W, H, W, fmt, &bin), PV_OK);
        for (int i = 0; i < W * H; i++) assert_int_equal(full.data[i], v);
        for (int i = 0; i < (W / 2) * (H / 2); i++) assert_int_equal(bin.data[i], v);
      }
  pv_image_free(&full);
  pv_image_free(&bin);
  pv__luma_kernel_set(PV__LUMA_KERNELS);
}

int main(void) {
  /* PV_LUMA_SIMD is read at first use: force SSE2 and see it chosen (or,
   * without SSE2, the scalar fallback); an unknown name is no error. */
  setenv("PV_LUMA_SIMD", "sse2", 1);
  pv__luma_kernel want =
      pv__luma_kernel_supported(PV__LUMA_SSE2) ? PV__LUMA_SSE2 : PV__LUMA_SCALAR;
  if (pv__luma_kernel_get() != want) {
    fprintf(stderr, "PV_LUMA_SIMD=sse2 chose %s\n",
            pv__luma_kernel_name(pv__luma_kernel_get()));
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_kernel_gives_the_reference_bytes),
      cmocka_unit_test(reference_is_within_one_of_the_float_formula),
      cmocka_unit_test(extremes_do_not_wrap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
