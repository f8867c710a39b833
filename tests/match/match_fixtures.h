/* Shared fixtures of the match tests: a seeded generator, owned 8-bit
 * images, smooth "natural" scenes, patch copies and the brute-force argmax
 * of pv_ncc_at (the reference every fast answer is checked against). */
#ifndef PV_TEST_MATCH_FIXTURES_H
#define PV_TEST_MATCH_FIXTURES_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/match.h"

static uint64_t fx_state = 0x9E3779B97F4A7C15ull;
static inline void fx_seed(uint64_t s) { fx_state = s * 2654435761ull + 1; }
static inline double fx_rand(void) { /* uniform [0, 1) */
  fx_state ^= fx_state << 13;
  fx_state ^= fx_state >> 7;
  fx_state ^= fx_state << 17;
  return (double)(fx_state >> 11) * (1.0 / 9007199254740992.0);
}
static inline int fx_int(int lo, int hi) { /* uniform lo..hi */
  return lo + (int)(fx_rand() * (hi - lo + 1));
}

static inline pv_image fx_image(int w, int h, uint8_t fill) {
  pv_image im = {w, h, w, malloc((size_t)w * (size_t)h)};
  memset(im.data, fill, (size_t)w * (size_t)h);
  return im;
}
static inline void fx_free(pv_image *im) {
  free(im->data);
  im->data = NULL;
}
static inline uint8_t *fx_px(const pv_image *im, int x, int y) {
  return im->data + (size_t)y * (size_t)im->stride + x;
}
static inline uint8_t fx_clamp(double v) {
  return v < 0 ? 0 : (v > 255 ? 255 : (uint8_t)lround(v));
}

/* Smooth scene: grey 128 plus random Gaussian blobs, plus uniform noise of
 * the given amplitude. */
static inline void fx_smooth(pv_image *im, int blobs, double noise) {
  double *acc = calloc((size_t)im->width * im->height, sizeof(double));
  for (int k = 0; k < blobs; k++) {
    double cx = fx_rand() * im->width, cy = fx_rand() * im->height;
    double s = 1.5 + fx_rand() * 6.0, a = (fx_rand() - 0.5) * 160.0;
    for (int y = 0; y < im->height; y++)
      for (int x = 0; x < im->width; x++) {
        double q = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * s * s);
        if (q < 20) acc[(size_t)y * im->width + x] += a * exp(-q);
      }
  }
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      *fx_px(im, x, y) = fx_clamp(128 + acc[(size_t)y * im->width + x] +
                                  (fx_rand() - 0.5) * noise);
  free(acc);
}

/* Copies the rectangle (u, v, w, h) of src into a new image. */
static inline pv_image fx_cut(const pv_image *src, int u, int v, int w, int h) {
  pv_image t = fx_image(w, h, 0);
  for (int y = 0; y < h; y++) memcpy(fx_px(&t, 0, y), fx_px(src, u, v + y), (size_t)w);
  return t;
}

/* Pastes t into dst at (u, v), adding uniform noise of the given amplitude. */
static inline void fx_paste(pv_image *dst, const pv_image *t, int u, int v,
                            double noise) {
  for (int y = 0; y < t->height; y++)
    for (int x = 0; x < t->width; x++)
      *fx_px(dst, u + x, v + y) =
          fx_clamp(*fx_px(t, x, y) + (fx_rand() - 0.5) * noise);
}

/* Brute-force argmax of pv_ncc_at over every placement. */
static inline double fx_brute(const pv_image *im, const pv_image *t, int *bu,
                              int *bv) {
  double best = -2.0;
  for (int v = 0; v + t->height <= im->height; v++)
    for (int u = 0; u + t->width <= im->width; u++) {
      double s = pv_ncc_at(im, t, u, v);
      if (s > best) {
        best = s;
        *bu = u;
        *bv = v;
      }
    }
  return best;
}

#endif
