/* Coarse-to-fine search of the matcher, best first against an exact floor.
 *
 * 0. The pyramid, in row bands on the matcher's workers (pyramid.c).
 * 1. Exhaustive scores at the top level (scan.c): its best
 *    PV__MATCH_CAND_CAP local maxima, pruned by settle(): the first
 *    KEEP_TOP always stay (coarse scores can misrank), the rest only if
 *    within m->margin[top] of min(best, threshold) and of the
 *    max(limit, KTH_MIN)-th instance left by non-maximum suppression.
 * 2. Best first: each top candidate descends ALONE to level 0 (dfs()):
 *    placement p at level l+1 is near 2p-1 .. 2p+2 at level l (2p .. 2p+1
 *    at level 0); every local maximum of those children within the margin
 *    of their best (at most SPAWN; one at level 0) is hill-climbed until it
 *    beats its 8 neighbours (the climb never stops at its memo window's
 *    edge: the window moves). Its level-0 nodes carry exact scores.
 *    The exact floor F: the limit-th instance left by non-maximum
 *    suppression among the exact results so far, or the threshold if that
 *    is higher or there are fewer (nothing scoring below F can change the
 *    output). Every node of level l whose score + margin[l] < F is dropped,
 *    and so is every extra climb that cannot reach it; the top candidates
 *    are sorted, so the first one below the floor ends step 2. F is updated
 *    only between batches (the first candidate alone, then 2, 4, BATCH,
 *    descended in parallel into their own slots and merged in candidate
 *    order): the answer is the same bits for any thread count.
 * 3. Step 4 of the old order ("refine"): windows around the best 2 level-1
 *    nodes and, at the end, the best 2 level-0 results are searched
 *    exhaustively; their local maxima descend / join (refine()).
 * Nothing here is a proof: coarse scores are not bounds at placements
 * that straddle the pyramid's blocks (the margins are estimates, templ.c).
 * Exactness is measured on scenes made from real photographs
 * (tests/match/test_global_max.c). The floor itself is exact: it only
 * removes what, if the margins hold, could not be output.
 * Thread safety: runs on the calling thread and the matcher's workers, on
 * one matcher at a time; a dfs() task writes only its slot and stack.
 */
#include <math.h>
#include <stdlib.h>

#include "match_internal.h"

#define KEEP_TOP 48
#define KTH_MIN 4 /* the pruning floor counts at least this many instances */

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

/* Score of the count-th candidate that overlaps no better one at this level
 * (-2 if fewer): nothing far below it can make the output. Comparing with
 * every better candidate, not only the kept ones, suppresses more than the
 * real NMS, so the bound is conservative (lower). */
