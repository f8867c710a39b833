/* The simulated camera driver: renders the scene at the truth source's
 * position at each frame's exposure time.
 *
 * Timing: `speed` multiplies every duration (1 real time, 0.1 ten times
 * faster, 0 as fast as rendering allows); fps 0 also means as fast as
 * rendering allows. Frames are scheduled on a grid of
 * absolute times next, next + period, ... (period = speed / fps) and the
 * grab sleeps until its slot (clock_nanosleep TIMER_ABSTIME: no drift). When
 * the consumer fell behind by more than a period the grid restarts at now,
 * as a real camera would have dropped the frames in between.
 * exposure_ns = pv_now_ns() when the exposure starts, and the truth position
 * is taken at that same instant.
 *
 * Faults (per frame, deterministic RNG from the seed): with probability
 * fault_nodata the grab waits out its timeout (scaled by speed, at least
 * PV__SIM_MIN_NODATA_MS) and returns PV_ETIMEDOUT; with fault_incomplete it
 * returns PV_EINCOMPLETE; packet_loss adds 1 - (1 - R/1000)^packets to
 * the latter (no packet resend in this driver).
 *
 * Once-only faults, after 2 s of nominal stream time = 2 * fps frames
 * delivered (a frame count, so the fault comes as early in a run at speed 0
 * as at speed 1), with durations in REAL seconds at every speed (they
 * exercise the acquisition worker's wall-clock recovery: restarts, reopen
 * backoff):
 * - stall: from then on every grab waits out its timeout and returns
 *   PV_ETIMEDOUT for stall_s s; restarts and reopens do not end it.
 * - disconnect: 2 * fps frames later (after the stall has ended, if both)
 *   a grab returns PV_EDISCONNECTED, and open fails with PV_EDISCONNECTED
 *   until disconnect_s s have passed; then the worker's reopen succeeds.
 * State: next_fault_frame is the delivered-frame count at which the next
 * pending once-only fault fires; stall_until_ns / gone_until_ns are 0 when
 * that fault is not in progress.
 *
 * Software trigger (acquisition AUTO or SOFTWARE asked at open; the
 * default): the once-only faults count PV__SIM_FAULT_TRIGGERED_FRAMES
 * delivered frames instead of 2 * fps (frames come only when asked for,
 * about two per point of a run); start() waits for triggers; trigger() queues its fire time
 * (up to PV__SIM_PENDING_MAX pending; more are ignored, as a busy camera
 * would); grab() takes the oldest pending trigger, or waits out its
 * timeout (scaled by speed) when none is pending. The exposure begins
 * trigger_latency_us (scaled by speed) after the fire, the truth position
 * is taken at that instant, and every exposure gets the next frame id,
 * also one whose frame is then lost. Faults: nodata loses the triggered
 * frame (the grab waits out its timeout: a lost trigger), incomplete and
 * packet loss tear it; a stall swallows pending triggers; disconnect as in
 * continuous mode. stop() and start() forget pending triggers.
 *
 * Records: the fire and exposure times of the last PV_SIM_CAMERA_RECORDS
 * frame ids, for tests (pv_sim_camera_frame_record), under `mu`.
 *
 * Every driver call happens on the camera thread; only the records may be
 * read from another thread.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probevision/sim.h"

#define PV__SIM_MIN_NODATA_MS 3
#define PV__SIM_PENDING_MAX 16
/* fps 0 (as fast as possible) has no nominal stream time: the once-only
 * faults then count frames as at the default rate. */
#define PV__SIM_FAULT_FPS_AT_0 16.0

/* Frames in 2 s of nominal stream time (see the file comment). */
static uint64_t fault_frames(double fps) {
  return (uint64_t)ceil(2.0 * (fps > 0 ? fps : PV__SIM_FAULT_FPS_AT_0));
}
/* In software trigger mode frames come only when asked for (about two per
 * point of a run), so the once-only faults count this many instead. */
#define PV__SIM_FAULT_TRIGGERED_FRAMES 8

