/* The monitor thread and its sample ring.
 *
 * States: running (thread waits on `wake` until the next deadline, then
 * samples) -> stopping (stop flag set under `lock`, `wake` signalled; the
 * thread sees it at once and exits) -> joined and freed. The wait is a timed
 * wait on a CLOCK_MONOTONIC condition variable, so stop never waits out an
 * interval. Deadlines are start + k * interval, so lines do not drift.
 * Invariants: the ring (PV_MONITOR_RING samples, allocated at start) and
 * `total` change only under `lock`; slot total % RING is the next one
 * written. The fill callback and logging run outside `lock`, so a slow
 * callback never blocks readers of the ring.
 * Incidents (incident.c): when enabled, the thread also wakes when a queued
 * incident report falls due (or when `kick` is set) and writes it outside
 * `lock`; at stop it writes every report still queued before exiting.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor_internal.h"
#include "probevision/monitor.h"

struct pv_monitor {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int stop;    /* under lock */
  int started; /* under lock: the thread has named itself */
  int64_t interval_ns;
  pv_monitor_fill_fn fill;
  void *ctx;
  pv_monitor_sample *ring; /* PV_MONITOR_RING, under lock */
  uint64_t total;          /* samples ever recorded, under lock */
  pv__incidents *inc;      /* set once under lock; NULL: disabled */
  int kick;                /* under lock: an incident was queued */
};

void pv__monitor_attach_incidents(pv_monitor *m, pv__incidents *q) {
  pthread_mutex_lock(&m->lock);
  m->inc = q;
  pthread_mutex_unlock(&m->lock);
}

pv__incidents *pv__monitor_incidents(pv_monitor *m) {
  pthread_mutex_lock(&m->lock);
  pv__incidents *q = m->inc;
  pthread_mutex_unlock(&m->lock);
  return q;
}

void pv__monitor_kick(pv_monitor *m) {
  pthread_mutex_lock(&m->lock);
  m->kick = 1;
  pthread_cond_broadcast(&m->wake);
  pthread_mutex_unlock(&m->lock);
}

int pv__monitor_fill(pv_monitor *m, pv_monitor_sample *s) {
  if (m->fill == NULL) return 0;
  m->fill(m->ctx, s);
  return 1;
}

void pv_monitor_format(const pv_monitor_sample *s, char *buf, size_t cap) {
  const double mb = 1024.0 * 1024.0;
  double pct = s->ram_bytes ? 100.0 * (double)s->rss_bytes / (double)s->ram_bytes : 0.0;
  snprintf(buf, cap,
           "mem: RSS %.1f MB (%.2f%%) | peak %.1f MB | frames %llu (%.1f fps) "
           "dropped %llu | camera errors %llu | point %d/%d",
           (double)s->rss_bytes / mb, pct, (double)s->peak_bytes / mb,
           (unsigned long long)s->frames, s->fps, (unsigned long long)s->dropped,
           (unsigned long long)s->camera_errors, s->point, s->points);
}

static void take_sample(pv_monitor *m, pv_monitor_sample *s) {
  memset(s, 0, sizeof *s);
  s->mono_ns = pv_now_ns();
  s->wall_ns = pv_wall_ns();
  pv_mem_usage(&s->rss_bytes, &s->peak_bytes, &s->ram_bytes);
  if (m->fill != NULL) m->fill(m->ctx, s);
}

static void record(pv_monitor *m, const pv_monitor_sample *s) {
  pthread_mutex_lock(&m->lock);
  m->ring[m->total % PV_MONITOR_RING] = *s;
  m->total++;
  pthread_mutex_unlock(&m->lock);
}

static struct timespec to_timespec(int64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / PV_NS_PER_S),
                        .tv_nsec = (long)(ns % PV_NS_PER_S)};
  return ts;
}

