/* Exhaustive scan of the matcher's top level (step 1 of search.c), in row
 * bands run on the matcher's workers.
 *
 * The placements' rows 0 .. nv-1 are cut into nb bands of consecutive rows
 * (nb depends on the thread count and the image, never the answer). A
 * band scores its own rows plus one halo row above and below (so each row's
 * local-maximum test sees both neighbours) into its own ring of 3 rows,
 * and pushes each local maximum of its own rows (ties with a neighbour: the
 * first one wins) into its own min-heap of the best PV__MATCH_CAND_CAP.
 * Placements outside the current find's ellipse score -3: never a maximum,
 * never a rival.
 *
 * Why the answer is independent of the bands: a row's scores are a pure
 * function of the row (pv__ncc_row_f reads the integral images; the 8-bit
 * level 0 restarts its column sums at the band's first row, exact integer
 * sums), and candidates are ranked by a total order -- score, then lower
 * y, then lower x -- so the best CAP of all bands' best CAP are the best
 * CAP of the whole level, whatever the cut. The merge writes them to
 * m->cand best first in that order.
 *
 * On the AVX2 path a row is row_f_avx2 (the same bits as pv__ncc_row_f,
 * its normalisation vectorised: it was most of the scan's time).
 *
 * Buffers: each band's ring, accumulators, column sums and heap are
 * allocated at create (pv__scan_alloc); a scan allocates nothing.
 */
#include <math.h>
#include <stdlib.h>

#include "match_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define BAND_MIN_ROWS 16 /* fewer rows per band: the halo rows cost too much */

struct pv__band {
  float *rows;             /* 3 rows of scores (ring by v % 3) */
  float *acc;              /* one row of correlation accumulators */
  int64_t *colsum, *colsq; /* level 0's column sums (top == 0) */
  pv__cand *heap;          /* the band's best, min-heap by rank */
  int n;                   /* in heap */
};

static void *alloc_touched(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (p != NULL) pv_prefault(p, n * size);
  return p;
}

int pv__scan_alloc(pv_matcher *m) {
  int th = m->params.threads;
  int nb = th == 1 ? 1 : 2 * th; /* more bands than threads: a thread that
                                    is preempted holds up less */
  m->band = calloc((size_t)nb, sizeof *m->band);
  if (m->band == NULL) return PV_ENOMEM;
  m->nband = nb;
  size_t rs = (size_t)m->max_w + PV__MATCH_PAD;
  for (int b = 0; b < nb; b++) {
    struct pv__band *d = &m->band[b];
    d->rows = alloc_touched(3 * rs, sizeof(float));
    d->acc = alloc_touched(rs, sizeof(float));
    d->heap = alloc_touched(PV__MATCH_CAND_CAP, sizeof(pv__cand));
    if (!d->rows || !d->acc || !d->heap) return PV_ENOMEM;
    if (m->top == 0) {
      d->colsum = alloc_touched((size_t)m->max_w, sizeof(int64_t));
      d->colsq = alloc_touched((size_t)m->max_w, sizeof(int64_t));
      if (!d->colsum || !d->colsq) return PV_ENOMEM;
    }
  }
  return PV_OK;
}

void pv__scan_free(pv_matcher *m) {
  for (int b = 0; b < m->nband && m->band != NULL; b++) {
    free(m->band[b].rows);
    free(m->band[b].acc);
    free(m->band[b].colsum);
    free(m->band[b].colsq);
    free(m->band[b].heap);
  }
  free(m->band);
  m->band = NULL;
  m->nband = 0;
}

/* Whether a ranks below b: lower score, then (ties) larger y, larger x. */
static int worse(const pv__cand *a, const pv__cand *b) {
  if (a->score != b->score) return a->score < b->score;
  if (a->y != b->y) return a->y > b->y;
  return a->x > b->x;
}

static void sift_down(pv__cand *h, int n, int i, pv__cand c) {
  for (;;) {
    int k = 2 * i + 1;
    if (k >= n) break;
    if (k + 1 < n && worse(&h[k + 1], &h[k])) k++;
    if (!worse(&h[k], &c)) break;
    h[i] = h[k];
    i = k;
  }
  h[i] = c;
}

