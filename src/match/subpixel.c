/* Sub-pixel refinement of a level-0 placement.
 *
 * A 3-point parabola through the scores pulls estimates towards whole
 * pixels, so it is only the starting point and the fallback. The refinement
 * proper is translation-only inverse-compositional Lucas-Kanade on the
 * template interior (1-pixel border dropped, where central differences are
 * undefined): the image is sampled bilinearly at the current shift (one
 * fractional offset for every pixel, since the warp is a pure translation),
 * normalised to the template's mean and standard deviation (NCC is gain and
 * offset invariant, so must be the residual), and the shift is updated with
 * the precomputed inverse Hessian of the template gradients. The shift is
 * kept strictly inside (-1, 1) so every sample lies inside the placement
 * rectangle; leaving it, a non-finite value or a flat window falls back to
 * the parabola. Templates taller than LK_MAX_ROWS use every k-th row (the
 * same rows in the Hessian and every step), which bounds the cost.
 */
#include <math.h>

#include "match_internal.h"

#define LK_ITERATIONS 12
#define LK_EPS 1e-4
#define LK_MAX_ROWS 96 /* rows used, at most: taller templates use every k-th */

void pv__subpixel_init(pv_matcher *m) {
  int tw = m->tl[0].w, th = m->tl[0].h, iw = tw - 2, ih = th - 2;
  const uint8_t *t = m->templ8;
  double a = 0, b = 0, c = 0, sum = 0, sq = 0;
  int step = m->lk_row_step = (ih + LK_MAX_ROWS - 1) / LK_MAX_ROWS;
  for (int j = 0; j < ih; j += step)
    for (int i = 0; i < iw; i++) {
      const uint8_t *p = t + (size_t)(j + 1) * (size_t)tw + (i + 1);
      float gx = 0.5f * ((float)p[1] - (float)p[-1]);
      float gy = 0.5f * ((float)p[tw] - (float)p[-tw]);
      m->gx[j * iw + i] = gx;
      m->gy[j * iw + i] = gy;
      a += (double)gx * gx;
      b += (double)gx * gy;
      c += (double)gy * gy;
      sum += p[0];
      sq += (double)p[0] * p[0];
    }
  double n = (double)iw * ((ih + step - 1) / step), det = a * c - b * b;
  m->lk_mean = sum / n;
  double var = sq / n - m->lk_mean * m->lk_mean;
  m->lk_std = var > 0 ? sqrt(var) : 0.0;
  m->lk_ok = det > 1e-9 * a * c && a > 0 && c > 0 && var > 1e-6;
  if (m->lk_ok) {
    m->h_inv[0] = c / det;
    m->h_inv[1] = -b / det;
    m->h_inv[2] = a / det;
  }
}

/* Offset of the parabola's vertex through (-1, lo), (0, mid), (1, hi). */
static double parabola(double lo, double mid, double hi) {
  double d = lo - 2.0 * mid + hi;
  if (!(d < 0.0)) return 0.0;
  double o = 0.5 * (lo - hi) / d;
  return o > 0.5 ? 0.5 : (o < -0.5 ? -0.5 : o);
}

/* One Lucas-Kanade step at shift (dx, dy); 0 on success. */
static int lk_step(pv_matcher *m, const pv_image *img, int u, int v,
                   double dx, double dy, double *ddx, double *ddy) {
  int tw = m->tl[0].w, th = m->tl[0].h, iw = tw - 2, ih = th - 2;
  int ix = (int)floor(dx), iy = (int)floor(dy);
  float fx = (float)(dx - ix), fy = (float)(dy - iy);
  float w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy);
  float w10 = (1 - fx) * fy, w11 = fx * fy;
  double sum = 0, sq = 0;
  for (int j = 0; j < ih; j += m->lk_row_step) {
    const uint8_t *restrict p0 =
        img->data + (size_t)(v + 1 + iy + j) * (size_t)img->stride +
        (u + 1 + ix);
    const uint8_t *restrict p1 = p0 + img->stride;
    float *restrict o = m->warp + (size_t)j * (size_t)iw;
    float rs = 0, rq = 0;
    for (int i = 0; i < iw; i++) {
      float s = w00 * p0[i] + w01 * p0[i + 1] + w10 * p1[i] + w11 * p1[i + 1];
      o[i] = s;
      rs += s;
      rq += s * s;
    }
    sum += rs;
    sq += rq;
  }
  double n = (double)iw * ((ih + m->lk_row_step - 1) / m->lk_row_step);
  double mean = sum / n, var = sq / n - mean * mean;
  if (!(var > 1e-6)) return -1;
  float scale = (float)(m->lk_std / sqrt(var));
  float off = (float)(m->lk_mean - mean * scale);
  double bx = 0, by = 0;
  for (int j = 0; j < ih; j += m->lk_row_step) {
    const float *restrict o = m->warp + (size_t)j * (size_t)iw;
    const float *restrict gx = m->gx + (size_t)j * (size_t)iw;
    const float *restrict gy = m->gy + (size_t)j * (size_t)iw;
    const uint8_t *restrict t = m->templ8 + (size_t)(j + 1) * (size_t)tw + 1;
    float ax = 0, ay = 0;
    for (int i = 0; i < iw; i++) {
      float e = o[i] * scale + off - (float)t[i];
      ax += gx[i] * e;
      ay += gy[i] * e;
    }
    bx += ax;
    by += ay;
  }
  *ddx = m->h_inv[0] * bx + m->h_inv[1] * by;
  *ddy = m->h_inv[1] * bx + m->h_inv[2] * by;
  return isfinite(*ddx) && isfinite(*ddy) ? 0 : -1;
}

void pv__subpixel(pv_matcher *m, const pv_image *img, int u, int v,
                  double *dx, double *dy) {
  const pv__tlevel *tl = &m->tl[0];
  double s0 = pv__score0(m, img, u, v);
  double sl = u > 0 ? pv__score0(m, img, u - 1, v) : s0;
  double sr = u + tl->w < img->width ? pv__score0(m, img, u + 1, v) : s0;
  double su = v > 0 ? pv__score0(m, img, u, v - 1) : s0;
  double sd = v + tl->h < img->height ? pv__score0(m, img, u, v + 1) : s0;
  double px = parabola(sl, s0, sr), py = parabola(su, s0, sd);
  *dx = px;
  *dy = py;
  if (!m->lk_ok) return;
  double x = px, y = py;
  for (int it = 0; it < LK_ITERATIONS; it++) {
    double ddx, ddy;
    if (lk_step(m, img, u, v, x, y, &ddx, &ddy) != 0) return;
    x -= ddx;
    y -= ddy;
    if (!(fabs(x) < 1.0 && fabs(y) < 1.0)) return; /* diverged: parabola */
    if (fabs(ddx) < LK_EPS && fabs(ddy) < LK_EPS) break;
  }
  *dx = x;
  *dy = y;
}
