/* Coarse-to-fine search of the matcher.
 *
 * 1. Exhaustive scores at the top level (scan.c): its best
 *    PV__MATCH_CAND_CAP local maxima.
 * 2. The candidates, best first, are pruned: the first KEEP_TOP always stay
 *    (coarse scores can misrank), the rest only if within m->margin[level] of
 *    min(best, threshold) (so every instance that may end above the
 *    threshold is followed) and of the score of the max_out-th instance
 *    left by non-maximum suppression (nothing far below it can be output).
 * 3. Each candidate descends one level at a time: placement p at level l+1
 *    is near 2p or 2p+1 at level l; the best of those four is hill-climbed
 *    until it is a local maximum of its 3x3 neighbourhood. At level 0 the
 *    scores are the exact ones. Candidates that converge on the same
 *    placement are merged; the pruning of step 2 repeats per level.
 * Invariant: m->cand holds n candidates of the current level, sorted by
 * score, best first, no two at the same placement.
 */
#include <stdlib.h>

#include "match_internal.h"

#define KEEP_TOP 48
#define KEEP_LEVEL 16

/* Sorts best first (insertion sort: n is small and often nearly sorted). */
static void sort_desc(pv__cand *c, int n) {
  for (int i = 1; i < n; i++) {
    pv__cand x = c[i];
    int j = i - 1;
    while (j >= 0 && c[j].score < x.score) {
      c[j + 1] = c[j];
      j--;
    }
    c[j + 1] = x;
  }
}

/* Score of the limit-th candidate that overlaps no better one at this level
 * (-2 if fewer): nothing far below it can make the output. Comparing with
 * every better candidate, not only the kept ones, suppresses more than the
 * real NMS, so the bound is conservative (lower). */
static float kth_distinct(const pv_matcher *m, const pv__cand *c, int n,
                          int level) {
  int w = m->tl[level].w, h = m->tl[level].h, kept = 0;
  double area = (double)w * h;
  for (int i = 0; i < n; i++) {
    int clash = 0;
    for (int j = 0; j < i && !clash; j++) {
      int ox = w - abs(c[i].x - c[j].x), oy = h - abs(c[i].y - c[j].y);
      clash = ox > 0 && oy > 0 && ox * (double)oy / area > m->params.overlap;
    }
    if (!clash && ++kept == m->limit) return c[i].score;
  }
  return -2.0f;
}

/* Sorts, merges equal placements, prunes as described above. */
static int settle(const pv_matcher *m, pv__cand *c, int n, int level,
                  int keep) {
  sort_desc(c, n);
  int k = 0;
  for (int i = 0; i < n; i++) {
    int dup = 0;
    for (int j = 0; j < k && !dup; j++)
      dup = c[j].x == c[i].x && c[j].y == c[i].y;
    if (!dup) c[k++] = c[i];
  }
  if (k == 0) return 0;
  double floor = c[0].score < m->params.threshold ? c[0].score
                                                   : m->params.threshold;
  double kth = kth_distinct(m, c, k, level);
  if (kth > floor) floor = kth;
  floor -= m->margin[level];
  int out = 0;
  for (int i = 0; i < k; i++)
    if (i < keep || c[i].score >= floor) c[out++] = c[i];
  return out;
}

/* Whether level-l placement (x, y) may be followed: inside the current
 * find's ellipse of centres (when it has one), with one cell of slack per
 * coarser level so that the way down to a placement inside is not cut. */
int pv__in_ellipse(const pv_matcher *m, int l, int x, int y) {
  if (!(m->erx > 0)) return 1;
  double slack = l ? (double)(1 << l) : 0.0;
  double ex = ((double)x * (1 << l) + (m->tl[0].w - 1) / 2.0 - m->ecx) / (m->erx + slack);
  double ey = ((double)y * (1 << l) + (m->tl[0].h - 1) / 2.0 - m->ecy) / (m->ery + slack);
  return ex * ex + ey * ey <= 1.0;
}

double pv__score0(const pv_matcher *m, const pv_image *img, int x, int y) {
#if defined(__x86_64__)
  if (m->simd == PV__SIMD_AVX2) return pv__ncc_u8_avx2(img, &m->tl[0], x, y);
#endif
  return pv__ncc_u8(img, &m->tl[0], x, y);
}

