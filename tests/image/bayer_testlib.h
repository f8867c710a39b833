/* Helpers shared by the Bayer kernel and rectangle tests: a seeded random
 * generator, random frames with strides and unaligned starts, and the exact
 * float formula (bilinear demosaic, then Y = 0.299 R + 0.587 G + 0.114 B,
 * borders reflected) written independently of the library's arithmetic. */
#ifndef PV_TESTS_BAYER_TESTLIB_H
#define PV_TESTS_BAYER_TESTLIB_H

#include <stdint.h>
#include <stdlib.h>

#include "probevision/image.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static inline uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static inline int rnd_in(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }

/* A w x h frame with rows of `stride` bytes, starting `offset` bytes into
 * a malloc'd block (*block, to free; rows are filled to the stride): noise, flat patches and hard edges,
 * including 0 and 255. */
static inline uint8_t *random_frame(int h, int stride, int offset, uint8_t **block) {
  *block = malloc((size_t)stride * (size_t)h + (size_t)offset + 1);
  uint8_t *f = *block + offset;
  int mode = rnd_in(0, 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < stride; x++) {
      uint8_t v;
      switch (mode) {
      case 0: v = (uint8_t)rnd(); break;
      case 1: v = (rnd() & 1) ? 255 : 0; break;
      case 2: v = (uint8_t)(((x / 5 + y / 3) & 1) ? 250 : 3); break;
      default: v = (uint8_t)(x * 7 + y * 13 + (rnd() & 15)); break;
      }
      f[(size_t)y * stride + x] = v;
    }
  return f;
}

static inline int reflect_i(int i, int n) { return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; }

/* The exact luma of pixel (x, y) of a Bayer frame. */
static inline double float_luma(const uint8_t *f, int w, int h, int stride, pv_pixfmt fmt,
                         int x, int y) {
  static const double lwf[3] = {0.299, 0.587, 0.114};
  double sum[3] = {0, 0, 0};
  int n[3] = {0, 0, 0};
  int cc = pv_bayer_site_colour(fmt, x, y);
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++) {
      if (dx == 0 && dy == 0) continue;
      int c = pv_bayer_site_colour(fmt, x + dx, y + dy);
      if (c == cc) continue;
      sum[c] += f[(size_t)reflect_i(y + dy, h) * stride + reflect_i(x + dx, w)];
      n[c]++;
    }
  double yv = lwf[cc] * f[(size_t)y * stride + x];
  for (int c = 0; c < 3; c++)
    if (c != cc) yv += lwf[c] * sum[c] / n[c];
  return yv;
}

/* The exact luma of 2x2 cell (x, y) of a Bayer frame. */
static inline double float_cell(const uint8_t *f, int stride, pv_pixfmt fmt, int x, int y) {
  static const double lwf[3] = {0.299, 0.587, 0.114};
  double yv = 0;
  for (int j = 0; j < 2; j++)
    for (int i = 0; i < 2; i++) {
      int c = pv_bayer_site_colour(fmt, 2 * x + i, 2 * y + j);
      yv += lwf[c] * (c == 1 ? 0.5 : 1.0) * f[(size_t)(2 * y + j) * stride + 2 * x + i];
    }
  return yv;
}

#endif
