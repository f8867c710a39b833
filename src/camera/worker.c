/* The acquisition worker: the one thread ("camera") that calls the driver.
 *
 * States of the thread:
 *   STARTING  first open + pool allocation + start; the result is handed to
 *             pv_camera_create through `ready` (create waits for it);
 *   STREAMING (continuous mode) acquire a pool frame (or, if every frame is
 *             leased, the scratch frame allocated at the first open), grab
 *             into it, classify the result, publish good frames;
 *   WAITING   (software mode) nothing is grabbed until a reader takes a
 *             request number r (pv_camera_frame_after); then SERVING;
 *   SERVING   (software mode, worker_trigger.c) for the newest request r:
 *             drain what the driver still holds (stale), fire one trigger,
 *             grab until a frame with a frame id beyond every id seen before
 *             the fire comes, mark it frame->trigger = r and publish it;
 *             a trigger without a frame in time is a lost trigger (a
 *             timeout), and the next fire is preceded by a stream restart;
 *   RECOVERING consecutive timeouts (grab timeouts, lost triggers) reaching
 *             retries_before_restart restart the stream (stop + start);
 *             once restarts_before_reopen restarts happened without a good
 *             frame in between, or on a disconnected / fatal result, or when
 *             a restart fails, the driver is closed and reopened with
 *             exponential backoff until it works or the camera is destroyed;
 *             software requests wait meanwhile (bounded by their timeout);
 *   STOPPING  stop + close the driver, exit. pv_camera_destroy then destroys
 *             the driver object and frees the pool.
 * A good frame resets the consecutive-timeout and restart counts.
 *
 * Mode: the driver's open says which mode is in effect (info.acquisition
 * out). A driver that leaves it AUTO streams: CONTINUOUS. SOFTWARE asked of
 * a driver without a trigger (no drv->trigger, can_trigger 0, or it chose
 * CONTINUOUS) is an open error naming the driver; AUTO lets it choose.
 *
 * Invariants of software mode (why a frame answers its request): every
 * frame handed out for request r was produced by a trigger fired after r
 * was taken (its id is beyond all ids seen before that fire, and frames
 * left from earlier triggers were drained and discarded); frame->trigger is
 * set only by this thread; requests are served newest first, and a frame
 * answering r also answers every earlier request (its trigger was fired
 * after they were taken too). Its exposure_ns is never before the fire
 * (the fire time is a lower bound of the exposure start).
 *
 * Incidents: each escalation raises one whose cause is the class of the
 * status that led to it (incident_cause: timeout, disconnected, fatal),
 * never a word of a message; when frames flow again after a restart, or a
 * reopen works, the worker reports the recovery of that same cause
 * (pv_incident_recovered), which is what incident reports look for.
 *
 * Memory: the pool (payload-sized frames) and one scratch frame are
 * allocated at the first open and reused on every reopen; the streaming
 * and serving loops allocate nothing. Counters, info and the request number
 * live under `mu`; the stop flag is atomic so the loop can poll it without
 * the lock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probevision/camera.h"
#include "worker_internal.h"

void pv_camera_params_default(pv_camera_params *p) {
  *p = (pv_camera_params){.buffers = 4, .grab_timeout_ms = 1000,
                          .retries_before_restart = 3,
                          .restarts_before_reopen = 2,
                          .reopen_backoff_ms = 200,
                          .reopen_backoff_max_ms = 5000};
}

static void set_connected(pv_camera *cam, int connected) {
  pthread_mutex_lock(&cam->mu);
  cam->counters.connected = connected;
  pthread_mutex_unlock(&cam->mu);
}

static void log_threads(void) {
  char list[1024];
  pv_thread_list(list, sizeof list);
  pv_warn("camera: threads: %s", list);
}

/* The mode in effect after an open (see the file comment): AUTO left by
 * the driver is CONTINUOUS; SOFTWARE needs a trigger. PV_EUNSUPPORTED with
 * the driver named when SOFTWARE was asked of a driver that cannot. */
