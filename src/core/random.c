/* Deterministic random numbers for simulations and fault injection:
 * splitmix64 (Steele, Lea, Flood 2014): one 64-bit word of state, any seed,
 * full period, good enough statistics for noise and coin flips, and the same
 * sequence on every machine, so a seeded simulation repeats exactly. */
#include <math.h>

#include "probevision/core.h"

uint64_t pv_rng_next(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

double pv_rng_uniform(uint64_t *state) {
  return (double)(pv_rng_next(state) >> 11) * 0x1.0p-53;
}

double pv_rng_gaussian(uint64_t *state) {
  double u = pv_rng_uniform(state), v = pv_rng_uniform(state);
  return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * 3.14159265358979323846 * v);
}