static void *monitor_main(void *arg) {
  pv_monitor *m = arg;
  pv_thread_set_name("monitor");
  pthread_mutex_lock(&m->lock);
  m->started = 1;
  pthread_cond_broadcast(&m->wake);
  int64_t deadline = pv_now_ns();
  for (;;) {
    deadline += m->interval_ns;
    int64_t now = pv_now_ns();
    if (deadline < now) deadline = now; /* fell behind: do not burst */
    for (;;) { /* until the sample is due: write incident reports as they fall due */
      int64_t due = m->inc ? pv__incidents_next_due(m->inc) : INT64_MAX;
      int64_t until = due < deadline ? due : deadline;
      struct timespec ts = to_timespec(until);
      while (!m->stop && !m->kick && pv_now_ns() < until)
        pthread_cond_timedwait(&m->wake, &m->lock, &ts);
      m->kick = 0;
      if (m->stop || pv_now_ns() >= deadline) break;
      pv__incidents *q = m->inc;
      pthread_mutex_unlock(&m->lock);
      if (q) pv__incidents_service(q, m, 0);
      pthread_mutex_lock(&m->lock);
    }
    if (m->stop) break;
    pthread_mutex_unlock(&m->lock);

    pv_monitor_sample s;
    char line[PV_EVENT_MSG_MAX];
    take_sample(m, &s);
    record(m, &s);
    pv_monitor_format(&s, line, sizeof line);
    pv_info("%s", line);

    pthread_mutex_lock(&m->lock);
  }
  pv__incidents *q = m->inc;
  pthread_mutex_unlock(&m->lock);
  if (q) pv__incidents_service(q, m, 1); /* at stop: write what is queued */
  return NULL;
}

int pv_monitor_start(double interval_s, pv_monitor_fill_fn fill, void *ctx,
                     pv_monitor **out) {
  if (out == NULL || !isfinite(interval_s) || interval_s <= 0 || interval_s > 1e6)
    return PV_EINVAL;
  *out = NULL;
  pv_monitor *m = calloc(1, sizeof *m);
  if (m == NULL) return PV_ENOMEM;
  m->ring = calloc(PV_MONITOR_RING, sizeof *m->ring);
  m->interval_ns = (int64_t)(interval_s * (double)PV_NS_PER_S);
  if (m->interval_ns < 1) m->interval_ns = 1;
  m->fill = fill;
  m->ctx = ctx;
  pthread_condattr_t attr;
  int ok = m->ring != NULL && pthread_condattr_init(&attr) == 0;
  if (ok) {
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&m->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&m->lock, NULL);
    if (pthread_create(&m->thread, NULL, monitor_main, m) != 0) {
      pthread_cond_destroy(&m->wake);
      pthread_mutex_destroy(&m->lock);
      ok = 0;
    }
  }
  if (!ok) {
    free(m->ring);
    free(m);
    return PV_ENOMEM;
  }
  pthread_mutex_lock(&m->lock);
  while (!m->started) pthread_cond_wait(&m->wake, &m->lock);
  pthread_mutex_unlock(&m->lock);
  *out = m;
  return PV_OK;
}

int pv_monitor_samples(pv_monitor *m, pv_monitor_sample *out, int max) {
  if (m == NULL || out == NULL || max <= 0) return 0;
  pthread_mutex_lock(&m->lock);
  uint64_t avail = m->total < PV_MONITOR_RING ? m->total : PV_MONITOR_RING;
  uint64_t n = (uint64_t)max < avail ? (uint64_t)max : avail;
  for (uint64_t i = 0; i < n; i++)
    out[i] = m->ring[(m->total - n + i) % PV_MONITOR_RING];
  pthread_mutex_unlock(&m->lock);
  return (int)n;
}

int pv_monitor_sample_now(pv_monitor *m, pv_monitor_sample *out) {
  if (m == NULL) return PV_EINVAL;
  pv_monitor_sample s;
  take_sample(m, &s);
  record(m, &s);
  if (out != NULL) *out = s;
  return PV_OK;
}

void pv_monitor_stop(pv_monitor *m) {
  if (m == NULL) return;
  if (pv__monitor_incidents(m) != NULL) pv_incident_set_handler(NULL, NULL);
  pthread_mutex_lock(&m->lock);
  m->stop = 1;
  pthread_cond_broadcast(&m->wake);
  pthread_mutex_unlock(&m->lock);
  pthread_join(m->thread, NULL);
  pthread_cond_destroy(&m->wake);
  pthread_mutex_destroy(&m->lock);
  pv__incidents_free(m->inc);
  free(m->ring);
  free(m);
}
