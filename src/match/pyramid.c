/* Image pyramid of the matcher: 2x2 box averages into preallocated float
 * levels, and the integral images of the top level. Allocates nothing. */
#include "match_internal.h"

void pv__down_u8(const uint8_t *src, int w, int h, int stride, pv__fimg *dst) {
  int dw = w / 2, dh = h / 2;
  dst->w = dw;
  dst->h = dh;
  for (int y = 0; y < dh; y++) {
    const uint8_t *restrict a = src + (size_t)(2 * y) * (size_t)stride;
    const uint8_t *restrict b = a + stride;
    float *restrict d = dst->px + (size_t)y * (size_t)dw;
    for (int x = 0; x < dw; x++) {
      int s = a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1];
      d[x] = (float)s * 0.25f - 128.0f;
    }
  }
}

void pv__down_f(const pv__fimg *src, pv__fimg *dst) {
  int dw = src->w / 2, dh = src->h / 2;
  dst->w = dw;
  dst->h = dh;
  for (int y = 0; y < dh; y++) {
    const float *restrict a = src->px + (size_t)(2 * y) * (size_t)src->w;
    const float *restrict b = a + src->w;
    float *restrict d = dst->px + (size_t)y * (size_t)dw;
    for (int x = 0; x < dw; x++)
      d[x] = (a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1]) * 0.25f;
  }
}

void pv__integrals(const pv__fimg *img, double *isum, double *isq) {
  int w = img->w, h = img->h;
  size_t iw = (size_t)w + 1;
  for (size_t x = 0; x < iw; x++) isum[x] = isq[x] = 0.0;
  for (int y = 0; y < h; y++) {
    const float *row = img->px + (size_t)y * (size_t)w;
    double *s = isum + (size_t)(y + 1) * iw, *q = isq + (size_t)(y + 1) * iw;
    const double *sp = s - iw, *qp = q - iw;
    double rs = 0.0, rq = 0.0;
    s[0] = q[0] = 0.0;
    for (int x = 0; x < w; x++) {
      double v = row[x];
      rs += v;
      rq += v * v;
      s[x + 1] = sp[x + 1] + rs;
      q[x + 1] = qp[x + 1] + rq;
    }
  }
}
