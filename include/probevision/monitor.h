/* probevision monitor: memory usage, and a thread that periodically samples
 * memory and the caller's counters, keeps the samples in a fixed ring and
 * logs one line per sample:
 *   mem: RSS 41.2 MB (0.17%) | peak 41.9 MB | frames 1234 (16.0 fps)
 *   dropped 0 | camera errors 0 | point 12/50        (one line)
 * MB here are 2^20 bytes; the percentage is RSS of the machine's RAM.
 * Nothing is allocated after pv_monitor_start.
 */
#ifndef PROBEVISION_MONITOR_H
#define PROBEVISION_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

typedef struct pv_monitor_sample {
  int64_t mono_ns, wall_ns;       /* when taken (pv_now_ns, pv_wall_ns) */
  uint64_t rss_bytes, peak_bytes; /* VmRSS, VmHWM of this process */
  uint64_t ram_bytes;             /* the machine's total RAM */
  uint64_t frames, dropped, camera_errors; /* from the fill callback */
  double fps;
  int point, points;              /* current point (1-based), total */
} pv_monitor_sample;

/* Fills frames/dropped/camera_errors/fps/point/points of *s (the rest is
 * already set; fields left alone stay 0). Called on the monitor thread, on
 * the caller of pv_monitor_sample_now and, with incidents enabled, on any
 * thread that raises an incident (with the core's incident lock held, to
 * note the point in progress): it must be thread-safe on the caller's side,
 * quick, must not call back into the monitor nor raise an incident. */
typedef void (*pv_monitor_fill_fn)(void *ctx, pv_monitor_sample *s);

typedef struct pv_monitor pv_monitor;

/* ---- functions -------------------------------------------------------- */

/* Resident and peak resident size of this process (/proc/self/status VmRSS,
 * VmHWM) and total RAM (sysinfo). Any pointer may be NULL. Allocates
 * nothing (reads with open/read into a stack buffer). PV_EIO when /proc is
 * unreadable. Thread-safe. */
int pv_mem_usage(uint64_t *rss_bytes, uint64_t *peak_bytes, uint64_t *ram_bytes);

/* Starts the monitor thread (named "monitor"): every interval_s seconds
 * (> 0) it takes a sample (memory, then fill(ctx, ...) if fill is non-NULL),
 * records it in a ring of PV_MONITOR_RING samples and logs its line at INFO.
 * Returns once the thread runs. *out is owned by the caller: pv_monitor_stop
 * it. ctx is not owned and must outlive the monitor. */
int pv_monitor_start(double interval_s, pv_monitor_fill_fn fill, void *ctx,
                     pv_monitor **out);

/* Copies up to max of the newest recorded samples, oldest first, into out;
 * returns how many. Thread-safe. */
int pv_monitor_samples(pv_monitor *m, pv_monitor_sample *out, int max);

/* Takes one sample now on the calling thread (calls fill), records it and
 * copies it to out (may be NULL). Does not log. Thread-safe. */
int pv_monitor_sample_now(pv_monitor *m, pv_monitor_sample *out);

/* Wakes and joins the thread (at once, not at the end of the interval) and
 * frees the monitor. Accepts NULL. Not thread-safe against other calls on
 * the same monitor. */
void pv_monitor_stop(pv_monitor *m);

/* The log line text of a sample (without the log prefix), truncated to cap.
 * Thread-safe; allocates nothing. */
void pv_monitor_format(const pv_monitor_sample *s, char *buf, size_t cap);

/* ---- incident reports ------------------------------------------------- */

/* Makes the monitor the process's incident handler (pv_incident_set_handler):
 * each pv_incident_raise is queued (at most PV_INCIDENT_QUEUE pending; more
 * are dropped, counted and mentioned in the next report) and the monitor
 * thread writes its report PV_INCIDENT_DELAY_MS later, so that the report
 * shows what happened next (recovery). pv_monitor_stop writes the reports
 * still queued, then removes the handler. dir is copied ("" or NULL: ".")
 * and created if missing (one level).
 * PV_EBUSY if already enabled. Call from the thread that owns m. */
int pv_monitor_enable_incidents(pv_monitor *m, const char *dir);

/* Reports written and incidents dropped (queue full) so far. Thread-safe. */
void pv_monitor_incident_counts(pv_monitor *m, uint64_t *written, uint64_t *dropped);

/* Writes one incident report now: DIR/incident-YYYYmmdd-HHMMSS.md (local
 * time of raised_wall_ns; "-2", "-3"... when taken) and beside it
 * ...-memory.svg. Contents: summary (cause in plain words, the first
 * pv_incident_recovered of the same cause after raised_mono_ns, else for
 * camera causes whether good frames came), counters and current point
 * (a sample taken now if m is non-NULL), the flight-recorder timeline
 * (60 s before the raise and everything after, at most
 * PV_INCIDENT_TIMELINE_MAX events), the memory series (m's samples, or one
 * reading now) as a table and an SVG plot, the thread list. The path of the
 * report goes to path (may be NULL). Uses static buffers under a lock (no
 * allocation besides stdio's); thread-safe, blocks on file I/O.
 * PV_EIO with the path in err when a file cannot be written. */
int pv_incident_write_report(const char *dir, pv_monitor *m, const char *cause,
                             const char *summary, int64_t raised_mono_ns,
                             int64_t raised_wall_ns, char *path, size_t cap,
                             pv_error *err);

#define PV_INCIDENT_QUEUE 8
#define PV_INCIDENT_DELAY_MS 3000
#define PV_INCIDENT_TIMELINE_MAX 300

/* ---- constants -------------------------------------------------------- */

#define PV_MONITOR_RING 1024 /* samples kept */

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_MONITOR_H */
