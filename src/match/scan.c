/* Exhaustive scan of the matcher's top level (step 1 of search.c).
 *
 * Scores every top-level placement one row at a time into a ring of 3 rows;
 * each local maximum (ties: the first one wins) enters a min-heap holding
 * the best PV__MATCH_CAND_CAP. Placements outside the current find's
 * ellipse score -3: never a maximum, never a rival. Allocates nothing.
 */
#include "match_internal.h"

static void heap_push(pv__cand *h, int *n, pv__cand c) {
  int i;
  if (*n < PV__MATCH_CAND_CAP) {
    i = (*n)++;
    while (i > 0 && h[(i - 1) / 2].score > c.score) {
      h[i] = h[(i - 1) / 2];
      i = (i - 1) / 2;
    }
    h[i] = c;
    return;
  }
  if (c.score <= h[0].score) return;
  i = 0; /* replace the root (the worst kept) and sift down */
  for (;;) {
    int k = 2 * i + 1;
    if (k >= *n) break;
    if (k + 1 < *n && h[k + 1].score < h[k].score) k++;
    if (h[k].score >= c.score) break;
    h[i] = h[k];
    i = k;
  }
  h[i] = c;
}

static void local_maxima(const float *a, const float *b, const float *c,
                         int nu, int y, pv__cand *heap, int *n) {
  for (int x = 0; x < nu; x++) {
    float s = b[x];
    int l = x > 0, r = x + 1 < nu;
    if (l && !(s > b[x - 1])) continue;
    if (r && !(s >= b[x + 1])) continue;
    if (a && (!(s > a[x]) || (l && !(s > a[x - 1])) || (r && !(s > a[x + 1]))))
      continue;
    if (c && (!(s >= c[x]) || (l && !(s >= c[x - 1])) ||
              (r && !(s >= c[x + 1]))))
      continue;
    pv__cand cd = {x, y, s};
    heap_push(heap, n, cd);
  }
}

int pv__scan_top(pv_matcher *m, const pv_image *img) {
  int t = m->top, n = 0;
  int w = t ? m->lvl[t].w : img->width, h = t ? m->lvl[t].h : img->height;
  int nu = w - m->tl[t].w + 1, nv = h - m->tl[t].h + 1;
  size_t rs = (size_t)m->max_w + PV__MATCH_PAD;
  for (int v = 0; v <= nv; v++) {
    if (v < nv) {
      float *out = m->rows + (size_t)(v % 3) * rs;
      if (t)
        pv__ncc_row_f(&m->lvl[t], m->isum, m->isq, &m->tl[t], m->acc, v, out,
                      m->simd);
      else
        pv__ncc_row_u8(img, &m->tl[0], m->acc, m->colsum, m->colsq, v, out);
      if (m->erx > 0) /* outside the ellipse: never a maximum, never a rival */
        for (int x = 0; x < nu; x++)
          if (!pv__in_ellipse(m, t, x, v)) out[x] = -3.0f;
    }
    if (v >= 1) { /* row v-1 now has both neighbours computed */
      int y = v - 1;
      const float *a = y > 0 ? m->rows + (size_t)((y - 1) % 3) * rs : NULL;
      const float *b = m->rows + (size_t)(y % 3) * rs;
      const float *c = y + 1 < nv ? m->rows + (size_t)((y + 1) % 3) * rs : NULL;
      local_maxima(a, b, c, nu, y, m->cand, &n);
    }
  }
  return n;
}

