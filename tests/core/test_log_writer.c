/* core: the log writer. Callers never wait on the log stream: with a pipe
 * that nobody reads, 100,000 log calls from several threads all return
 * (a watchdog fails the test if one does not); the lines that did not fit
 * are dropped, counted and reported once the pipe is read; the lines that
 * come out are whole and in each thread's order; a closed pipe drops lines
 * silently without killing the process (SIGPIPE left at its default here);
 * the status line is redrawn below the lines by the writer. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pty.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/core.h"

enum { THREADS = 4, PER_THREAD = 25000, WATCHDOG_S = 120 };

static atomic_int finished;

static void *logger(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int i = 0; i < PER_THREAD; i++) pv_info("t%d n%d", t, i);
  atomic_fetch_add(&finished, 1);
  return NULL;
}

struct reader {
  int fd;
  char *buf;
  size_t len, cap;
};

static void *read_all(void *arg) {
  struct reader *r = arg;
  for (;;) {
    if (r->cap - r->len < 65536) {
      r->cap = r->cap ? r->cap * 2 : 1 << 20;
      r->buf = realloc(r->buf, r->cap + 1);
      if (r->buf == NULL) abort();
    }
    ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r->len += (size_t)n;
  }
  r->buf[r->len] = '\0';
  return NULL;
}

static void stalled_pipe_never_blocks_callers(void **state) {
  (void)state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  FILE *out = fdopen(fds[1], "w");
  assert_non_null(out);
  pv_log_set_level(PV_LOG_INFO);
  pv_log_set_stream(out);
  uint64_t dropped0 = pv_log_dropped(), events0 = pv_events_total();

  /* Nobody reads: the pipe fills after a few hundred lines. */
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, logger, (void *)(intptr_t)t), 0);
  for (int i = 0; i < WATCHDOG_S * 100 && atomic_load(&finished) < THREADS; i++)
    pv_sleep_ns(10 * PV_NS_PER_MS);
  if (atomic_load(&finished) < THREADS)
    fail_msg("a log call blocked on the unread pipe: %d of %d threads finished in %d s",
             atomic_load(&finished), THREADS, WATCHDOG_S);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);

  /* The flight recorder got every event, synchronously (and the reports of
   * drops written before the pipe filled); the stream could not. */
  uint64_t events = pv_events_total() - events0;
  assert_true(events >= THREADS * PER_THREAD);
  uint64_t dropped = pv_log_dropped() - dropped0;
  assert_true(dropped > 0);
  assert_true(dropped < THREADS * PER_THREAD);
  assert_int_equal(pv_log_flush(), PV_ETIMEDOUT); /* still not read */

  /* Now read: the writer catches up and reports the drops. */
  struct reader rd = {.fd = fds[0]};
  pthread_t rt;
  assert_int_equal(pthread_create(&rt, NULL, read_all, &rd), 0);
  assert_int_equal(pv_log_flush(), PV_OK);
  pv_log_set_stream(NULL);
  fclose(out);
  pthread_join(rt, NULL);
  close(fds[0]);

  regex_t line_re, drop_re;
  assert_int_equal(regcomp(&line_re, "^\\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\] \\[INFO\\] "
                                     "t([0-3]) n([0-9]+)$", REG_EXTENDED), 0);
  assert_int_equal(regcomp(&drop_re, "^\\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\] \\[WARN\\] "
                                     "([0-9]+) log lines dropped: the log stream was not "
                                     "being read$", REG_EXTENDED), 0);
  long last[THREADS] = {-1, -1, -1, -1};
  uint64_t lines = 0, reported = 0;
  int reports = 0;
  assert_true(rd.len > 0 && rd.buf[rd.len - 1] == '\n');
  for (char *s = rd.buf, *nl; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
    *nl = '\0';
    regmatch_t m[3];
    if (regexec(&line_re, s, 3, m, 0) == 0) {
      int t = s[m[1].rm_so] - '0';
      long n = strtol(s + m[2].rm_so, NULL, 10);
      if (n <= last[t]) fail_msg("thread %d: line %ld after %ld", t, n, last[t]);
      last[t] = n;
      lines++;
    } else if (regexec(&drop_re, s, 2, m, 0) == 0) {
      reported += strtoull(s + m[1].rm_so, NULL, 10);
      reports++;
    } else {
      fail_msg("not a whole log line: '%.200s'", s);
    }
  }
  regfree(&line_re);
  regfree(&drop_re);
  assert_true(reports >= 1);
  assert_true(events - THREADS * PER_THREAD <= (uint64_t)reports);
  assert_int_equal(pv_events_total() - events0, THREADS * PER_THREAD + reports);
  assert_int_equal(reported, dropped);
  assert_int_equal(lines + dropped, THREADS * PER_THREAD);
  free(rd.buf);
}

