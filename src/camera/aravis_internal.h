/* Internal to src/camera: the pure parts of the aravis driver (status and
 * pixel-format mapping, exposure estimate: aravis_convert.c; device clock
 * mapping and the wall-step / lost-packet guard: aravis_clock.c), separate
 * so that unit tests can check them without a camera. Only built with Aravis (PV_HAVE_ARAVIS). */
#ifndef PROBEVISION_CAMERA_ARAVIS_INTERNAL_H
#define PROBEVISION_CAMERA_ARAVIS_INTERNAL_H

#include <arv.h>
#include <stddef.h>
#include <stdint.h>

#include "probevision/camera.h"
#include "transfer.h"


/* The worker's class of a buffer status: SUCCESS -> PV_OK; every other
 * status (the frame is missing data or was never filled) -> PV_EINCOMPLETE.
 * A pop timeout (no buffer at all) is not a buffer status: the driver maps
 * it to PV_ETIMEDOUT itself. Thread-safe. */
int pv__aravis_status(ArvBufferStatus status);

/* pv_pixfmt <-> ArvPixelFormat for the 8-bit formats probevision handles;
 * 0 / -1 when there is no counterpart. Thread-safe. */
ArvPixelFormat pv__aravis_pixfmt_to_arv(pv_pixfmt fmt);
int pv__aravis_pixfmt_from_arv(ArvPixelFormat fmt);

/* Start of exposure on the monotonic clock estimated from the buffer's
 * system timestamp (wall clock, ns, taken by Aravis when the frame's leader
 * arrived): the reception instant moved to the monotonic clock through a
 * pair of clock readings (wall_now, mono_now) taken together after the pop,
 * minus the exposure time, the readout/transfer allowance and margin_ns
 * (the largest wall-clock step that could have gone unnoticed:
 * pv__aravis_guard_margin). Sets *out and returns PV_FRAME_TIME_ESTIMATE,
 * or returns PV_FRAME_TIME_UNCERTAIN (*out untouched) when no bound is
 * known: no timestamp (0), or one in the future of wall_now (the wall clock
 * stepped back since: the stamp is not on today's wall clock). Never clamps.
 * Thread-safe. */
pv_frame_time pv__aravis_estimate(uint64_t system_ts_ns, int64_t wall_now_ns, int64_t mono_now_ns,
                                  int64_t exposure_ns, int64_t latency_ns, int64_t margin_ns,
                                  int64_t *out);

/* The worker's class of a failed GenICam command (a software trigger, a
 * latch): the GError's domain and code. ARV_DEVICE_ERROR NOT_CONNECTED ->
 * PV_EDISCONNECTED; FEATURE_NOT_FOUND, WRONG_FEATURE, GENICAM_NOT_FOUND,
 * NOT_CONTROLLER and PROTOCOL_ERROR_NOT_IMPLEMENTED -> PV_EFATAL (reopen);
 * anything else (timeouts, transfer errors, other domains) -> PV_ETIMEDOUT:
 * the camera did not take the command. Thread-safe. */
int pv__aravis_command_status(GQuark domain, int code);

/* ---- device clock -> host monotonic clock (aravis_clock.c) ----------- */

#define PV__ARAVIS_CLOCK_SAMPLES 4          /* latches in the fit */
#define PV__ARAVIS_CLOCK_MAX_PPM 500        /* |rate - 1| bound (crystals) */
#define PV__ARAVIS_CLOCK_WANDER_PPM 5       /* rate change between latches */
#define PV__ARAVIS_CLOCK_ROUND_NS 1000      /* floating-point allowance */
#define PV__ARAVIS_CLOCK_MAX_BOUND_NS (20 * PV_NS_PER_MS) /* worse: unusable */
#define PV__ARAVIS_LATCH_PERIOD_NS (10 * PV_NS_PER_S)     /* re-latch every */

typedef struct pv__aravis_latch {
  int64_t dev_ns;  /* the device clock, ns */
  int64_t mid_ns;  /* host monotonic midpoint of the latch's bracket */
  int64_t half_ns; /* half the bracket's width */
} pv__aravis_latch;

