/* Between the monitor thread (monitor.c) and its incident queue
 * (incident.c). Internal: not installed, not part of the API. */
#ifndef PV_MONITOR_INTERNAL_H
#define PV_MONITOR_INTERNAL_H

#include <stdint.h>

#include "probevision/monitor.h"

typedef struct pv__incidents pv__incidents;

/* monitor.c: sets the queue (once), reads it, wakes the thread. */
void pv__monitor_attach_incidents(pv_monitor *m, pv__incidents *q);
pv__incidents *pv__monitor_incidents(pv_monitor *m);
void pv__monitor_kick(pv_monitor *m);
/* The caller's fill callback alone (no memory reading, no recording) into
 * *s: the counters and point now. Returns 0 (s left alone) when the monitor
 * has no callback. Any thread; fill and ctx never change after start. */
int pv__monitor_fill(pv_monitor *m, pv_monitor_sample *s);

/* incident.c: mono time the oldest queued report is due (INT64_MAX if
 * none); writes the due reports (all of them when `all`); frees (NULL ok). */
int64_t pv__incidents_next_due(pv__incidents *q);
void pv__incidents_service(pv__incidents *q, pv_monitor *m, int all);
void pv__incidents_free(pv__incidents *q);

/* incident_report.c: pv_incident_write_report, plus the point in progress
 * when the incident was raised (points done and total; points_at < 0:
 * unknown, not shown). */
int pv__incident_write_report(const char *dir, pv_monitor *m, const char *cause,
                              const char *summary, int64_t raised_mono_ns,
                              int64_t raised_wall_ns, int point_at, int points_at,
                              char *path, size_t cap, pv_error *err);

#endif