typedef struct sim_camera {
  pv_sim_camera_params p;
  const pv_scene *scene;
  pv_truth_source truth;
  uint64_t rng;
  uint64_t frame_seed;  /* counter: noise differs per frame */
  int64_t next_ns;      /* scheduled start of the next exposure */
  int64_t period_ns;
  int open, streaming;
  double p_incomplete;       /* fault_incomplete + packet loss per frame */
  uint64_t delivered;        /* good frames */
  uint64_t next_fault_frame; /* see the file comment */
  int stall_done, gone_done;
  int64_t stall_until_ns, gone_until_ns;
  int software;              /* software trigger mode (set by open) */
  int64_t pending[PV__SIM_PENDING_MAX]; /* fire times, a ring */
  int pending_head, pending_n;
  pthread_mutex_t mu;        /* guards records */
  struct sim_record { uint64_t id; int64_t fired, exposure; } records[PV_SIM_CAMERA_RECORDS];
} sim_camera;

void pv_sim_camera_params_default(pv_sim_camera_params *p) {
  *p = (pv_sim_camera_params){.width = 2448, .height = 2048,
                              .format = PV_PIXFMT_BAYER_BG8, .fps = 16,
                              .speed = 1, .seed = 1, .trigger_latency_us = 50};
}

static void record(sim_camera *c, uint64_t id, int64_t fired, int64_t exposure) {
  pthread_mutex_lock(&c->mu);
  c->records[id % PV_SIM_CAMERA_RECORDS] = (struct sim_record){id, fired, exposure};
  pthread_mutex_unlock(&c->mu);
}

int pv_sim_camera_frame_record(void *self, uint64_t frame_id, int64_t *fired_ns,
                               int64_t *exposure_ns) {
  sim_camera *c = self;
  pthread_mutex_lock(&c->mu);
  struct sim_record r = c->records[frame_id % PV_SIM_CAMERA_RECORDS];
  pthread_mutex_unlock(&c->mu);
  if (frame_id == 0 || r.id != frame_id) return PV_ENOTFOUND;
  if (fired_ns) *fired_ns = r.fired;
  if (exposure_ns) *exposure_ns = r.exposure;
  return PV_OK;
}

