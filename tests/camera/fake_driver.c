/* The scripted fake camera driver (see fake_driver.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_driver.h"

fake_driver *fake_new(int width, int height) {
  fake_driver *f = calloc(1, sizeof *f);
  pthread_mutex_init(&f->mu, NULL);
  f->width = width;
  f->height = height;
  f->ok_sleep_us = 300;
  f->creator_tid = gettid();
  return f;
}

void fake_free(fake_driver *f) {
  if (f == NULL) return;
  pthread_mutex_destroy(&f->mu);
  free(f);
}

void fake_script_grabs(fake_driver *f, const int *results, int n) {
  pthread_mutex_lock(&f->mu);
  memcpy(f->grab_results, results, (size_t)n * sizeof *results);
  f->grab_len = n;
  f->grab_pos = 0;
  pthread_mutex_unlock(&f->mu);
}

void fake_script_opens(fake_driver *f, const int *results, int n) {
  pthread_mutex_lock(&f->mu);
  memcpy(f->open_results, results, (size_t)n * sizeof *results);
  f->open_len = n;
  f->open_pos = 0;
  pthread_mutex_unlock(&f->mu);
}

void fake_script_starts(fake_driver *f, const int *results, int n) {
  pthread_mutex_lock(&f->mu);
  memcpy(f->start_results, results, (size_t)n * sizeof *results);
  f->start_len = n;
  f->start_pos = 0;
  pthread_mutex_unlock(&f->mu);
}

void fake_script_triggers(fake_driver *f, const int *kinds, int n) {
  pthread_mutex_lock(&f->mu);
  memcpy(f->trig_script, kinds, (size_t)n * sizeof *kinds);
  f->trig_len = n;
  f->trig_pos = 0;
  pthread_mutex_unlock(&f->mu);
}

void fake_snapshot(fake_driver *f, fake_driver *out) {
  pthread_mutex_lock(&f->mu);
  *out = *f;
  pthread_mutex_unlock(&f->mu);
}

/* Caller holds mu. */
static void check_thread(fake_driver *f) {
  pid_t me = gettid();
  if (f->driver_tid == 0) f->driver_tid = me;
  if (me != f->driver_tid || me == f->creator_tid) f->wrong_thread++;
}

static int fake_open(void *self, pv_camera_info *info, pv_error *err) {
  fake_driver *f = self;
  pv_acquisition asked = info->acquisition;
  pthread_mutex_lock(&f->mu);
  check_thread(f);
  if (f->is_open) f->bad_order++;
  if (f->opens < FAKE_OPENS_MAX) f->open_times[f->opens] = pv_now_ns();
  f->opens++;
  int rc = f->open_pos < f->open_len ? f->open_results[f->open_pos++] : PV_OK;
  if (rc == PV_OK) {
    f->opened++;
    f->is_open = 1;
    memset(info, 0, sizeof *info);
    info->width = f->width;
    info->height = f->height;
    info->format = PV_PIXFMT_MONO8;
    info->payload = (size_t)f->width * (size_t)f->height;
    snprintf(info->model, sizeof info->model, "fake");
    info->simulated_clock = f->simulated_clock;
    info->time_scale = f->time_scale;
    f->software = f->trigger_mode && asked != PV_ACQUISITION_CONTINUOUS;
    info->can_trigger = f->trigger_mode;
    if (f->software) info->acquisition = PV_ACQUISITION_SOFTWARE;
  }
  pthread_mutex_unlock(&f->mu);
  if (rc != PV_OK) pv_error_set(err, rc, "fake: open failed (scripted)");
  return rc;
}

static int fake_start(void *self) {
  fake_driver *f = self;
  pthread_mutex_lock(&f->mu);
  check_thread(f);
  if (!f->is_open || f->streaming) f->bad_order++;
  f->starts++;
  int rc = f->start_pos < f->start_len ? f->start_results[f->start_pos++] : PV_OK;
  f->streaming = rc == PV_OK;
  for (; f->streaming && f->leftover_at_start > 0; f->leftover_at_start--) {
    uint64_t id = ++f->next_id;
    if (id < FAKE_IDS_MAX) f->id_kind[id] = FAKE_LEFTOVER;
    if (f->queue_n < FAKE_QUEUE_MAX) f->queue[f->queue_n++] = id;
  }
  pthread_mutex_unlock(&f->mu);
  return rc;
}

static void fill(fake_driver *f, pv_frame *into, uint8_t pattern) {
  size_t size = (size_t)f->width * (size_t)f->height;
  memset(into->data, pattern, size);
  into->width = f->width;
  into->height = f->height;
  into->stride = f->width;
  into->format = PV_PIXFMT_MONO8;
  into->size = size;
  into->exposure_ns = pv_now_ns();
  into->time = PV_FRAME_TIME_HOST;
  into->frame_id = 0;
  into->trigger = 0;
  into->has_truth = 0;
}

static void enqueue(fake_driver *f, uint64_t id) {
  if (f->queue_n < FAKE_QUEUE_MAX) f->queue[f->queue_n++] = id;
}

