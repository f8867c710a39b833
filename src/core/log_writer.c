/* The log writer: a fixed queue of lines and the one thread ("log") that
 * writes them to the log stream, so that no other thread waits on it.
 *
 * Everything below is under `W.lock`, which is never held across I/O:
 * callers copy a line into the queue (or count a drop) and signal `work`;
 * the writer takes a batch, unlocks, formats and writes it, relocks, marks
 * it done and broadcasts `done` (pv_log_flush and pv_log_set_stream wait on
 * it, with a deadline).
 *
 * Drops: callers may fill PV_LOG_QUEUE_LINES - 1 entries; the last one is
 * kept for a drop report. When a line finds the queue full, the newest entry
 * is that report (its count goes up) or becomes it, so the report comes out
 * exactly where the lines were lost, and flush waits for it like any line.
 *
 * The stream: written with write(2) on its descriptor (after fflush, for a
 * stream the host also writes), or with fwrite for a stream without one
 * (open_memstream). EPIPE marks it closed: later lines are discarded and
 * counted. `epoch` names the current writer thread; pv_log_stop bumps it
 * and the thread exits when it sees the change.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log_internal.h"
#include "probevision/core.h"

#define QCAP PV_LOG_QUEUE_LINES
#define BATCH 32
#define LINE_MAX_BYTES (PV_EVENT_MSG_MAX + 48)

enum { KIND_LINE, KIND_DROPS };
enum { WRITER_NONE, WRITER_RUNNING };

typedef struct entry {
  int64_t wall_ns;
  int kind;            /* KIND_LINE, or KIND_DROPS: `count` lines dropped */
  pv_log_level level;
  uint64_t count;
  char msg[PV_EVENT_MSG_MAX];
} entry;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work;  /* CLOCK_MONOTONIC; to the writer: queue, status, stop */
  pthread_cond_t done;  /* CLOCK_MONOTONIC; to waiters: a batch was handled */
  entry q[QCAP];
  uint64_t head, tail;  /* entries ever queued / taken by the writer */
  uint64_t done_upto;   /* entries handled (written or discarded) */
  uint64_t dropped;     /* lines dropped, ever */
  char status[PV_LOG_STATUS_MAX];
  uint64_t status_seq, status_shown;
  FILE *stream;         /* NULL: stderr */
  unsigned stream_gen;  /* bumped by pv_log_set_stream */
  int stream_closed;    /* EPIPE seen on stream_gen */
  int stream_tty;       /* -1: not yet known */
  int busy;             /* the writer is writing to stream busy_gen */
  unsigned busy_gen;
  int state;
  unsigned epoch;
  pthread_t thread;
} W = {.lock = PTHREAD_MUTEX_INITIALIZER, .stream_tty = -1};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void at_exit(void) { pv_log_flush(); }

static void before_fork(void) { pthread_mutex_lock(&W.lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&W.lock); }
/* The child has no writer thread: forget the parent's and its queue (the
 * parent's writer writes those lines). */
static void after_fork_child(void) {
  W.state = WRITER_NONE;
  __atomic_add_fetch(&W.epoch, 1, __ATOMIC_RELAXED);
  W.busy = 0;
  W.tail = W.done_upto = W.head;
  W.status_shown = W.status_seq;
  pthread_mutex_unlock(&W.lock);
}

static void init_once(void) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&W.work, &ca);
  pthread_cond_init(&W.done, &ca);
  pthread_condattr_destroy(&ca);
  pv_prefault(W.q, sizeof W.q);
  atexit(at_exit);
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static struct timespec mono_deadline(int ms) {
  int64_t t = pv_now_ns() + (int64_t)ms * PV_NS_PER_MS;
  return (struct timespec){.tv_sec = t / PV_NS_PER_S, .tv_nsec = t % PV_NS_PER_S};
}

static FILE *stream_locked(void) { return W.stream ? W.stream : stderr; }

/* Writes buf whole. 0 done, 1 the reader is gone (EPIPE), -1 another error
 * (or the writer was stopped while the stream would not take data). */
static int write_out(FILE *out, const char *buf, size_t len, unsigned epoch) {
  int fd = fileno(out);
  if (fd < 0) {
    size_t w = fwrite(buf, 1, len, out);
    int bad = fflush(out) != 0 || w != len;
    int e = errno;
    if (!bad) return 0;
    clearerr(out);
    return e == EPIPE ? 1 : -1;
  }
  if (out != stderr) fflush(out); /* what the host wrote to it comes first */
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, buf + off, len - off);
    if (w > 0) {
      off += (size_t)w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (__atomic_load_n(&W.epoch, __ATOMIC_RELAXED) != epoch) return -1;
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, 200);
    } else {
      return (w < 0 && errno == EPIPE) ? 1 : -1;
    }
  }
  return 0;
}

