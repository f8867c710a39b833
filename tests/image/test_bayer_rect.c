/* image: pv_frame_to_luma_rect writes exactly the crop of the full-size
 * conversion, for the five formats, every kernel, any x0/y0 parity, and
 * rectangles touching each frame edge; bad rectangles give PV_EINVAL and
 * leave dst alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bayer_internal.h"
#include "bayer_testlib.h"
#include "probevision/image.h"

static void check_rect(const uint8_t *f, int w, int h, int stride, pv_pixfmt fmt,
                       const pv_image *full, int x0, int y0, int rw, int rh) {
  /* dst with a wider stride, to catch writes past its width */
  int ds = rw + 3;
  uint8_t *buf = malloc((size_t)ds * rh);
  memset(buf, 0xa5, (size_t)ds * rh);
  pv_image dst = {rw, rh, ds, buf};
  assert_int_equal(pv_frame_to_luma_rect(f, w, h, stride, fmt, x0, y0, &dst), PV_OK);
  for (int y = 0; y < rh; y++) {
    if (memcmp(buf + (size_t)y * ds, full->data + (size_t)(y0 + y) * w + x0,
               (size_t)rw) != 0) {
      print_error("%s %s %dx%d: rect (%d,%d,%d,%d) row %d differs\n",
                  pv__luma_kernel_name(pv__luma_kernel_get()), pv_pixfmt_name(fmt),
                  w, h, x0, y0, rw, rh, y);
      fail();
    }
    for (int x = rw; x < ds; x++) assert_int_equal(buf[(size_t)y * ds + x], 0xa5);
  }
  free(buf);
}

static void rect_is_the_crop_of_the_full_conversion(void **state) {
  (void)state;
  for (int it = 0; it < 150; it++) {
    pv_pixfmt fmt = (pv_pixfmt)(it % PV_PIXFMT_COUNT);
    int w = rnd_in(2, 200), h = rnd_in(2, 24), stride = w + rnd_in(0, 9);
    uint8_t *block, *f = random_frame(h, stride, rnd_in(0, 15), &block);
    pv_image full;
    assert_int_equal(pv_image_alloc(&full, w, h), PV_OK);
    pv__luma_kernel_set(PV__LUMA_SCALAR);
    assert_int_equal(pv_frame_to_luma(f, w, h, stride, fmt, &full), PV_OK);
    for (int k = 0; k < PV__LUMA_KERNELS; k++) {
      if ((int)pv__luma_kernel_set((pv__luma_kernel)k) != k) continue;
      for (int r = 0; r < 12; r++) {
        int rw = rnd_in(1, w), rh = rnd_in(1, h);
        int x0 = rnd_in(0, w - rw), y0 = rnd_in(0, h - rh);
        switch (r % 6) { /* touch each edge, and the whole frame */
        case 0: x0 = 0; break;
        case 1: x0 = w - rw; break;
        case 2: y0 = 0; break;
        case 3: y0 = h - rh; break;
        case 4: x0 = y0 = 0, rw = w, rh = h; break;
        default: break;
        }
        check_rect(f, w, h, stride, fmt, &full, x0, y0, rw, rh);
      }
      /* single pixels at the four corners */
      check_rect(f, w, h, stride, fmt, &full, 0, 0, 1, 1);
      check_rect(f, w, h, stride, fmt, &full, w - 1, 0, 1, 1);
      check_rect(f, w, h, stride, fmt, &full, 0, h - 1, 1, 1);
      check_rect(f, w, h, stride, fmt, &full, w - 1, h - 1, 1, 1);
    }
    pv_image_free(&full);
    free(block);
  }
  pv__luma_kernel_set(PV__LUMA_KERNELS);
}

static void bad_rectangles_are_refused(void **state) {
  (void)state;
  enum { W = 40, H = 30 };
  static uint8_t f[W * H];
  uint8_t buf[16 * 10];
  memset(buf, 0x5a, sizeof buf);
  pv_image d = {16, 10, 16, buf};
  pv_pixfmt bg = PV_PIXFMT_BAYER_BG8;
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 24, 20, &d), PV_OK);
  memset(buf, 0x5a, sizeof buf);
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 25, 0, &d), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 0, 21, &d), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, -1, 0, &d), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 0, -1, &d), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W - 1, bg, 0, 0, &d), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(NULL, W, H, W, bg, 0, 0, &d), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, PV_PIXFMT_COUNT, 0, 0, &d), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 0, 0, NULL), PV_EINVAL);
  assert_int_equal(pv_frame_to_luma_rect(f, 1, H, W, bg, 0, 0, &d), PV_EINVAL);
  pv_image bad = d;
  bad.stride = 15; /* dst too small for its width */
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 0, 0, &bad), PV_EINVAL);
  bad = d;
  bad.data = NULL;
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 0, 0, &bad), PV_EINVAL);
  bad = d;
  bad.width = 0;
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, bg, 0, 0, &bad), PV_EINVAL);
  bad = d;
  bad.width = W + 1;
  bad.stride = W + 1;
  assert_int_equal(pv_frame_to_luma_rect(f, W, H, W, PV_PIXFMT_MONO8, 0, 0, &bad), PV_EINVAL);
  for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], 0x5a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rect_is_the_crop_of_the_full_conversion),
      cmocka_unit_test(bad_rectangles_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
