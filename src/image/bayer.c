/* Bayer 8-bit (and Mono8) frames -> 8-bit luma, full size, 2x2-binned, or a
 * rectangle of the full-size result.
 *
 * The integer arithmetic every kernel computes is defined once in
 * bayer_internal.h. This file holds the one table of Bayer site colours and
 * luma weights, derives each row's weights from it, checks arguments, holds
 * the scalar kernels (fast loops over the same arithmetic), and dispatches
 * to the kernel chosen once at first use: the best the CPU supports (AVX2, SSE2, scalar), or the one
 * PV_LUMA_SIMD=scalar|sse2|avx2 names (an unsupported or unknown name falls
 * back to the best supported). The choice is one atomic int, so it is
 * thread-safe to use; pv__luma_kernel_set (tests) is not meant to race
 * conversions. A full conversion is the rectangle (0, 0, w, h): the output
 * of a pixel never depends on which rectangle or kernel computed it.
 * Nothing is allocated.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bayer_internal.h"
#include "probevision/image.h"

enum { COL_R = 0, COL_G = 1, COL_B = 2 };

/* Luma weights scaled to 2^16 (sum 65536): 0.299, 0.587, 0.114. */
static const uint16_t lw[3] = {19595, 38470, 7471};

/* Colour of site (x & 1, y & 1) as index [(y & 1) * 2 + (x & 1)]. */
static const unsigned char bayer_sites[PV_PIXFMT_COUNT][4] = {
    [PV_PIXFMT_BAYER_BG8] = {COL_B, COL_G, COL_G, COL_R},
    [PV_PIXFMT_BAYER_GB8] = {COL_G, COL_B, COL_R, COL_G},
    [PV_PIXFMT_BAYER_GR8] = {COL_G, COL_R, COL_B, COL_G},
    [PV_PIXFMT_BAYER_RG8] = {COL_R, COL_G, COL_G, COL_B},
};

static int is_bayer(pv_pixfmt fmt) {
  return fmt == PV_PIXFMT_BAYER_BG8 || fmt == PV_PIXFMT_BAYER_GB8 ||
         fmt == PV_PIXFMT_BAYER_GR8 || fmt == PV_PIXFMT_BAYER_RG8;
}

/* Weights of row y of a frame in Bayer format fmt. Pure. */
pv__luma_row pv__luma_row_weights(pv_pixfmt fmt, int y) {
  const unsigned char *s = bayer_sites[fmt];
  pv__luma_row k;
  memset(&k, 0, sizeof k);
  for (int p = 0; p < 2; p++) {
    int c = s[(y & 1) * 2 + p];
    if (c == COL_G) {
      k.gpar = p;
      k.kc[p] = lw[COL_G];
      k.k1[p] = lw[s[(y & 1) * 2 + (p ^ 1)]];
      k.k2[p] = lw[s[((y + 1) & 1) * 2 + p]];
    } else {
      k.kc[p] = lw[c];
      k.k1[p] = lw[COL_G];
      k.k2[p] = lw[c == COL_R ? COL_B : COL_R];
    }
  }
  return k;
}

/* Weights of the 2x2 cells of format fmt. Pure. */
pv__luma_cell pv__luma_cell_weights(pv_pixfmt fmt) {
  const unsigned char *s = bayer_sites[fmt];
  pv__luma_cell c;
  c.kg = lw[COL_G];
  c.gdiag = s[0] != COL_G;
  c.kx0 = lw[c.gdiag ? s[0] : s[1]];
  c.kx1 = lw[c.gdiag ? s[3] : s[2]];
  return c;
}

/* ---- scalar kernels ---------------------------------------------------- */

/* The scalar kernels are what runs without SSE2 (aarch64 stations), so
 * they are written for speed while computing exactly pv__luma_px's
 * integers (through the same pv__luma_green_s / pv__luma_rb_s): only the
 * first and last columns, whose neighbours reflect, go through pv__luma_px;
 * the interior 1 <= x <= w - 2 runs in (green, red-or-blue) pairs with each
 * site's weights hoisted out of the loop, no reflection, no site test.
 * tests/image/test_bayer_scalar.c compares them with the per-pixel
 * definition. */

/* n interior pixels of one row (every one with both horizontal neighbours
 * in the frame) into o[0..n-1]: up, mid, dn point at the first one, whose
 * x parity is p0. Pure, thread-safe. */
