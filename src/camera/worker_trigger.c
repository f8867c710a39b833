/* Software-trigger mode of the acquisition worker (states and invariants:
 * worker.c's opening comment).
 *
 * Requests: a reader takes the next request number r under the lock and
 * waits for a frame with frame->trigger >= r (pv_frame_pool_wait_trigger).
 * The camera thread serves the newest request: a frame fired for it also
 * answers every earlier one, whose readers asked before that fire.
 *
 * One attempt at a request:
 *   1. after a lost trigger, restart the stream (stop + start), so that a
 *      late frame of the lost trigger is not delivered any more (the driver
 *      interface allows grab only while started, hence stop, start, drain
 *      rather than stop, drain, start);
 *   2. drain: grab with a 1 ms timeout until the driver says timeout; every
 *      frame that comes is stale (counted, discarded) and raises the highest
 *      frame id seen since the stream started;
 *   3. fire: t_fire = now, drv->trigger (counted in `triggers`);
 *   4. grab until a frame whose id is beyond the highest id seen before the
 *      fire comes (lower or equal ids are stale: discarded, counted); it is
 *      the answer: trigger = r; its time stays the driver's when that is a
 *      DEVICE or TRUTH time not before t_fire, else it becomes TRIGGER with
 *      exposure_ns = max(driver's, t_fire) (t_fire alone when the driver's
 *      was UNCERTAIN): the exposure cannot have begun before the fire.
 *   No frame within grab_timeout_ms is a lost trigger: a timeout for the
 *   escalation (retry, restart, reopen as in continuous mode) and a flush
 *   before the next fire. Incomplete, disconnected and fatal results are
 *   classified as in continuous mode. The highest id is forgotten at each
 *   stream start (cameras may number frames afresh); the drain after the
 *   start collects what was still queued. A driver without frame ids
 *   (frame_id 0) gets the first frame after the drain.
 *
 * A request nobody waits for any more (the readers timed out) is dropped
 * after a failed attempt, so a dead camera is not fired at for nobody.
 * When every pool frame is leased, the answer goes to the scratch frame
 * and counts as dropped: the request is served with nothing to hand out,
 * and its reader times out (as in continuous mode, readers that keep their
 * leases starve themselves, never the camera thread).
 * Nothing here allocates: drained and stale frames go to the scratch frame.
 */
#include <stdatomic.h>
#include <string.h>

#include "worker_internal.h"

/* Adds 1 to one counter under the lock. */
static void bump(pv_camera *cam, uint64_t *counter) {
  pthread_mutex_lock(&cam->mu);
  (*counter)++;
  pthread_mutex_unlock(&cam->mu);
}

/* Waits until a request is pending; 0 when the camera is stopping. */
static int wait_request(pv_camera *cam, uint64_t *r) {
  pthread_mutex_lock(&cam->mu);
  while (!atomic_load(&cam->stop) && cam->requested <= cam->served)
    pthread_cond_wait(&cam->cv, &cam->mu);
  *r = cam->requested;
  pthread_mutex_unlock(&cam->mu);
  return !atomic_load(&cam->stop);
}

static void note_id(pv_camera *cam, uint64_t id) {
  if (id > cam->highest_id) cam->highest_id = id;
}

/* Step 2: PV_OK, or a disconnected / fatal result of the driver. */
static int drain(pv_camera *cam) {
  for (int n = 0; n < PV__STALE_MAX; n++) {
    int rc = cam->drv->grab(cam->self, &cam->scratch, PV__DRAIN_TIMEOUT_MS);
    if (rc == PV_ETIMEDOUT) return PV_OK;
    if (rc != PV_OK && rc != PV_EINCOMPLETE) return rc;
    if (rc == PV_OK) note_id(cam, cam->scratch.frame_id);
    bump(cam, &cam->counters.stale);
  }
  if (!cam->told_streaming) {
    cam->told_streaming = 1;
    pv_warn("camera %s: %d frames queued without a trigger: the camera seems to stream "
            "although it is in software trigger mode; frames are told apart by id",
            cam->drv->name, PV__STALE_MAX);
  }
  return PV_OK;
}

/* Step 4's time of the answer (see the file comment). */
static void stamp(pv_frame *f, uint64_t r, int64_t t_fire) {
  f->trigger = r;
  if ((f->time == PV_FRAME_TIME_DEVICE || f->time == PV_FRAME_TIME_TRUTH) &&
      f->exposure_ns >= t_fire)
    return;
  if (f->time == PV_FRAME_TIME_UNCERTAIN || f->exposure_ns < t_fire) f->exposure_ns = t_fire;
  f->time = PV_FRAME_TIME_TRIGGER;
}

