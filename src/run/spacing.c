/* How far apart identical things are: the targets of a list, the marks
 * seen in one frame. The sequencer's automatic search radius is a fraction
 * of the smallest such spacing, so that a search region can never hold two
 * marks of a regular layout.
 *
 * Targets: positions closer than PV__SPACING_SAME_UM are one die visited
 * again and do not count. The list is sorted by (x, y) and by (y, x), and
 * each position is compared with its next PV__SPACING_WINDOW neighbours in
 * both orders: on a grid (rows and columns, the layout of dies on a wafer)
 * the nearest neighbour along a row or a column is adjacent in one of the
 * two orders, so the answer is exact there; on an irregular layout it is
 * an upper bound. Work is O(n log n) for any list (a pairwise search would
 * be O(n^2) on a column of a million targets).
 */
#include <math.h>
#include <stdlib.h>

#include "run_internal.h"

#define PV__SPACING_SAME_UM 1.0
#define PV__SPACING_WINDOW 8

typedef struct xy { double a, b; } xy; /* a: sort key, b: tie-break */

static int cmp_xy(const void *pa, const void *pb) {
  const xy *p = pa, *q = pb;
  if (p->a != q->a) return p->a < q->a ? -1 : 1;
  if (p->b != q->b) return p->b < q->b ? -1 : 1;
  return 0;
}

/* Smallest distance above PV__SPACING_SAME_UM between pts[i] and its next
 * window neighbours in the sorted order. */
static double sweep(xy *pts, int n) {
  qsort(pts, (size_t)n, sizeof *pts, cmp_xy);
  double best = INFINITY;
  for (int i = 0; i < n; i++) {
    int seen = 0;
    for (int j = i + 1; j < n && seen < PV__SPACING_WINDOW; j++) {
      double d = hypot(pts[j].a - pts[i].a, pts[j].b - pts[i].b);
      if (d <= PV__SPACING_SAME_UM) continue; /* a revisit: not a neighbour */
      seen++;
      if (d < best) best = d;
    }
  }
  return best;
}

int pv__targets_spacing(const pv_targets *t, double *out) {
  *out = INFINITY;
  if (t->count < 2) return PV_OK;
  xy *pts = malloc((size_t)t->count * sizeof *pts);
  if (pts == NULL) return PV_ENOMEM;
  for (int i = 0; i < t->count; i++) pts[i] = (xy){t->items[i].x_um, t->items[i].y_um};
  double bx = sweep(pts, t->count);
  for (int i = 0; i < t->count; i++) pts[i] = (xy){t->items[i].y_um, t->items[i].x_um};
  double by = sweep(pts, t->count);
  free(pts);
  *out = bx < by ? bx : by;
  return PV_OK;
}

double pv__marks_spacing(const pv_match *m, int n, double min_score,
                         double um_per_px) {
  double best = INFINITY;
  for (int i = 0; i < n; i++) {
    if (!(m[i].score >= min_score)) continue;
    for (int j = i + 1; j < n; j++) {
      if (!(m[j].score >= min_score)) continue;
      double d = hypot(m[j].x - m[i].x, m[j].y - m[i].y) * um_per_px;
      if (d < best) best = d;
    }
  }
  return best;
}
