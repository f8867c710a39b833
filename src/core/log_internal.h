/* Internal to src/core: what the log front end (log.c) and the log writer
 * (log_writer.c) call of each other. Lock order: the flight recorder's lock
 * may be held while calling pv__log_enqueue (which takes the writer's), never
 * the other way round. */
#ifndef PV_CORE_LOG_INTERNAL_H
#define PV_CORE_LOG_INTERNAL_H

#include <stdint.h>

#include "probevision/core.h"

/* Hands one line (level, wall-clock stamp, message) to the log writer, or
 * counts a drop when its queue is full. Never blocks on I/O. Thread-safe. */
void pv__log_enqueue(pv_log_level level, int64_t wall_ns, const char *msg);

/* Records an event in the flight recorder only (the writer's own reports).
 * Thread-safe. */
void pv__events_record(pv_log_level level, const char *msg);

/* Formats "[stamp] [LEVEL] msg\n" into buf (truncated, always ending in a
 * newline when cap > 1). Returns the length. */
size_t pv__log_format(char *buf, size_t cap, int64_t wall_ns, pv_log_level level,
                      const char *msg);

#endif
