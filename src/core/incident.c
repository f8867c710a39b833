/* Incidents: one process-wide handler behind a mutex, and the ring of
 * recoveries.
 *
 * pv_incident_raise formats on the caller's stack, logs at WARN and calls
 * the handler while holding `lock`, so pv_incident_set_handler can promise
 * that no call of the old handler is still running when it returns (the
 * owner of ctx may then free it). The handler only queues work, and the
 * WARN line only enters the log writer's queue (pv_log never writes the
 * stream itself), so nothing here waits on I/O and the lock is held for
 * microseconds: the camera thread may raise incidents.
 *
 * Recoveries (pv_incident_recovered) go to a static ring of
 * PV_INCIDENT_RECOVERY_RING records under `rec_lock` (held only to copy one
 * record): rec_total counts every record ever written, slot rec_total % RING
 * is the next. Summaries and messages are formatted in the "C" locale: they
 * end up in reports.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "probevision/core.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pv_incident_fn handler;   /* under lock */
static void *handler_ctx;        /* under lock */

void pv_incident_set_handler(pv_incident_fn fn, void *ctx) {
  pthread_mutex_lock(&lock);
  handler = fn;
  handler_ctx = ctx;
  pthread_mutex_unlock(&lock);
}

void pv_incident_raise(const char *cause, const char *fmt, ...) {
  char summary[PV_INCIDENT_SUMMARY_MAX];
  va_list ap;
  va_start(ap, fmt);
  pv_vsnprintf_c(summary, sizeof summary, fmt, ap);
  va_end(ap);
  if (cause == NULL || cause[0] == '\0') cause = "unknown";
  pv_warn("incident (%s): %s", cause, summary);
  pthread_mutex_lock(&lock);
  if (handler != NULL) handler(handler_ctx, cause, summary);
  pthread_mutex_unlock(&lock);
}

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static pv_incident_recovery rec_ring[PV_INCIDENT_RECOVERY_RING]; /* under rec_lock */
static uint64_t rec_total;                                       /* under rec_lock */

void pv_incident_recovered(const char *cause, const char *fmt, ...) {
  pv_incident_recovery r;
  r.mono_ns = pv_now_ns();
  r.wall_ns = pv_wall_ns();
  if (cause == NULL || cause[0] == '\0') cause = "unknown";
  snprintf(r.cause, sizeof r.cause, "%s", cause);
  va_list ap;
  va_start(ap, fmt);
  pv_vsnprintf_c(r.msg, sizeof r.msg, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&rec_lock);
  rec_ring[rec_total % PV_INCIDENT_RECOVERY_RING] = r;
  rec_total++;
  pthread_mutex_unlock(&rec_lock);
  pv_info("%s", r.msg);
}

int pv_incident_find_recovery(const char *cause, int64_t since_mono_ns,
                              pv_incident_recovery *out) {
  if (cause == NULL) return 0;
  int found = 0;
  pthread_mutex_lock(&rec_lock);
  uint64_t n = rec_total < PV_INCIDENT_RECOVERY_RING ? rec_total : PV_INCIDENT_RECOVERY_RING;
  for (uint64_t i = rec_total - n; i < rec_total && !found; i++) { /* oldest first */
    const pv_incident_recovery *r = &rec_ring[i % PV_INCIDENT_RECOVERY_RING];
    if (r->mono_ns >= since_mono_ns && strcmp(r->cause, cause) == 0) {
      if (out != NULL) *out = *r;
      found = 1;
    }
  }
  pthread_mutex_unlock(&rec_lock);
  return found;
}
