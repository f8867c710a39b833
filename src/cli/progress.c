/* Progress bar for long jobs. */
#include <stdio.h>

#include "probevision/core.h"
#include "progress.h"

void pv_progress_begin(pv_progress *p, int total) {
  p->total = total;
  p->start_ns = pv_now_ns();
  pv_progress_update(p, 0, 0);
}

void pv_progress_update(pv_progress *p, int done, int failed) {
  if (!pv_log_is_tty()) return;
  enum { WIDTH = 30 };
  char bar[WIDTH + 1];
  int filled = p->total > 0 ? (int)((long long)done * WIDTH / p->total) : WIDTH;
  for (int i = 0; i < WIDTH; i++) bar[i] = i < filled ? '#' : '.';
  bar[WIDTH] = '\0';
  double secs = (double)(pv_now_ns() - p->start_ns) / 1e9;
  double rate = secs > 0 ? done / secs : 0;
  int eta = rate > 0 ? (int)((p->total - done) / rate + 0.5) : 0;
  char line[160];
  if (p->total <= 0) { /* a wafer-map run: the route's length is the station's */
    snprintf(line, sizeof line, "point %d | ok %d failed %d | %.1f pt/s | total not known "
             "(the station's route)", done, done - failed, failed, rate);
    pv_log_status_line(line);
    return;
  }
  snprintf(line, sizeof line, "[%s] %d/%d %3d%% | ok %d failed %d | %.1f pt/s | ETA %d:%02d",
           bar, done, p->total, p->total ? 100 * done / p->total : 100, done - failed, failed,
           rate, eta / 60, eta % 60);
  pv_log_status_line(line);
}

/* Removes the bar and waits (bounded, PV_LOG_FLUSH_TIMEOUT_MS) until the
 * log writer has drawn that and every line before it, so what the caller
 * prints next (the summary, on the same terminal) comes below, not on the
 * bar's line. Call it from the thread that prints, never the camera's. */
void pv_progress_end(pv_progress *p) {
  (void)p;
  if (pv_log_is_tty()) {
    pv_log_status_line(NULL);
    pv_log_flush();
  }
}
