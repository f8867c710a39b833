/* Incident reports: a running monitor writes incident-*.md (summary,
 * timeline with earlier log lines, memory table, thread list) and a
 * well-formed SVG into the directory; a full queue drops and counts; a
 * directory that cannot be written is an error naming it; recovery comes
 * from pv_incident_recovered of the same cause, never from log wording; the
 * point in progress is the one at the raise, besides the one at writing. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/monitor.h"

static void fill(void *ctx, pv_monitor_sample *s) {
  (void)ctx;
  s->frames = 4321;
  s->dropped = 5;
  s->camera_errors = 9;
  s->fps = 16.0;
  s->point = 3;
  s->points = 8;
}

/* Names of files in dir ending in suffix: count, and the first in first. */
static int list(const char *dir, const char *suffix, char *first, size_t cap) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name), s = strlen(suffix);
    if (strncmp(e->d_name, "incident-", 9) != 0 || l < s || strcmp(e->d_name + l - s, suffix))
      continue;
    if (n++ == 0 && first) snprintf(first, cap, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  return n;
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void rm_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[512];
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  if (d) closedir(d);
  rmdir(dir);
}

static void test_report_written_by_monitor(void **state) {
  (void)state;
  char dir[] = "/tmp/pv-incident-XXXXXX";
  assert_non_null(mkdtemp(dir));
  pv_monitor *m = NULL;
  assert_int_equal(pv_monitor_start(0.05, fill, NULL, &m), PV_OK);
  assert_int_equal(pv_monitor_enable_incidents(m, dir), PV_OK);
  assert_int_equal(pv_monitor_enable_incidents(m, dir), PV_EBUSY);
  pv_warn("marker-before-incident: something looked odd");
  pv_sleep_ns(150 * PV_NS_PER_MS); /* a few samples before the raise */
  pv_incident_raise("camera-timeout", "no frame within %d ms, stream restarted", 1000);
  /* written by the thread after the delay, not at stop: wait for it */
  char md[512] = "";
  for (int i = 0; i < 200 && list(dir, ".md", md, sizeof md) == 0; i++)
    pv_sleep_ns(50 * PV_NS_PER_MS);
  uint64_t written = 0, dropped = 0;
  pv_monitor_incident_counts(m, &written, &dropped);
  pv_monitor_stop(m);
  assert_int_equal(list(dir, ".md", md, sizeof md), 1);
  assert_int_equal(written, 1);
  assert_int_equal(dropped, 0);

  const char *t = slurp(md);
  assert_non_null(strstr(t, "no frame within 1000 ms, stream restarted"));
  assert_non_null(strstr(t, "timeout: the camera stopped sending frames"));
  const char *timeline = strstr(t, "## Timeline");
  assert_non_null(timeline);
  const char *marker = strstr(timeline, "marker-before-incident");
  assert_non_null(marker);
  const char *raise_line = strstr(timeline, "incident (camera-timeout)");
  assert_non_null(raise_line);
  assert_true(marker < raise_line); /* earlier lines come first */
  assert_non_null(strstr(t, "| t (s) | RSS MB |"));
  assert_non_null(strstr(t, "| 4321 |"));     /* counters from the fill callback */
  assert_non_null(strstr(t, "point 4 in progress"));
  const char *threads = strstr(t, "## Threads");
  assert_non_null(threads);
  assert_non_null(strstr(threads, "monitor("));

  char svg[512];
  assert_int_equal(list(dir, "-memory.svg", svg, sizeof svg), 1);
  assert_non_null(strstr(t, svg + strlen(dir) + 1)); /* the report links it */
  const char *s = slurp(svg); /* (reuses the buffer of t) */
  assert_int_equal(strncmp(s, "<svg", 4), 0);
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ')) n--;
  assert_true(n > 6 && strncmp(s + n - 6, "</svg>", 6) == 0);
  assert_non_null(strstr(s, "<polyline"));
  rm_dir(dir);
}

static void test_queue_full_drops_and_counts(void **state) {
  (void)state;
  char dir[] = "/tmp/pv-incident-XXXXXX";
  assert_non_null(mkdtemp(dir));
  pv_monitor *m = NULL;
  assert_int_equal(pv_monitor_start(60, fill, NULL, &m), PV_OK);
  assert_int_equal(pv_monitor_enable_incidents(m, dir), PV_OK);
  int raised = PV_INCIDENT_QUEUE + 5;
  /* distinct causes: a repeat of the same cause would join the pending one */
  for (int i = 0; i < raised; i++) {
    char cause[16];
    snprintf(cause, sizeof cause, "cause-%d", i);
    pv_incident_raise(cause, "burst %d", i);
  }
  uint64_t written = 0, dropped = 0;
  pv_monitor_incident_counts(m, &written, &dropped);
  assert_int_equal(written, 0); /* not due yet: written at stop */
  assert_int_equal(dropped, raised - PV_INCIDENT_QUEUE);
  pv_monitor_stop(m); /* writes what is queued */
  assert_int_equal(list(dir, ".md", NULL, 0), PV_INCIDENT_QUEUE);
  assert_int_equal(list(dir, "-memory.svg", NULL, 0), PV_INCIDENT_QUEUE);
  /* the handler is gone with the monitor: a raise now only logs */
  pv_incident_raise("stage-error", "after stop");
  assert_int_equal(list(dir, ".md", NULL, 0), PV_INCIDENT_QUEUE);
  rm_dir(dir);
}