static float kth_distinct(const pv_matcher *m, const pv__cand *c, int n,
                          int level, int count) {
  int w = m->tl[level].w, h = m->tl[level].h, kept = 0;
  double area = (double)w * h;
  for (int i = 0; i < n; i++) {
    int clash = 0;
    for (int j = 0; j < i && !clash; j++) {
      int ox = w - abs(c[i].x - c[j].x), oy = h - abs(c[i].y - c[j].y);
      clash = ox > 0 && oy > 0 && ox * (double)oy / area > m->params.overlap;
    }
    if (!clash && ++kept == count) return c[i].score;
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
  double kth = kth_distinct(m, c, k, level,
                            m->limit > KTH_MIN ? m->limit : KTH_MIN);
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

#define MEMO 32 /* side of the grid of scores remembered while climbing */
#define SPAWN 3  /* climbs started per candidate and level, at most */

/* Scores remembered while a candidate descends: a MEMO x MEMO window of
 * level-l placements with origin (ox, oy); 2.0 = not scored yet. */
typedef struct memo_grid {
  int ox, oy;
  float s[MEMO * MEMO];
} memo_grid;

static void memo_centre(memo_grid *g, int x, int y) {
  g->ox = x - MEMO / 2;
  g->oy = y - MEMO / 2;
  for (int i = 0; i < MEMO * MEMO; i++) g->s[i] = 2.0f;
}

/* Whether level-l placement (x, y) may be scored in this find: inside the
 * level, right of and below the region's lower edge, in the ellipse. */
static int placeable(const pv_matcher *m, int l, int nu, int nv, int x,
                     int y) {
  return x >= (m->lo_u >> l) && y >= (m->lo_v >> l) && x < nu && y < nv &&
         pv__in_ellipse(m, l, x, y);
}

/* Score of (x, y) through the memo; recentres it when (x, y) is outside. */
static float memo_score(const pv_matcher *m, const pv_image *img, int l,
                        memo_grid *g, int x, int y) {
  int gx = x - g->ox, gy = y - g->oy;
  if (gx < 0 || gy < 0 || gx >= MEMO || gy >= MEMO) {
    memo_centre(g, x, y);
    gx = x - g->ox, gy = y - g->oy;
  }
  float *s = &g->s[gy * MEMO + gx];
  if (*s > 1.5f) *s = score_at(m, img, l, x, y);
  return *s;
}

/* Hill-climbs from b until it beats its 8 neighbours (never stopping at a
 * window's edge: the memo follows the climb). */
static pv__cand climb(const pv_matcher *m, const pv_image *img, int l, int nu,
                      int nv, memo_grid *g, pv__cand b) {
  for (;;) {
    pv__cand nb = b;
    for (int y = b.y - 1; y <= b.y + 1; y++)
      for (int x = b.x - 1; x <= b.x + 1; x++) {
        if ((x == b.x && y == b.y) || !placeable(m, l, nu, nv, x, y)) continue;
        float s = memo_score(m, img, l, g, x, y);
        if (s > nb.score) nb = (pv__cand){x, y, s};
      }
    if (nb.x == b.x && nb.y == b.y) return b;
    b = nb;
  }
}

/* Whether cell (i, j) of an n x n grid of scores (row stride `stride`) is
 * a local maximum of its 3 x 3 neighbourhood: above every neighbour, a tie
 * going to the later cell in row order (so of two equal neighbours one
 * counts). Pure. */
static int grid_peak(const float *g, int stride, int n, int i, int j) {
  float s = g[j * stride + i];
  for (int dj = -1; dj <= 1; dj++)
    for (int di = -1; di <= 1; di++) {
      int ii = i + di, jj = j + dj;
      if (!(di || dj) || ii < 0 || jj < 0 || ii >= n || jj >= n) continue;
      float v = g[jj * stride + ii];
      if (!(s > v || (s == v && jj * stride + ii > j * stride + i))) return 0;
    }
  return 1;
}

/* Refines candidate c of level l+1 at level l into out[0..k-1] (returns
 * k, 1 <= k <= SPAWN): the K x K children are scored (K = 4 above level
 * 0: placements 2p-1 .. 2p+2 of each axis; K = 2 at level 0, 2p .. 2p+1,
 * where step 4 searches around the best); each that is a local maximum
 * among them and within margin[l] of their best starts a hill climb (best
 * first, at most SPAWN), so a true peak next to a better-looking one is
 * not lost. With wide, K = 12 (2p-5 .. 2p+6): for the best few candidates
 * at levels where the template is small, so that a peak one coarse pixel
 * beside a better-looking coarse maximum is reached too. */
static int descend(const pv_matcher *m, const pv_image *img, int l,
                   pv__cand c, int wide, float floor, memo_grid *g,
                   pv__cand *out) {
  int w = l ? m->lvl[l].w : img->width, h = l ? m->lvl[l].h : img->height;
  int nu = w - m->tl[l].w + 1, nv = h - m->tl[l].h + 1;
  int K = wide ? 12 : (l ? 4 : 2), lo = wide ? 5 : (l ? 1 : 0);
  int x0 = 2 * c.x - lo, y0 = 2 * c.y - lo;
  float kid[12][12];
  float best = -3.0f;
  for (int j = 0; j < K; j++)
    for (int i = 0; i < K; i++) {
      int x = x0 + i, y = y0 + j;
      kid[j][i] = placeable(m, l, nu, nv, x, y)
                      ? memo_score(m, img, l, g, x, y) : -3.0f;
      if (kid[j][i] > best) best = kid[j][i];
    }
  if (best < -2.0f) { /* no child may be scored (image shrunk by rounding,
                         the region's edge or its ellipse): climb from the
                         nearest placement that may be, walking towards the
                         ellipse's centre (or into the level) */
    double cx = m->erx > 0 ? (m->ecx - (m->tl[0].w - 1) / 2.0) / (1 << l) : 2 * c.x;
    double cy = m->ery > 0 ? (m->ecy - (m->tl[0].h - 1) / 2.0) / (1 << l) : 2 * c.y;
    int bx = 2 * c.x, by = 2 * c.y;
    for (int k = 0; k < 4 * MEMO && !placeable(m, l, nu, nv, bx, by); k++) {
      if (bx >= nu) bx = nu - 1;
      if (by >= nv) by = nv - 1;
      if (bx < (m->lo_u >> l)) bx = m->lo_u >> l;
      if (by < (m->lo_v >> l)) by = m->lo_v >> l;
      if (placeable(m, l, nu, nv, bx, by)) break;
      double dx = cx - bx, dy = cy - by, d = fabs(dx) > fabs(dy) ? fabs(dx) : fabs(dy);
      if (d < 1.0) break;
      bx += (int)lround(dx / d), by += (int)lround(dy / d);
    }
    float s0 = placeable(m, l, nu, nv, bx, by) ? memo_score(m, img, l, g, bx, by) : -2.5f;
    out[0] = climb(m, img, l, nu, nv, g, (pv__cand){bx, by, s0});
    return 1;
  }
  pv__cand start[144];
  int ns = 0;
  for (int j = 0; j < K; j++)
    for (int i = 0; i < K; i++) {
      float s = kid[j][i];
      if (s < -2.0f || s < best - (float)m->margin[l]) continue;
      if (grid_peak(&kid[0][0], 12, K, i, j)) start[ns++] = (pv__cand){x0 + i, y0 + j, s};
    }
  sort_desc(start, ns);
  int k = 0;
  for (int i = 0; i < ns && k < (l ? SPAWN : 1); i++) {
    if (i > 0 && start[i].score + (float)m->margin[l] < floor) break;
    pv__cand r = climb(m, img, l, nu, nv, g, start[i]);
    int dup = 0;
    for (int q = 0; q < k && !dup; q++) dup = out[q].x == r.x && out[q].y == r.y;
    if (!dup) out[k++] = r;
  }
  return k;
}

#define REFINE_CANDS 2      /* candidates whose window is searched */
#define REFINE_DELTA 0.05f  /* ... those within this of the best */
#define REFINE_BUDGET 1e6   /* template pixels x placements per window */
#define REFINE_MAX_R 16
#define REFINE_MAX_R0 4 /* at level 0 */

/* Step 4: around each of the best REFINE_CANDS level-l candidates within
 * REFINE_DELTA of the best, a square window is searched exhaustively (its
 * radius from REFINE_BUDGET, at most REFINE_MAX_R at level 1 (16 for
 * templates up to 48 px, 7 at 128 px, 3 at 256 px) and REFINE_MAX_R0 at
 * level 0 (4 up to 96 px, 1 at 256 px)) and each of its local maxima within margin[l] of its best (at
 * most SPAWN, best first) joins the candidates. Catches a true peak a few
 * pixels from a better-looking one in the same coarse basin. Run at level
 * 1 (its window spans twice as far) and at level 0; returns the new n. */
static int refine(const pv_matcher *m, const pv_image *img, int l,
                  pv__cand *c, int n) {
  int tw = m->tl[l].w, th = m->tl[l].h;
  int w = l ? m->lvl[l].w : img->width, h = l ? m->lvl[l].h : img->height;
  int nu = w - tw + 1, nv = h - th + 1;
  int r = (int)((sqrt(REFINE_BUDGET / ((double)tw * th)) - 1) / 2);
  if (r > (l ? REFINE_MAX_R : REFINE_MAX_R0)) r = l ? REFINE_MAX_R : REFINE_MAX_R0;
  if (r < 1) r = 1;
  int side = 2 * r + 1, total = n;
  float win[(2 * REFINE_MAX_R + 1) * (2 * REFINE_MAX_R + 1)];
  for (int i = 0; i < n && i < REFINE_CANDS; i++) {
    if (c[i].score < c[0].score - REFINE_DELTA) break;
    int x0 = c[i].x - r, y0 = c[i].y - r;
    float best = -3.0f;
    for (int j = 0; j < side; j++)
      for (int k = 0; k < side; k++) {
        int x = x0 + k, y = y0 + j;
        float s = placeable(m, l, nu, nv, x, y) ? score_at(m, img, l, x, y) : -3.0f;
        win[j * side + k] = s;
        if (s > best) best = s;
      }
    pv__cand pk[SPAWN];
    int np = 0;
    for (int j = 0; j < side; j++)
      for (int k = 0; k < side; k++) {
        float s = win[j * side + k];
        if (s < -2.0f || s < best - (float)m->margin[l]) continue;
        if (!grid_peak(win, side, side, k, j)) continue;
        pv__cand p = {x0 + k, y0 + j, s};
        if (np < SPAWN) pk[np++] = p;
        else if (s > pk[SPAWN - 1].score) pk[SPAWN - 1] = p;
        sort_desc(pk, np);
      }
    for (int q = 0; q < np; q++) {
      if (q == 0) c[i] = pk[0];
      else if (total < PV__MATCH_CAND_CAP) c[total++] = pk[q];
    }
  }
  return total;
}

#define LOCAL_CAP 16 /* nodes one top candidate keeps per level */
#define BATCH 8      /* top candidates descended between floor updates, at
                        most: 1, 2, 4, then 8 (fixed: the answer must not
                        depend on the thread count) */
#define L1_CAP 8     /* level-1 nodes kept for step 4 */

/* Sorts best first, merges equal placements and drops the nodes whose
 * score + margin cannot reach floor; keeps at most cap. Returns the new n. */
static int prune(pv__cand *c, int n, double margin, float floor, int cap) {
  sort_desc(c, n);
  int k = 0;
  for (int i = 0; i < n && k < cap; i++) {
    if (c[i].score + (float)margin < floor) break;
    int dup = 0;
    for (int j = 0; j < k && !dup; j++)
      dup = c[j].x == c[i].x && c[j].y == c[i].y;
    if (!dup) c[k++] = c[i];
  }
  return k;
}

/* Candidate c of level `from` descends to level 0 on its own: every level's
 * children and climbs (descend()), pruned against floor; its level-0 nodes
 * (exact scores) go to out0, its level-1 nodes (when from >= 2) to out1,
 * LOCAL_CAP each. Writes only out0/out1 and its stack. */
static void dfs(const pv_matcher *m, const pv_image *img, pv__cand c,
                int from, float floor, pv__cand *out0, int *n0,
                pv__cand *out1, int *n1) {
  pv__cand cur[LOCAL_CAP], nxt[LOCAL_CAP * SPAWN];
  memo_grid g;
  int nc = 1;
  cur[0] = c;
  *n0 = *n1 = 0;
  for (int l = from - 1; l >= 0 && nc > 0; l--) {
    int nn = 0;
    memo_centre(&g, 2 * cur[0].x, 2 * cur[0].y); /* one memo per level: the
                                                   nodes are near each other */
    for (int i = 0; i < nc; i++)
      nn += descend(m, img, l, cur[i], 0, floor, &g, nxt + nn);
    nc = prune(nxt, nn, m->margin[l], floor, LOCAL_CAP);
    for (int i = 0; i < nc; i++) cur[i] = nxt[i];
    if (l == 1)
      for (int i = 0; i < nc; i++) out1[(*n1)++] = cur[i];
  }
  for (int i = 0; i < nc; i++) out0[i] = cur[i];
  *n0 = nc;
}

/* A batch of top candidates (tasks of pv__parallel_for): task q descends
 * m->cand[first + q] into slot q. */
typedef struct dfs_job {
  const pv_matcher *m;
  const pv_image *img;
  int first;
  float floor;
  pv__cand out0[BATCH][LOCAL_CAP], out1[BATCH][LOCAL_CAP];
  int n0[BATCH], n1[BATCH];
} dfs_job;

static void dfs_task(void *ctx, int q) {
  dfs_job *j = ctx;
  dfs(j->m, j->img, j->m->cand[j->first + q], j->m->top, j->floor,
      j->out0[q], &j->n0[q], j->out1[q], &j->n1[q]);
}

/* The exact floor: nothing scoring below it can change the output (the
 * limit-th instance left by non-maximum suppression among the exact
 * results so far, or the threshold if higher or fewer instances; with a
 * find's `within`, the best exact result so far minus within if higher).
 * res is sorted, best first. */
static float exact_floor(const pv_matcher *m, const pv__cand *res, int nr) {
  float thr = (float)m->params.threshold;
  float kth = kth_distinct(m, res, nr, 0, m->limit);
  float f = kth > thr ? kth : thr;
  if (m->within > 0 && nr > 0 && res[0].score - (float)m->within > f)
    f = res[0].score - (float)m->within;
  return f;
}

/* Runs steps 1-4; leaves the level-0 candidates in m->cand, returns n. */
int pv__search(pv_matcher *m, const pv_image *img) {
  int t = m->top;
  pv__pyramid_build(m, img); /* in row bands on the workers */
  int n = settle(m, m->cand, pv__scan_top(m, img), t, KEEP_TOP);
  if (t == 0) return n;
  pv__cand res[PV__MATCH_CAND_CAP + BATCH * LOCAL_CAP];
  pv__cand l1[L1_CAP + BATCH * LOCAL_CAP];
  int nr = 0, n1 = 0;
  float floor = (float)m->params.threshold;
  dfs_job j;
  j.m = m, j.img = img;
  /* best first: the first candidate alone (it usually sets the floor),
   * then 2, 4, BATCH at a time (i + 1 while i < BATCH: 1, 2, 4, 8, 8...),
   * the floor updated between batches in order */
  for (int i = 0; i < n;) {
    if (m->cand[i].score + (float)m->margin[t] < floor) break; /* sorted */
    int b = i < BATCH ? (i + 1 < n - i ? i + 1 : n - i)
                      : (n - i < BATCH ? n - i : BATCH);
    j.first = i, j.floor = floor;
    pv__parallel_for(m, b, dfs_task, &j);
    for (int q = 0; q < b; q++) {
      for (int k = 0; k < j.n0[q]; k++) res[nr++] = j.out0[q][k];
      for (int k = 0; k < j.n1[q]; k++) l1[n1++] = j.out1[q][k];
    }
    i += b;
    nr = prune(res, nr, 0.0, -3.0f, PV__MATCH_CAND_CAP);
    floor = exact_floor(m, res, nr);
    n1 = prune(l1, n1, m->margin[1], floor, L1_CAP);
  }
  /* step 4 at level 1: windows around the best level-1 nodes, their local
   * maxima descend to level 0 */
  if (t >= 2) {
    n1 = prune(l1, n1, m->margin[1], floor, L1_CAP);
    pv__cand w[REFINE_CANDS * SPAWN];
    int nw = n1 < REFINE_CANDS ? n1 : REFINE_CANDS;
    for (int i = 0; i < nw; i++) w[i] = l1[i];
    nw = refine(m, img, 1, w, nw);
    for (int i = 0; i < nw; i++) {
      if (w[i].score + (float)m->margin[1] < floor) continue;
      pv__cand o0[LOCAL_CAP], o1[LOCAL_CAP];
      int k0, k1;
      dfs(m, img, w[i], 1, floor, o0, &k0, o1, &k1);
      for (int k = 0; k < k0; k++) res[nr++] = o0[k];
      nr = prune(res, nr, 0.0, -3.0f, PV__MATCH_CAND_CAP);
    }
  }
  for (int i = 0; i < nr; i++) m->cand[i] = res[i];
  n = settle(m, m->cand, nr, 0, PV__MATCH_CAND_CAP);
  n = refine(m, img, 0, m->cand, n);
  return settle(m, m->cand, n, 0, PV__MATCH_CAND_CAP);
}
