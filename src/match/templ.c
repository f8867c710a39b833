/* The template side of the matcher: the 8-bit copy, its zero-mean levels,
 * the choice of the top level and the pruning margins.
 *
 * Why margins come from the template: at level l a true match generally
 * lies between coarse placements; the nearest one is misaligned by up to
 * half a coarse pixel in each axis, and its coarse score drops by as much
 * as the template decorrelates under that shift. So for every level the
 * template is downsampled as is and shifted by every phase up to half a
 * coarse pixel (0 .. 2^(l-1) full pixels in each axis), and the lowest NCC
 * between the two ("phase robustness", 1 for smooth templates, low for
 * fine periodic ones) estimates how far the true match can trail at that
 * level:
 *   margin[l] = max(MIN_MARGIN, 1 + SLACK - robustness) + COARSE_SLACK
 * (level 0: MIN_MARGIN; its scores are exact). It is an estimate, not a bound
 * (noise, illumination and whatever surrounds the match also move coarse
 * scores); the constants are measured on tests/match/test_global_max.c.
 * A level above 1 whose half-pixel robustness is below MIN_ROBUSTNESS is
 * not used at all (the search starts finer, slower), nor one that keeps
 * less than MIN_VARIANCE_KEPT of the per-pixel variance. Level 1 is always
 * used (templates from 8 px: side MIN_SIDE_1): an exhaustive search of
 * level 0 would take seconds on a 5 Mpx frame; when it is weak (noise-like
 * templates) it prunes nothing (WEAK_MARGIN): every local maximum the scan
 * keeps (PV__MATCH_CAND_CAP) descends; and when the largest image is small
 * (EXHAUSTIVE_BUDGET) level 0 is searched exhaustively instead (exact).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "match_internal.h"

#define MIN_ROBUSTNESS 0.5
#define MIN_SIDE_1 4 /* template side at level 1 (coarser levels:
                         PV__MATCH_TOP_MIN_SIDE) */
#define COARSE_SLACK 0.1 /* extra margin at levels >= 1 */
#define WEAK_MARGIN 2.0  /* a weak level 1 prunes nothing */
#define EXHAUSTIVE_BUDGET 5e7 /* image x template pixels up to which a weak
                                 level 1 gives way to level 0, exhaustive */
#define MIN_VARIANCE_KEPT 0.05
#define MIN_MARGIN 0.2
#define SLACK 0.15

/* Turns the raw level (values in zm) into zero-mean form and statistics. */
static void finish_level(pv__tlevel *tl) {
  size_t n = (size_t)tl->w * (size_t)tl->h;
  double sum = 0.0, ssq = 0.0;
  for (size_t i = 0; i < n; i++) sum += tl->zm[i];
  double mean = sum / (double)n;
  for (size_t i = 0; i < n; i++) {
    tl->zm[i] = (float)(tl->zm[i] - mean);
    ssq += (double)tl->zm[i] * tl->zm[i];
  }
  tl->ssq = ssq;
  tl->flat = !(ssq > 0.0);
}

/* Downsamples the w x h 8-bit region at src l >= 1 times into out (whose
 * size it returns in *ow, *oh); t1 and t2 hold (w/2)*(h/2) floats each. */
static void down_n(const uint8_t *src, int w, int h, int stride, int l,
                   float *out, float *t1, float *t2, int *ow, int *oh) {
  pv__fimg a = {0, 0, t1}, b = {0, 0, t2};
  pv__down_u8(src, w, h, stride, &a);
  for (int k = 2; k <= l; k++) {
    pv__down_f(&a, &b);
    pv__fimg tmp = a;
    a = b;
    b = tmp;
  }
  memcpy(out, a.px, (size_t)a.w * (size_t)a.h * sizeof(float));
  *ow = a.w;
  *oh = a.h;
}

static double ncc_plain(const float *a, const float *b, size_t n) {
  double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
  for (size_t i = 0; i < n; i++) ma += a[i], mb += b[i];
  ma /= (double)n;
  mb /= (double)n;
  for (size_t i = 0; i < n; i++) {
    double x = a[i] - ma, y = b[i] - mb;
    saa += x * x, sbb += y * y, sab += x * y;
  }
  return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0.0;
}