static void sleep_until(int64_t t_ns) {
  struct timespec ts = {.tv_sec = (time_t)(t_ns / PV_NS_PER_S),
                        .tv_nsec = (long)(t_ns % PV_NS_PER_S)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static int sim_open(void *self, pv_camera_info *info, pv_error *err) {
  sim_camera *c = self;
  pv_acquisition asked = info->acquisition;
  int64_t now = pv_now_ns();
  if (c->gone_until_ns != 0 && now < c->gone_until_ns)
    return pv_error_set(err, PV_EDISCONNECTED,
                        "sim camera: disconnected (injected fault), back in %.1f s",
                        (double)(c->gone_until_ns - now) / 1e9);
  if (c->gone_until_ns != 0) {
    c->gone_until_ns = 0;
    pv_info("sim camera: disconnect fault over, the camera answers again");
  }
  memset(info, 0, sizeof *info); /* after a failure info stays as asked */
  info->width = c->p.width;
  info->height = c->p.height;
  info->format = c->p.format;
  info->payload = (size_t)c->p.width * (size_t)c->p.height;
  info->fps = c->p.fps;
  snprintf(info->model, sizeof info->model, "probevision simulated camera");
  info->simulated_clock = 1; /* timeouts are scaled by speed (sim_grab) */
  info->time_scale = c->p.speed;
  c->software = asked != PV_ACQUISITION_CONTINUOUS; /* AUTO: software */
  if (c->software && c->delivered == 0) c->next_fault_frame = PV__SIM_FAULT_TRIGGERED_FRAMES;
  info->acquisition = c->software ? PV_ACQUISITION_SOFTWARE : PV_ACQUISITION_CONTINUOUS;
  info->can_trigger = 1;
  info->time = PV_FRAME_TIME_TRUTH;
  c->open = 1;
  return PV_OK;
}

static int sim_start(void *self) {
  sim_camera *c = self;
  if (!c->open) return PV_EFATAL;
  c->streaming = 1;
  c->next_ns = pv_now_ns();
  c->pending_n = 0;
  return PV_OK;
}

static int sim_trigger(void *self) {
  sim_camera *c = self;
  if (!c->streaming || !c->software) return PV_EFATAL;
  int64_t now = pv_now_ns();
  if (c->gone_until_ns != 0 && now < c->gone_until_ns) return PV_EDISCONNECTED;
  if (c->pending_n == PV__SIM_PENDING_MAX) return PV_OK; /* busy: ignored */
  c->pending[(c->pending_head + c->pending_n++) % PV__SIM_PENDING_MAX] = now;
  return PV_OK;
}

/* The once-only faults (see the file comment): PV_ETIMEDOUT while stalled
 * (after waiting the timeout), PV_EDISCONNECTED while gone, else PV_OK. */
static int once_faults(sim_camera *c, int64_t now, int64_t timeout_ns) {
  uint64_t after = c->software ? PV__SIM_FAULT_TRIGGERED_FRAMES : fault_frames(c->p.fps);
  if (c->gone_until_ns != 0 && now < c->gone_until_ns) return PV_EDISCONNECTED;
  if (c->p.stall_s > 0 && !c->stall_done && c->delivered >= c->next_fault_frame) {
    c->stall_done = 1;
    c->stall_until_ns = now + (int64_t)(c->p.stall_s * 1e9);
    c->next_fault_frame = c->delivered + after;
    pv_warn("sim camera: fault stall: no frames for %.1f s", c->p.stall_s);
  }
  if (c->stall_until_ns != 0) {
    if (now < c->stall_until_ns) {
      sleep_until(now + timeout_ns);
      return PV_ETIMEDOUT;
    }
    c->stall_until_ns = 0;
    pv_info("sim camera: stall over, frames flow again");
  }
  if (c->p.disconnect_s > 0 && !c->gone_done && c->delivered >= c->next_fault_frame &&
      (c->p.stall_s <= 0 || c->stall_done)) {
    c->gone_done = 1;
    c->gone_until_ns = now + (int64_t)(c->p.disconnect_s * 1e9);
    pv_warn("sim camera: fault disconnect: camera gone for %.1f s", c->p.disconnect_s);
    return PV_EDISCONNECTED;
  }
  return PV_OK;
}

/* Renders the scene at the truth position of `exposure` into `into` as
 * frame `id`. PV_OK or PV_EFATAL. */
static int deliver(sim_camera *c, pv_frame *into, uint64_t id, int64_t exposure) {
  size_t size = (size_t)c->p.width * (size_t)c->p.height;
  if (into->capacity < size) return PV_EFATAL;
  double x = 0, y = 0;
  if (c->truth.position_at) c->truth.position_at(c->truth.ctx, exposure, &x, &y);
  int rc = pv_scene_render(c->scene, x, y, id, c->p.format,
                           into->data, c->p.width, c->p.height, c->p.width);
  if (rc != PV_OK) return PV_EFATAL;
  c->delivered++;
  into->width = c->p.width;
  into->height = c->p.height;
  into->stride = c->p.width;
  into->format = c->p.format;
  into->size = size;
  into->exposure_ns = exposure;
  into->time = PV_FRAME_TIME_TRUTH;
  into->frame_id = id;
  into->trigger = 0;
  into->has_truth = c->truth.position_at != NULL;
  into->truth_x_um = x;
  into->truth_y_um = y;
  return PV_OK;
}

/* The per-frame faults of a frame due at `start`, one draw each: lost
 * (PV_ETIMEDOUT once the grab's timeout has passed), incomplete
 * (PV_EINCOMPLETE at start), or PV_OK at start. */
static int frame_faults(sim_camera *c, int64_t now, int64_t timeout_ns, int64_t start) {
  double u = pv_rng_uniform(&c->rng);
  if (u < c->p.fault_nodata) {
    sleep_until(now + timeout_ns);
    return PV_ETIMEDOUT;
  }
  sleep_until(start);
  return u < c->p.fault_nodata + c->p_incomplete ? PV_EINCOMPLETE : PV_OK;
}

/* Software trigger mode (see the file comment). */
static int grab_triggered(sim_camera *c, pv_frame *into, int64_t now, int64_t timeout_ns) {
  if (c->pending_n == 0) {
    sleep_until(now + timeout_ns);
    return PV_ETIMEDOUT;
  }
  int64_t fired = c->pending[c->pending_head];
  c->pending_head = (c->pending_head + 1) % PV__SIM_PENDING_MAX;
  c->pending_n--;
  int64_t start = fired + (int64_t)(c->p.trigger_latency_us * 1e3 * c->p.speed);
  uint64_t id = ++c->frame_seed;
  record(c, id, fired, start);
  int rc = frame_faults(c, now, timeout_ns, start); /* lost: a lost trigger */
  return rc == PV_OK ? deliver(c, into, id, start) : rc;
}

static int sim_grab(void *self, pv_frame *into, int timeout_ms) {
  sim_camera *c = self;
  if (!c->streaming) return PV_EFATAL;
  int64_t now = pv_now_ns();
  int64_t timeout_ns = (int64_t)((double)timeout_ms * c->p.speed * 1e6);
  if (timeout_ns < PV__SIM_MIN_NODATA_MS * PV_NS_PER_MS)
    timeout_ns = PV__SIM_MIN_NODATA_MS * PV_NS_PER_MS;
  int rc = once_faults(c, now, timeout_ns);
  if (rc == PV_ETIMEDOUT && c->software) c->pending_n = 0; /* stalled: swallowed */
  if (rc != PV_OK) return rc;
  if (c->software) return grab_triggered(c, into, now, timeout_ns);
  if (c->next_ns + c->period_ns < now) c->next_ns = now; /* fell behind */
  if (c->next_ns - now > timeout_ns) { /* the frame comes too late */
    sleep_until(now + timeout_ns);
    return PV_ETIMEDOUT;
  }
  int64_t start = c->next_ns;
  c->next_ns += c->period_ns;
  rc = frame_faults(c, now, timeout_ns, start);
  if (rc != PV_OK) return rc;
  int64_t exposure = pv_now_ns();
  uint64_t id = ++c->frame_seed;
  record(c, id, 0, exposure);
  return deliver(c, into, id, exposure);
}

static int sim_stop(void *self) {
  sim_camera *c = self;
  c->streaming = 0;
  c->pending_n = 0;
  return PV_OK;
}

static void sim_close(void *self) {
  sim_camera *c = self;
  c->streaming = 0;
  c->open = 0;
}

static void sim_destroy(void *self) {
  sim_camera *c = self;
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static const pv_camera_driver sim_driver = {
    .name = "sim",
    .open = sim_open,
    .start = sim_start,
    .grab = sim_grab,
    .stop = sim_stop,
    .trigger = sim_trigger,
    .close = sim_close,
    .get_stats = NULL,
    .destroy = sim_destroy,
};

int pv_sim_camera_new(const pv_sim_camera_params *p, const pv_scene *scene,
                      pv_truth_source truth, const pv_camera_driver **drv,
                      void **self) {
  *drv = NULL;
  *self = NULL;
  pv_sim_camera_params def;
  if (p == NULL) {
    pv_sim_camera_params_default(&def);
    p = &def;
  }
  if (scene == NULL || p->width < 2 || p->height < 2 ||
      p->width > PV_IMAGE_MAX_DIM || p->height > PV_IMAGE_MAX_DIM ||
      !(p->fps >= 0 && isfinite(p->fps)) || p->speed < 0 || p->format < 0 ||
      p->format >= PV_PIXFMT_COUNT || !(p->packet_loss >= 0 && p->packet_loss <= 1000) ||
      !(p->stall_s >= 0 && p->stall_s <= 3600) ||
      !(p->disconnect_s >= 0 && p->disconnect_s <= 3600) ||
      !(p->trigger_latency_us >= 0 && p->trigger_latency_us <= 1e6))
    return PV_EINVAL;
  sim_camera *c = calloc(1, sizeof *c);
  if (c == NULL) return PV_ENOMEM;
  pthread_mutex_init(&c->mu, NULL);
  c->p = *p;
  c->scene = scene;
  c->truth = truth;
  c->rng = p->seed;
  c->period_ns = p->fps > 0 ? (int64_t)(p->speed / p->fps * 1e9) : 0;
  double packets = ceil((double)p->width * p->height / PV_SIM_CAMERA_PACKET_BYTES);
  c->p_incomplete = p->fault_incomplete + (1.0 - pow(1.0 - p->packet_loss / 1000.0, packets));
  if (c->p_incomplete > 1) c->p_incomplete = 1;
  c->next_fault_frame = fault_frames(p->fps);
  *drv = &sim_driver;
  *self = c;
  return PV_OK;
}
