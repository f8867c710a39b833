/* probevision core: status codes, error detail, monotonic clock, logging,
 * thread naming and the flight recorder (event ring).
 *
 * Conventions used by every public header of probevision:
 * - public names start with pv_, internal ones with pv__;
 * - every fallible function returns pv_status (0 or a negative code), or an
 *   int that is >= 0 on success and a negative pv_status on failure;
 * - functions that read outside input take a pv_error * (may be NULL) and
 *   fill it with a message that names where the problem was found
 *   ("targets.csv:12: bad number 'x1' in column x_um");
 * - every create/open is paired with a destroy/close that accepts NULL;
 * - each function's comment states ownership and thread safety.
 */
#ifndef PROBEVISION_CORE_H
#define PROBEVISION_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* The status table: one line per code, name and message generated from it. */
#define PV_STATUS_MAP(XX)                                                      \
  XX(OK, 0, "success")                                                         \
  XX(EINVAL, -1, "invalid argument")                                           \
  XX(ENOMEM, -2, "out of memory")                                              \
  XX(EIO, -3, "input/output error")                                            \
  XX(EPARSE, -4, "malformed input")                                            \
  XX(ERANGE, -5, "value out of range")                                         \
  XX(ENOTFOUND, -6, "not found")                                               \
  XX(ETIMEDOUT, -7, "timed out: no data before the deadline")                 \
  XX(EINCOMPLETE, -8, "incomplete frame")                                      \
  XX(EDISCONNECTED, -9, "device disconnected")                                 \
  XX(EFATAL, -10, "fatal device error")                                        \
  XX(EBUSY, -11, "resource busy")                                              \
  XX(ECANCELED, -12, "operation canceled")                                     \
  XX(ESTAGE, -13, "stage command failed")                                      \
  XX(EDB, -14, "journal (database) error")                                     \
  XX(ECONFLICT, -15, "conflicts with recorded state")                          \
  XX(EUNSUPPORTED, -16, "not supported by this driver")                        \
  XX(ECHILD, -17, "external command failed")

typedef enum pv_status {
#define PV__STATUS_ENUM(name, value, msg) PV_##name = (value),
  PV_STATUS_MAP(PV__STATUS_ENUM)
#undef PV__STATUS_ENUM
} pv_status;

/* Where-it-happened detail for errors caused by outside input. */
#define PV_ERROR_MSG_MAX 512
typedef struct pv_error {
  char msg[PV_ERROR_MSG_MAX];
} pv_error;

typedef enum pv_log_level {
  PV_LOG_DEBUG = 0,
  PV_LOG_INFO = 1,
  PV_LOG_WARN = 2,
  PV_LOG_ERROR = 3
} pv_log_level;

/* One flight-recorder entry (fixed size, no pointers into the heap). */
#define PV_EVENT_MSG_MAX 160
typedef struct pv_event {
  int64_t mono_ns;          /* pv_now_ns() when recorded */
  int64_t wall_ns;          /* CLOCK_REALTIME when recorded */
  pv_log_level level;
  char thread[16];          /* name of the recording thread */
  char msg[PV_EVENT_MSG_MAX];
} pv_event;

/* ---- functions -------------------------------------------------------- */

/* "PV_ETIMEDOUT" / "timed out: ..."; "PV_UNKNOWN" for codes not in the
 * table. Thread-safe; the strings are static. */
const char *pv_status_name(int status);
const char *pv_strerror(int status);

/* Formats into err->msg (truncating). err may be NULL. Returns `status` so a
 * caller can write `return pv_error_set(err, PV_EPARSE, "%s:%d: ...", ...)`. */
