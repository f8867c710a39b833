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
  XX(ECHILD, -17, "external command failed")                                   \
  XX(EREFUSED, -18, "refused by the device: retrying cannot help")

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

/* Formats into err->msg (truncating; numbers in the "C" locale, as
 * pv_snprintf_c). err may be NULL. Returns `status` so a
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

/* Logging. Every line: "[YYYY-mm-dd HH:MM:SS] [LEVEL] message\n", recorded
 * in the flight recorder synchronously (every event, whatever its level)
 * and, at or above the minimum level, handed to the log writer.
 *
 * The log writer: a fixed queue of PV_LOG_QUEUE_LINES lines (static memory,
 * no allocation ever) that ONE thread, named "log", drains to the log
 * stream (stderr by default) in order, each line whole. Only that thread
 * writes to the log stream, so a caller of pv_log never blocks on I/O: a
 * stalled reader (`| less`, a frozen ssh) only fills the queue. When the
 * queue is full the line is dropped and counted, and the writer reports
 * "N log lines dropped: the log stream was not being read" (at WARN, also
 * in the flight recorder) where they were dropped, as soon as it can write
 * again. When the stream is closed (EPIPE) the writer stops writing it and
 * drops every later line silently, counted; the program goes on. The
 * writer blocks every signal, so its writes never raise SIGPIPE.
 *
 * Life cycle, for a host program embedding the library: the writer starts
 * by itself on the first line to print (or pv_log_start()), and registers
 * an atexit handler that flushes (pv_log_flush), so lines are not lost on a
 * return from main or exit(). pv_log_stop() flushes, stops and joins it
 * (call it before unloading the library); a later line starts a new one.
 * After fork() the child has no writer; its first line starts one. Should
 * the thread not start, lines wait in the queue (a full queue drops and
 * counts them) and each later call tries again: callers never write.
 *
 * pv_log / pv_logv: thread-safe, never block on I/O, allocate nothing
 * (except starting the writer thread the first time). */
