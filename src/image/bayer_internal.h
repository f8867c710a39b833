/* Bayer -> luma: what the dispatcher (bayer.c) shares with the SIMD kernels
 * (bayer_sse2.c, bayer_avx2.c, through bayer_simd.h) and white-box tests.
 *
 * The arithmetic, one definition for every kernel. Bilinear demosaic then
 * Y = 0.299 R + 0.587 G + 0.114 B is a 3x3 linear filter whose weights
 * depend on the colour of the centre site. With K = the luma weights scaled
 * to 2^16 (KR + KG + KB = 65536) and every operand an average of raw
 * samples scaled by 256 (so it fits 16 bits and is exact):
 *   C  = centre * 256
 *   H  = (left + right) * 128          V = (up + down) * 128
 *   HV = (left + right + up + down) * 64
 *   D  = (the 4 diagonals) * 64
 *   mulhi(a, k) = (a * k) >> 16        (unsigned, what pmulhuw computes)
 *   green site:       S = mulhi(C, KG) + mulhi(H, K[h colour]) + mulhi(V, K[v colour])
 *   red or blue site: S = mulhi(C, K[c]) + mulhi(HV, KG) + mulhi(D, K[other])
 *   Y = (S + 128) >> 8
 * S <= 65280, so everything stays in unsigned 16-bit lanes; the three floors
 * and the weights' rounding cost under 0.02 grey, so Y is within 0.52 of the
 * exact float formula. Borders reflect (index -1 -> 1, w -> w - 2), which
 * keeps the Bayer phase. 2x2 binning: Y = (mulhi(X0*256, K[x0]) +
 * mulhi((G1 + G2) * 128, KG) + mulhi(X1*256, K[x1]) + 128) >> 8 over each
 * cell's two non-green sites X0, X1 and two greens; Mono8 binning is
 * (a + b + c + d + 2) >> 2. Every kernel computes exactly these integers,
 * so all give identical bytes.
 */
#ifndef PV_IMAGE_BAYER_INTERNAL_H
#define PV_IMAGE_BAYER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/image.h"

/* Weights of one output row: index [x & 1]. gpar: x parity of the row's
 * green sites. For a green site k1 weighs H and k2 weighs V; for a red or
 * blue site k1 weighs HV (KG) and k2 weighs D. */
typedef struct pv__luma_row {
  uint16_t kc[2], k1[2], k2[2];
  int gpar;
} pv__luma_row;

/* Weights of one 2x2 cell for binning. gdiag 0: greens at (0,0) and (1,1),
 * the others at (1,0) (weight kx0) and (0,1) (kx1); gdiag 1: greens at
 * (1,0) and (0,1), the others at (0,0) (kx0) and (1,1) (kx1). */
typedef struct pv__luma_cell {
  uint16_t kx0, kx1, kg;
  int gdiag;
} pv__luma_cell;

/* A row kernel writes out[i] = luma of pixel xa + i for xa <= x < xb of
 * the row mid of a frame w pixels wide (w >= 2), whose neighbour rows are
 * up and dn (already reflected). Pure, thread-safe. */
typedef void (*pv__luma_row_fn)(const uint8_t *up, const uint8_t *mid,
                                const uint8_t *dn, int w, int xa, int xb,
                                uint8_t *out, const pv__luma_row *k);
/* A bin kernel writes out[i] for the cells i = 0..n-1 of rows a, b (pixels
 * 2i, 2i + 1); cell NULL means Mono8. Pure, thread-safe. */
typedef void (*pv__luma_bin_fn)(const uint8_t *a, const uint8_t *b, int n,
                                uint8_t *out, const pv__luma_cell *cell);

typedef enum pv__luma_kernel {
  PV__LUMA_SCALAR = 0,
  PV__LUMA_SSE2 = 1,
  PV__LUMA_AVX2 = 2,
  PV__LUMA_AVX512 = 3, /* AVX-512BW */
  PV__LUMA_KERNELS
} pv__luma_kernel;

/* The kernel in use (chosen at first use from the CPU and PV_LUMA_SIMD). */
pv__luma_kernel pv__luma_kernel_get(void);
/* Forces kernel k (tests, benchmarks); an unsupported k falls back to the
 * best supported one. Returns the kernel now in use. Not to be called
 * while another thread converts a frame (the conversion may use either). */
pv__luma_kernel pv__luma_kernel_set(pv__luma_kernel k);
/* Name ("scalar", "sse2", "avx2", "avx512") and whether this CPU runs kernel k. */
const char *pv__luma_kernel_name(pv__luma_kernel k);
int pv__luma_kernel_supported(pv__luma_kernel k);

/* The weights of row y, and of the 2x2 cells, of Bayer format fmt (the one
 * table in bayer.c; white-box tests use them too). Pure. */
pv__luma_row pv__luma_row_weights(pv_pixfmt fmt, int y);
pv__luma_cell pv__luma_cell_weights(pv_pixfmt fmt);

