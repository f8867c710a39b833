/* Logging and the flight recorder.
 *
 * Every log call formats one event into the fixed ring (a static array:
 * logging never allocates) and, at or above the minimum level, writes one
 * whole line "[stamp] [LEVEL] message" to the log stream with one fwrite
 * under the lock, so lines from different threads never interleave.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "probevision/core.h"

static pthread_mutex_t pv__log_lock = PTHREAD_MUTEX_INITIALIZER;
static pv_log_level pv__log_min = PV_LOG_INFO;
static FILE *pv__log_stream; /* NULL: stderr */
static pv_event pv__ring[PV_EVENT_RING_SIZE];
static uint64_t pv__ring_total; /* events ever recorded; next slot = total % size */

/* The terminal's status line (a progress bar), redrawn under log lines. */
static char pv__status_line[256];
static int pv__status_tty = -1; /* -1: not yet known */

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
void pv_log_set_stream(FILE *stream) { pv__log_stream = stream; }

void pv_logv(pv_log_level level, const char *fmt, va_list ap) {
  pv_event ev;
  ev.mono_ns = pv_now_ns();
  ev.wall_ns = pv_wall_ns();
  ev.level = level;
  snprintf(ev.thread, sizeof ev.thread, "%s", pv_thread_name());
  vsnprintf(ev.msg, sizeof ev.msg, fmt, ap);

  char line[PV_EVENT_MSG_MAX + 64];
  int n = 0;
  if (level >= pv__log_min) {
    char stamp[20];
    pv_format_wall(ev.wall_ns, stamp);
    n = snprintf(line, sizeof line, "[%s] [%s] %s\n", stamp,
                 pv_log_level_name(level), ev.msg);
    if (n >= (int)sizeof line) {
      n = (int)sizeof line - 1;
      line[n - 1] = '\n';
    }
  }
  pthread_mutex_lock(&pv__log_lock);
  pv__ring[pv__ring_total % PV_EVENT_RING_SIZE] = ev;
  pv__ring_total++;
  if (n > 0) {
    FILE *out = pv__log_stream ? pv__log_stream : stderr;
    int bar = pv__status_line[0] != '\0';
    if (bar) fputs("\r\033[K", out);
    fwrite(line, 1, (size_t)n, out);
    if (bar) fputs(pv__status_line, out);
    fflush(out);
  }
  pthread_mutex_unlock(&pv__log_lock);
}

void pv_log(pv_log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pv_logv(level, fmt, ap);
  va_end(ap);
}

void pv_log_status_line(const char *text) {
  pthread_mutex_lock(&pv__log_lock);
  FILE *out = pv__log_stream ? pv__log_stream : stderr;
  if (pv__status_tty < 0) pv__status_tty = isatty(fileno(out));
  if (pv__status_tty) {
    snprintf(pv__status_line, sizeof pv__status_line, "%s", text ? text : "");
    fputs("\r\033[K", out);
    if (text != NULL) fputs(pv__status_line, out);
    fflush(out);
  }
  pthread_mutex_unlock(&pv__log_lock);
}

int pv_log_is_tty(void) {
  FILE *out = pv__log_stream ? pv__log_stream : stderr;
  return isatty(fileno(out));
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
