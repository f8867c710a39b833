/* Image pyramid of the matcher: 2x2 box averages into preallocated float
 * levels, and the integral images of the top level. Allocates nothing.
 *
 * pv__pyramid_build runs on the matcher's workers in bands of top-level
 * rows: band [Y0, Y1) of the top level owns rows [Y0, Y1) << (top - l) of
 * every level l (the last band: up to each level's end), and those depend
 * only on the band's own rows of level l - 1, so a band builds all its
 * levels without waiting for another. The integral images take two passes:
 * each band writes its rows' running row sums, then bands of columns add
 * each row's to the one above.
 *
 * Why any order of additions gives the same integral images: every sum in
 * them is exact. A level-l pixel is a multiple of 4^-l in [-128, 128] and
 * its square one of 16^-l below 2^14, and a level has at most 2^22 / 4^l
 * pixels, so the largest sum of squares is below 2^(36 - 2l) units of
 * 16^-l: 2^(36 + 2l) units in all, under double's 2^53 for every level the
 * matcher builds (l <= 8). Sums of exactly representable numbers that stay
 * below 2^53 units are exact in any order: the one-pass build, the bands
 * and the AVX2 prefix sums (four lanes at once) write the same bits.
 * Every kernel is a pure function of its rows: the levels are the same
 * bits for any number of bands.
 */
#include "match_internal.h"

void pv__down_u8_rows(const uint8_t *src, int w, int stride, pv__fimg *dst,
                      int y0, int y1) {
  int dw = w / 2;
  for (int y = y0; y < y1; y++) {
    const uint8_t *restrict a = src + (size_t)(2 * y) * (size_t)stride;
    const uint8_t *restrict b = a + stride;
    float *restrict d = dst->px + (size_t)y * (size_t)dw;
    for (int x = 0; x < dw; x++) {
      int s = a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1];
      d[x] = (float)s * 0.25f - 128.0f;
    }
  }
}

void pv__down_u8(const uint8_t *src, int w, int h, int stride, pv__fimg *dst) {
  dst->w = w / 2;
  dst->h = h / 2;
  pv__down_u8_rows(src, w, stride, dst, 0, h / 2);
}

void pv__down_f_rows(const pv__fimg *src, pv__fimg *dst, int y0, int y1) {
  int dw = src->w / 2;
  for (int y = y0; y < y1; y++) {
    const float *restrict a = src->px + (size_t)(2 * y) * (size_t)src->w;
    const float *restrict b = a + src->w;
    float *restrict d = dst->px + (size_t)y * (size_t)dw;
    for (int x = 0; x < dw; x++)
      d[x] = (a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1]) * 0.25f;
  }
}

void pv__down_f(const pv__fimg *src, pv__fimg *dst) {
  dst->w = src->w / 2;
  dst->h = src->h / 2;
  pv__down_f_rows(src, dst, 0, src->h / 2);
}

/* Row y of the integral images: s[x + 1] = above[x + 1] + the sum of
 * row[0 .. x] (q: of the squares), s[0] = q[0] = 0; without above (NULL),
 * the row's own running sums (the bands' first pass). Exact (see top). */
static void integral_row(const pv_matcher *m, const float *row, int w, const double *sa,
                         const double *qa, double *s, double *q) {
#if defined(__x86_64__)
  if (m->simd == PV__SIMD_AVX2) {
    pv__integral_row_avx2(row, w, sa, qa, s, q);
    return;
  }
#endif
  (void)m;
  double rs = 0.0, rq = 0.0;
  s[0] = q[0] = 0.0;
  for (int x = 0; x < w; x++) {
    double v = row[x];
    rs += v;
    rq += v * v;
    s[x + 1] = sa ? sa[x + 1] + rs : rs;
    q[x + 1] = qa ? qa[x + 1] + rq : rq;
  }
}

/* The top level's integral images (size (w+1)*(h+1)) in one pass. */
static void integrals(const pv_matcher *m, const pv__fimg *img, double *isum, double *isq) {
  int w = img->w, h = img->h;
  size_t iw = (size_t)w + 1;
  for (size_t x = 0; x < iw; x++) isum[x] = isq[x] = 0.0;
  for (int y = 0; y < h; y++) {
    double *s = isum + (size_t)(y + 1) * iw, *q = isq + (size_t)(y + 1) * iw;
    integral_row(m, img->px + (size_t)y * (size_t)w, w, s - iw, q - iw, s, q);
  }
}