/* The last PV__ARAVIS_CLOCK_SAMPLES latches, a ring. Zeroed = empty. */
typedef struct pv__aravis_clock {
  int n, next;
  pv__aravis_latch s[PV__ARAVIS_CLOCK_SAMPLES];
} pv__aravis_clock;

/* Empties the clock. Not thread-safe (one owner: the camera thread). */
void pv__aravis_clock_reset(pv__aravis_clock *c);
/* Adds a latch: the device clock read dev_ns (> 0) at some instant between
 * the host monotonic readings before_ns <= after_ns. Returns 0, 1 when the
 * latch contradicted the earlier ones (device clock reset or jumped, or a
 * rate beyond PV__ARAVIS_CLOCK_MAX_PPM) and the fit restarted from it, or
 * PV_EINVAL (ignored: after < before, dev_ns <= 0). Not thread-safe. */
int pv__aravis_clock_add(pv__aravis_clock *c, int64_t dev_ns, int64_t before_ns,
                         int64_t after_ns);
/* Maps device time dev_ns to the host monotonic clock, never later than the
 * true host time while the clocks are affine between latches within the
 * stated rate bounds (see aravis_clock.c): PV_OK and *host_ns;
 * PV_ENOTFOUND without a latch or for dev_ns <= 0; PV_ERANGE when the
 * bound exceeds PV__ARAVIS_CLOCK_MAX_BOUND_NS (too far from the latches).
 * Reads only: thread-safe against other readers. */
int pv__aravis_clock_map(const pv__aravis_clock *c, int64_t dev_ns, int64_t *host_ns);

/* ---- wall-clock steps and lost packets (aravis_clock.c) ----------------- */

#define PV__ARAVIS_STEP_NS PV_NS_PER_MS /* offset changes below: no step */
#define PV__ARAVIS_SLEW_PPM 500         /* adjtime's largest slew rate */
#define PV__ARAVIS_GUARD_MARGIN 2       /* frames beyond those in flight */

typedef struct pv__aravis_wallstep {
  int primed;
  int64_t offset_ns;  /* wall - mono at the last check */
  int64_t mono_ns;    /* mono at the last check */
  int64_t allowed_ns; /* the largest change not called a step, last check */
} pv__aravis_wallstep;

/* Compares wall - mono with the last check: returns 1 when it changed by
 * more than PV__ARAVIS_STEP_NS plus what a slew of PV__ARAVIS_SLEW_PPM can do
 * in the elapsed time (the wall clock was stepped), else 0 (and 0 on the
 * first check). Not thread-safe. */
int pv__aravis_wall_check(pv__aravis_wallstep *w, int64_t wall_ns, int64_t mono_ns);

/* Which popped frames have a reception time that cannot be trusted. */
typedef struct pv__aravis_guard {
  pv__aravis_wallstep wall;
  int uncertain_left;  /* frames still to mark UNCERTAIN */
  int loss_primed;
  uint64_t loss_count; /* resent packets + missing frames, last frame */
  uint64_t steps;      /* wall-clock steps detected */
} pv__aravis_guard;

/* Zeroes the guard (at open). Not thread-safe. */
void pv__aravis_guard_reset(pv__aravis_guard *g);
/* Marks the next in_flight + 1 + PV__ARAVIS_GUARD_MARGIN frames (this one
 * included) uncertain. Not thread-safe. */
void pv__aravis_guard_mark(pv__aravis_guard *g, int in_flight);
/* Called once per popped frame, after the pop, with clock readings taken
 * then, in_flight = frames received or being received and not yet popped
 * (Aravis's output queue plus buffers being filled), and loss_count = the
 * stream's resent packets + missing frames so far. A wall-clock step or a
 * loss count that changed since the last frame marks this frame and every
 * frame that may have been stamped before it (pv__aravis_guard_mark).
 * Returns 1 when this frame's reception time is uncertain. Not
 * thread-safe. */
int pv__aravis_guard_frame(pv__aravis_guard *g, int64_t wall_ns, int64_t mono_ns, int in_flight,
                           uint64_t loss_count);
/* The largest wall-clock step the last check could have missed (ns): the
 * margin to subtract from a reception-based estimate. Not thread-safe. */
int64_t pv__aravis_guard_margin(const pv__aravis_guard *g);

#endif
