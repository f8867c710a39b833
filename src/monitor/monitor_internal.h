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

/* incident.c: mono time the oldest queued report is due (INT64_MAX if
 * none); writes the due reports (all of them when `all`); frees (NULL ok). */
int64_t pv__incidents_next_due(pv__incidents *q);
void pv__incidents_service(pv__incidents *q, pv_monitor *m, int all);
void pv__incidents_free(pv__incidents *q);

#endif