static int settle_mode(pv_camera *cam, pv_camera_info *info, pv_error *err) {
  int can = cam->drv->trigger != NULL && info->can_trigger;
  if (info->acquisition != PV_ACQUISITION_SOFTWARE)
    info->acquisition = PV_ACQUISITION_CONTINUOUS;
  else if (!can)
    return pv_error_set(err, PV_EUNSUPPORTED, "camera %s: the driver reports software "
                        "trigger mode but has no software trigger", cam->drv->name);
  if (cam->params.acquisition == PV_ACQUISITION_SOFTWARE &&
      info->acquisition != PV_ACQUISITION_SOFTWARE)
    return pv_error_set(err, PV_EUNSUPPORTED, "camera %s: camera.acquisition = software, "
                        "but this camera or driver has no software trigger (%s); use "
                        "continuous or auto", cam->drv->name,
                        cam->drv->trigger == NULL ? "the driver cannot fire one"
                                                  : "TriggerSoftware not available");
  return PV_OK;
}

/* Opens and starts the driver; at the first open allocates the pool and the
 * scratch frame. */
static int open_and_start(pv_camera *cam, pv_error *err) {
  pv_camera_info info;
  memset(&info, 0, sizeof info);
  info.acquisition = cam->params.acquisition;
  int rc = cam->drv->open(cam->self, &info, err);
  if (rc != PV_OK) return rc;
  rc = settle_mode(cam, &info, err);
  if (rc != PV_OK) {
    cam->drv->close(cam->self);
    return rc;
  }
  if (cam->pool == NULL) {
    rc = pv_frame_pool_create(cam->params.buffers, info.payload, &cam->pool);
    cam->scratch.data = rc == PV_OK ? malloc(info.payload) : NULL;
    if (rc == PV_OK && cam->scratch.data == NULL) rc = PV_ENOMEM;
    if (rc != PV_OK) {
      cam->drv->close(cam->self);
      return pv_error_set(err, rc, "camera %s: cannot allocate %d frames of "
                          "%zu bytes", cam->drv->name, cam->params.buffers,
                          info.payload);
    }
    cam->scratch.capacity = info.payload;
  } else if (info.payload > cam->scratch.capacity) {
    cam->drv->close(cam->self);
    rc = pv_error_set(err, PV_EFATAL, "camera %s: reopened with payload %zu "
                      "bytes, more than the pool's %zu", cam->drv->name,
                      info.payload, cam->scratch.capacity);
    pv_error("%s", err->msg);
    return rc;
  }
  rc = pv__camera_restart_stream(cam); /* not streaming yet: only the start */
  if (rc != PV_OK) {
    cam->drv->close(cam->self);
    return pv_error_set(err, rc, "camera %s: start failed: %s",
                        cam->drv->name, pv_strerror(rc));
  }
  pthread_mutex_lock(&cam->mu);
  cam->info = info;
  cam->counters.connected = 1;
  pthread_mutex_unlock(&cam->mu);
  return PV_OK;
}

/* The incident cause of a grab / start status: its class. */
static const char *incident_cause(int status) {
  switch (status) {
  case PV_ETIMEDOUT: return "camera-timeout";
  case PV_EDISCONNECTED: return "camera-disconnected";
  default: return "camera-fatal";
  }
}

/* Sleeps up to ms, returning early when the camera is being destroyed. */
static void backoff_sleep(pv_camera *cam, int ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t ns = (int64_t)ts.tv_nsec + (int64_t)ms * PV_NS_PER_MS;
  ts.tv_sec += (time_t)(ns / PV_NS_PER_S);
  ts.tv_nsec = (long)(ns % PV_NS_PER_S);
  pthread_mutex_lock(&cam->mu);
  while (!atomic_load(&cam->stop))
    if (pthread_cond_timedwait(&cam->cv, &cam->mu, &ts) != 0) break;
  pthread_mutex_unlock(&cam->mu);
}

/* Closes the driver and reopens it with exponential backoff, until it works
 * or the camera is stopped. status: the result that made it necessary (its
 * class is the incident's cause); why: the same in words. */
