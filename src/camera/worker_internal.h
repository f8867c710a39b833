/* Internal to src/camera: the acquisition worker's state, shared by
 * worker.c (thread, open, continuous grabbing, escalation) and
 * worker_trigger.c (software-trigger mode: requests, drain, fire, answer).
 * See worker.c's opening comment for the states and invariants. */
#ifndef PROBEVISION_CAMERA_WORKER_INTERNAL_H
#define PROBEVISION_CAMERA_WORKER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "probevision/camera.h"
#include "rate.h"

/* Drain: a grab timeout short enough to only collect what is queued. */
#define PV__DRAIN_TIMEOUT_MS 1
/* Frames a drain or an answer grab discards before it gives up (a camera
 * that streams although it should wait for triggers). */
#define PV__STALE_MAX 64

struct pv_camera {
  const pv_camera_driver *drv;
  void *self;
  pv_camera_params params;
  pthread_t thread;
  atomic_int stop;

  pthread_mutex_t mu;      /* guards everything below */
  pthread_cond_t cv;       /* CLOCK_MONOTONIC: ready, requests, backoff */
  int ready;               /* the first open finished (status below) */
  int start_status;
  pv_error start_err;
  pv_camera_info info;     /* written by the camera thread under mu */
  pv_camera_counters counters;
  pv__rate rate;
  uint64_t requested;      /* software mode: the last request number taken */
  int requesters;          /* threads inside pv__camera_frame_triggered */

  /* camera thread only */
  pv_frame_pool *pool;     /* set before `ready`, freed by destroy */
  pv_frame scratch;        /* grab target when no pool frame is free, and
                              for drained / stale frames */
  int streaming;           /* started and not stopped since */
  int consecutive_timeouts;
  int consecutive_restarts;
  uint64_t served;         /* software mode: the last request served */
  uint64_t highest_id;     /* highest frame id seen since the last start */
  int need_flush;          /* a trigger was lost: restart before firing */
  int told_streaming;      /* warned once: frames without triggers */
};

/* worker.c: the end of every grab, in both modes: counts the result rc
 * (class ok / timeout / incomplete / disconnected / fatal; an UNCERTAIN
 * frame also as uncertain) before a reader can hold the frame, publishes
 * a good frame f or gives back a failed one (f NULL: no frame was
 * acquired; `dropped`: f is the scratch frame, a good picture that had no
 * pool frame), then resets the failure counts on a good frame (reporting a
 * recovery unless dropped) or escalates: consecutive timeouts restart,
 * then reopen; disconnected / fatal reopen. Camera thread; takes mu. */
void pv__camera_finish(pv_camera *cam, pv_frame *f, int rc, int dropped);
/* worker.c: closes the driver and reopens it with backoff until it works
 * or the camera stops; status is the cause (its class names the incident),
 * why the same in words. Camera thread. */
void pv__camera_reopen(pv_camera *cam, int status, const char *why);
/* worker.c: stop + start of the stream (no counters). PV_OK or the start's
 * error. Camera thread. */
int pv__camera_restart_stream(pv_camera *cam);

/* worker_trigger.c: waits for a request and serves it (software mode; the
 * camera thread's loop body). Returns when the request is answered, given
 * up, or the camera is stopping. Camera thread. */
void pv__camera_serve_request(pv_camera *cam);
/* worker_trigger.c: pv_camera_frame_after in software mode. Any thread. */
int pv__camera_frame_triggered(pv_camera *cam, int64_t after_ns, int timeout_ms,
                               pv_lease *out);

#endif
