/* pv_matcher_find_frame: a region search straight from a camera frame,
 * converting to luma only the pixels the search reads.
 *
 * Design. pv_matcher_find_in reads one rectangle of its image, the
 * sub-image holding the region's placements with its origin moved to a
 * multiple of 2^top (so its pyramid is the whole image's); every later
 * step (pyramid, scan, descent, scoring, sub-pixel) reads only that
 * sub-image. pv__find_in_rect (matcher.c, beside find_in) names that
 * rectangle. This file converts exactly that rectangle of the frame, with
 * pv_frame_to_luma_rect (the bytes pv_frame_to_luma would write there for
 * the whole frame: the Bayer phase and the reflected borders are those of
 * absolute frame coordinates), into the same place of a w x h luma image
 * laid over the matcher's buffer (m->frame_luma, max_w x max_h, allocated
 * at create), and calls find_in on that image with the caller's region
 * unchanged. find_in therefore sees the same image size, the same region
 * doubles and the same pixels wherever it reads: the answer is
 * bit-identical to converting the whole frame, by construction, with no
 * coordinate translation (and no rounding) anywhere.
 *
 * Invariant: the pixels of m->frame_luma outside the current rectangle are
 * stale (an earlier frame's) and never read. tests/match/test_find_frame.c
 * fills the buffer with another frame first, so a find that read outside
 * the rectangle would differ.
 */
#include "match_internal.h"

/* Converts the rectangle the region's search reads, then searches.
 * Ownership: writes m's buffers and out; borrows src. Threads: one at a
 * time per matcher (as pv_matcher_find). */
int pv_matcher_find_frame(pv_matcher *m, const uint8_t *src, int w, int h,
                          int stride, pv_pixfmt fmt,
                          const pv_match_region *region, pv_match *out,
                          int max_out) {
  /* the frame is checked here too: an empty region converts nothing */
  if (m == NULL || region == NULL || pv_frame_luma_check(src, w, h, stride, fmt) != PV_OK ||
      w > m->max_w || h > m->max_h)
    return PV_EINVAL;
  pv_image luma = {w, h, w, m->frame_luma};
  int x0, y0, rw, rh;
  if (pv__find_in_rect(m, w, h, region, &x0, &y0, &rw, &rh)) {
    pv_image rect = {rw, rh, w, m->frame_luma + (size_t)y0 * (size_t)w + (size_t)x0};
    int rc = pv_frame_to_luma_rect(src, w, h, stride, fmt, x0, y0, &rect);
    if (rc != PV_OK) return rc;
  }
  return pv_matcher_find_in(m, &luma, region, out, max_out);
}