void pv__camera_reopen(pv_camera *cam, int status, const char *why) {
  const char *cause = incident_cause(status);
  pv_warn("camera %s: reconnecting: %s (%s)", cam->drv->name, why, pv_status_name(status));
  pv_incident_raise(cause, "camera %s: %s (%s); closed it, reopening with backoff from %d ms",
                    cam->drv->name, why, pv_status_name(status), cam->params.reopen_backoff_ms);
  log_threads();
  if (cam->streaming) cam->drv->stop(cam->self);
  cam->streaming = 0;
  cam->drv->close(cam->self);
  set_connected(cam, 0);
  int64_t t0 = pv_now_ns();
  int backoff = cam->params.reopen_backoff_ms;
  for (int attempt = 1; !atomic_load(&cam->stop); attempt++) {
    backoff_sleep(cam, backoff);
    if (atomic_load(&cam->stop)) break;
    pv_error err = {{0}};
    int rc = open_and_start(cam, &err);
    if (rc == PV_OK) {
      pthread_mutex_lock(&cam->mu);
      cam->counters.reopens++;
      pthread_mutex_unlock(&cam->mu);
      pv_incident_recovered(cause, "camera %s: recovered after %d attempt(s) in %.0f ms",
                            cam->drv->name, attempt, (double)(pv_now_ns() - t0) / 1e6);
      cam->consecutive_timeouts = 0;
      cam->consecutive_restarts = 0;
      return;
    }
    backoff = backoff * 2 < cam->params.reopen_backoff_max_ms
                  ? backoff * 2 : cam->params.reopen_backoff_max_ms;
    pv_warn("camera %s: reopen attempt %d failed (%s): %s; next in %d ms",
            cam->drv->name, attempt, pv_status_name(rc), err.msg, backoff);
  }
}

/* The grab timeout in words with its clock: "1000 ms" for a real camera;
 * on a simulated clock other than real time, "1000 ms of simulated time
 * (x0.1: 100 ms real)" or "(x0: as fast as possible)". Camera thread (the
 * only writer of info). */
static void timeout_words(const pv_camera *cam, char *buf, size_t cap) {
  int ms = cam->params.grab_timeout_ms;
  double k = cam->info.time_scale;
  if (!cam->info.simulated_clock || k == 1)
    pv_snprintf_c(buf, cap, "%d ms", ms);
  else if (k <= 0)
    pv_snprintf_c(buf, cap, "%d ms of simulated time (x0: as fast as possible)", ms);
  else
    pv_snprintf_c(buf, cap, "%d ms of simulated time (x%g: %.0f ms real)", ms, k, ms * k);
}

/* After consecutive timeouts: restart the stream, or reopen when restarts
 * did not help. */
static void escalate_timeouts(pv_camera *cam) {
  cam->consecutive_timeouts = 0;
  if (cam->consecutive_restarts >= cam->params.restarts_before_reopen) {
    pv__camera_reopen(cam, PV_ETIMEDOUT, "stream restarts did not bring frames back");
    return;
  }
  cam->consecutive_restarts++;
  pthread_mutex_lock(&cam->mu);
  cam->counters.restarts++;
  pthread_mutex_unlock(&cam->mu);
  pv_warn("camera %s: %d consecutive timeouts, restarting the stream "
          "(restart %d of %d)", cam->drv->name,
          cam->params.retries_before_restart, cam->consecutive_restarts,
          cam->params.restarts_before_reopen);
  char within[96];
  timeout_words(cam, within, sizeof within);
  pv_incident_raise("camera-timeout", "no frame within %s, %d times in a row: camera %s "
                    "stopped sending; stream restarted (restart %d of %d)",
                    within, cam->params.retries_before_restart,
                    cam->drv->name, cam->consecutive_restarts,
                    cam->params.restarts_before_reopen);
  log_threads();
  int rc = pv__camera_restart_stream(cam);
  if (rc != PV_OK) pv__camera_reopen(cam, rc, "stream restart failed");
}

int pv__camera_restart_stream(pv_camera *cam) {
  if (cam->streaming) cam->drv->stop(cam->self);
  int rc = cam->drv->start(cam->self);
  cam->streaming = rc == PV_OK;
  cam->highest_id = 0; /* ids may start again; the drain sees what is left */
  cam->need_flush = 0;
  return rc;
}

/* Counts one grab result (f: the frame grabbed into, or NULL when there is
 * none). Under mu. */
static void count(pv_camera *cam, const pv_frame *f, int rc, int dropped) {
  int64_t now = pv_now_ns();
  pthread_mutex_lock(&cam->mu);
  pv_camera_counters *c = &cam->counters;
  c->frames++;
  switch (rc) {
  case PV_OK:
    if (dropped) c->dropped++;
    else {
      c->ok++;
      pv__rate_add(&cam->rate, now);
    }
    if (f != NULL && f->time == PV_FRAME_TIME_UNCERTAIN) c->uncertain++;
    break;
  case PV_ETIMEDOUT: c->timeouts++; break;
  case PV_EINCOMPLETE: c->incomplete++; break;
  case PV_EDISCONNECTED: c->disconnected++; break;
  default: c->fatal++; break;
  }
  if (cam->drv->get_stats) cam->drv->get_stats(cam->self, &c->stream);
  pthread_mutex_unlock(&cam->mu);
}

