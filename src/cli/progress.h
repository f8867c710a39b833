/* A progress bar on the terminal's status line (see pv_log_status_line):
 * "[########........] 12/50 24% | ok 12 failed 0 | 3.1 pt/s | ETA 0:12".
 * With total 0 (not known: a wafer-map run) "point 12 | ok 12 failed 0 |
 * 3.1 pt/s | total not known ...". Nothing is drawn when the log stream
 * is not a terminal. */
#ifndef PV_CLI_PROGRESS_H
#define PV_CLI_PROGRESS_H

#include <stdint.h>

typedef struct pv_progress {
  int total;
  int64_t start_ns;
} pv_progress;

void pv_progress_begin(pv_progress *p, int total);
void pv_progress_update(pv_progress *p, int done, int failed);
void pv_progress_end(pv_progress *p);

#endif
