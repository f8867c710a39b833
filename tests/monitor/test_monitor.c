/* monitor: the thread, its log line, its ring and its stop. */
#include <dirent.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/monitor.h"

typedef struct counters {
  pthread_mutex_t lock;
  uint64_t calls;
  int wrong_thread; /* fill ran on a thread not named "monitor" */
  int check_thread;
} counters;

static void fill(void *ctx, pv_monitor_sample *s) {
  counters *c = ctx;
  pthread_mutex_lock(&c->lock);
  c->calls++;
  if (c->check_thread && strcmp(pv_thread_name(), "monitor") != 0) c->wrong_thread = 1;
  s->frames = 1234;
  s->fps = 16.0;
  s->dropped = 7;
  s->camera_errors = 2;
  s->point = 12;
  s->points = 50;
  pthread_mutex_unlock(&c->lock);
}

/* Counts "monitor" names in /proc/self/task/ * /comm. */
static int threads_named_monitor(void) {
  int found = 0;
  DIR *dir = opendir("/proc/self/task");
  assert_non_null(dir);
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char path[300], comm[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(comm, sizeof comm, f) != NULL && strcmp(comm, "monitor\n") == 0) found++;
    fclose(f);
  }
  closedir(dir);
  return found;
}

static void format_matches_the_documented_line(void **state) {
  (void)state;
  /* the example line of the design: 41.2 MB RSS, 0.17% of RAM, 41.9 MB peak */
  pv_monitor_sample s = {.rss_bytes = 43201331, .peak_bytes = 43935334,
                         .ram_bytes = 25412547765, .frames = 1234, .fps = 16.0,
                         .point = 12, .points = 50};
  char line[200];
  pv_monitor_format(&s, line, sizeof line);
  assert_string_equal(line, "mem: RSS 41.2 MB (0.17%) | peak 41.9 MB | frames 1234 "
                            "(16.0 fps) dropped 0 | camera errors 0 | point 12/50");
  char tiny[8];
  pv_monitor_format(&s, tiny, sizeof tiny);
  assert_string_equal(tiny, "mem: RS");
}

static void thread_is_named_and_logs_each_sample(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  assert_non_null(mem);
  pv_log_set_stream(mem);
  counters c = {.lock = PTHREAD_MUTEX_INITIALIZER, .check_thread = 1};

  assert_int_equal(threads_named_monitor(), 0);
  pv_monitor *m = NULL;
  assert_int_equal(pv_monitor_start(0.05, fill, &c, &m), PV_OK);
  assert_int_equal(threads_named_monitor(), 1);

  pv_monitor_sample got[8];
  int n = 0;
  for (int i = 0; i < 1000 && (n = pv_monitor_samples(m, got, 8)) < 3; i++)
    pv_sleep_ns(10 * PV_NS_PER_MS);
  pv_monitor_stop(m);
  pv_log_set_stream(NULL);
  fclose(mem);
  assert_true(n >= 3);
  assert_int_equal(threads_named_monitor(), 0);
  assert_false(c.wrong_thread);

  /* every line has the documented shape, with the callback's values */
  regex_t re;
  assert_int_equal(regcomp(&re,
                           "^\\[[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\\] \\[INFO\\] "
                           "mem: RSS [0-9]+\\.[0-9] MB \\([0-9]+\\.[0-9]{2}%\\) \\| "
                           "peak [0-9]+\\.[0-9] MB \\| frames 1234 \\(16\\.0 fps\\) "
                           "dropped 7 \\| camera errors 2 \\| point 12/50$",
                           REG_EXTENDED | REG_NOSUB), 0);
  int lines = 0;
  for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    if (regexec(&re, line, 0, NULL, 0) != 0) fail_msg("bad line: %s", line);
    lines++;
  }
  regfree(&re);
  n = pv_monitor_samples(NULL, got, 8);
  assert_int_equal(n, 0);
  assert_true(lines >= 3);
  assert_int_equal((uint64_t)lines, c.calls);
  free(buf);
}