/* What follows a counted result: a good frame resets the failure counts
 * (and reports a recovery, unless it was dropped for want of a pool frame:
 * only a published frame counts as frames being back); failures escalate. */
static void escalate(pv_camera *cam, int rc, int dropped) {
  if (rc == PV_OK) {
    if (cam->consecutive_restarts > 0 && !dropped)
      pv_incident_recovered(incident_cause(PV_ETIMEDOUT),
                            "camera %s: recovered: frames are back after the stream restart",
                            cam->drv->name);
    cam->consecutive_timeouts = 0;
    cam->consecutive_restarts = 0;
  } else if (rc == PV_ETIMEDOUT) {
    if (++cam->consecutive_timeouts >= cam->params.retries_before_restart)
      escalate_timeouts(cam);
  } else if (rc == PV_EDISCONNECTED) {
    pv__camera_reopen(cam, rc, "device disconnected");
  } else if (rc != PV_EINCOMPLETE) {
    pv_warn("camera %s: grab failed: %s", cam->drv->name, pv_status_name(rc));
    pv__camera_reopen(cam, rc, "fatal device error");
  }
}

void pv__camera_finish(pv_camera *cam, pv_frame *f, int rc, int dropped) {
  count(cam, f, rc, dropped); /* before a reader can hold the frame */
  if (f != NULL && !dropped) {
    if (rc == PV_OK) pv_frame_pool_publish(cam->pool, f);
    else pv_frame_pool_discard(cam->pool, f);
  }
  escalate(cam, rc, dropped);
}

/* Continuous mode: one grab, its classification and what follows. A frame
 * whose time the driver could not bound (UNCERTAIN) is published (grab
 * shows it) and counted, but the pool never leases it for a time wait. */
static void grab_once(pv_camera *cam) {
  pv_frame *f = pv_frame_pool_acquire(cam->pool);
  int scratch = f == NULL;
  if (scratch) f = &cam->scratch;
  int rc = cam->drv->grab(cam->self, f, cam->params.grab_timeout_ms);
  if (rc == PV_OK) f->trigger = 0;
  pv__camera_finish(cam, f, rc, scratch);
}

static void *camera_thread(void *arg) {
  pv_camera *cam = arg;
  pv_thread_set_name("camera");
  pv_error err = {{0}};
  int rc = open_and_start(cam, &err);
  pthread_mutex_lock(&cam->mu);
  cam->ready = 1;
  cam->start_status = rc;
  cam->start_err = err;
  pthread_cond_broadcast(&cam->cv);
  pthread_mutex_unlock(&cam->mu);
  if (rc != PV_OK) return NULL;
  pv_info("camera %s: %s acquisition, %dx%d %s, %zu bytes per frame, %d buffers",
          cam->drv->name, pv_acquisition_name(cam->info.acquisition), cam->info.width,
          cam->info.height, pv_pixfmt_name(cam->info.format), cam->info.payload,
          cam->params.buffers);
  while (!atomic_load(&cam->stop)) {
    if (cam->info.acquisition == PV_ACQUISITION_SOFTWARE) pv__camera_serve_request(cam);
    else grab_once(cam);
  }
  pthread_mutex_lock(&cam->mu);
  int connected = cam->counters.connected;
  pthread_mutex_unlock(&cam->mu);
  if (connected) {
    if (cam->streaming) cam->drv->stop(cam->self);
    cam->streaming = 0;
    cam->drv->close(cam->self);
    set_connected(cam, 0);
  }
  return NULL;
}

static void camera_free(pv_camera *cam) {
  if (cam->drv->destroy) cam->drv->destroy(cam->self);
  pv_frame_pool_destroy(cam->pool);
  free(cam->scratch.data);
  pthread_mutex_destroy(&cam->mu);
  pthread_cond_destroy(&cam->cv);
  free(cam);
}