/* The scalar kernels: the definition below, computed pairwise in the row
 * interior (no per-pixel reflection or site test; see bayer.c). */
void pv__luma_row_scalar(const uint8_t *up, const uint8_t *mid,
                         const uint8_t *dn, int w, int xa, int xb,
                         uint8_t *out, const pv__luma_row *k);
void pv__luma_bin_scalar(const uint8_t *a, const uint8_t *b, int n,
                         uint8_t *out, const pv__luma_cell *cell);
#if defined(__x86_64__) || defined(__i386__)
#define PV__LUMA_X86 1
void pv__luma_row_sse2(const uint8_t *up, const uint8_t *mid, const uint8_t *dn,
                       int w, int xa, int xb, uint8_t *out, const pv__luma_row *k);
void pv__luma_bin_sse2(const uint8_t *a, const uint8_t *b, int n, uint8_t *out,
                       const pv__luma_cell *cell);
void pv__luma_row_avx2(const uint8_t *up, const uint8_t *mid, const uint8_t *dn,
                       int w, int xa, int xb, uint8_t *out, const pv__luma_row *k);
void pv__luma_bin_avx2(const uint8_t *a, const uint8_t *b, int n, uint8_t *out,
                       const pv__luma_cell *cell);
void pv__luma_row_avx512(const uint8_t *up, const uint8_t *mid, const uint8_t *dn,
                         int w, int xa, int xb, uint8_t *out, const pv__luma_row *k);
void pv__luma_bin_avx512(const uint8_t *a, const uint8_t *b, int n, uint8_t *out,
                         const pv__luma_cell *cell);
#endif

/* One pixel by the definition above (the reference, and the SIMD kernels'
 * edges), in pieces the fast scalar loop (bayer.c) shares: a green site
 * from its centre c, h2 = left + right and v2 = up + down; a red or blue
 * site from c, hv4 = the 4 direct neighbours and d4 = the 4 diagonals;
 * then the rounding. Pure. */
static inline uint32_t pv__mulhi(uint32_t a, uint32_t k) { return (a * k) >> 16; }

static inline uint32_t pv__luma_green_s(uint32_t c, uint32_t h2, uint32_t v2,
                                        uint32_t kc, uint32_t k1, uint32_t k2) {
  return pv__mulhi(c * 256u, kc) + pv__mulhi(h2 * 128u, k1) + pv__mulhi(v2 * 128u, k2);
}

static inline uint32_t pv__luma_rb_s(uint32_t c, uint32_t hv4, uint32_t d4,
                                     uint32_t kc, uint32_t k1, uint32_t k2) {
  return pv__mulhi(c * 256u, kc) + pv__mulhi(hv4 * 64u, k1) + pv__mulhi(d4 * 64u, k2);
}

static inline uint8_t pv__luma_round(uint32_t s) { return (uint8_t)((s + 128) >> 8); }

static inline uint8_t pv__luma_px(const uint8_t *up, const uint8_t *mid,
                                  const uint8_t *dn, int x, int w,
                                  const pv__luma_row *k) {
  int l = x > 0 ? x - 1 : 1, r = x + 1 < w ? x + 1 : w - 2, p = x & 1;
  if (p == k->gpar)
    return pv__luma_round(pv__luma_green_s(mid[x], mid[l] + mid[r], up[x] + dn[x],
                                           k->kc[p], k->k1[p], k->k2[p]));
  return pv__luma_round(pv__luma_rb_s(mid[x], mid[l] + mid[r] + up[x] + dn[x],
                                      up[l] + up[r] + dn[l] + dn[r], k->kc[p],
                                      k->k1[p], k->k2[p]));
}

/* One 2x2 cell from its two non-green samples x0, x1 (weights kx0, kx1)
 * and the sum g2 of its two greens (weight kg). Pure. */
static inline uint8_t pv__luma_cell_s(uint32_t x0, uint32_t g2, uint32_t x1,
                                      uint32_t kx0, uint32_t kg, uint32_t kx1) {
  return pv__luma_round(pv__mulhi(x0 * 256u, kx0) + pv__mulhi(g2 * 128u, kg) +
                        pv__mulhi(x1 * 256u, kx1));
}

static inline uint8_t pv__luma_cell_px(const uint8_t *a, const uint8_t *b,
                                       const pv__luma_cell *c) {
  if (c->gdiag) return pv__luma_cell_s(a[0], a[1] + b[0], b[1], c->kx0, c->kg, c->kx1);
  return pv__luma_cell_s(a[1], a[0] + b[1], b[0], c->kx0, c->kg, c->kx1);
}

static inline uint8_t pv__mono_cell_px(const uint8_t *a, const uint8_t *b) {
  return (uint8_t)((a[0] + a[1] + b[0] + b[1] + 2) >> 2);
}

#endif
