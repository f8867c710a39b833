/* Logging front end and the flight recorder.
 *
 * Every log call formats one event on the caller's stack and, under the
 * recorder's lock (held for a copy, never across I/O), stores it in the
 * fixed ring (a static array: logging never allocates) and, at or above the
 * minimum level, hands it to the log writer (log_writer.c), which alone
 * writes the log stream. Handing it over under the same lock keeps the
 * stream in the recorder's order.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log_internal.h"
#include "probevision/core.h"

static pthread_mutex_t pv__log_lock = PTHREAD_MUTEX_INITIALIZER;
static pv_log_level pv__log_min = PV_LOG_INFO;
static pv_event pv__ring[PV_EVENT_RING_SIZE];
static uint64_t pv__ring_total; /* events ever recorded; next slot = total % size */
static pthread_once_t pv__ring_once = PTHREAD_ONCE_INIT;

/* The ring is backed from the first event on, not page by page later. */
static void pv__ring_prefault(void) { pv_prefault(pv__ring, sizeof pv__ring); }

static const char *const pv__level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

const char *pv_log_level_name(pv_log_level level) {
  if ((unsigned)level > PV_LOG_ERROR) return "?";
  return pv__level_names[level];
}

int pv_log_level_parse(const char *s) {
  static const char *const names[] = {"debug", "info", "warn", "error"};
  for (int i = 0; i < 4; i++)
    if (strcasecmp(s, names[i]) == 0) return i;
  if (strcasecmp(s, "warning") == 0) return PV_LOG_WARN;
  return -1;
}

void pv_log_set_level(pv_log_level min) { pv__log_min = min; }

size_t pv__log_format(char *buf, size_t cap, int64_t wall_ns, pv_log_level level,
                      const char *msg) {
  if (cap < 2) {
    if (cap == 1) buf[0] = '\0';
    return 0;
  }
  char stamp[20];
  pv_format_wall(wall_ns, stamp);
  int n = snprintf(buf, cap, "[%s] [%s] %s\n", stamp, pv_log_level_name(level), msg);
  if (n < 0) n = 0;
  if ((size_t)n >= cap) {
    n = (int)cap - 1;
    buf[n - 1] = '\n';
  }
  return (size_t)n;
}

static void pv__record_locked(const pv_event *ev) {
  pv__ring[pv__ring_total % PV_EVENT_RING_SIZE] = *ev;
  pv__ring_total++;
}

void pv__events_record(pv_log_level level, const char *msg) {
  pv_event ev;
  ev.mono_ns = pv_now_ns();
  ev.wall_ns = pv_wall_ns();
  ev.level = level;
  snprintf(ev.thread, sizeof ev.thread, "%s", pv_thread_name());
  snprintf(ev.msg, sizeof ev.msg, "%s", msg);
  pthread_once(&pv__ring_once, pv__ring_prefault);
  pthread_mutex_lock(&pv__log_lock);
  pv__record_locked(&ev);
  pthread_mutex_unlock(&pv__log_lock);
}

void pv_logv(pv_log_level level, const char *fmt, va_list ap) {
  pv_event ev;
  ev.mono_ns = pv_now_ns();
  ev.wall_ns = pv_wall_ns();
  ev.level = level;
  snprintf(ev.thread, sizeof ev.thread, "%s", pv_thread_name());
  pv_vsnprintf_c(ev.msg, sizeof ev.msg, fmt, ap);
  pthread_once(&pv__ring_once, pv__ring_prefault);
  pthread_mutex_lock(&pv__log_lock);
  pv__record_locked(&ev);
  if (level >= pv__log_min) pv__log_enqueue(level, ev.wall_ns, ev.msg);
  pthread_mutex_unlock(&pv__log_lock);
}

void pv_log(pv_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pv_logv(level, fmt, ap);
  va_end(ap);
}

int pv_events_snapshot(pv_event *out, int max) {
  pthread_mutex_lock(&pv__log_lock);
  uint64_t total = pv__ring_total;
  uint64_t avail = total < PV_EVENT_RING_SIZE ? total : PV_EVENT_RING_SIZE;
  uint64_t n = (uint64_t)(max < 0 ? 0 : max);
  if (n > avail) n = avail;
  for (uint64_t i = 0; i < n; i++)
    out[i] = pv__ring[(total - n + i) % PV_EVENT_RING_SIZE];
  pthread_mutex_unlock(&pv__log_lock);
  return (int)n;
}

uint64_t pv_events_total(void) {
  pthread_mutex_lock(&pv__log_lock);
  uint64_t t = pv__ring_total;
  pthread_mutex_unlock(&pv__log_lock);
  return t;
}
