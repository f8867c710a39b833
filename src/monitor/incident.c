/* The monitor's incident queue: a fixed array of PV_INCIDENT_QUEUE pending
 * reports, filled by the core incident handler on any thread and drained by
 * the monitor thread.
 *
 * The handler (on_incident) runs under the core's incident lock and only
 * asks the monitor's fill callback for the point in progress (so the report
 * names the point of the incident, not of the moment it is written),
 * copies cause, summary and point into a free slot under `lock` and wakes
 * the monitor: no I/O, no allocation. A full queue drops the incident and
 * counts it; the next report says how many were lost. Reports are written
 * in raise order once due (raise + PV_INCIDENT_DELAY_MS) or, at stop, all
 * at once. Slots are a FIFO ring: head is the oldest, count the number in
 * use; all under `lock`. Lock order: monitor lock, then this lock.
 *
 * One fault escalates in steps (timeouts, restart, restart...) within
 * seconds: an incident of the same cause as the newest pending one, raised
 * while that one still waits for its report (and is not being written),
 * joins it as a repeat, so one stall gives one report whose timeline shows
 * every step.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "monitor_internal.h"

typedef struct pending {
  char cause[PV_INCIDENT_CAUSE_MAX];
  char summary[PV_INCIDENT_SUMMARY_MAX];
  int64_t mono_ns, wall_ns;
  int point, points; /* at the raise, from the fill callback (points -1: unknown) */
  int repeats;       /* later incidents merged into this one */
} pending;

struct pv__incidents {
  pv_monitor *m;
  char dir[4096];
  pthread_mutex_t lock;
  pending slot[PV_INCIDENT_QUEUE]; /* under lock */
  int head, count;                 /* under lock */
  int servicing;                   /* under lock: the head is being written */
  uint64_t written, dropped;       /* under lock */
  uint64_t dropped_reported;       /* monitor thread only */
};

static void on_incident(void *ctx, const char *cause, const char *summary) {
  pv__incidents *q = ctx;
  int64_t mono = pv_now_ns(), wall = pv_wall_ns();
  pv_monitor_sample at = {.points = -1};
  pv__monitor_fill(q->m, &at); /* outside q->lock: the callback takes its own locks */
  pthread_mutex_lock(&q->lock);
  pending *newest = q->count > 0 ? &q->slot[(q->head + q->count - 1) % PV_INCIDENT_QUEUE] : NULL;
  if (newest != NULL && !(q->servicing && q->count == 1) && strcmp(newest->cause, cause) == 0) {
    newest->repeats++;
    pthread_mutex_unlock(&q->lock);
    return;
  }
  int queued = q->count < PV_INCIDENT_QUEUE;
  if (queued) {
    pending *p = &q->slot[(q->head + q->count) % PV_INCIDENT_QUEUE];
    snprintf(p->cause, sizeof p->cause, "%s", cause);
    snprintf(p->summary, sizeof p->summary, "%s", summary);
    p->mono_ns = mono;
    p->wall_ns = wall;
    p->point = at.point;
    p->points = at.points;
    p->repeats = 0;
    q->count++;
  } else {
    q->dropped++;
  }
  pthread_mutex_unlock(&q->lock);
  if (queued) pv__monitor_kick(q->m);
}

int pv_monitor_enable_incidents(pv_monitor *m, const char *dir) {
  if (m == NULL) return PV_EINVAL;
  if (pv__monitor_incidents(m) != NULL) return PV_EBUSY;
  pv__incidents *q = calloc(1, sizeof *q);
  if (q == NULL) return PV_ENOMEM;
  q->m = m;
  snprintf(q->dir, sizeof q->dir, "%s", dir && dir[0] ? dir : ".");
  pthread_mutex_init(&q->lock, NULL);
  mkdir(q->dir, 0755); /* one level, so a report can go to a fresh folder */
  pv__monitor_attach_incidents(m, q);
  pv_incident_set_handler(on_incident, q);
  pv_info("incident reports: %s", q->dir);
  return PV_OK;
}

void pv_monitor_incident_counts(pv_monitor *m, uint64_t *written, uint64_t *dropped) {
  pv__incidents *q = m ? pv__monitor_incidents(m) : NULL;
  uint64_t w = 0, d = 0;
  if (q != NULL) {
    pthread_mutex_lock(&q->lock);
    w = q->written, d = q->dropped;
    pthread_mutex_unlock(&q->lock);
  }
  if (written) *written = w;
  if (dropped) *dropped = d;
}

int64_t pv__incidents_next_due(pv__incidents *q) {
  pthread_mutex_lock(&q->lock);
  int64_t due = q->count > 0 ? q->slot[q->head].mono_ns + PV_INCIDENT_DELAY_MS * PV_NS_PER_MS
                             : INT64_MAX;
  pthread_mutex_unlock(&q->lock);
  return due;
}

void pv__incidents_service(pv__incidents *q, pv_monitor *m, int all) {
  for (;;) {
    pending p;
    uint64_t dropped;
    pthread_mutex_lock(&q->lock);
    int due = q->count > 0 &&
              (all || pv_now_ns() >= q->slot[q->head].mono_ns +
                                         PV_INCIDENT_DELAY_MS * PV_NS_PER_MS);
    if (due) {
      p = q->slot[q->head];
      q->servicing = 1;
    }
    dropped = q->dropped;
    pthread_mutex_unlock(&q->lock);
    if (!due) return;

    char summary[PV_INCIDENT_SUMMARY_MAX + 192];
    uint64_t lost = dropped - q->dropped_reported;
    int n = snprintf(summary, sizeof summary, "%s", p.summary);
    if (p.repeats > 0 && n >= 0 && (size_t)n < sizeof summary)
      n += snprintf(summary + n, sizeof summary - (size_t)n,
                    " (then %d more escalation(s) before this report: see the timeline)",
                    p.repeats);
    if (lost > 0 && n >= 0 && (size_t)n < sizeof summary)
      snprintf(summary + n, sizeof summary - (size_t)n,
               " (and %" PRIu64 " earlier incident(s) not reported: queue full)", lost);
    q->dropped_reported = dropped;
    char path[4200];
    pv_error err = {""};
    int rc = pv__incident_write_report(q->dir, m, p.cause, summary, p.mono_ns, p.wall_ns,
                                       p.point, p.points, path, sizeof path, &err);
    if (rc == PV_OK) pv_warn("incident report written: %s", path);
    else pv_error("incident report not written: %s", err.msg);

    pthread_mutex_lock(&q->lock); /* pop after writing: the slot was copied */
    q->head = (q->head + 1) % PV_INCIDENT_QUEUE;
    q->count--;
    q->servicing = 0;
    if (rc == PV_OK) q->written++;
    pthread_mutex_unlock(&q->lock);
  }
}

void pv__incidents_free(pv__incidents *q) {
  if (q == NULL) return;
  pthread_mutex_destroy(&q->lock);
  free(q);
}