static void test_a_burst_of_one_cause_is_one_report(void **state) {
  (void)state;
  char dir[] = "/tmp/pv-incident-XXXXXX";
  assert_non_null(mkdtemp(dir));
  pv_monitor *m = NULL;
  assert_int_equal(pv_monitor_start(60, fill, NULL, &m), PV_OK);
  assert_int_equal(pv_monitor_enable_incidents(m, dir), PV_OK);
  for (int i = 0; i < 5; i++) pv_incident_raise("camera-timeout", "escalation %d", i);
  pv_incident_raise("stage-error", "a different cause");
  pv_monitor_stop(m);
  assert_int_equal(list(dir, ".md", NULL, 0), 2);
  int merged = 0, other = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t l = strlen(e->d_name);
    if (l < 3 || strcmp(e->d_name + l - 3, ".md") != 0) continue;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    const char *t = slurp(path);
    merged += strstr(t, "escalation 0") && strstr(t, "then 4 more escalation(s)");
    other += strstr(t, "a different cause") && !strstr(t, "then 4 more");
  }
  closedir(d);
  assert_int_equal(merged, 1);
  assert_int_equal(other, 1);
  rm_dir(dir);
}

static void test_unwritable_dir(void **state) {
  (void)state;
  pv_error err = {""};
  char path[256] = "";
  int rc = pv_incident_write_report("/nonexistent/pv-incidents", NULL, "hardware", "boom",
                                    pv_now_ns(), pv_wall_ns(), path, sizeof path, &err);
  assert_int_equal(rc, PV_EIO);
  assert_non_null(strstr(err.msg, "/nonexistent/pv-incidents"));
}

static void test_direct_write_without_monitor(void **state) {
  (void)state;
  char dir[] = "/tmp/pv-incident-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[512] = "";
  int64_t wall = pv_wall_ns();
  for (int i = 0; i < 2; i++) /* same second: the second gets a suffix */
    assert_int_equal(pv_incident_write_report(dir, NULL, "journal-write", "disk full",
                                              pv_now_ns(), wall, path, sizeof path, NULL),
                     PV_OK);
  assert_non_null(strstr(path, "-2.md"));
  assert_int_equal(list(dir, ".md", NULL, 0), 2);
  assert_non_null(strstr(slurp(path), "journal failure"));
  rm_dir(dir);
}

/* "not recovered" in a log line, or a recovery of another cause, is no
 * recovery; a pv_incident_recovered of the cause after the raise is. */
static void test_recovery_is_a_record_not_a_word(void **state) {
  (void)state;
  char dir[] = "/tmp/pv-incident-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[512] = "";
  pv_incident_recovered("stage-error", "stage: recovered before the incident");
  pv_sleep_ns(PV_NS_PER_MS);
  int64_t raised = pv_now_ns(), wall = pv_wall_ns();
  pv_warn("stage: not recovered: the chuck still does not answer");
  pv_info("camera: recovered (a log line only)");
  pv_incident_recovered("camera-timeout", "camera: frames are back");
  assert_int_equal(pv_incident_write_report(dir, NULL, "stage-error", "move failed", raised, wall,
                                            path, sizeof path, NULL),
                   PV_OK);
  const char *t = slurp(path);
  assert_null(strstr(t, "recovered in"));
  assert_non_null(strstr(t, "move failed; no recovery reported."));

  pv_incident_recovered("stage-error", "stage: answers again after a reconnect");
  assert_int_equal(pv_incident_write_report(dir, NULL, "stage-error", "move failed", raised, wall,
                                            path, sizeof path, NULL),
                   PV_OK);
  t = slurp(path);
  const char *rec = strstr(t, "; recovered in ");
  assert_non_null(rec);
  assert_non_null(strstr(rec, "(\"stage: answers again after a reconnect\")."));
  rm_dir(dir);
}

static int point_now; /* read by fill_moving on the monitor's threads */

static void fill_moving(void *ctx, pv_monitor_sample *s) {
  (void)ctx;
  s->point = __atomic_load_n(&point_now, __ATOMIC_RELAXED);
  s->points = 8;
}

/* The report names the point in progress when the incident was raised,
 * and separately the one when it was written. */
static void test_point_at_the_raise(void **state) {
  (void)state;
  char dir[] = "/tmp/pv-incident-XXXXXX";
  assert_non_null(mkdtemp(dir));
  pv_monitor *m = NULL;
  __atomic_store_n(&point_now, 2, __ATOMIC_RELAXED);
  assert_int_equal(pv_monitor_start(60, fill_moving, NULL, &m), PV_OK);
  assert_int_equal(pv_monitor_enable_incidents(m, dir), PV_OK);
  pv_incident_raise("camera-timeout", "no frame");
  __atomic_store_n(&point_now, 6, __ATOMIC_RELAXED); /* the run went on */
  pv_monitor_stop(m);                                /* writes the queued report */
  char md[512];
  assert_int_equal(list(dir, ".md", md, sizeof md), 1);
  const char *t = slurp(md);
  assert_non_null(strstr(t, "- point at the incident: 2 of 8 done, point 3 in progress\n"));
  assert_non_null(strstr(t, "- point when this report was written: 6 of 8 done, point 7 in progress\n"));
  rm_dir(dir);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_report_written_by_monitor),
      cmocka_unit_test(test_queue_full_drops_and_counts),
      cmocka_unit_test(test_a_burst_of_one_cause_is_one_report),
      cmocka_unit_test(test_unwritable_dir),
      cmocka_unit_test(test_direct_write_without_monitor),
      cmocka_unit_test(test_recovery_is_a_record_not_a_word),
      cmocka_unit_test(test_point_at_the_raise),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