int pv_camera_create(const pv_camera_driver *drv, void *self,
                     const pv_camera_params *params, pv_camera **out,
                     pv_error *err) {
  *out = NULL;
  pv_camera_params def;
  if (params == NULL) {
    pv_camera_params_default(&def);
    params = &def;
  }
  if (params->buffers < 2 || params->buffers > PV_FRAME_POOL_MAX ||
      params->grab_timeout_ms <= 0 || params->retries_before_restart < 1 ||
      params->restarts_before_reopen < 0 || params->reopen_backoff_ms < 0 ||
      params->reopen_backoff_max_ms < params->reopen_backoff_ms) {
    if (drv && drv->destroy) drv->destroy(self);
    return pv_error_set(err, PV_EINVAL, "camera: invalid parameters");
  }
  pv_camera *cam = calloc(1, sizeof *cam);
  if (cam == NULL) {
    if (drv->destroy) drv->destroy(self);
    return pv_error_set(err, PV_ENOMEM, "camera: out of memory");
  }
  cam->drv = drv;
  cam->self = self;
  cam->params = *params;
  pthread_mutex_init(&cam->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cam->cv, &ca);
  pthread_condattr_destroy(&ca);
  pv__rate_init(&cam->rate, pv_now_ns());
  if (pthread_create(&cam->thread, NULL, camera_thread, cam) != 0) {
    camera_free(cam);
    return pv_error_set(err, PV_ENOMEM, "camera: cannot start the thread");
  }
  pthread_mutex_lock(&cam->mu);
  while (!cam->ready) pthread_cond_wait(&cam->cv, &cam->mu);
  int rc = cam->start_status;
  pthread_mutex_unlock(&cam->mu);
  if (rc != PV_OK) {
    if (err) *err = cam->start_err;
    pthread_join(cam->thread, NULL);
    camera_free(cam);
    return rc;
  }
  *out = cam;
  return PV_OK;
}

const char *pv_acquisition_name(pv_acquisition a) {
  static const char *const names[] = {
#define XX(name, word) word,
      PV_ACQUISITION_MAP(XX)
#undef XX
  };
  return (unsigned)a < PV_ACQUISITION_COUNT ? names[a] : "?";
}

int pv_acquisition_parse(const char *word, pv_acquisition *out) {
  for (int a = 0; a < PV_ACQUISITION_COUNT; a++)
    if (word && strcmp(word, pv_acquisition_name((pv_acquisition)a)) == 0) {
      *out = (pv_acquisition)a;
      return PV_OK;
    }
  return PV_EPARSE;
}

/* The mode of the last open (it does not change across reopens of one
 * camera in practice; read under the lock all the same). */
static int software_mode(pv_camera *cam) {
  pthread_mutex_lock(&cam->mu);
  int sw = cam->info.acquisition == PV_ACQUISITION_SOFTWARE;
  pthread_mutex_unlock(&cam->mu);
  return sw;
}

int pv_camera_frame_after(pv_camera *cam, int64_t after_ns, int timeout_ms, pv_lease *out) {
  if (software_mode(cam)) return pv__camera_frame_triggered(cam, after_ns, timeout_ms, out);
  return pv_frame_pool_wait(cam->pool, after_ns, timeout_ms, out);
}

void pv_camera_get_info(pv_camera *cam, pv_camera_info *out) {
  pthread_mutex_lock(&cam->mu);
  *out = cam->info;
  pthread_mutex_unlock(&cam->mu);
}

void pv_camera_get_counters(pv_camera *cam, pv_camera_counters *out) {
  int64_t now = pv_now_ns();
  pthread_mutex_lock(&cam->mu);
  *out = cam->counters;
  out->fps = pv__rate_get(&cam->rate, now);
  pthread_mutex_unlock(&cam->mu);
}

void pv_camera_get_pool_stats(pv_camera *cam, pv_frame_pool_stats *out) {
  pv_frame_pool_get_stats(cam->pool, out);
}

void pv_camera_destroy(pv_camera *cam) {
  if (cam == NULL) return;
  atomic_store(&cam->stop, 1);
  pv_frame_pool_close(cam->pool); /* wakes waiters, waits until they left */
  pthread_mutex_lock(&cam->mu);
  pthread_cond_broadcast(&cam->cv); /* ends a backoff sleep or a wait for requests */
  while (cam->requesters > 0) pthread_cond_wait(&cam->cv, &cam->mu);
  pthread_mutex_unlock(&cam->mu);
  pthread_join(cam->thread, NULL);
  camera_free(cam);
}
