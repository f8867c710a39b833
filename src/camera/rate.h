/* Internal to src/camera: the recent rate of events (published frames per
 * second) from a fixed ring of the last event times. Not thread-safe: the
 * caller holds its lock. Allocates nothing. */
#ifndef PROBEVISION_CAMERA_RATE_H
#define PROBEVISION_CAMERA_RATE_H

#include <stdint.h>

#define PV__RATE_RING 64
#define PV__RATE_WINDOW_NS INT64_C(1000000000)

typedef struct pv__rate {
  int64_t since;                 /* when counting started */
  int64_t times[PV__RATE_RING];  /* the newest events, a ring */
  uint64_t total;                /* events ever added */
} pv__rate;

static inline void pv__rate_init(pv__rate *r, int64_t now) {
  r->since = now;
  r->total = 0;
}

static inline void pv__rate_add(pv__rate *r, int64_t now) {
  r->times[r->total % PV__RATE_RING] = now;
  r->total++;
}

/* Events per second over the last second (or since counting started, if
 * that is shorter; or over the ring's span when more events than the ring
 * holds fell into that window). 0 when nothing happened in the window. */
static inline double pv__rate_get(const pv__rate *r, int64_t now) {
  int64_t window = now - r->since;
  if (window > PV__RATE_WINDOW_NS) window = PV__RATE_WINDOW_NS;
  if (window <= 0) return 0;
  uint64_t kept = r->total < PV__RATE_RING ? r->total : PV__RATE_RING;
  uint64_t n = 0;
  for (; n < kept; n++) {
    int64_t t = r->times[(r->total - 1 - n) % PV__RATE_RING];
    if (now - t > window) break;
  }
  if (n == 0) return 0;
  if (n == PV__RATE_RING) {
    int64_t oldest = r->times[r->total % PV__RATE_RING];
    if (now > oldest) window = now - oldest;
  }
  return (double)n * 1e9 / (double)window;
}

#endif