static void row_interior(const uint8_t *up, const uint8_t *mid, const uint8_t *dn,
                         int n, int p0, uint8_t *o, const pv__luma_row *k) {
  const int g = k->gpar, c = g ^ 1;
  const uint32_t gkc = k->kc[g], gk1 = k->k1[g], gk2 = k->k2[g];
  const uint32_t ckc = k->kc[c], ck1 = k->k1[c], ck2 = k->k2[c];
#define PV__GREEN_AT(x)                                                          \
  pv__luma_round(pv__luma_green_s(mid[x], mid[(x) - 1] + mid[(x) + 1],          \
                                  up[x] + dn[x], gkc, gk1, gk2))
#define PV__RB_AT(x)                                                             \
  pv__luma_round(pv__luma_rb_s(mid[x],                                          \
                               mid[(x) - 1] + mid[(x) + 1] + up[x] + dn[x],     \
                               up[(x) - 1] + up[(x) + 1] + dn[(x) - 1] +        \
                                   dn[(x) + 1],                                 \
                               ckc, ck1, ck2))
  int x = 0;
  if (x < n && p0 != g) {
    o[x] = PV__RB_AT(x);
    x++;
  }
  /* pairs (green x, red-or-blue x + 1), carrying what the next pair
   * shares: mid[x - 1], mid[x] and the vertical sum at x */
  uint32_t ml = mid[x - 1], m0 = mid[x], v0 = up[x] + dn[x];
  for (; x + 1 < n; x += 2) {
    uint32_t m1 = mid[x + 1], m2 = mid[x + 2];
    uint32_t v1 = up[x + 1] + dn[x + 1], v2 = up[x + 2] + dn[x + 2];
    o[x] = pv__luma_round(pv__luma_green_s(m0, ml + m1, v0, gkc, gk1, gk2));
    o[x + 1] = pv__luma_round(pv__luma_rb_s(m1, m0 + m2 + v1, v0 + v2, ckc, ck1, ck2));
    ml = m1, m0 = m2, v0 = v2;
  }
  if (x < n) o[x] = PV__GREEN_AT(x);
#undef PV__GREEN_AT
#undef PV__RB_AT
}

void pv__luma_row_scalar(const uint8_t *up, const uint8_t *mid,
                         const uint8_t *dn, int w, int xa, int xb,
                         uint8_t *out, const pv__luma_row *k) {
  int x = xa;
  if (x == 0 && x < xb) {
    out[0] = pv__luma_px(up, mid, dn, 0, w, k);
    x = 1;
  }
  int ie = xb < w - 1 ? xb : w - 1; /* the last column reflects */
  if (x < ie) {
    row_interior(up + x, mid + x, dn + x, ie - x, x & 1, out + (x - xa), k);
    x = ie;
  }
  for (; x < xb; x++) out[x - xa] = pv__luma_px(up, mid, dn, x, w, k);
}

void pv__luma_bin_scalar(const uint8_t *a, const uint8_t *b, int n,
                         uint8_t *out, const pv__luma_cell *cell) {
  if (cell == NULL) {
    for (int i = 0; i < n; i++) out[i] = pv__mono_cell_px(a + 2 * i, b + 2 * i);
    return;
  }
  const uint32_t kx0 = cell->kx0, kg = cell->kg, kx1 = cell->kx1;
  if (cell->gdiag)
    for (int i = 0; i < n; i++)
      out[i] = pv__luma_cell_s(a[2 * i], a[2 * i + 1] + b[2 * i], b[2 * i + 1], kx0,
                               kg, kx1);
  else
    for (int i = 0; i < n; i++)
      out[i] = pv__luma_cell_s(a[2 * i + 1], a[2 * i] + b[2 * i + 1], b[2 * i], kx0,
                               kg, kx1);
}

/* ---- dispatch --------------------------------------------------------- */

static const struct {
  const char *name;
  pv__luma_row_fn row;
  pv__luma_bin_fn bin;
} kernels[PV__LUMA_KERNELS] = {
    [PV__LUMA_SCALAR] = {"scalar", pv__luma_row_scalar, pv__luma_bin_scalar},
#ifdef PV__LUMA_X86
    [PV__LUMA_SSE2] = {"sse2", pv__luma_row_sse2, pv__luma_bin_sse2},
    [PV__LUMA_AVX2] = {"avx2", pv__luma_row_avx2, pv__luma_bin_avx2},
    [PV__LUMA_AVX512] = {"avx512", pv__luma_row_avx512, pv__luma_bin_avx512},
#else
    [PV__LUMA_SSE2] = {"sse2", pv__luma_row_scalar, pv__luma_bin_scalar},
    [PV__LUMA_AVX2] = {"avx2", pv__luma_row_scalar, pv__luma_bin_scalar},
    [PV__LUMA_AVX512] = {"avx512", pv__luma_row_scalar, pv__luma_bin_scalar},
#endif
};

static atomic_int chosen = -1;

int pv__luma_kernel_supported(pv__luma_kernel k) {
  switch (k) {
  case PV__LUMA_SCALAR: return 1;
#ifdef PV__LUMA_X86
  case PV__LUMA_SSE2: return __builtin_cpu_supports("sse2") != 0;
  case PV__LUMA_AVX2: return __builtin_cpu_supports("avx2") != 0;
  case PV__LUMA_AVX512:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#endif
  default: return 0;
  }
}

const char *pv__luma_kernel_name(pv__luma_kernel k) {
  return (unsigned)k < PV__LUMA_KERNELS ? kernels[k].name : "?";
}