static void heap_push(pv__cand *h, int *n, pv__cand c) {
  if (*n < PV__MATCH_CAND_CAP) {
    int i = (*n)++;
    while (i > 0 && worse(&c, &h[(i - 1) / 2])) {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    h[i] = c;
    return;
  }
  if (!worse(&h[0], &c)) return; /* not better than the worst kept */
  sift_down(h, *n, 0, c);        /* replace the root and sift down */
}

/* Heap sort: the heap's n items become best first. */
static void heap_sort(pv__cand *h, int n) {
  for (int k = n - 1; k > 0; k--) {
    pv__cand last = h[k];
    h[k] = h[0]; /* the worst left goes to the back */
    sift_down(h, k, 0, last);
  }
}

/* Whether b[x] is a local maximum of rows a, b, c (a or c NULL at the
 * level's edges): above its left and upper neighbours, at least its right
 * and lower ones (ties: the first in row order wins). NaN never is. */
static int is_max(const float *a, const float *b, const float *c, int nu, int x) {
  float s = b[x];
  int l = x > 0, r = x + 1 < nu;
  if (l && !(s > b[x - 1])) return 0;
  if (r && !(s >= b[x + 1])) return 0;
  if (a && (!(s > a[x]) || (l && !(s > a[x - 1])) || (r && !(s > a[x + 1])))) return 0;
  if (c && (!(s >= c[x]) || (l && !(s >= c[x - 1])) || (r && !(s >= c[x + 1])))) return 0;
  return 1;
}

/* The heap keeps the best PV__MATCH_CAND_CAP: once full, a score below its
 * root's cannot enter (heap_push would refuse it), so it is not tested. */
static float entry_floor(const pv__cand *heap, int n) {
  return n < PV__MATCH_CAND_CAP ? -INFINITY : heap[0].score;
}

#if defined(__x86_64__)
/* The interior of a row (1 <= x < nu - 1) eight placements at a time: the
 * comparisons of is_max as masks (ordered compares: false on NaN, as the
 * scalar !(s > v)), then is_max's answer for the lanes that pass. */
__attribute__((target("avx2"))) static int maxima_avx2(const float *a, const float *b,
                                                      const float *c, int nu, int y,
                                                      pv__cand *heap, int *n) {
  int x = 1;
  for (; x + 8 <= nu - 1; x += 8) {
    __m256 s = _mm256_loadu_ps(b + x);
    __m256 m = _mm256_and_ps(_mm256_cmp_ps(s, _mm256_loadu_ps(b + x - 1), _CMP_GT_OQ),
                             _mm256_cmp_ps(s, _mm256_loadu_ps(b + x + 1), _CMP_GE_OQ));
    m = _mm256_and_ps(m, _mm256_cmp_ps(s, _mm256_set1_ps(entry_floor(heap, *n)), _CMP_GE_OQ));
    if (a) {
      m = _mm256_and_ps(m, _mm256_cmp_ps(s, _mm256_loadu_ps(a + x - 1), _CMP_GT_OQ));
      m = _mm256_and_ps(m, _mm256_cmp_ps(s, _mm256_loadu_ps(a + x), _CMP_GT_OQ));
      m = _mm256_and_ps(m, _mm256_cmp_ps(s, _mm256_loadu_ps(a + x + 1), _CMP_GT_OQ));
    }
    if (c) {
      m = _mm256_and_ps(m, _mm256_cmp_ps(s, _mm256_loadu_ps(c + x - 1), _CMP_GE_OQ));
      m = _mm256_and_ps(m, _mm256_cmp_ps(s, _mm256_loadu_ps(c + x), _CMP_GE_OQ));
      m = _mm256_and_ps(m, _mm256_cmp_ps(s, _mm256_loadu_ps(c + x + 1), _CMP_GE_OQ));
    }
    unsigned bits = (unsigned)_mm256_movemask_ps(m);
    while (bits) {
      int i = x + __builtin_ctz(bits);
      bits &= bits - 1;
      heap_push(heap, n, (pv__cand){i, y, b[i]});
    }
  }
  return x;
}
#endif

/* Pushes row y's local maxima (row b between a and c) into the heap, in
 * order of x (the heap's content does not depend on how they are found). */
static void local_maxima(const float *a, const float *b, const float *c,
                         int nu, int y, int simd, pv__cand *heap, int *n) {
  int x = 0;
#if defined(__x86_64__)
  if (simd == PV__SIMD_AVX2 && nu > 9) {
    if (is_max(a, b, c, nu, 0)) heap_push(heap, n, (pv__cand){0, y, b[0]});
    x = maxima_avx2(a, b, c, nu, y, heap, n);
  }
#else
  (void)simd;
#endif
  for (; x < nu; x++)
    if (is_max(a, b, c, nu, x)) heap_push(heap, n, (pv__cand){x, y, b[x]});
}

#if defined(__x86_64__)
/* A top-level row of scores on the AVX2 path: pv__cross_row_avx2's sums,
 * then the normalisation of pv__ncc_score four placements at a time in
 * double (the same IEEE operations in the same order, no FMA: the same
 * bits as pv__ncc_row_f, whose scalar loop of calls took most of the scan). */
__attribute__((target("avx2"))) static void row_f_avx2(
    const pv__fimg *img, const double *isum, const double *isq,
    const pv__tlevel *tl, float *acc, int v, float *out) {
  int tw = tl->w, th = tl->h, nu = img->w - tw + 1;
  size_t iw = (size_t)img->w + 1;
  pv__cross_row_avx2(img, tl, v, nu, acc);
  const double *s0 = isum + (size_t)v * iw, *s1 = s0 + (size_t)th * iw;
  const double *q0 = isq + (size_t)v * iw, *q1 = q0 + (size_t)th * iw;
  double n = (double)tw * th;
  if (tl->flat || !(tl->ssq > 0.0)) {
    for (int u = 0; u < nu; u++) out[u] = 0.0f;
    return;
  }
  __m256d vn = _mm256_set1_pd(n), vt = _mm256_set1_pd(tl->ssq);
  __m256d one = _mm256_set1_pd(1.0), mone = _mm256_set1_pd(-1.0);
  __m256d eps = _mm256_set1_pd(1e-9), zero = _mm256_setzero_pd();
  int u = 0;
  for (; u + 4 <= nu; u += 4) {
    __m256d s = _mm256_add_pd(
        _mm256_sub_pd(_mm256_sub_pd(_mm256_loadu_pd(s1 + u + tw),
                                    _mm256_loadu_pd(s0 + u + tw)),
                      _mm256_loadu_pd(s1 + u)),
        _mm256_loadu_pd(s0 + u));
    __m256d ss = _mm256_add_pd(
        _mm256_sub_pd(_mm256_sub_pd(_mm256_loadu_pd(q1 + u + tw),
                                    _mm256_loadu_pd(q0 + u + tw)),
                      _mm256_loadu_pd(q1 + u)),
        _mm256_loadu_pd(q0 + u));
    __m256d var = _mm256_sub_pd(ss, _mm256_div_pd(_mm256_mul_pd(s, s), vn));
    __m256d big = _mm256_cmp_pd(ss, one, _CMP_GT_OQ);
    __m256d lim = _mm256_mul_pd(eps, _mm256_blendv_pd(one, ss, big));
    __m256d ok = _mm256_cmp_pd(var, lim, _CMP_GT_OQ);
    __m256d cross = _mm256_cvtps_pd(_mm_loadu_ps(acc + u));
    __m256d r = _mm256_div_pd(cross, _mm256_sqrt_pd(_mm256_mul_pd(vt, var)));
    /* clamp as pv__ncc_score: r > 1 -> 1, then r < -1 -> -1 */
    r = _mm256_blendv_pd(r, one, _mm256_cmp_pd(r, one, _CMP_GT_OQ));
    r = _mm256_blendv_pd(r, mone, _mm256_cmp_pd(r, mone, _CMP_LT_OQ));
    r = _mm256_blendv_pd(zero, r, ok);
    _mm_storeu_ps(out + u, _mm256_cvtpd_ps(r));
  }
  for (; u < nu; u++) {
    double s = s1[u + tw] - s0[u + tw] - s1[u] + s0[u];
    double ss = q1[u + tw] - q0[u + tw] - q1[u] + q0[u];
    out[u] = (float)pv__ncc_score(acc[u], s, ss, n, tl->ssq);
  }
}
#endif

typedef struct scan_job {
  pv_matcher *m;
  const pv_image *img;
  int t, nu, nv, nb;
} scan_job;

/* Level 0's column sums of the window whose first row is v (top == 0). */
static void colsums_at(const pv_image *img, int th, int v, int64_t *colsum,
                       int64_t *colsq) {
  size_t st = (size_t)img->stride;
  for (int x = 0; x < img->width; x++) colsum[x] = colsq[x] = 0;
  for (int r = v; r < v + th; r++)
    for (int x = 0; x < img->width; x++) {
      int64_t p = img->data[(size_t)r * st + x];
      colsum[x] += p;
      colsq[x] += p * p;
    }
}

/* Task b: the band of maxima rows [v0, v1), scoring [lo, hi). */
static void scan_band(void *ctx, int b) {
  const scan_job *j = ctx;
  pv_matcher *m = j->m;
  struct pv__band *d = &m->band[b];
  int t = j->t, nu = j->nu, nv = j->nv;
  int v0 = (int)((int64_t)nv * b / j->nb);
  int v1 = (int)((int64_t)nv * (b + 1) / j->nb);
  int lo = v0 > 0 ? v0 - 1 : 0, hi = v1 < nv ? v1 + 1 : nv;
  size_t rs = (size_t)m->max_w + PV__MATCH_PAD;
  d->n = 0;
  if (t == 0 && lo > 0) /* pv__ncc_row_u8(lo) moves the window from lo-1 */
    colsums_at(j->img, m->tl[0].h, lo - 1, d->colsum, d->colsq);
  for (int v = lo; v <= hi; v++) {
    if (v < hi) {
      float *out = d->rows + (size_t)(v % 3) * rs;
#if defined(__x86_64__)
      if (t && m->simd == PV__SIMD_AVX2)
        row_f_avx2(&m->lvl[t], m->isum, m->isq, &m->tl[t], d->acc, v, out);
      else
#endif
      if (t)
        pv__ncc_row_f(&m->lvl[t], m->isum, m->isq, &m->tl[t], d->acc, v, out,
                      m->simd);
      else
        pv__ncc_row_u8(j->img, &m->tl[0], d->acc, d->colsum, d->colsq, v,
                       out);
      if (m->erx > 0) /* outside the ellipse: never a maximum, never a rival */
        for (int x = 0; x < nu; x++)
          if (!pv__in_ellipse(m, t, x, v)) out[x] = -3.0f;
    }
    int y = v - 1; /* row y now has both neighbours computed */
    if (y < v0 || y >= v1) continue;
    const float *a = y > 0 ? d->rows + (size_t)((y - 1) % 3) * rs : NULL;
    const float *bb = d->rows + (size_t)(y % 3) * rs;
    const float *c = y + 1 < nv ? d->rows + (size_t)((y + 1) % 3) * rs : NULL;
    local_maxima(a, bb, c, nu, y, m->simd, d->heap, &d->n);
  }
  heap_sort(d->heap, d->n);
}

int pv__scan_top(pv_matcher *m, const pv_image *img) {
  int t = m->top;
  int w = t ? m->lvl[t].w : img->width, h = t ? m->lvl[t].h : img->height;
  scan_job j = {m, img, t, w - m->tl[t].w + 1, h - m->tl[t].h + 1, 1};
  if (j.nv <= 0 || j.nu <= 0) return 0;
  j.nb = j.nv / BAND_MIN_ROWS < m->nband ? j.nv / BAND_MIN_ROWS : m->nband;
  if (j.nb < 1) j.nb = 1;
  pv__workers_run(m->pool, scan_band, &j, j.nb);
  /* merge the bands' sorted lists, best first, the best CAP of them */
  int pos[2 * PV_MATCH_THREADS_MAX] = {0}, n = 0;
  while (n < PV__MATCH_CAND_CAP) {
    int best = -1;
    for (int b = 0; b < j.nb; b++)
      if (pos[b] < m->band[b].n &&
          (best < 0 || worse(&m->band[best].heap[pos[best]],
                             &m->band[b].heap[pos[b]])))
        best = b;
    if (best < 0) break;
    m->cand[n++] = m->band[best].heap[pos[best]++];
  }
  return n;
}
