/* Internal structures of the template matcher (src/match/).
 *
 * Layout: level 0 is the caller's 8-bit image, read in place. Levels 1..top
 * are float images (2x2 box averages, minus 128 so sums stay small), built
 * into buffers allocated at create for max_w x max_h. Only the top level has
 * integral images (sum and sum of squares, double), used by the exhaustive
 * search there; every other level is scored only in small windows, whose
 * statistics are summed directly while correlating.
 *
 * The template is stored per level as zero-mean float (T' = T - mean), with
 * sum T'^2 precomputed, so a placement's score is
 *   sum(T' I) / sqrt(sum T'^2 * (sum I^2 - (sum I)^2 / n)).
 */
#ifndef PV_MATCH_INTERNAL_H
#define PV_MATCH_INTERNAL_H

#include <stdint.h>

#include "probevision/match.h"

#define PV__MATCH_MAX_LEVELS 8
#define PV__MATCH_TOP_MIN_SIDE 8  /* template side at the top level, >=
                                     (smaller: weaker coarse scores) */
#define PV__MATCH_CAND_CAP 512    /* candidates followed down the pyramid */
#define PV__MATCH_PAD 64          /* floats after each level and score row:
                                     vector kernels read and write past the
                                     last placement (up to 63 floats) */

/* Kernel sets (m->simd): chosen once at create by pv__simd_detect. */
#define PV__SIMD_PORTABLE 0 /* GCC vector extensions, any CPU */
#define PV__SIMD_AVX2 1     /* x86-64 with AVX2 and FMA */

/* A float image (levels >= 1); stride == width. */
typedef struct pv__fimg {
  int w, h;
  float *px;
} pv__fimg;

/* The template at one level: zero-mean pixels and their statistics. */
typedef struct pv__tlevel {
  int w, h;
  float *zm;    /* w*h, T - mean(T) */
  double ssq;   /* sum of zm^2 */
  int flat;     /* zero variance: every placement scores 0 */
} pv__tlevel;

/* One candidate placement at some level. */
typedef struct pv__cand {
  int x, y;
  float score;
} pv__cand;

struct pv_matcher {
  pv_match_params params;
  int max_w, max_h;
  int limit; /* matches wanted by the current find */
  double within; /* the current find reports only matches scoring >= the
                    best's - within (0: no such limit) */
  int lo_u, lo_v; /* lowest level-0 placement the current find may report
                     (a region's left/top edge; 0 for the whole image) */
  double ecx, ecy, erx, ery; /* the current find's ellipse of placement
                                centres (image of the search); erx 0: none */
  int simd;  /* PV__SIMD_*: which kernels run */
  int top; /* index of the top level (0: search level 0 exhaustively) */
  double margin[PV__MATCH_MAX_LEVELS]; /* how far a coarse score may trail */
  pv__tlevel tl[PV__MATCH_MAX_LEVELS];
  uint8_t *templ8;          /* the template copy (level 0), tw*th */
  pv__fimg lvl[PV__MATCH_MAX_LEVELS]; /* [0] unused: level 0 is the input */
  double *isum, *isq;       /* integral images of the top level (top >= 1) */
  pv__cand *cand;           /* candidates, PV__MATCH_CAND_CAP */
  float *gx, *gy;           /* template gradients (sub-pixel) */
  float *warp;              /* warped image samples (sub-pixel) */
  double h_inv[3];          /* inverse Hessian [xx, xy, yy] of the gradients */
  double lk_mean, lk_std;   /* template interior mean and standard deviation */
  int lk_ok;                /* gradients are usable for Lucas-Kanade */
  int lk_row_step;          /* Lucas-Kanade uses rows 0, k, 2k, ... */
  struct pv__workers *pool; /* params.threads - 1 threads (workers.c) */
  struct pv__band *band;    /* per-band scan buffers, nband of them (scan.c) */
  int nband;
  uint8_t *frame_luma;      /* pv_matcher_find_frame's luma, max_w x max_h
                               (+ pad): only the rectangle a find reads is
                               written (frame.c) */
};

/* ---- templ.c ---- */
/* Copies the template, builds its levels, chooses m->top and the margins. */
int pv__template_build(pv_matcher *m, const pv_image *t);

/* ---- pyramid.c ---- */
/* Averages 2x2 blocks of the 8-bit image into dst (minus 128). */
void pv__down_u8(const uint8_t *src, int w, int h, int stride, pv__fimg *dst);
/* Averages 2x2 blocks of a float level into dst. */
void pv__down_f(const pv__fimg *src, pv__fimg *dst);
/* Rows [y0, y1) of dst only (dst->w, dst->h set by the caller): the same
 * values as the whole-level functions, for building in bands. */
void pv__down_u8_rows(const uint8_t *src, int w, int stride, pv__fimg *dst,
                      int y0, int y1);
void pv__down_f_rows(const pv__fimg *src, pv__fimg *dst, int y0, int y1);
/* Levels 1..top of img and the top level's integral images, in row bands
 * on the matcher's workers (the same bits for any thread count); nothing
 * for top == 0. Step 0 of pv__search. */
void pv__pyramid_build(pv_matcher *m, const pv_image *img);

/* ---- ncc.c ---- */
/* Exhaustive scores of row v of placements (w-tw+1 of them) into out, on a
 * float level with its integral images. acc: w + PV__MATCH_PAD floats. */
void pv__ncc_row_f(const pv__fimg *img, const double *isum, const double *isq,
                   const pv__tlevel *tl, float *acc, int v, float *out,
                   int simd);