/* Software mode: the next queued frame, or a timeout (capped at 50 ms). */
static int grab_triggered(fake_driver *f, pv_frame *into, int timeout_ms) {
  pthread_mutex_lock(&f->mu);
  check_thread(f);
  if (!f->streaming) f->bad_order++;
  f->grabs++;
  uint64_t id = 0;
  if (f->queue_n > 0) {
    id = f->queue[0];
    memmove(f->queue, f->queue + 1, (size_t)--f->queue_n * sizeof *f->queue);
  }
  int kind = id > 0 && id < FAKE_IDS_MAX ? f->id_kind[id] : FAKE_T_OK;
  int64_t fired = id > 0 && id < FAKE_IDS_MAX ? f->fired_at[id] : 0;
  if (id > 0 && kind != FAKE_T_INCOMPLETE) {
    f->good++;
    if (f->delivered_n < FAKE_IDS_MAX) f->delivered_ids[f->delivered_n++] = id;
  }
  pthread_mutex_unlock(&f->mu);
  if (id == 0) {
    usleep((useconds_t)(timeout_ms < 50 ? timeout_ms : 50) * 1000);
    return PV_ETIMEDOUT;
  }
  if (kind == FAKE_T_INCOMPLETE) return PV_EINCOMPLETE;
  if (into->capacity < (size_t)f->width * (size_t)f->height) return PV_EFATAL;
  fill(f, into, (uint8_t)id);
  into->frame_id = id;
  /* exposed just after its fire; a leftover long before anything */
  into->exposure_ns = fired > 0 ? fired + 1000 : pv_now_ns() - PV_NS_PER_S;
  return PV_OK;
}

static int fake_trigger(void *self) {
  fake_driver *f = self;
  pthread_mutex_lock(&f->mu);
  check_thread(f);
  int rc = PV_OK;
  if (!f->streaming || !f->software) {
    f->bad_order++;
    rc = PV_EFATAL;
  } else {
    f->triggers++;
    int kind = f->trig_pos < f->trig_len ? f->trig_script[f->trig_pos++] : FAKE_T_OK;
    uint64_t id = ++f->next_id;
    if (id < FAKE_IDS_MAX) {
      f->fired_at[id] = pv_now_ns();
      f->id_kind[id] = kind;
    }
    for (int i = 0; i < f->late_n; i++) enqueue(f, f->late[i]); /* they come first */
    f->late_n = 0;
    if (kind == FAKE_T_OK || kind == FAKE_T_DUP || kind == FAKE_T_INCOMPLETE) enqueue(f, id);
    if ((kind == FAKE_T_LATE || kind == FAKE_T_DUP) && f->late_n < FAKE_QUEUE_MAX)
      f->late[f->late_n++] = id;
  }
  pthread_mutex_unlock(&f->mu);
  return rc;
}

static int fake_grab(void *self, pv_frame *into, int timeout_ms) {
  fake_driver *f = self;
  if (f->software) return grab_triggered(f, into, timeout_ms);
  pthread_mutex_lock(&f->mu);
  check_thread(f);
  if (!f->streaming) f->bad_order++;
  f->grabs++;
  int rc = f->grab_pos < f->grab_len ? f->grab_results[f->grab_pos++] : PV_OK;
  int sleep_us = f->ok_sleep_us;
  uint8_t pattern = ++f->pattern;
  if (rc == PV_OK) f->good++;
  pthread_mutex_unlock(&f->mu);
  usleep(rc == PV_OK ? (useconds_t)sleep_us : 1000);
  if (rc != PV_OK) return rc;
  if (into->capacity < (size_t)f->width * (size_t)f->height) return PV_EFATAL;
  fill(f, into, pattern);
  return PV_OK;
}

static int fake_stop(void *self) {
  fake_driver *f = self;
  pthread_mutex_lock(&f->mu);
  check_thread(f);
  if (!f->streaming) f->bad_order++;
  f->stops++;
  f->streaming = 0;
  f->queue_n = 0; /* undelivered frames are dropped */
  f->late_n = 0;
  pthread_mutex_unlock(&f->mu);
  return PV_OK;
}

static void fake_close(void *self) {
  fake_driver *f = self;
  pthread_mutex_lock(&f->mu);
  check_thread(f);
  if (!f->is_open || f->streaming) f->bad_order++;
  f->closes++;
  f->is_open = 0;
  pthread_mutex_unlock(&f->mu);
}

static void fake_destroy(void *self) {
  fake_driver *f = self;
  pthread_mutex_lock(&f->mu);
  f->destroyed = 1;
  pthread_mutex_unlock(&f->mu);
}

const pv_camera_driver fake_driver_table = {
    .name = "fake",
    .open = fake_open,
    .start = fake_start,
    .grab = fake_grab,
    .stop = fake_stop,
    .trigger = fake_trigger,
    .close = fake_close,
    .get_stats = NULL,
    .destroy = fake_destroy,
};
