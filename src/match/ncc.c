/* Normalised cross-correlation kernels of the matcher.
 *
 * The inner loops use 4-lane float vectors (simd.h), so they are vectorised
 * at -O2 without asking the compiler to reassociate float sums; lanes are
 * added up per row in double.
 * Level-0 sums of I and I^2 are integers, hence exact; the cross term uses
 * I - 128 so products stay small. pv_ncc_at is the plain double reference.
 */
#include <math.h>

#include "match_internal.h"
#include "simd.h"

double pv__ncc_score(double cross, double s, double ss, double n, double tssq) {
  double var = ss - s * s / n;
  if (!(var > 1e-9 * (ss > 1.0 ? ss : 1.0)) || !(tssq > 0.0)) return 0.0;
  double r = cross / sqrt(tssq * var);
  if (r > 1.0) r = 1.0;
  if (r < -1.0) r = -1.0;
  return r;
}

double pv_ncc_at(const pv_image *image, const pv_image *templ, int u, int v) {
  if (image == NULL || templ == NULL || image->data == NULL ||
      templ->data == NULL || templ->width <= 0 || templ->height <= 0 ||
      u < 0 || v < 0 || u + templ->width > image->width ||
      v + templ->height > image->height)
    return 0.0;
  int w = templ->width, h = templ->height;
  double n = (double)w * h, tm = 0.0, im = 0.0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      tm += templ->data[(size_t)y * templ->stride + x];
      im += image->data[(size_t)(v + y) * image->stride + u + x];
    }
  tm /= n;
  im /= n;
  double st = 0.0, si = 0.0, sti = 0.0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double a = templ->data[(size_t)y * templ->stride + x] - tm;
      double b = image->data[(size_t)(v + y) * image->stride + u + x] - im;
      st += a * a;
      si += b * b;
      sti += a * b;
    }
  /* Exactly flat inputs have st or si == 0; rounding leaves < 1e-9 n. */
  if (st <= 1e-9 * n || si <= 1e-9 * n) return 0.0;
  double r = sti / sqrt(st * si);
  return r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
}

void pv__ncc_row_f(const pv__fimg *img, const double *isum, const double *isq,
                   const pv__tlevel *tl, float *acc, int v, float *out,
                   int simd) {
  int tw = tl->w, th = tl->h;
  int nu = img->w - tw + 1;
  int nu16 = (nu + 15) & ~15; /* levels are padded: reading past nu is safe */
  size_t iw = (size_t)img->w + 1;
  double n = (double)tw * th;
#if defined(__x86_64__)
  if (simd == PV__SIMD_AVX2) {
    pv__cross_row_avx2(img, tl, v, nu, acc);
    nu16 = 0; /* done */
  }
#else
  (void)simd;
#endif
  /* 16 placements at a time, their sums held in registers over the template */
  for (int u = 0; u < nu16; u += 16) {
    pv__v4f a0 = pv__splat4f(0), a1 = a0, a2 = a0, a3 = a0;
    for (int r = 0; r < th; r++) {
      const float *p = img->px + (size_t)(v + r) * (size_t)img->w + u;
      const float *t = tl->zm + (size_t)r * (size_t)tw;
      for (int c = 0; c < tw; c++) {
        pv__v4f tc = pv__splat4f(t[c]);
        a0 += tc * pv__ld4f(p + c);
        a1 += tc * pv__ld4f(p + c + 4);
        a2 += tc * pv__ld4f(p + c + 8);
        a3 += tc * pv__ld4f(p + c + 12);
      }
    }
    pv__st4f(acc + u, a0);
    pv__st4f(acc + u + 4, a1);
    pv__st4f(acc + u + 8, a2);
    pv__st4f(acc + u + 12, a3);
  }
  const double *s0 = isum + (size_t)v * iw, *s1 = s0 + (size_t)th * iw;
  const double *q0 = isq + (size_t)v * iw, *q1 = q0 + (size_t)th * iw;
  for (int u = 0; u < nu; u++) {
    double s = s1[u + tw] - s0[u + tw] - s1[u] + s0[u];
    double ss = q1[u + tw] - q0[u + tw] - q1[u] + q0[u];
    out[u] = tl->flat ? 0.0f : (float)pv__ncc_score(acc[u], s, ss, n, tl->ssq);
  }
}

