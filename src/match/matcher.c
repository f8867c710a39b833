/* Template matcher: parameters, creation (template pyramid, choice of the
 * top level, every buffer), find (search, non-maximum suppression,
 * sub-pixel) and destruction. See match_internal.h for the layout and
 * search.c for the coarse-to-fine strategy, templ.c for the template.
 *
 * Threads: params->threads - 1 workers (workers.c) start at create and are
 * joined at destroy; the thread calling find is the other one. The
 * pyramid (pyramid.c) and the top level's scan (scan.c) run in row bands
 * on them, with per-band buffers allocated at create: no thread starts and
 * nothing is allocated per find, and the answer is the same bits for any
 * thread count (tests/match/test_threads.c).
 * Kernels: m->simd picks AVX2+FMA (kernels_avx2.c) or the portable ones
 * (ncc.c, pyramid.c) once at create; both give the same matches.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "match_internal.h"

void pv_match_params_default(pv_match_params *p) {
  if (p == NULL) return;
  p->threshold = 0.5;
  p->max_results = 16;
  p->overlap = 0.25;
  p->threads = 1;
  p->subpixel = 1;
}

static int params_ok(const pv_match_params *p) {
  return isfinite(p->threshold) && p->threshold >= -1.0 &&
         p->threshold <= 1.0 && p->max_results >= 1 &&
         p->overlap >= 0.0 && p->overlap <= 1.0 && p->threads >= 1 &&
         p->threads <= PV_MATCH_THREADS_MAX;
}

/* Allocates n zeroed items of size bytes and writes every page now:
 * calloc's fresh pages are mapped on first write, which would otherwise
 * come minutes into a run (RSS growth that looks like a leak). */
static void *alloc_touched(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (p != NULL) pv_prefault(p, n * size);
  return p;
}

static int alloc_buffers(pv_matcher *m) {
  /* the scan's rows, accumulators and column sums are per band (scan.c) */
  m->cand = alloc_touched(PV__MATCH_CAND_CAP, sizeof(pv__cand));
  int iw = m->tl[0].w - 2, ih = m->tl[0].h - 2;
  m->gx = alloc_touched((size_t)iw * ih, sizeof(float));
  m->gy = alloc_touched((size_t)iw * ih, sizeof(float));
  m->warp = alloc_touched((size_t)iw * ih, sizeof(float));
  if (!m->cand || !m->gx || !m->gy || !m->warp) return PV_ENOMEM;
  if (m->top == 0) return PV_OK;
  for (int l = 1; l <= m->top; l++) {
    size_t n = (size_t)(m->max_w >> l) * (size_t)(m->max_h >> l) + PV__MATCH_PAD;
    m->lvl[l].px = alloc_touched(n, sizeof(float));
    if (m->lvl[l].px == NULL) return PV_ENOMEM;
  }
  size_t in = ((size_t)(m->max_w >> m->top) + 1) *
              ((size_t)(m->max_h >> m->top) + 1);
  m->isum = alloc_touched(in, sizeof(double));
  m->isq = alloc_touched(in, sizeof(double));
  return m->isum && m->isq ? PV_OK : PV_ENOMEM;
}