/* Steps 3 and 4 into f; returns the grab result of the answer. */
static int fire_and_grab(pv_camera *cam, pv_frame *f, uint64_t r) {
  uint64_t before = cam->highest_id;
  int64_t t_fire = pv_now_ns();
  int rc = cam->drv->trigger(cam->self);
  if (rc != PV_OK) {
    pv_warn("camera %s: software trigger refused: %s", cam->drv->name, pv_status_name(rc));
    return rc;
  }
  bump(cam, &cam->counters.triggers);
  for (int stale = 0;;) {
    rc = cam->drv->grab(cam->self, f, cam->params.grab_timeout_ms);
    if (rc != PV_OK) break;
    if (f->frame_id == 0 || f->frame_id > before) {
      note_id(cam, f->frame_id);
      stamp(f, r, t_fire);
      return PV_OK;
    }
    bump(cam, &cam->counters.stale);
    if (++stale >= PV__STALE_MAX) { /* only old frames: as good as none */
      rc = PV_ETIMEDOUT;
      break;
    }
  }
  if (rc == PV_ETIMEDOUT) {
    bump(cam, &cam->counters.lost_triggers);
    cam->need_flush = 1; /* before the escalation, which may restart */
    pv_debug("camera %s: trigger for request %llu lost (no frame within %d ms)",
             cam->drv->name, (unsigned long long)r, cam->params.grab_timeout_ms);
  }
  return rc;
}

/* One attempt at request r: PV_OK when answered (or dropped for want of a
 * pool frame), else the failure's status (already counted and escalated). */
static int attempt(pv_camera *cam, uint64_t r) {
  if (cam->need_flush) {
    int rc = pv__camera_restart_stream(cam);
    if (rc != PV_OK) {
      pv__camera_reopen(cam, rc, "stream restart after a lost trigger failed");
      return rc;
    }
  }
  int rc = drain(cam);
  if (rc != PV_OK) {
    pv__camera_finish(cam, NULL, rc, 0);
    return rc;
  }
  pv_frame *f = pv_frame_pool_acquire(cam->pool);
  int dropped = f == NULL;
  if (dropped) f = &cam->scratch;
  rc = fire_and_grab(cam, f, r);
  pv__camera_finish(cam, f, rc, dropped);
  return rc;
}

void pv__camera_serve_request(pv_camera *cam) {
  uint64_t r;
  if (!wait_request(cam, &r)) return;
  while (!atomic_load(&cam->stop) && attempt(cam, r) != PV_OK) {
    pthread_mutex_lock(&cam->mu);
    int nobody = cam->requesters == 0;
    r = cam->requested; /* serve the newest */
    pthread_mutex_unlock(&cam->mu);
    if (nobody) break;
  }
  cam->served = r;
}

int pv__camera_frame_triggered(pv_camera *cam, int64_t after_ns, int timeout_ms,
                               pv_lease *out) {
  memset(out, 0, sizeof *out);
  int64_t deadline = pv_now_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * PV_NS_PER_MS;
  int rc = PV_ECANCELED;
  pthread_mutex_lock(&cam->mu);
  cam->requesters++;
  pthread_mutex_unlock(&cam->mu);
  while (!atomic_load(&cam->stop)) {
    pthread_mutex_lock(&cam->mu);
    uint64_t r = ++cam->requested;
    pthread_cond_broadcast(&cam->cv);
    pthread_mutex_unlock(&cam->mu);
    int ms = -1;
    if (timeout_ms >= 0) {
      int64_t left = deadline - pv_now_ns();
      ms = left > 0 ? (int)((left + PV_NS_PER_MS - 1) / PV_NS_PER_MS) : 0;
    }
    rc = pv_frame_pool_wait_trigger(cam->pool, r, ms, out);
    if (rc != PV_OK) break;
    if (out->frame->exposure_ns > after_ns) break;
    pv_lease_release(out); /* after_ns lies in the future: fire again */
    memset(out, 0, sizeof *out);
    rc = PV_ETIMEDOUT;
    if (timeout_ms >= 0 && pv_now_ns() >= deadline) break;
  }
  pthread_mutex_lock(&cam->mu);
  cam->requesters--;
  pthread_cond_broadcast(&cam->cv);
  pthread_mutex_unlock(&cam->mu);
  return rc;
}
