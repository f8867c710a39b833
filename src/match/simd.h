/* Portable 4-lane float vectors (GCC/Clang vector extensions) for the
 * matcher's inner loops: plain SSE2/NEON code with no intrinsics, so the
 * kernels are vectorised at -O2 whatever the auto-vectoriser decides.
 * Loads and stores go through memcpy (unaligned, no aliasing issues). */
#ifndef PV_MATCH_SIMD_H
#define PV_MATCH_SIMD_H

#include <stdint.h>
#include <string.h>

typedef float pv__v4f __attribute__((vector_size(16)));
typedef uint8_t pv__v4u8 __attribute__((vector_size(4)));

static inline pv__v4f pv__ld4f(const float *p) {
  pv__v4f v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void pv__st4f(float *p, pv__v4f v) { memcpy(p, &v, sizeof v); }

static inline pv__v4f pv__ld4u8(const uint8_t *p) {
  pv__v4u8 b;
  memcpy(&b, p, sizeof b);
  return __builtin_convertvector(b, pv__v4f);
}

static inline pv__v4f pv__splat4f(float x) { return (pv__v4f){x, x, x, x}; }

static inline double pv__hsum4f(pv__v4f v) {
  return ((double)v[0] + (double)v[1]) + ((double)v[2] + (double)v[3]);
}

#endif