static void closed_pipe_drops_silently(void **state) {
  (void)state;
  signal(SIGPIPE, SIG_DFL); /* a write raising it would kill this test */
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  close(fds[0]);
  FILE *out = fdopen(fds[1], "w");
  assert_non_null(out);
  pv_log_set_stream(out);
  uint64_t dropped0 = pv_log_dropped();
  for (int i = 0; i < 1000; i++) pv_warn("nobody reads line %d", i);
  assert_int_equal(pv_log_flush(), PV_OK);
  assert_int_equal(pv_log_dropped() - dropped0, 1000);
  pv_log_set_stream(NULL);
  fclose(out);
}

/* Reads what the pty shows until `want` appears (or 10 s pass). */
static char *read_until(int fd, const char *want, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i < 1000 && strstr(buf, want) == NULL; i++) {
    ssize_t n = read(fd, buf + len, cap - 1 - len);
    if (n > 0) len += (size_t)n;
    else pv_sleep_ns(10 * PV_NS_PER_MS);
    buf[len] = '\0';
  }
  return strstr(buf, want);
}

static void status_line_stays_below_the_lines(void **state) {
  (void)state;
  int master, slave;
  assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
  struct termios tio;
  tcgetattr(slave, &tio);
  cfmakeraw(&tio);
  tcsetattr(slave, TCSANOW, &tio);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  FILE *out = fdopen(slave, "w");
  pv_log_set_stream(out);
  assert_int_equal(pv_log_is_tty(), 1);
  char buf[4096];
  pv_log_status_line("[##..] 2/4");
  assert_int_equal(pv_log_flush(), PV_OK);
  assert_non_null(read_until(master, "[##..] 2/4", buf, sizeof buf));
  pv_info("a line");
  assert_int_equal(pv_log_flush(), PV_OK);
  /* erase the bar, the line, the bar again */
  char *got = read_until(master, "[##..] 2/4", buf, sizeof buf);
  assert_non_null(got);
  assert_non_null(strstr(buf, "\r\033[K["));
  assert_non_null(strstr(buf, "] [INFO] a line\n[##..] 2/4"));
  pv_log_status_line(NULL);
  assert_int_equal(pv_log_flush(), PV_OK);
  assert_non_null(read_until(master, "\r\033[K", buf, sizeof buf));
  pv_log_set_stream(NULL);
  fclose(out);
  close(master);
}

static void stop_flushes_and_a_later_line_restarts_it(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  pv_log_set_stream(mem);
  pv_info("before stop");
  pv_log_stop();
  pv_info("after stop");
  assert_int_equal(pv_log_start(), PV_OK);
  pv_log_set_stream(NULL);
  fclose(mem);
  char *a = strstr(buf, "] [INFO] before stop\n"), *b = strstr(buf, "] [INFO] after stop\n");
  assert_non_null(a);
  assert_non_null(b);
  assert_true(a < b);
  free(buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stalled_pipe_never_blocks_callers),
      cmocka_unit_test(closed_pipe_drops_silently),
      cmocka_unit_test(status_line_stays_below_the_lines),
      cmocka_unit_test(stop_flushes_and_a_later_line_restarts_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