/* The same on the 8-bit level 0, window sums kept in colsum/colsq (w each),
 * which must be called for v = 0, 1, 2, ... in order. */
void pv__ncc_row_u8(const pv_image *img, const pv__tlevel *tl, float *acc,
                    int64_t *colsum, int64_t *colsq, int v, float *out);
/* Score of tl at placement (x, y) of a float level. */
float pv__ncc_f(const pv__fimg *img, const pv__tlevel *tl, int x, int y);
/* Score of tl at placement (x, y) of the 8-bit level 0 (double sums). */
double pv__ncc_u8(const pv_image *img, const pv__tlevel *tl, int x, int y);
/* Score from the sums: cross = sum T'I, s = sum I, ss = sum I^2. */
double pv__ncc_score(double cross, double s, double ss, double n, double tssq);

/* ---- kernels_avx2.c (call only when m->simd == PV__SIMD_AVX2) ---- */
/* The best kernel set this CPU runs; the environment variable
 * PV_MATCH_SIMD=portable forces the portable one (tests use it). */
int pv__simd_detect(void);
void pv__down_u8_rows_avx2(const uint8_t *src, int w, int stride,
                           pv__fimg *dst, int y0, int y1);
void pv__down_f_rows_avx2(const pv__fimg *src, pv__fimg *dst, int y0, int y1);
/* A row of the integral images (pyramid.c's integral_row): s[x + 1] =
 * sa[x + 1] + sum row[0 .. x], q likewise for squares; sa, qa may be NULL. */
void pv__integral_row_avx2(const float *row, int w, const double *sa, const double *qa,
                           double *s, double *q);
/* Correlation sums of placements u = 0 .. nu-1 (rounded up to 64) of row v
 * into acc. */
void pv__cross_row_avx2(const pv__fimg *img, const pv__tlevel *tl, int v,
                        int nu, float *acc);
float pv__ncc_f_avx2(const pv__fimg *img, const pv__tlevel *tl, int x, int y);
double pv__ncc_u8_avx2(const pv_image *img, const pv__tlevel *tl, int x,
                       int y);

/* ---- scan.c ---- */
/* Step 1 of the search: the top level's local maxima, the best
 * PV__MATCH_CAND_CAP of them into m->cand, best first (ties: lower y, then
 * lower x), the same for any thread count; returns how many. */
int pv__scan_top(pv_matcher *m, const pv_image *img);

/* ---- search.c ---- */
/* Whether level-l placement (x, y) may be followed given the current
 * find's ellipse (always, without one). */
int pv__in_ellipse(const pv_matcher *m, int l, int x, int y);
/* Coarse-to-fine search; leaves level-0 candidates (exact scores, best
 * first, distinct placements) in m->cand and returns how many. */
int pv__search(pv_matcher *m, const pv_image *img);
/* Exact score of the template at level-0 placement (x, y), best kernels. */
double pv__score0(const pv_matcher *m, const pv_image *img, int x, int y);

/* ---- matcher.c: the rectangle a region search reads (frame.c) ---- */
/* The sub-image of a w x h image that pv_matcher_find_in(region) searches,
 * and so every pixel it reads: (x0, y0, rw, rh). Returns 0 (and reads
 * nothing) when the region holds no placement. */
int pv__find_in_rect(const pv_matcher *m, int w, int h,
                     const pv_match_region *region, int *x0, int *y0, int *rw,
                     int *rh);

/* ---- workers.c: the matcher's fork-join pool ---- */
typedef struct pv__workers pv__workers;
typedef void (*pv__task_fn)(void *ctx, int task);
/* Starts n - 1 threads (n >= 1; 1: none); the caller of pv__workers_run is
 * the n-th worker. PV_ENOMEM if a thread cannot start. */
int pv__workers_create(int n, pv__workers **out);
/* Stops and joins the threads, frees the pool (NULL: nothing). */
void pv__workers_destroy(pv__workers *w);
/* Workers including the caller (1 for NULL). */
int pv__workers_count(const pv__workers *w);
/* Runs fn(ctx, i) for i = 0 .. ntasks-1 on the pool's threads and the
 * caller's, returns when all have finished. Which thread runs which i is
 * not fixed: task i must write only to its own slot (deterministic for any
 * thread count). One run at a time per pool; allocates nothing. NULL pool:
 * runs them in order on the caller's thread. */
void pv__workers_run(pv__workers *w, pv__task_fn fn, void *ctx, int ntasks);
/* pv__workers_run on the matcher's pool: for loops whose iterations are
 * independent (e.g. the per-candidate descent of search.c, results into
 * slot i). fn must not use the matcher's shared scratch (m->warp, the
 * scan's per-band buffers...): only its own stack and slot. */
void pv__parallel_for(pv_matcher *m, int n, void (*fn)(void *ctx, int i),
                      void *ctx);

/* ---- scan.c: per-band buffers ---- */
/* Allocates m->nband bands of scan buffers (1, or 2 per thread; pages
 * touched); PV_ENOMEM. */
int pv__scan_alloc(pv_matcher *m);
/* Frees them (NULL-safe, for a half-built matcher). */
void pv__scan_free(pv_matcher *m);

/* ---- subpixel.c ---- */
/* Precomputes gradients and the inverse Hessian from m->templ8. */
void pv__subpixel_init(pv_matcher *m);
/* Refines the integer placement (u, v) of level 0; writes the shift. */
void pv__subpixel(pv_matcher *m, const pv_image *img, int u, int v,
                  double *dx, double *dy);

#endif