void pv_log(pv_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pv_logv(pv_log_level level, const char *fmt, va_list ap);
/* Not thread-safe against concurrent pv_log: call at start-up. */
void pv_log_set_level(pv_log_level min);
/* Sets the log stream (NULL: stderr; not owned). Lines logged before the
 * call are written to the old stream: this flushes first and returns once
 * the writer no longer uses the old stream (or after the flush timeout if
 * it is stuck writing to it), so the caller may then close it.
 * Thread-safe; blocks for up to PV_LOG_FLUSH_TIMEOUT_MS. */
void pv_log_set_stream(FILE *stream);
/* Waits until every line logged (and status line set) before the call has
 * been written (or dropped), at most PV_LOG_FLUSH_TIMEOUT_MS. PV_OK, or
 * PV_ETIMEDOUT when the stream is not being read, PV_EIO when no writer
 * thread could be started. Thread-safe; never call it from a thread that
 * must not wait (camera, real-time paths). */
int pv_log_flush(void);
/* Starts the writer thread now (it also starts by itself). PV_OK or PV_EIO.
 * Thread-safe. */
int pv_log_start(void);
/* Flushes (bounded), stops and joins the writer; a writer stuck in a write
 * past the flush timeout is detached instead. Thread-safe. */
void pv_log_stop(void);
/* Lines dropped since the start: queue full, stream closed, write error. */
uint64_t pv_log_dropped(void);
/* A status line (progress bar) kept at the bottom of a terminal log
 * stream: log lines are written above it and it is redrawn after each.
 * NULL removes it. Does nothing unless the log stream is a terminal. Drawn
 * by the log writer like the lines (never blocks on I/O); pv_log_flush
 * waits for it too. Thread-safe. */
void pv_log_status_line(const char *text);
/* 1 if the log stream is a terminal. Thread-safe. */
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

/* Memory allocated at start is touched at start: writes every page of
 * [p, p + n) (keeping its content) so that the kernel backs it now and the
 * resident size is final from the start; a later growth then means a leak.
 * The caller owns the memory; no other thread may write it meanwhile. */
void pv_prefault(void *p, size_t n);

/* Flight recorder: a fixed ring of the last PV_EVENT_RING_SIZE log events,
 * a static array (no allocation ever). Thread-safe. Copies up to max of the
 * most recent events, oldest first, into out; returns how many. */
int pv_events_snapshot(pv_event *out, int max);
/* Total events ever recorded (including overwritten ones). */
uint64_t pv_events_total(void);

/* Locale-independent numbers. Text that crosses a boundary (SENTIO lines,
 * targets CSV, INI, JSON, the journal, reports) is written and read with
 * '.' as the decimal separator whatever LC_NUMERIC the host program set
 * (setlocale(LC_ALL, "de_DE.UTF-8") gives "0,25" to plain printf/strtod).
 * The "C" locale object is created once (thread-safely) on first use and
 * never freed; nothing else is allocated. All are thread-safe. */
/* strtod in the "C" locale: same contract (*end, errno ERANGE). */
double pv_strtod_c(const char *s, char **end);
/* snprintf / vsnprintf / fprintf in the "C" locale; same return values.
 * buf is the caller's; f is not owned. */
int pv_snprintf_c(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pv_vsnprintf_c(char *buf, size_t cap, const char *fmt, va_list ap);
int pv_fprintf_c(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a block of output: the calling thread (only) uses the "C" locale from
 * pv_c_locale_begin until pv_c_locale_end(scope), which restores the
 * thread's previous locale. Scopes nest; end each on the thread that began
 * it. */
typedef struct pv_c_locale_scope {
  void *prev; /* the thread's previous locale_t (NULL: nothing to restore) */
} pv_c_locale_scope;
pv_c_locale_scope pv_c_locale_begin(void);
void pv_c_locale_end(pv_c_locale_scope scope);

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
 * Never blocks on I/O (the line goes to the log writer's queue, see
 * pv_log; the handler only queues), allocates nothing. Callable from any
 * thread, the camera thread included. */
void pv_incident_raise(const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define PV_INCIDENT_CAUSE_MAX 32
#define PV_INCIDENT_SUMMARY_MAX 384

/* A recovery: the condition behind incidents of `cause` is over. A record
 * of its own (not a word in a log message), so reports never guess from
 * log text. */
typedef struct pv_incident_recovery {
  int64_t mono_ns, wall_ns;           /* pv_now_ns / pv_wall_ns when reported */
  char cause[PV_INCIDENT_CAUSE_MAX];  /* the cause it ends, as raised */
  char msg[PV_EVENT_MSG_MAX];         /* what happened, plain words */
} pv_incident_recovery;

/* Reports a recovery from incidents of `cause` (the code that recovers
 * calls it: the camera worker when frames flow again or a reopen worked):
 * records it in a fixed ring of the last PV_INCIDENT_RECOVERY_RING
 * recoveries (static memory) and logs the message at INFO. Same costs as
 * pv_incident_raise: no I/O of its own, allocates nothing, any thread. */
void pv_incident_recovered(const char *cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The first recovery of `cause` reported at or after since_mono_ns still
 * in the ring, copied to *out (may be NULL): 1 if found, else 0.
 * Thread-safe; allocates nothing. */
int pv_incident_find_recovery(const char *cause, int64_t since_mono_ns,
                              pv_incident_recovery *out);

#define PV_INCIDENT_RECOVERY_RING 64

/* ---- constants -------------------------------------------------------- */

#define PV_EVENT_RING_SIZE 4096
#define PV_LOG_QUEUE_LINES 512       /* lines the log writer may lag behind */
#define PV_LOG_FLUSH_TIMEOUT_MS 2000 /* longest wait of pv_log_flush */
#define PV_LOG_STATUS_MAX 256        /* bytes of a status line, with its NUL */
#define PV_NS_PER_MS INT64_C(1000000)
#define PV_NS_PER_S INT64_C(1000000000)

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_CORE_H */
