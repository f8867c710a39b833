/* Internal functions of the run module (src/run/). */
#ifndef PV_RUN_INTERNAL_H
#define PV_RUN_INTERNAL_H

#include "probevision/run.h"

/* ---- spacing.c ---- */
/* Smallest distance (um) between two distinct target positions of t
 * (revisits of a position within 1 um do not count); INFINITY when there
 * are fewer than two. Exact on grids, an upper bound otherwise (see
 * spacing.c). Allocates a scratch copy; PV_ENOMEM if that fails.
 * Thread-safe. */
int pv__targets_spacing(const pv_targets *t, double *out);
/* Smallest distance (um) between two of the n matches that score at least
 * min_score; INFINITY when fewer than two do. Thread-safe. */
double pv__marks_spacing(const pv_match *m, int n, double min_score,
                         double um_per_px);

#endif
