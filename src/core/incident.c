/* Incidents: one process-wide handler behind a mutex.
 *
 * pv_incident_raise formats on the caller's stack, logs at WARN and calls
 * the handler while holding `lock`, so pv_incident_set_handler can promise
 * that no call of the old handler is still running when it returns (the
 * owner of ctx may then free it). The handler only queues work, so the
 * lock is held for microseconds.
 */
#include <pthread.h>
#include <stdio.h>

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
  vsnprintf(summary, sizeof summary, fmt, ap);
  va_end(ap);
  if (cause == NULL || cause[0] == '\0') cause = "unknown";
  pv_warn("incident (%s): %s", cause, summary);
  pthread_mutex_lock(&lock);
  if (handler != NULL) handler(handler_ctx, cause, summary);
  pthread_mutex_unlock(&lock);
}