static float score_at(const pv_matcher *m, const pv_image *img, int l, int x,
                      int y) {
#if defined(__x86_64__)
  if (m->simd == PV__SIMD_AVX2) {
    if (l == 0) return (float)pv__ncc_u8_avx2(img, &m->tl[0], x, y);
    return pv__ncc_f_avx2(&m->lvl[l], &m->tl[l], x, y);
  }
#endif
  if (l == 0) return (float)pv__ncc_u8(img, &m->tl[0], x, y);
  return pv__ncc_f(&m->lvl[l], &m->tl[l], x, y);
}

#define MEMO 24 /* side of the grid of scores remembered while climbing */

/* Refines candidate c of level l+1 at level l: the best of 2p .. 2p+1 in
 * each axis, then hill-climbing until it beats its 8 neighbours. Scores are
 * remembered in a small grid so no placement is scored twice. */
static pv__cand descend(const pv_matcher *m, const pv_image *img, int l,
                        pv__cand c) {
  int w = l ? m->lvl[l].w : img->width, h = l ? m->lvl[l].h : img->height;
  int nu = w - m->tl[l].w + 1, nv = h - m->tl[l].h + 1;
  int lu = m->lo_u >> l, lv = m->lo_v >> l; /* the region's lower edge */
  int ox = 2 * c.x - MEMO / 2 + 1, oy = 2 * c.y - MEMO / 2 + 1;
  float memo[MEMO * MEMO];
  for (int i = 0; i < MEMO * MEMO; i++) memo[i] = 2.0f; /* not scored */
  pv__cand b = {0, 0, -3.0f};
  for (int dy = 0; dy <= 1; dy++) {
    for (int dx = 0; dx <= 1; dx++) {
      int x = 2 * c.x + dx, y = 2 * c.y + dy, gx = x - ox, gy = y - oy;
      if (x >= nu || y >= nv || x < lu || y < lv || !pv__in_ellipse(m, l, x, y)) continue;
      float s = memo[gy * MEMO + gx] = score_at(m, img, l, x, y);
      if (s > b.score) b = (pv__cand){x, y, s};
    }
  }
  if (b.score < -2.0f) { /* 2p, 2p+1 outside the image (shrunk by rounding)
                           or the region: climb from the nearest place,
                           scored only where it may be followed */
    b.x = 2 * c.x < nu ? 2 * c.x : nu - 1;
    b.y = 2 * c.y < nv ? 2 * c.y : nv - 1;
    if (b.x < lu) b.x = lu;
    if (b.y < lv) b.y = lv;
    b.score = -2.5f;
  }
  for (int step = 0; step < MEMO; step++) {
    pv__cand nb = b;
    for (int y = b.y - 1; y <= b.y + 1; y++)
      for (int x = b.x - 1; x <= b.x + 1; x++) {
        int gx = x - ox, gy = y - oy;
        if (x < lu || y < lv || x >= nu || y >= nv || !pv__in_ellipse(m, l, x, y)) continue;
        if (gx < 0 || gy < 0 || gx >= MEMO || gy >= MEMO) return b;
        float *s = &memo[gy * MEMO + gx];
        if (*s > 1.5f) *s = score_at(m, img, l, x, y);
        if (*s > nb.score) nb = (pv__cand){x, y, *s};
      }
    if (nb.x == b.x && nb.y == b.y && nb.score == b.score) break;
    b = nb;
  }
  return b;
}

/* Runs steps 1-3; leaves the level-0 candidates in m->cand, returns n. */
int pv__search(pv_matcher *m, const pv_image *img) {
  int t = m->top;
  if (t >= 1) {
#if defined(__x86_64__)
    if (m->simd == PV__SIMD_AVX2) {
      pv__down_u8_avx2(img->data, img->width, img->height, img->stride,
                       &m->lvl[1]);
      for (int l = 2; l <= t; l++) pv__down_f_avx2(&m->lvl[l - 1], &m->lvl[l]);
    } else
#endif
    {
      pv__down_u8(img->data, img->width, img->height, img->stride, &m->lvl[1]);
      for (int l = 2; l <= t; l++) pv__down_f(&m->lvl[l - 1], &m->lvl[l]);
    }
    pv__integrals(&m->lvl[t], m->isum, m->isq);
  }
  int n = settle(m, m->cand, pv__scan_top(m, img), t, KEEP_TOP);
  for (int l = t - 1; l >= 0; l--) {
    for (int i = 0; i < n; i++) m->cand[i] = descend(m, img, l, m->cand[i]);
    n = settle(m, m->cand, n, l, l == 0 ? PV__MATCH_CAND_CAP : KEEP_LEVEL);
  }
  return n;
}