int pv_matcher_create(int max_w, int max_h, const pv_image *templ,
                      const pv_match_params *params, pv_matcher **out) {
  if (out == NULL) return PV_EINVAL;
  *out = NULL;
  pv_match_params p;
  pv_match_params_default(&p);
  if (params != NULL) p = *params;
  if (templ == NULL || templ->data == NULL || !params_ok(&p) ||
      templ->width < PV_MATCH_MIN_TEMPLATE ||
      templ->height < PV_MATCH_MIN_TEMPLATE ||
      templ->width > PV_MATCH_MAX_TEMPLATE ||
      templ->height > PV_MATCH_MAX_TEMPLATE || templ->stride < templ->width ||
      max_w > PV_IMAGE_MAX_DIM || max_h > PV_IMAGE_MAX_DIM ||
      templ->width > max_w || templ->height > max_h)
    return PV_EINVAL;
  pv_matcher *m = calloc(1, sizeof *m);
  if (m == NULL) return PV_ENOMEM;
  m->params = p;
  m->max_w = max_w;
  m->max_h = max_h;
  m->simd = pv__simd_detect();
  m->templ8 = malloc((size_t)templ->width * (size_t)templ->height);
  int rc = m->templ8 ? pv__template_build(m, templ) : PV_ENOMEM;
  if (rc == PV_OK) rc = alloc_buffers(m);
  if (rc == PV_OK) rc = pv__scan_alloc(m); /* per-band buffers (scan.c) */
  if (rc == PV_OK) rc = pv__workers_create(p.threads, &m->pool);
  if (rc == PV_OK) { /* pv_matcher_find_frame's luma (frame.c) */
    m->frame_luma = alloc_touched((size_t)max_w * (size_t)max_h + PV__MATCH_PAD, 1);
    if (m->frame_luma == NULL) rc = PV_ENOMEM;
  }
  if (rc != PV_OK) {
    pv_matcher_destroy(m);
    return rc;
  }
  pv__subpixel_init(m);
  *out = m;
  return PV_OK;
}

void pv_matcher_destroy(pv_matcher *m) {
  if (m == NULL) return;
  pv__workers_destroy(m->pool); /* joins the threads first */
  pv__scan_free(m);
  for (int l = 0; l < PV__MATCH_MAX_LEVELS; l++) {
    free(m->tl[l].zm);
    free(m->lvl[l].px);
  }
  free(m->templ8);
  free(m->isum);
  free(m->isq);
  free(m->cand);
  free(m->gx);
  free(m->gy);
  free(m->warp);
  free(m->frame_luma);
  free(m);
}

/* Share of the template area covered by both placements. */
static double overlap(const pv__cand *a, const pv__cand *b, int w, int h) {
  int ox = w - abs(a->x - b->x), oy = h - abs(a->y - b->y);
  if (ox <= 0 || oy <= 0) return 0.0;
  return (double)ox * oy / ((double)w * h);
}

/* Searches the whole of image (valid, checked by the callers). */
static int find_all(pv_matcher *m, const pv_image *image, pv_match *out,
                    int limit) {
  m->limit = limit;
  int n = pv__search(m, image);
  /* m->cand: exact scores, best first; keep the non-overlapping ones */
  int kept = 0;
  double hw = (m->tl[0].w - 1) / 2.0, hh = (m->tl[0].h - 1) / 2.0;
  for (int i = 0; i < n && kept < limit; i++) {
    if (!(m->cand[i].score >= m->params.threshold)) break;
    if (m->within > 0 && kept > 0 && m->cand[i].score < m->cand[0].score - m->within)
      break; /* sorted: the rest are further below the best */
    if (m->erx > 0) { /* outside the ellipse: neither reported nor suppressing */
      double ex = (m->cand[i].x + hw - m->ecx) / m->erx;
      double ey = (m->cand[i].y + hh - m->ecy) / m->ery;
      if (ex * ex + ey * ey > 1.0) continue;
    }
    int clash = 0;
    for (int j = 0; j < kept && !clash; j++)
      clash = overlap(&m->cand[i], &m->cand[j], m->tl[0].w, m->tl[0].h) >
              m->params.overlap;
    if (!clash) m->cand[kept++] = m->cand[i];
  }
  for (int i = 0; i < kept; i++) {
    const pv__cand *c = &m->cand[i];
    double dx = 0.0, dy = 0.0;
    if (m->params.subpixel) pv__subpixel(m, image, c->x, c->y, &dx, &dy);
    out[i].x = c->x + (m->tl[0].w - 1) / 2.0 + dx;
    out[i].y = c->y + (m->tl[0].h - 1) / 2.0 + dy;
    out[i].score = pv__score0(m, image, c->x, c->y);
  }
  return kept;
}

