/* LD_PRELOAD shim for test_frame_timing.py: steps the wall clock
 * (CLOCK_REALTIME, CLOCK_REALTIME_COARSE, gettimeofday, time) of the process
 * it is loaded into by the signed number of nanoseconds written in the file
 * named by $PV_CLOCKSTEP_FILE, from the moment the file appears (re-read at
 * most every 5 ms of the monotonic clock, which is never touched). GLib's
 * g_get_real_time (Aravis's buffer system timestamps) and probevision's
 * pv_wall_ns both go through these symbols, so the whole process sees one
 * stepped wall clock, as after `date -s` or an NTP step.
 *
 * Thread-safe: the offset and the next check time are atomics; the file is
 * read with open/read (no allocation, async-signal-safe). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static _Atomic(clock_gettime_fn) real_fn;
static atomic_llong offset_ns;
static atomic_llong next_check_ns;

static clock_gettime_fn real(void) {
  clock_gettime_fn f = atomic_load(&real_fn);
  if (f == NULL) {
    f = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    atomic_store(&real_fn, f);
  }
  return f;
}

static long long parse(const char *s) {
  long long v = 0;
  int neg = 0;
  while (*s == ' ' || *s == '\t') s++;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return neg ? -v : v;
}

static void refresh(void) {
  struct timespec m;
  if (real()(CLOCK_MONOTONIC, &m) != 0) return;
  long long now = (long long)m.tv_sec * 1000000000LL + m.tv_nsec;
  if (now < atomic_load(&next_check_ns)) return;
  atomic_store(&next_check_ns, now + 5000000LL);
  const char *path = getenv("PV_CLOCKSTEP_FILE");
  if (path == NULL) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  atomic_store(&offset_ns, parse(buf));
}

int clock_gettime(clockid_t id, struct timespec *ts) {
  int rc = real()(id, ts);
  if (rc != 0 || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE)) return rc;
  refresh();
  long long t = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + atomic_load(&offset_ns);
  ts->tv_sec = (time_t)(t / 1000000000LL);
  ts->tv_nsec = (long)(t % 1000000000LL);
  return 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  (void)tz;
  struct timespec ts;
  int rc = clock_gettime(CLOCK_REALTIME, &ts);
  if (rc == 0) { /* glibc declares tv nonnull */
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return rc;
}

time_t time(time_t *out) {
  struct timespec ts;
  time_t t = clock_gettime(CLOCK_REALTIME, &ts) == 0 ? ts.tv_sec : (time_t)-1;
  if (out != NULL) *out = t;
  return t;
}