static pv__luma_kernel best_supported(pv__luma_kernel at_most) {
  int k = (unsigned)at_most < PV__LUMA_KERNELS ? (int)at_most : PV__LUMA_KERNELS - 1;
  while (k > 0 && !pv__luma_kernel_supported((pv__luma_kernel)k)) k--;
  return (pv__luma_kernel)k;
}

pv__luma_kernel pv__luma_kernel_set(pv__luma_kernel k) {
  pv__luma_kernel got = best_supported(k);
  atomic_store(&chosen, (int)got);
  return got;
}

pv__luma_kernel pv__luma_kernel_get(void) {
  int k = atomic_load_explicit(&chosen, memory_order_relaxed);
  if (k >= 0) return (pv__luma_kernel)k;
  pv__luma_kernel want = PV__LUMA_KERNELS - 1;
  const char *env = getenv("PV_LUMA_SIMD");
  if (env != NULL)
    for (int i = 0; i < PV__LUMA_KERNELS; i++)
      if (strcmp(env, kernels[i].name) == 0) want = (pv__luma_kernel)i;
  pv__luma_kernel got = best_supported(want);
  int expect = -1; /* a concurrent first use or a set() wins */
  atomic_compare_exchange_strong(&chosen, &expect, (int)got);
  return (pv__luma_kernel)atomic_load(&chosen);
}

/* ---- public functions ------------------------------------------------- */

int pv_frame_luma_check(const uint8_t *src, int w, int h, int stride, pv_pixfmt fmt) {
  if (src == NULL || w < 1 || h < 1 || stride < w) return PV_EINVAL;
  if (fmt != PV_PIXFMT_MONO8 && !is_bayer(fmt)) return PV_EINVAL;
  if (is_bayer(fmt) && (w < 2 || h < 2)) return PV_EINVAL;
  return PV_OK;
}

static int check_dst(const pv_image *dst) {
  if (dst == NULL || dst->data == NULL || dst->width < 1 || dst->height < 1 ||
      dst->stride < dst->width)
    return PV_EINVAL;
  return PV_OK;
}

int pv_frame_to_luma_rect(const uint8_t *src, int w, int h, int stride,
                          pv_pixfmt fmt, int x0, int y0, pv_image *dst) {
  if (pv_frame_luma_check(src, w, h, stride, fmt) != PV_OK || check_dst(dst) != PV_OK)
    return PV_EINVAL;
  int dw = dst->width, dh = dst->height;
  if (x0 < 0 || y0 < 0 || x0 > w - dw || y0 > h - dh) return PV_EINVAL;
  if (fmt == PV_PIXFMT_MONO8) {
    for (int y = 0; y < dh; y++)
      memcpy(dst->data + (size_t)y * dst->stride,
             src + (size_t)(y0 + y) * stride + x0, (size_t)dw);
    return PV_OK;
  }
  pv__luma_row_fn row = kernels[pv__luma_kernel_get()].row;
  pv__luma_row k[2] = {pv__luma_row_weights(fmt, 0), pv__luma_row_weights(fmt, 1)};
  for (int y = y0; y < y0 + dh; y++) {
    int yu = y > 0 ? y - 1 : 1, yd = y + 1 < h ? y + 1 : h - 2;
    row(src + (size_t)yu * stride, src + (size_t)y * stride,
        src + (size_t)yd * stride, w, x0, x0 + dw,
        dst->data + (size_t)(y - y0) * dst->stride, &k[y & 1]);
  }
  return PV_OK;
}

int pv_frame_to_luma(const uint8_t *src, int w, int h, int stride,
                     pv_pixfmt fmt, pv_image *dst) {
  if (check_dst(dst) != PV_OK || dst->width != w || dst->height != h)
    return PV_EINVAL;
  return pv_frame_to_luma_rect(src, w, h, stride, fmt, 0, 0, dst);
}

int pv_frame_to_luma_bin2(const uint8_t *src, int w, int h, int stride,
                          pv_pixfmt fmt, pv_image *dst) {
  if (pv_frame_luma_check(src, w, h, stride, fmt) != PV_OK || check_dst(dst) != PV_OK)
    return PV_EINVAL;
  int ow = w / 2, oh = h / 2;
  if (ow < 1 || oh < 1 || dst->width != ow || dst->height != oh) return PV_EINVAL;
  pv__luma_bin_fn bin = kernels[pv__luma_kernel_get()].bin;
  pv__luma_cell cell;
  if (is_bayer(fmt)) cell = pv__luma_cell_weights(fmt);
  for (int y = 0; y < oh; y++) {
    const uint8_t *a = src + (size_t)(2 * y) * stride;
    bin(a, a + stride, ow, dst->data + (size_t)y * dst->stride,
        is_bayer(fmt) ? &cell : NULL);
  }
  return PV_OK;
}

int pv_bayer_site_colour(pv_pixfmt fmt, int x, int y) {
  if (!is_bayer(fmt)) return -1;
  return bayer_sites[fmt][(y & 1) * 2 + (x & 1)];
}
