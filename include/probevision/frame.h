/* probevision frame: camera frames, a fixed pool of them, and read-only
 * leases on the latest one.
 *
 * The pool holds N frames allocated once (pv_frame_pool_create). One writer
 * (the acquisition worker) takes a free frame, fills it, and publishes it as
 * the latest; readers wait for a frame exposed after a given time and hold a
 * counted lease on it. Invariants:
 * - a frame with a lease is never handed to the writer;
 * - a frame being written is never leased (readers only see published ones);
 * - the writer never blocks on readers: when no frame is free it drops the
 *   new picture and counts the drop;
 * - nothing is allocated after create.
 * All functions are thread-safe unless stated otherwise.
 */
#ifndef PROBEVISION_FRAME_H
#define PROBEVISION_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"
#include "probevision/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* How a frame's exposure_ns is known. A driver sets it on every frame; the
 * pool never leases a PV_FRAME_TIME_UNCERTAIN frame to a reader waiting for
 * a frame exposed after a given time. Every kind but UNCERTAIN promises that
 * exposure_ns is not later than the true start of the exposure (an error is
 * always early, never late). */
#define PV_FRAME_TIME_MAP(XX)                                                  \
  XX(HOST, "host")         /* a host-clock time the driver vouches for */      \
  XX(TRUTH, "truth")       /* simulator: the exact start of the exposure */    \
  XX(DEVICE, "device")     /* the camera's timestamp, mapped to the host */    \
  XX(ESTIMATE, "estimate") /* reception minus exposure and transfer */         \
  XX(TRIGGER, "trigger")   /* software trigger: the instant it was fired */    \
  XX(UNCERTAIN, "uncertain") /* no bound known: never used for alignment */

typedef enum pv_frame_time {
#define XX(name, word) PV_FRAME_TIME_##name,
  PV_FRAME_TIME_MAP(XX)
#undef XX
  PV_FRAME_TIME_COUNT
} pv_frame_time;

typedef struct pv_frame {
  uint64_t seq;        /* 1, 2, ... in order of publication */
  int64_t exposure_ns; /* start of exposure, monotonic (pv_now_ns clock) */
  pv_frame_time time;  /* how exposure_ns is known (see above) */
  uint64_t frame_id;   /* the camera's own frame (block) id; 0 unknown */
  uint64_t trigger;    /* software trigger mode: the request this frame
                          answers (1, 2, ...); 0 in continuous mode */
  int width, height, stride;
  pv_pixfmt format;
  size_t size;         /* bytes of image data in data */
  size_t capacity;     /* bytes allocated at data */
  uint8_t *data;
  int has_truth;       /* simulated cameras: the true stage position at */
  double truth_x_um;   /*   exposure (else has_truth == 0) */
  double truth_y_um;
} pv_frame;

typedef struct pv_frame_pool pv_frame_pool;

/* A read-only hold on one published frame. Release exactly once (any one
 * copy of the struct, once). Each lease is a record in its pool named by
 * (ticket, gen); gen is unique among the pool's leases and never 0, so a
 * lease released twice, or a copy released after another copy, no longer
 * matches its record: the release is refused and never drops a reference
 * that another reader holds, even when the frame was published again and
 * leased by someone else since. */
typedef struct pv_lease {
  const pv_frame *frame;
  pv_frame_pool *pool;
  int slot;
  int ticket;   /* the pool's record of this lease */
  uint64_t gen; /* the record's generation when leased */
} pv_lease;

typedef struct pv_frame_pool_stats {
  uint64_t published; /* frames published */
  uint64_t dropped;   /* pictures dropped because no frame was free */
  int leased;         /* leases currently held */
  int count;          /* frames in the pool */
  uint64_t bad_releases; /* refused releases: twice, or a stale copy */
} pv_frame_pool_stats;

/* ---- functions -------------------------------------------------------- */

/* Allocates `count` frames (2 <= count <= PV_FRAME_POOL_MAX) of `capacity`
 * bytes each, and writes every page of them (pv_prefault) so that the
 * resident size is final from the start, not when a frame is first used. */
int pv_frame_pool_create(int count, size_t capacity, pv_frame_pool **out);
/* Frees the pool. No lease may be outstanding and no thread may be waiting. */
void pv_frame_pool_destroy(pv_frame_pool *pool);

/* Writer side (one writer thread). Returns a free frame to fill, or NULL
 * (and counts a drop) when every frame is leased or latest-and-leased. */
pv_frame *pv_frame_pool_acquire(pv_frame_pool *pool);
/* Publishes a filled frame: assigns its seq, makes it the latest, wakes
 * waiters. */
void pv_frame_pool_publish(pv_frame_pool *pool, pv_frame *frame);
/* Gives back an acquired frame without publishing it (failed grab). */
void pv_frame_pool_discard(pv_frame_pool *pool, pv_frame *frame);

/* Reader side. Waits until the latest published frame was exposed strictly
 * after newer_than_ns and its time is not PV_FRAME_TIME_UNCERTAIN, then
 * leases it. PV_ETIMEDOUT after timeout_ms (0:
 * only looks; < 0: no deadline), PV_ECANCELED once the pool is closed,
 * PV_EBUSY when PV_FRAME_POOL_MAX_LEASES leases are held already (a reader
 * that does not release them; logged once per pool). *out is zeroed first. */
int pv_frame_pool_wait(pv_frame_pool *pool, int64_t newer_than_ns,
                       int timeout_ms, pv_lease *out);
/* Like pv_frame_pool_wait, for software-triggered frames: waits until the
 * latest published frame answers trigger request `trigger` or a later one
 * (frame->trigger >= trigger), then leases it. Same results. */
int pv_frame_pool_wait_trigger(pv_frame_pool *pool, uint64_t trigger,
                               int timeout_ms, pv_lease *out);
/* Releases a lease: PV_OK; on a zeroed lease ({0}, or from a failed wait) a
 * no-op, PV_OK. Sets lease->frame to NULL but keeps what identifies it, so
 * releasing it again, or releasing a copy of a released lease, is detected:
 * PV_EINVAL, counted in bad_releases, logged once per pool (pv_error), and
 * no reference is dropped. Thread-safe; the pool must still exist. */
int pv_lease_release(pv_lease *lease);

/* Wakes every waiter with PV_ECANCELED and refuses new waits; returns once
 * every waiter has left pv_frame_pool_wait. */
void pv_frame_pool_close(pv_frame_pool *pool);
void pv_frame_pool_get_stats(pv_frame_pool *pool, pv_frame_pool_stats *out);

/* "host", "truth", ... for a pv_frame_time; "?" out of range. Thread-safe. */
const char *pv_frame_time_name(pv_frame_time t);

/* ---- constants -------------------------------------------------------- */

#define PV_FRAME_POOL_MAX 64
#define PV_FRAME_POOL_MAX_LEASES 256 /* leases held at once, per pool */

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_FRAME_H */
