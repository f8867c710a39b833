/* Internal to src/camera: the pure parts of the aravis driver (status and
 * pixel-format mapping, exposure timestamp), separate so that unit tests can
 * check them without a camera. Only built with Aravis (PV_HAVE_ARAVIS). */
#ifndef PROBEVISION_CAMERA_ARAVIS_INTERNAL_H
#define PROBEVISION_CAMERA_ARAVIS_INTERNAL_H

#include <arv.h>
#include <stddef.h>
#include <stdint.h>

#include "probevision/camera.h"

/* GigE wire rate used for the transfer-time estimate, bytes/s. */
#define PV__ARAVIS_WIRE_BYTES_PER_S 125000000.0
/* Fixed allowance for sensor readout and host latency in the estimate. */
#define PV__ARAVIS_FIXED_LATENCY_NS (2 * PV_NS_PER_MS)

/* The worker's class of a buffer status: SUCCESS -> PV_OK; every other
 * status (the frame is missing data or was never filled) -> PV_EINCOMPLETE.
 * A pop timeout (no buffer at all) is not a buffer status: the driver maps
 * it to PV_ETIMEDOUT itself. Thread-safe. */
int pv__aravis_status(ArvBufferStatus status);

/* pv_pixfmt <-> ArvPixelFormat for the 8-bit formats probevision handles;
 * 0 / -1 when there is no counterpart. Thread-safe. */
ArvPixelFormat pv__aravis_pixfmt_to_arv(pv_pixfmt fmt);
int pv__aravis_pixfmt_from_arv(ArvPixelFormat fmt);

/* Readout + transfer allowance for a frame of payload bytes: the time the
 * payload needs at GigE wire speed plus PV__ARAVIS_FIXED_LATENCY_NS. */
int64_t pv__aravis_latency_ns(size_t payload);

/* Start of exposure on the monotonic clock from the buffer's system
 * timestamp (wall clock, ns, taken when the frame's first packet arrived):
 * the reception instant moved to the monotonic clock through a pair of
 * clock readings (mono_now, wall_now) taken together, minus the exposure
 * time and the readout/transfer allowance. A system timestamp in the future
 * of wall_now (clock stepped) counts as received now. Thread-safe. */
int64_t pv__aravis_exposure_start_ns(uint64_t system_ts_ns, int64_t wall_now_ns,
                                     int64_t mono_now_ns, int64_t exposure_ns,
                                     int64_t latency_ns);

#endif