int pv_error_set(pv_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic nanoseconds (CLOCK_MONOTONIC). Thread-safe. */
int64_t pv_now_ns(void);
/* Wall-clock nanoseconds (CLOCK_REALTIME): log stamps and the journal only. */
int64_t pv_wall_ns(void);
/* Sleeps for ns (restarting after signals). ns <= 0 returns at once. */
void pv_sleep_ns(int64_t ns);
/* Writes "YYYY-mm-dd HH:MM:SS" (local time) of wall_ns into buf. */
void pv_format_wall(int64_t wall_ns, char buf[20]);

/* Names the calling thread (pthread_setname_np, at most 15 characters) so
 * that logs, the flight recorder and /proc/PID/task/TID/comm show it. */
void pv_thread_set_name(const char *name);
/* The calling thread's name as set above ("main" if never set). */
const char *pv_thread_name(void);

/* The process's threads as "main(1200) camera(1234) stepper(1235) ...",
 * names from /proc/self/task/TID/comm, written into buf (truncated, always
 * terminated). Returns the number of threads. Allocates nothing. */
int pv_thread_list(char *buf, size_t cap);

/* Logging. Every line: "[YYYY-mm-dd HH:MM:SS] [LEVEL] message\n", written
 * whole (one write) to the log stream (stderr by default) and recorded in
 * the flight recorder. Lines below the minimum level are recorded but not
 * printed. Thread-safe. */
void pv_log(pv_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pv_logv(pv_log_level level, const char *fmt, va_list ap);
/* Not thread-safe against concurrent pv_log: call at start-up. */
void pv_log_set_level(pv_log_level min);
void pv_log_set_stream(FILE *stream); /* NULL: stderr. Not owned. */
/* A status line (progress bar) kept at the bottom of a terminal log
 * stream: log lines are written above it and it is redrawn after each.
 * NULL removes it. Does nothing unless the log stream is a terminal.
 * Thread-safe. */
void pv_log_status_line(const char *text);
/* 1 if the log stream is a terminal. */
int pv_log_is_tty(void);
/* Parses "debug", "info", "warn", "error"; -1 when unknown. */
int pv_log_level_parse(const char *s);
const char *pv_log_level_name(pv_log_level level);

#define pv_debug(...) pv_log(PV_LOG_DEBUG, __VA_ARGS__)
#define pv_info(...) pv_log(PV_LOG_INFO, __VA_ARGS__)
#define pv_warn(...) pv_log(PV_LOG_WARN, __VA_ARGS__)
#define pv_error(...) pv_log(PV_LOG_ERROR, __VA_ARGS__)

/* Deterministic random numbers (splitmix64) for simulations and fault
 * injection: *state is any seed and advances with each call; equal seeds
 * give equal sequences on every machine. Not thread-safe per state. */
uint64_t pv_rng_next(uint64_t *state);
double pv_rng_uniform(uint64_t *state);  /* in [0, 1) */
double pv_rng_gaussian(uint64_t *state); /* standard normal */

/* Flight recorder: a fixed ring of the last PV_EVENT_RING_SIZE log events,
 * a static array (no allocation ever). Thread-safe. Copies up to max of the
 * most recent events, oldest first, into out; returns how many. */
int pv_events_snapshot(pv_event *out, int max);
/* Total events ever recorded (including overwritten ones). */
uint64_t pv_events_total(void);

/* ---- incidents -------------------------------------------------------- */

/* Receives a raised incident: cause is a short class ("camera-timeout",
 * "stage-error", ...), summary plain words; both are valid only during the
 * call. Called on the raising thread with an internal lock held: it must be
 * quick (queue the request; never I/O, never pv_incident_raise). */
typedef void (*pv_incident_fn)(void *ctx, const char *cause, const char *summary);

/* Installs the one incident handler (fn NULL removes it). Once this returns,
 * no call of the previous handler is in flight, so its ctx may be freed.
 * Thread-safe. */
void pv_incident_set_handler(pv_incident_fn fn, void *ctx);

/* Reports an incident: logs "incident (cause): summary" at WARN (so the
 * flight recorder holds it) and passes it to the handler, if any. Summary
 * is formatted into a stack buffer (PV_INCIDENT_SUMMARY_MAX, truncated).
 * Never blocks on I/O, allocates nothing. Callable from any thread. */
void pv_incident_raise(const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define PV_INCIDENT_CAUSE_MAX 32
#define PV_INCIDENT_SUMMARY_MAX 384

/* ---- constants -------------------------------------------------------- */

#define PV_EVENT_RING_SIZE 4096
#define PV_NS_PER_MS INT64_C(1000000)
#define PV_NS_PER_S INT64_C(1000000000)

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_CORE_H */