void pv__ncc_row_u8(const pv_image *img, const pv__tlevel *tl, float *acc,
                    int64_t *colsum, int64_t *colsq, int v, float *out) {
  int tw = tl->w, th = tl->h, w = img->width;
  int nu = w - tw + 1, nu4 = nu & ~3;
  size_t st = (size_t)img->stride;
  if (v == 0) {
    for (int x = 0; x < w; x++) colsum[x] = colsq[x] = 0;
    for (int r = 0; r < th; r++)
      for (int x = 0; x < w; x++) {
        int64_t p = img->data[(size_t)r * st + x];
        colsum[x] += p;
        colsq[x] += p * p;
      }
  } else {
    const uint8_t *gone = img->data + (size_t)(v - 1) * st;
    const uint8_t *come = img->data + (size_t)(v + th - 1) * st;
    for (int x = 0; x < w; x++) {
      colsum[x] += come[x] - gone[x];
      colsq[x] += come[x] * come[x] - gone[x] * gone[x];
    }
  }
  for (int u = 0; u < nu; u++) acc[u] = 0.0f;
  const pv__v4f k128 = pv__splat4f(128.0f);
  for (int r = 0; r < th; r++) {
    const uint8_t *row = img->data + (size_t)(v + r) * st;
    const float *t = tl->zm + (size_t)r * (size_t)tw;
    for (int c = 0; c < tw; c++) {
      const pv__v4f tc = pv__splat4f(t[c]);
      const uint8_t *p = row + c;
      for (int u = 0; u < nu4; u += 4)
        pv__st4f(acc + u, pv__ld4f(acc + u) + tc * (pv__ld4u8(p + u) - k128));
      for (int u = nu4; u < nu; u++) acc[u] += t[c] * (float)(p[u] - 128);
    }
  }
  int64_t s = 0, ss = 0, n = (int64_t)tw * th;
  for (int x = 0; x < tw; x++) {
    s += colsum[x];
    ss += colsq[x];
  }
  for (int u = 0; u < nu; u++) {
    if (u > 0) {
      s += colsum[u + tw - 1] - colsum[u - 1];
      ss += colsq[u + tw - 1] - colsq[u - 1];
    }
    int64_t nvar = n * ss - s * s;
    /* the cross term used I - 128; sum T' = 0 makes that irrelevant */
    double r = nvar > 0 ? acc[u] / sqrt(tl->ssq * ((double)nvar / (double)n))
                        : 0.0;
    out[u] = tl->flat ? 0.0f : (float)(r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r));
  }
}

float pv__ncc_f(const pv__fimg *img, const pv__tlevel *tl, int x, int y) {
  int tw = tl->w, th = tl->h, w4 = tw & ~3;
  double cross = 0.0, s = 0.0, ss = 0.0;
  for (int r = 0; r < th; r++) {
    const float *p = img->px + (size_t)(y + r) * (size_t)img->w + x;
    const float *t = tl->zm + (size_t)r * (size_t)tw;
    pv__v4f ac = pv__splat4f(0), as = ac, aq = ac;
    for (int c = 0; c < w4; c += 4) {
      pv__v4f pv = pv__ld4f(p + c);
      ac += pv__ld4f(t + c) * pv;
      as += pv;
      aq += pv * pv;
    }
    for (int c = w4; c < tw; c++) {
      ac[0] += t[c] * p[c];
      as[0] += p[c];
      aq[0] += p[c] * p[c];
    }
    cross += pv__hsum4f(ac);
    s += pv__hsum4f(as);
    ss += pv__hsum4f(aq);
  }
  if (tl->flat) return 0.0f;
  return (float)pv__ncc_score(cross, s, ss, (double)tw * th, tl->ssq);
}

double pv__ncc_u8(const pv_image *img, const pv__tlevel *tl, int x, int y) {
  int tw = tl->w, th = tl->h, w4 = tw & ~3;
  double cross = 0.0;
  int64_t s = 0, ss = 0;
  const pv__v4f k128 = pv__splat4f(128.0f);
  for (int r = 0; r < th; r++) {
    const uint8_t *p = img->data + (size_t)(y + r) * (size_t)img->stride + x;
    const float *t = tl->zm + (size_t)r * (size_t)tw;
    /* per lane at most 256 values < 2^16 each: float sums stay exact */
    pv__v4f ac = pv__splat4f(0), as = ac, aq = ac;
    for (int c = 0; c < w4; c += 4) {
      pv__v4f pv = pv__ld4u8(p + c);
      ac += pv__ld4f(t + c) * (pv - k128);
      as += pv;
      aq += pv * pv;
    }
    for (int c = w4; c < tw; c++) {
      ac[0] += t[c] * (float)(p[c] - 128);
      as[0] += p[c];
      aq[0] += (float)(p[c] * p[c]);
    }
    cross += pv__hsum4f(ac);
    s += (int64_t)pv__hsum4f(as);
    ss += (int64_t)pv__hsum4f(aq);
  }
  int64_t n = (int64_t)tw * th;
  int64_t nvar = n * ss - s * s; /* exact: zero iff the window is flat */
  if (tl->flat || nvar <= 0) return 0.0;
  double r = cross / sqrt(tl->ssq * ((double)nvar / (double)n));
  return r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
}
