/* Bayer -> luma, avx2 kernels: placeholder forwarding to the scalar
 * reference (bayer_internal.h defines the arithmetic). */
#include "bayer_internal.h"

void pv__luma_row_avx2(const uint8_t *up, const uint8_t *mid, const uint8_t *dn,
                       int w, int xa, int xb, uint8_t *out, const pv__luma_row *k) {
  pv__luma_row_scalar(up, mid, dn, w, xa, xb, out, k);
}

void pv__luma_bin_avx2(const uint8_t *a, const uint8_t *b, int n, uint8_t *out,
                       const pv__luma_cell *cell) {
  pv__luma_bin_scalar(a, b, n, out, cell);
}