#define ONE_THREAD_BAND 4 /* top-level rows: 2^top image rows x 4 per band */

/* Rows [Y0, Y1) << (top - l) of every level l (to each level's end when
 * last), each from the rows of level l - 1 below it. */
static void build_levels(pv_matcher *m, const pv_image *img, int Y0, int Y1, int last) {
  int t = m->top;
  for (int l = 1; l <= t; l++) {
    int y0 = Y0 << (t - l), y1 = last ? m->lvl[l].h : Y1 << (t - l);
#if defined(__x86_64__)
    if (m->simd == PV__SIMD_AVX2) {
      if (l == 1)
        pv__down_u8_rows_avx2(img->data, img->width, img->stride, &m->lvl[1], y0, y1);
      else
        pv__down_f_rows_avx2(&m->lvl[l - 1], &m->lvl[l], y0, y1);
      continue;
    }
#endif
    if (l == 1)
      pv__down_u8_rows(img->data, img->width, img->stride, &m->lvl[1], y0, y1);
    else
      pv__down_f_rows(&m->lvl[l - 1], &m->lvl[l], y0, y1);
  }
}

typedef struct pyr_job {
  pv_matcher *m;
  const pv_image *img;
  int nb;
} pyr_job;

/* Task b of the first pass: band b of every level, and its rows' running
 * sums into the integral images. */
static void pyr_band(void *ctx, int b) {
  const pyr_job *j = ctx;
  pv_matcher *m = j->m;
  int t = m->top, ht = m->lvl[t].h, last = b == j->nb - 1;
  int Y0 = (int)((int64_t)ht * b / j->nb), Y1 = (int)((int64_t)ht * (b + 1) / j->nb);
  build_levels(m, j->img, Y0, Y1, last);
  int w = m->lvl[t].w, y1 = last ? ht : Y1;
  size_t iw = (size_t)w + 1;
  for (int y = Y0; y < y1; y++)
    integral_row(m, m->lvl[t].px + (size_t)y * (size_t)w, w, NULL, NULL,
                 m->isum + (size_t)(y + 1) * iw, m->isq + (size_t)(y + 1) * iw);
}

/* Task b of the second pass: columns [x0, x1) summed down the rows. */
static void pyr_columns(void *ctx, int b) {
  const pyr_job *j = ctx;
  pv_matcher *m = j->m;
  int t = m->top, h = m->lvl[t].h;
  size_t iw = (size_t)m->lvl[t].w + 1;
  size_t x0 = iw * (size_t)b / (size_t)j->nb, x1 = iw * (size_t)(b + 1) / (size_t)j->nb;
  for (size_t x = x0; x < x1; x++) m->isum[x] = m->isq[x] = 0.0;
  for (int y = 1; y <= h; y++) {
    double *s = m->isum + (size_t)y * iw, *q = m->isq + (size_t)y * iw;
    const double *sp = s - iw, *qp = q - iw;
    for (size_t x = x0; x < x1; x++) {
      s[x] = sp[x] + s[x];
      q[x] = qp[x] + q[x];
    }
  }
}

void pv__pyramid_build(pv_matcher *m, const pv_image *img) {
  int t = m->top;
  if (t < 1) return;
  int w = img->width, h = img->height;
  for (int l = 1; l <= t; l++) {
    w /= 2, h /= 2;
    m->lvl[l].w = w, m->lvl[l].h = h;
  }
  int nw = pv__workers_count(m->pool);
  if (nw == 1) { /* one thread: bands of ONE_THREAD_BAND top-level rows,
                    so that each level's rows are read back from the cache
                    while the next level is made of them */
    int ht = m->lvl[t].h;
    for (int y = 0; y < ht; y += ONE_THREAD_BAND)
      build_levels(m, img, y, y + ONE_THREAD_BAND, y + ONE_THREAD_BAND >= ht);
    integrals(m, &m->lvl[t], m->isum, m->isq);
    return;
  }
  pyr_job j = {m, img, m->nband < h ? m->nband : h};
  if (j.nb < 1) j.nb = 1;
  pv__workers_run(m->pool, pyr_band, &j, j.nb);
  j.nb = nw;
  pv__workers_run(m->pool, pyr_columns, &j, j.nb);
}