static size_t append(char *buf, size_t cap, size_t len, const char *s) {
  size_t n = strlen(s);
  if (n > cap - len) n = cap - len;
  memcpy(buf + len, s, n);
  return len + n;
}

static void drop_message(char *msg, size_t cap, uint64_t count) {
  snprintf(msg, cap, "%llu log lines dropped: the log stream was not being read",
           (unsigned long long)count);
}

static void *writer_main(void *arg) {
  unsigned epoch = (unsigned)(uintptr_t)arg;
  pv_thread_set_name("log");
  entry batch[BATCH]; /* about 17 KB of stack with out: its stack is 256 KB */
  char out[BATCH * (LINE_MAX_BYTES + 96) + 2 * PV_LOG_STATUS_MAX];
  char status[PV_LOG_STATUS_MAX];
  int bar_shown = 0; /* a non-empty status line is on the screen... */
  unsigned bar_gen = 0; /* ...of this stream */
  pthread_mutex_lock(&W.lock);
  for (;;) {
    while (W.epoch == epoch && W.tail == W.head && W.status_seq == W.status_shown)
      pthread_cond_wait(&W.work, &W.lock);
    if (W.epoch != epoch) break;
    int n = 0;
    while (n < BATCH && W.tail < W.head) batch[n++] = W.q[W.tail++ % QCAP];
    uint64_t upto = W.tail, sseq = W.status_seq;
    memcpy(status, W.status, sizeof status);
    FILE *stream = stream_locked();
    unsigned gen = W.stream_gen;
    int closed = W.stream_closed;
    W.busy = 1;
    W.busy_gen = gen;
    pthread_mutex_unlock(&W.lock);

    size_t len = 0, cap = sizeof out;
    if (gen != bar_gen) bar_shown = 0;
    bar_gen = gen;
    int bar = bar_shown || status[0] != '\0';
    if (bar) len = append(out, cap, len, "\r\033[K");
    uint64_t lines = 0;
    for (int i = 0; i < n; i++) {
      char line[LINE_MAX_BYTES + 96];
      if (batch[i].kind == KIND_DROPS) {
        char msg[96];
        drop_message(msg, sizeof msg, batch[i].count);
        pv__log_format(line, sizeof line, pv_wall_ns(), PV_LOG_WARN, msg);
      } else {
        lines++;
        pv__log_format(line, sizeof line, batch[i].wall_ns, batch[i].level, batch[i].msg);
      }
      len = append(out, cap, len, line);
    }
    if (status[0] != '\0') len = append(out, cap, len, status);
    int rc = closed ? 1 : write_out(stream, out, len, epoch);
    if (rc == 0) bar_shown = status[0] != '\0';
    for (int i = 0; i < n && rc == 0; i++) /* the flight recorder gets the reports made */
      if (batch[i].kind == KIND_DROPS) {
        char msg[96];
        drop_message(msg, sizeof msg, batch[i].count);
        pv__events_record(PV_LOG_WARN, msg);
      }

    pthread_mutex_lock(&W.lock);
    W.busy = 0;
    if (rc == 1 && gen == W.stream_gen) W.stream_closed = 1;
    if (rc != 0) W.dropped += lines;
    if (upto > W.done_upto) W.done_upto = upto;
    if (sseq > W.status_shown) W.status_shown = sseq;
    pthread_cond_broadcast(&W.done);
  }
  pthread_mutex_unlock(&W.lock);
  return NULL;
}

/* Starts a writer; W.lock held. Every signal is blocked in it (so SIGINT
 * goes to the program's threads, and a write to a closed pipe returns EPIPE
 * instead of killing the process). */
static int start_locked(void) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  unsigned epoch = __atomic_add_fetch(&W.epoch, 1, __ATOMIC_RELAXED);
  int rc = pthread_create(&W.thread, &attr, writer_main, (void *)(uintptr_t)epoch);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  W.state = rc == 0 ? WRITER_RUNNING : WRITER_NONE;
  return rc == 0 ? PV_OK : PV_EIO;
}

int pv_log_start(void) {
  pthread_once(&once, init_once);
  pthread_mutex_lock(&W.lock);
  int rc = W.state == WRITER_RUNNING ? PV_OK : start_locked();
  pthread_mutex_unlock(&W.lock);
  return rc;
}

