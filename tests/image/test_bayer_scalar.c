/* image: the fast scalar kernels (pairwise interior loop, edge columns by
 * the definition; bin2 with the cell layout hoisted) compute exactly the
 * per-pixel definition of bayer_internal.h (pv__luma_px, pv__luma_cell_px,
 * pv__mono_cell_px), byte for byte: every sub-range [xa, xb) of a row (so
 * every start/end parity, ranges inside the interior, touching either edge,
 * single pixels), the five formats through pv_frame_to_luma_rect and
 * pv_frame_to_luma_bin2 with the scalar kernel forced, widths 2..9, odd
 * and around multiples of 16/32/64, strides wider than the row and
 * unaligned starts. The other kernels are compared with the scalar one in
 * test_bayer_kernels.c, so this closes the chain to the definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bayer_internal.h"
#include "bayer_testlib.h"
#include "probevision/image.h"

static const pv_pixfmt bayer_fmts[4] = {PV_PIXFMT_BAYER_BG8, PV_PIXFMT_BAYER_GB8,
                                        PV_PIXFMT_BAYER_GR8, PV_PIXFMT_BAYER_RG8};

/* Row kernel on every [xa, xb) of a 3-row frame w wide, against pv__luma_px;
 * out has a guard byte on each side of the range. */
static void row_ranges_match_definition(void **state) {
  (void)state;
  for (int it = 0; it < 160; it++) {
    int w = it < 40 ? 2 + it / 5 : rnd_in(2, 70);
    uint8_t *block, *f = random_frame(3, w, rnd_in(0, 7), &block);
    uint8_t *out = malloc((size_t)w + 2);
    for (int y = 0; y < 2; y++) {
      pv__luma_row k = pv__luma_row_weights(bayer_fmts[it % 4], y);
      for (int xa = 0; xa < w; xa++)
        for (int xb = xa + 1; xb <= w; xb++) {
          memset(out, 0xa5, (size_t)w + 2);
          pv__luma_row_scalar(f, f + w, f + 2 * w, w, xa, xb, out + 1, &k);
          assert_int_equal(out[0], 0xa5);
          assert_int_equal(out[xb - xa + 1], 0xa5);
          for (int x = xa; x < xb; x++)
            if (out[1 + x - xa] != pv__luma_px(f, f + w, f + 2 * w, x, w, &k)) {
              print_error("w %d row parity %d range [%d, %d) differs at x %d\n", w, y,
                          xa, xb, x);
              fail();
            }
        }
    }
    free(out);
    free(block);
  }
}

/* Whole frames and random rectangles through the public functions with the
 * scalar kernel forced, against the definition applied pixel by pixel. */
static void frames_match_definition(void **state) {
  (void)state;
  static const int base[] = {16, 32, 64, 96, 128};
  assert_int_equal(pv__luma_kernel_set(PV__LUMA_SCALAR), PV__LUMA_SCALAR);
  for (int it = 0; it < 200; it++) {
    pv_pixfmt fmt = (pv_pixfmt)(it % PV_PIXFMT_COUNT);
    int w = it % 3 == 0 ? rnd_in(2, 9)
            : it % 3 == 1 ? base[rnd_in(0, 4)] + rnd_in(-3, 3)
                          : 2 * rnd_in(1, 100) + 1;
    int h = rnd_in(2, 12), stride = w + (rnd() & 1) * rnd_in(1, 40);
    uint8_t *block, *f = random_frame(h, stride, rnd_in(0, 31), &block);
    int rw = it % 2 ? w : rnd_in(1, w), rh = it % 2 ? h : rnd_in(1, h);
    int x0 = rnd_in(0, w - rw), y0 = rnd_in(0, h - rh);
    pv_image got, gotb;
    assert_int_equal(pv_image_alloc(&got, rw, rh), PV_OK);
    assert_int_equal(pv_image_alloc(&gotb, w / 2, h / 2), PV_OK);
    assert_int_equal(pv_frame_to_luma_rect(f, w, h, stride, fmt, x0, y0, &got), PV_OK);
    if (w >= 2) assert_int_equal(pv_frame_to_luma_bin2(f, w, h, stride, fmt, &gotb), PV_OK);
    if (fmt != PV_PIXFMT_MONO8) {
      pv__luma_row k[2] = {pv__luma_row_weights(fmt, 0), pv__luma_row_weights(fmt, 1)};
      for (int y = y0; y < y0 + rh; y++) {
        const uint8_t *up = f + (size_t)reflect_i(y - 1, h) * stride;
        const uint8_t *mid = f + (size_t)y * stride;
        const uint8_t *dn = f + (size_t)reflect_i(y + 1, h) * stride;
        for (int x = x0; x < x0 + rw; x++)
          if (got.data[(y - y0) * rw + (x - x0)] != pv__luma_px(up, mid, dn, x, w, &k[y & 1])) {
            print_error("%s %dx%d stride %d rect (%d,%d,%d,%d): pixel (%d,%d) differs\n",
                        pv_pixfmt_name(fmt), w, h, stride, x0, y0, rw, rh, x, y);
            fail();
          }
      }
    }
    pv__luma_cell c;
    if (fmt != PV_PIXFMT_MONO8) c = pv__luma_cell_weights(fmt);
    for (int y = 0; y < h / 2; y++)
      for (int x = 0; x < w / 2; x++) {
        const uint8_t *a = f + (size_t)(2 * y) * stride + 2 * x, *b = a + stride;
        uint8_t want = fmt == PV_PIXFMT_MONO8 ? pv__mono_cell_px(a, b)
                                              : pv__luma_cell_px(a, b, &c);
        if (gotb.data[y * (w / 2) + x] != want) {
          print_error("%s %dx%d stride %d: cell (%d,%d) differs\n", pv_pixfmt_name(fmt),
                      w, h, stride, x, y);
          fail();
        }
      }
    pv_image_free(&got);
    pv_image_free(&gotb);
    free(block);
  }
  pv__luma_kernel_set(PV__LUMA_KERNELS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(row_ranges_match_definition),
      cmocka_unit_test(frames_match_definition),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
