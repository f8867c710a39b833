/* probevision match: template matching by normalised cross-correlation.
 *
 * Scores follow OpenCV's TM_CCOEFF_NORMED: for template T (w x h) placed with
 * top-left (u, v) on image I,
 *   score = sum (T' . I') / sqrt(sum T'^2 . sum I'^2)
 * with T' = T - mean(T), I' = I - mean(I over the window). A window or
 * template with zero variance scores 0 (never NaN, never 1).
 *
 * Positions are pixel centres (the project's convention, ARCHITECTURE.md):
 * pixel (i, j) has its centre at (i, j), so the placement (u, v) has centre
 * (u + (w-1)/2, v + (h-1)/2). Reported positions are sub-pixel.
 *
 * Memory: pv_matcher_create allocates every buffer for the largest image
 * (max_w x max_h); pv_matcher_find allocates nothing.
 * Threads: a matcher is used by one thread at a time; distinct matchers are
 * independent.
 */
#ifndef PROBEVISION_MATCH_H
#define PROBEVISION_MATCH_H

#include "probevision/core.h"
#include "probevision/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

typedef struct pv_match_params {
  double threshold; /* report matches scoring >= threshold (default 0.5) */
  int max_results;  /* at most this many (default 16) */
  double overlap;   /* non-maximum suppression: two matches whose template
                       rectangles overlap by more than this fraction of the
                       template area are the same instance (default 0.25) */
  int threads;      /* worker threads for the search, 1..
                       PV_MATCH_THREADS_MAX (default 1); never changes the
                       answer */
  int subpixel;     /* refine positions below one pixel (default 1) */
} pv_match_params;

/* The largest pv_match_params.threads (the match.threads key's range). */
#define PV_MATCH_THREADS_MAX 64

typedef struct pv_match {
  double x;     /* centre, image pixels */
  double y;
  double score; /* TM_CCOEFF_NORMED at the reported integer placement */
} pv_match;

/* A region of interest: the placements whose centre (x, y) has
 * x0 <= x <= x1 and y0 <= y <= y1, in image pixels (centre convention
 * above); with `ellipse` set, only those also inside the ellipse inscribed
 * in that rectangle (a disc for a square). Infinite bounds are allowed
 * (the whole image; no ellipse then). `within` narrows which of those
 * placements' matches are reported. */
typedef struct pv_match_region {
  double x0, y0, x1, y1;
  int ellipse;
  double within; /* > 0: report only the matches scoring at least the
                    best's score minus this (the best and its rivals: the
                    search prunes everything further below, so it costs
                    about what a best-only find costs); 0: every match
                    above the threshold. Negative or NaN: PV_EINVAL. */
} pv_match_region;

typedef struct pv_matcher pv_matcher;

/* ---- functions -------------------------------------------------------- */

void pv_match_params_default(pv_match_params *p);

/* Creates a matcher for images up to max_w x max_h. The template is copied
 * (the caller keeps ownership of templ). PV_EINVAL if the template is empty
 * or larger than max_w x max_h, or a parameter is out of range. */
int pv_matcher_create(int max_w, int max_h, const pv_image *templ,
                      const pv_match_params *params, pv_matcher **out);

/* Finds instances of the template in image (at most max_w x max_h).
 * Writes up to max_out matches scoring >= threshold into out, best first,
 * no two overlapping (see overlap). Returns how many, or a negative
 * pv_status (PV_EINVAL: image larger than the matcher's maximum, or smaller
 * than the template). Allocates nothing. */
int pv_matcher_find(pv_matcher *m, const pv_image *image, pv_match *out,
                    int max_out);

/* The same, only over the placements whose centre lies in region: a
 * match outside it is never reported, and one outside cannot suppress
 * one inside. Scores are those of the whole image. Returns 0 when the
 * region holds no placement of the template inside the image. The cost
 * falls with the region's area. Allocates nothing. */
int pv_matcher_find_in(pv_matcher *m, const pv_image *image,
                       const pv_match_region *region, pv_match *out,
                       int max_out);

/* The same search on a camera frame (Bayer or Mono8, w x h, stride bytes
 * per row): converts to luma only the rectangle of the frame the region's
 * placements read (their template windows, aligned to the pyramid's cells),
 * into a w x h luma buffer the matcher allocated at create, and searches it.
 * The answer is bit-identical to pv_frame_to_luma of the whole frame
 * followed by pv_matcher_find_in with the same region (the Bayer phase is
 * that of absolute frame coordinates). An infinite region converts the
 * whole frame. PV_EINVAL for a bad frame (as pv_frame_to_luma), or as
 * pv_matcher_find_in. Allocates nothing. Same thread rule as find. */
int pv_matcher_find_frame(pv_matcher *m, const uint8_t *src, int w, int h,
                          int stride, pv_pixfmt fmt,
                          const pv_match_region *region, pv_match *out,
                          int max_out);

/* Exact TM_CCOEFF_NORMED of the template at top-left placement (u, v),
 * computed directly (reference for tests and verification). */
double pv_ncc_at(const pv_image *image, const pv_image *templ, int u, int v);

void pv_matcher_destroy(pv_matcher *m);

/* ---- constants -------------------------------------------------------- */

#define PV_MATCH_MIN_TEMPLATE 8
#define PV_MATCH_MAX_TEMPLATE 1024

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_MATCH_H */
