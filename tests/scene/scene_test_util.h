/* Helpers shared by the scene tests: a direct normalised cross-correlation
 * (the match module is not used here on purpose) and 2x2 / 4x4 averaging. */
#ifndef SCENE_TEST_UTIL_H
#define SCENE_TEST_UTIL_H

#include <math.h>
#include <stdint.h>

#include "probevision/image.h"

/* NCC of template t against the window of img with top-left (u, v). */
static inline double ncc_at(const pv_image *t, const pv_image *img, int u,
                            int v) {
  double st = 0, si = 0, stt = 0, sii = 0, sti = 0;
  int n = t->width * t->height;
  for (int y = 0; y < t->height; y++) {
    const uint8_t *a = t->data + (size_t)y * t->stride;
    const uint8_t *b = img->data + (size_t)(v + y) * img->stride + u;
    for (int x = 0; x < t->width; x++) {
      st += a[x];
      si += b[x];
      stt += a[x] * a[x];
      sii += b[x] * b[x];
      sti += a[x] * b[x];
    }
  }
  double cov = sti - st * si / n;
  double vt = stt - st * st / n, vi = sii - si * si / n;
  if (vt <= 0 || vi <= 0) return 0;
  return cov / sqrt(vt * vi);
}

/* dst = src averaged over f x f blocks; dst must be src / f in size. */
static inline void downsample(const pv_image *src, pv_image *dst, int f) {
  for (int y = 0; y < dst->height; y++)
    for (int x = 0; x < dst->width; x++) {
      int s = 0;
      for (int dy = 0; dy < f; dy++)
        for (int dx = 0; dx < f; dx++)
          s += src->data[(size_t)(y * f + dy) * src->stride + x * f + dx];
      dst->data[(size_t)y * dst->stride + x] = (uint8_t)((s + f * f / 2) / (f * f));
    }
}

#endif
