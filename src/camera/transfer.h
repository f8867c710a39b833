/* Internal to src/camera: how long after its exposure ended a GigE frame
 * can still be on its way, the allowance both network drivers (aravis,
 * mvs) subtract when they estimate an exposure start from a host reception
 * stamp. Pure, thread-safe. */
#ifndef PROBEVISION_CAMERA_TRANSFER_H
#define PROBEVISION_CAMERA_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"

/* GigE wire rate, bytes/s, and a fixed allowance for sensor readout and
 * host latency. */
#define PV__GIGE_WIRE_BYTES_PER_S 125000000.0
#define PV__READOUT_LATENCY_NS (2 * PV_NS_PER_MS)

/* Readout + transfer allowance for a frame of payload bytes: the time the
 * payload needs at GigE wire speed plus PV__READOUT_LATENCY_NS. */
static inline int64_t pv__transfer_allowance_ns(size_t payload) {
  return (int64_t)((double)payload / PV__GIGE_WIRE_BYTES_PER_S * 1e9) + PV__READOUT_LATENCY_NS;
}

#endif