void pv__log_enqueue(pv_log_level level, int64_t wall_ns, const char *msg) {
  pthread_once(&once, init_once);
  pthread_mutex_lock(&W.lock);
  /* Should the thread not start, the line waits in the queue (never written
   * by the caller) and the next call tries again. */
  if (W.state != WRITER_RUNNING) start_locked();
  uint64_t used = W.head - W.tail;
  if (used < QCAP - 1) {
    entry *e = &W.q[W.head++ % QCAP];
    e->kind = KIND_LINE;
    e->wall_ns = wall_ns;
    e->level = level;
    e->count = 0;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    pthread_cond_signal(&W.work);
  } else {
    W.dropped++;
    entry *newest = &W.q[(W.head - 1) % QCAP]; /* not taken yet: used > 0 */
    if (newest->kind == KIND_DROPS) {
      newest->count++;
    } else {
      entry *e = &W.q[W.head++ % QCAP]; /* the slot kept for the report */
      e->kind = KIND_DROPS;
      e->count = 1;
      e->msg[0] = '\0';
    }
  }
  pthread_mutex_unlock(&W.lock);
}

void pv_log_status_line(const char *text) {
  pthread_once(&once, init_once);
  pthread_mutex_lock(&W.lock);
  if (W.stream_tty < 0) W.stream_tty = isatty(fileno(stream_locked()));
  if (W.stream_tty > 0) {
    if (W.state != WRITER_RUNNING) start_locked();
    snprintf(W.status, sizeof W.status, "%s", text ? text : "");
    W.status_seq++;
    pthread_cond_signal(&W.work);
  }
  pthread_mutex_unlock(&W.lock);
}

int pv_log_is_tty(void) {
  pthread_mutex_lock(&W.lock);
  int fd = fileno(stream_locked());
  pthread_mutex_unlock(&W.lock);
  return isatty(fd);
}

/* Waits (W.lock held) until cond() or the deadline. 0 or PV_ETIMEDOUT. */
static int wait_until(int (*cond)(void *), void *arg, const struct timespec *deadline) {
  while (!cond(arg))
    if (pthread_cond_timedwait(&W.done, &W.lock, deadline) == ETIMEDOUT)
      return cond(arg) ? PV_OK : PV_ETIMEDOUT;
  return PV_OK;
}

typedef struct flush_mark {
  uint64_t entries, status;
  unsigned epoch;
} flush_mark;

static int flushed(void *arg) {
  const flush_mark *m = arg;
  return W.epoch != m->epoch || (W.done_upto >= m->entries && W.status_shown >= m->status);
}

int pv_log_flush(void) {
  pthread_once(&once, init_once);
  pthread_mutex_lock(&W.lock);
  int rc = PV_OK;
  if (W.state != WRITER_RUNNING && W.done_upto < W.head && start_locked() != PV_OK) {
    rc = PV_EIO; /* no thread to write them */
  } else if (W.state == WRITER_RUNNING && !pthread_equal(pthread_self(), W.thread)) {
    flush_mark m = {W.head, W.status_seq, W.epoch};
    struct timespec deadline = mono_deadline(PV_LOG_FLUSH_TIMEOUT_MS);
    rc = wait_until(flushed, &m, &deadline);
  }
  pthread_mutex_unlock(&W.lock);
  return rc;
}

static int not_busy_with(void *arg) {
  return !W.busy || W.busy_gen != *(const unsigned *)arg;
}

void pv_log_set_stream(FILE *stream) {
  pv_log_flush();
  pthread_mutex_lock(&W.lock);
  unsigned old = W.stream_gen;
  W.stream = stream;
  W.stream_gen++;
  W.stream_closed = 0;
  W.stream_tty = -1;
  W.status[0] = '\0'; /* a status line belongs to its terminal */
  if (W.state == WRITER_RUNNING && !pthread_equal(pthread_self(), W.thread)) {
    struct timespec deadline = mono_deadline(PV_LOG_FLUSH_TIMEOUT_MS);
    wait_until(not_busy_with, &old, &deadline);
  }
  pthread_mutex_unlock(&W.lock);
}

void pv_log_stop(void) {
  pv_log_flush();
  pthread_mutex_lock(&W.lock);
  if (W.state != WRITER_RUNNING || pthread_equal(pthread_self(), W.thread)) {
    pthread_mutex_unlock(&W.lock);
    return;
  }
  pthread_t t = W.thread;
  W.state = WRITER_NONE;
  __atomic_add_fetch(&W.epoch, 1, __ATOMIC_RELAXED);
  pthread_cond_broadcast(&W.work);
  pthread_mutex_unlock(&W.lock);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += PV_LOG_FLUSH_TIMEOUT_MS / 1000 + 1;
  if (pthread_timedjoin_np(t, NULL, &deadline) != 0) pthread_detach(t);
}

uint64_t pv_log_dropped(void) {
  pthread_mutex_lock(&W.lock);
  uint64_t d = W.dropped;
  pthread_mutex_unlock(&W.lock);
  return d;
}