/* Phase robustness of level l (see the top of the file): the lowest NCC
 * between the template downsampled as is and shifted by (px, py) full
 * pixels: with all, over the phases 0 .. 2^(l-1) in each axis (every
 * phase up to level 4, a step of 2^l / 16 above: a true match is at most
 * half a coarse pixel from the nearest coarse placement); else only the
 * half-pixel ones. 0 if the level is too small. */
static double robustness(const pv_matcher *m, int l, int all, float *buf) {
  int tw = m->tl[0].w, th = m->tl[0].h, B = 1 << l;
  int w = tw - (B - 1), hh = th - (B - 1);
  if ((w >> l) < 4 || (hh >> l) < 4) return 0.0;
  size_t half = (size_t)(tw / 2) * (size_t)(th / 2);
  float *a = buf, *b = buf + half, *t1 = buf + 2 * half, *t2 = buf + 3 * half;
  int step = B > 16 ? B / 16 : 1;
  double worst = 1.0;
  int aw, ah, bw, bh;
  down_n(m->templ8, w, hh, tw, l, a, t1, t2, &aw, &ah);
  for (int py = 0; py <= B / 2; py += step)
    for (int px = 0; px <= B / 2; px += step) {
      if (px == 0 && py == 0) continue;
      if (!all && !((px == 0 || px == B / 2) && (py == 0 || py == B / 2)))
        continue;
      const uint8_t *src = m->templ8 + (size_t)py * tw + px;
      down_n(src, w, hh, tw, l, b, t1, t2, &bw, &bh);
      double r = ncc_plain(a, b, (size_t)aw * ah);
      if (r < worst) worst = r;
    }
  return worst;
}

int pv__template_build(pv_matcher *m, const pv_image *t) {
  int tw = t->width, th = t->height;
  for (int y = 0; y < th; y++)
    memcpy(m->templ8 + (size_t)y * tw, t->data + (size_t)y * t->stride,
           (size_t)tw);
  size_t n = (size_t)tw * th, half = (size_t)(tw / 2) * (size_t)(th / 2);
  m->tl[0] = (pv__tlevel){tw, th, malloc(n * sizeof(float)), 0, 0};
  float *buf = malloc((4 * half + 16) * sizeof(float));
  if (m->tl[0].zm == NULL || buf == NULL) {
    free(buf);
    return PV_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) m->tl[0].zm[i] = m->templ8[i];
  finish_level(&m->tl[0]); /* flat: every pixel equal, so zm is exactly 0 */
  double var0 = m->tl[0].ssq / (double)n;
  m->top = 0;
  for (int l = 0; l < PV__MATCH_MAX_LEVELS; l++) m->margin[l] = MIN_MARGIN;
  for (int l = 1; l < PV__MATCH_MAX_LEVELS && !m->tl[0].flat; l++) {
    int w = tw >> l, h = th >> l, side = l == 1 ? MIN_SIDE_1 : PV__MATCH_TOP_MIN_SIDE;
    if (w < side || h < side) break;
    pv__tlevel *tl = &m->tl[l];
    *tl = (pv__tlevel){w, h, malloc(((size_t)w * h + 16) * sizeof(float)), 0, 0};
    if (tl->zm == NULL) {
      free(buf);
      return PV_ENOMEM;
    }
    int ow, oh;
    down_n(m->templ8, tw, th, tw, l, tl->zm, buf, buf + half, &ow, &oh);
    finish_level(tl);
    double rob = robustness(m, l, 0, buf);
    /* level 1 is always used (unless flat): searching level 0 exhaustively
     * costs seconds on a large frame; a weak level 1 gets a wide margin */
    if (tl->flat || (l > 1 && (tl->ssq / ((double)w * h) < MIN_VARIANCE_KEPT * var0 ||
                               rob < MIN_ROBUSTNESS)))
      break;
    m->margin[l] = fmax(MIN_MARGIN, 1.0 + SLACK - robustness(m, l, 1, buf));
    if (l == 1 && (rob < MIN_ROBUSTNESS ||
                   tl->ssq / ((double)w * h) < MIN_VARIANCE_KEPT * var0)) {
      if ((double)m->max_w * m->max_h * tw * th <= EXHAUSTIVE_BUDGET) break;
      m->margin[l] = WEAK_MARGIN; /* every candidate the scan keeps */
    }
    m->top = l;
  }
  for (int l = 1; l <= m->top; l++) m->margin[l] += COARSE_SLACK;
  free(buf);
  return PV_OK;
}