static void logged_lines_are_the_recorded_samples(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  pv_log_set_stream(mem);
  counters c = {.lock = PTHREAD_MUTEX_INITIALIZER};
  pv_monitor *m = NULL;
  assert_int_equal(pv_monitor_start(0.05, fill, &c, &m), PV_OK);
  pv_monitor_sample got[4];
  int n = 0;
  for (int i = 0; i < 1000 && (n = pv_monitor_samples(m, got, 4)) < 2; i++)
    pv_sleep_ns(10 * PV_NS_PER_MS);
  /* copy under the same conditions as the log: stop first */
  pv_monitor_stop(m);
  pv_log_set_stream(NULL);
  fclose(mem);
  assert_true(n >= 2);
  for (int i = 0; i < n; i++) {
    char line[200];
    pv_monitor_format(&got[i], line, sizeof line);
    if (strstr(buf, line) == NULL) fail_msg("sample %d not logged: %s", i, line);
    assert_true(got[i].rss_bytes > 0 && got[i].ram_bytes > got[i].rss_bytes);
    if (i > 0) assert_true(got[i].mono_ns > got[i - 1].mono_ns);
  }
  free(buf);
}

/* Numbers the samples: frames = 1, 2, 3, ... */
static void counting_fill(void *ctx, pv_monitor_sample *s) {
  counters *c = ctx;
  pthread_mutex_lock(&c->lock);
  s->frames = ++c->calls;
  pthread_mutex_unlock(&c->lock);
}

static void ring_keeps_the_newest_in_order(void **state) {
  (void)state;
  counters c = {.lock = PTHREAD_MUTEX_INITIALIZER};
  pv_monitor *m = NULL;
  assert_int_equal(pv_monitor_start(3600, counting_fill, &c, &m), PV_OK);
  static pv_monitor_sample all[PV_MONITOR_RING + 10];
  assert_int_equal(pv_monitor_samples(m, all, PV_MONITOR_RING), 0);
  const int taken = PV_MONITOR_RING + 100;
  pv_monitor_sample last;
  for (int i = 0; i < taken; i++) assert_int_equal(pv_monitor_sample_now(m, &last), PV_OK);
  assert_int_equal(last.frames, taken);

  int n = pv_monitor_samples(m, all, PV_MONITOR_RING + 10);
  assert_int_equal(n, PV_MONITOR_RING);
  for (int i = 0; i < n; i++) assert_int_equal(all[i].frames, taken - n + 1 + i);
  assert_memory_equal(&all[n - 1], &last, sizeof last);
  pv_monitor_sample few[3];
  assert_int_equal(pv_monitor_samples(m, few, 3), 3);
  assert_memory_equal(few, &all[n - 3], sizeof few);
  pv_monitor_stop(m);
}

static void stop_does_not_wait_for_the_interval(void **state) {
  (void)state;
  /* an hour-long interval: a stop that slept it out would hang the test */
  int64_t t0 = pv_now_ns();
  pv_monitor *m = NULL;
  assert_int_equal(pv_monitor_start(3600, NULL, NULL, &m), PV_OK);
  pv_monitor_sample s;
  assert_int_equal(pv_monitor_sample_now(m, &s), PV_OK);
  assert_int_equal(s.frames, 0);
  assert_int_equal(s.points, 0);
  pv_monitor_stop(m);
  assert_true(pv_now_ns() - t0 < 60 * PV_NS_PER_S); /* sanity bound, not a speed test */
  pv_monitor_stop(NULL);
  assert_int_equal(pv_monitor_start(0, NULL, NULL, &m), PV_EINVAL);
  assert_int_equal(pv_monitor_start(-1, NULL, NULL, &m), PV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(format_matches_the_documented_line),
      cmocka_unit_test(thread_is_named_and_logs_each_sample),
      cmocka_unit_test(logged_lines_are_the_recorded_samples),
      cmocka_unit_test(ring_keeps_the_newest_in_order),
      cmocka_unit_test(stop_does_not_wait_for_the_interval),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
