/* Per-frame vision of alignment: frame -> disc around the expected mark ->
 * candidates -> point status. The sequencer calls pv_vision_locate for
 * every alignment frame, and bench/bench_point times the same function, so
 * what is measured is what runs.
 *
 * The frame goes to pv_matcher_find_frame, which converts to luma only the
 * rectangle the disc's search reads (about a tenth of a 2448 x 2048 frame
 * at the demo's radius) into the matcher's buffer: the frame itself is
 * never converted whole here.
 */
#include <math.h>
#include <string.h>

#include "run_internal.h"

#define VISION_MATCHES 3 /* see pv_vision_locate */

/* Image pixels <-> stage micrometres (swap first, then flips, image ->
 * stage). Pure. */
static void px_to_um(const pv_sequencer_params *p, double ox, double oy, double *dx,
                     double *dy) {
  if (p->swap_xy) {
    double t = ox;
    ox = oy, oy = t;
  }
  if (p->flip_x) ox = -ox;
  if (p->flip_y) oy = -oy;
  *dx = ox * p->um_per_px;
  *dy = oy * p->um_per_px;
}

static void um_to_px(const pv_sequencer_params *p, double dx, double dy, double *ox,
                     double *oy) {
  dx /= p->um_per_px;
  dy /= p->um_per_px;
  if (p->flip_x) dx = -dx;
  if (p->flip_y) dy = -dy;
  if (p->swap_xy) {
    double t = dx;
    dx = dy, dy = t;
  }
  *ox = dx, *oy = dy;
}

/* Decides from the candidates; see run.h. Ownership: writes out only,
 * borrows the rest; the match list lives on the stack (allocates nothing).
 * Threads: any, given the matcher's own rule. */
int pv_vision_locate(const pv_sequencer_params *p, pv_matcher *m, const pv_frame *f,
                     double radius_um, double off_x_um, double off_y_um,
                     pv_vision_result *out) {
  memset(out, 0, sizeof *out);
  out->score = out->next_score = out->x_px = out->y_px = NAN;
  double cx = (f->width - 1) / 2.0, cy = (f->height - 1) / 2.0, ex, ey;
  um_to_px(p, off_x_um, off_y_um, &ex, &ey);
  ex += cx, ey += cy;
  double rad = radius_um / p->um_per_px;
  /* The decision needs the best instance in the disc and any rival within
   * align.ambiguity_margin of it (`within`; a hair more, so that a rival
   * exactly at the margin is not lost to rounding), at most two, and a
   * third covers one whose sub-pixel centre falls just outside the disc.
   * Asking for no more lets the search prune everything that cannot be
   * among them: it costs about what a best-only find costs. */
  pv_match_region disc = {ex - rad, ey - rad, ex + rad, ey + rad, 1,
                          p->ambiguity_margin + 1e-6};
  pv_match mt[VISION_MATCHES];
  int n = pv_matcher_find_frame(m, f->data, f->width, f->height, f->stride, f->format, &disc,
                                mt, VISION_MATCHES);
  out->status = PV_POINT_NO_MATCH;
  if (n < 0) {
    pv_snprintf_c(out->error, sizeof out->error, "match: %s", pv_strerror(n));
    return n;
  }
  int k = 0; /* the disc holds integer placements; keep it for sub-pixel ones */
  for (int i = 0; i < n; i++)
    if (hypot(mt[i].x - ex, mt[i].y - ey) <= rad) mt[k++] = mt[i];
  out->candidates = k;
  if (k == 0) {
    pv_snprintf_c(out->error, sizeof out->error,
                  "no match above match.threshold within %.1f um of the die's mark", radius_um);
    return 0;
  }
  const pv_match *b = &mt[0];
  out->score = b->score, out->x_px = b->x, out->y_px = b->y;
  if (k > 1) out->next_score = mt[1].score;
  if (b->score < p->min_score) {
    out->status = PV_POINT_LOW_SCORE;
    pv_snprintf_c(out->error, sizeof out->error, "best match within %.1f um scores %.3f, below "
                  "align.min_score %.3f", radius_um, b->score, p->min_score);
    return 0;
  }
  if (k > 1 && mt[1].score >= b->score - p->ambiguity_margin) {
    double ax, ay, bx, by;
    px_to_um(p, b->x - cx, b->y - cy, &ax, &ay);
    px_to_um(p, mt[1].x - cx, mt[1].y - cy, &bx, &by);
    out->status = PV_POINT_AMBIGUOUS;
    pv_snprintf_c(out->error, sizeof out->error,
                  "two candidates within %.1f um score %.3f and %.3f (align.ambiguity_margin "
                  "%.3f): at (%.1f, %.1f) and (%.1f, %.1f) um from the camera centre",
                  radius_um, b->score, mt[1].score, p->ambiguity_margin, ax, ay, bx, by);
    return 0;
  }
  px_to_um(p, b->x - cx, b->y - cy, &out->dx_um, &out->dy_um);
  out->status = PV_POINT_OK;
  return 0;
}