static int image_ok(const pv_matcher *m, const pv_image *image, pv_match *out,
                    int max_out) {
  return m != NULL && image != NULL && image->data != NULL && max_out >= 0 &&
         (out != NULL || max_out == 0) && image->stride >= image->width &&
         image->width <= m->max_w && image->height <= m->max_h &&
         image->width >= m->tl[0].w && image->height >= m->tl[0].h;
}

int pv_matcher_find(pv_matcher *m, const pv_image *image, pv_match *out,
                    int max_out) {
  pv_match_region all = {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 0};
  return pv_matcher_find_in(m, image, &all, out, max_out);
}

/* The region becomes the range of top-left placements [lo, hi] on one
 * axis (centre = placement + (t - 1) / 2), clipped to the image. Returns 0
 * when no placement is left. */
static int placements(double c0, double c1, int t, int size, int *lo, int *hi) {
  double half = (t - 1) / 2.0;
  double a = ceil(c0 - half), b = floor(c1 - half);
  if (!(a <= b)) return 0; /* also NaN */
  if (a < 0) a = 0;
  if (b > size - t) b = size - t;
  if (a > b) return 0;
  *lo = (int)a;
  *hi = (int)b;
  return 1;
}

int pv_matcher_find_in(pv_matcher *m, const pv_image *image,
                       const pv_match_region *region, pv_match *out,
                       int max_out) {
  if (!image_ok(m, image, out, max_out) || region == NULL || !(region->within >= 0))
    return PV_EINVAL;
  int limit = max_out < m->params.max_results ? max_out : m->params.max_results;
  if (limit == 0 || m->tl[0].flat) return 0;
  int tw = m->tl[0].w, th = m->tl[0].h, u0, u1, v0, v1;
  if (!placements(region->x0, region->x1, tw, image->width, &u0, &u1) ||
      !placements(region->y0, region->y1, th, image->height, &v0, &v1))
    return 0;
  /* The sub-image holding those placements, its origin moved left and up
   * to a multiple of 2^top so that its pyramid is the whole image's (the
   * coarse scores, and so the search, do not depend on where the region
   * starts); the placements left of or above the region are excluded by
   * lo_u/lo_v. Scores are local, so they are the whole image's. */
  int a = (1 << m->top) - 1, ou = u0 & ~a, ov = v0 & ~a;
  pv_image sub = {u1 - ou + tw, v1 - ov + th, image->stride,
                  image->data + (size_t)ov * image->stride + ou};
  m->lo_u = u0 - ou;
  m->lo_v = v0 - ov;
  m->erx = m->ery = 0;
  if (region->ellipse && isfinite(region->x1 - region->x0) && isfinite(region->y1 - region->y0)) {
    m->ecx = (region->x0 + region->x1) / 2 - ou, m->ecy = (region->y0 + region->y1) / 2 - ov;
    m->erx = fmax((region->x1 - region->x0) / 2, 1e-9);
    m->ery = fmax((region->y1 - region->y0) / 2, 1e-9);
  }
  m->within = region->within;
  int n = find_all(m, &sub, out, limit);
  m->lo_u = m->lo_v = 0;
  m->erx = m->ery = 0;
  m->within = 0;
  for (int i = 0; i < n; i++) out[i].x += ou, out[i].y += ov;
  return n;
}

/* Must stay the sub-image pv_matcher_find_in builds above: frame.c
 * converts exactly this rectangle of a frame. */
int pv__find_in_rect(const pv_matcher *m, int w, int h,
                     const pv_match_region *region, int *x0, int *y0, int *rw,
                     int *rh) {
  int tw = m->tl[0].w, th = m->tl[0].h, u0, u1, v0, v1;
  if (w < tw || h < th || !placements(region->x0, region->x1, tw, w, &u0, &u1) ||
      !placements(region->y0, region->y1, th, h, &v0, &v1))
    return 0;
  int a = (1 << m->top) - 1;
  *x0 = u0 & ~a, *y0 = v0 & ~a;
  *rw = u1 - *x0 + tw, *rh = v1 - *y0 + th;
  return 1;
}
