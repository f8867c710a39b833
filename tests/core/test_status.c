/* core: status table, error detail, log lines and the flight recorder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/core.h"

static void status_names_come_from_the_table(void **state) {
  (void)state;
  assert_string_equal(pv_status_name(PV_OK), "PV_OK");
  assert_string_equal(pv_status_name(PV_ETIMEDOUT), "PV_ETIMEDOUT");
  assert_string_equal(pv_status_name(12345), "PV_UNKNOWN");
  assert_string_equal(pv_strerror(PV_EPARSE), "malformed input");
  assert_string_equal(pv_strerror(-999), "unknown status");
}

static void error_set_formats_and_returns_status(void **state) {
  (void)state;
  pv_error err;
  assert_int_equal(pv_error_set(&err, PV_EPARSE, "%s:%d: bad", "f.csv", 7), PV_EPARSE);
  assert_string_equal(err.msg, "f.csv:7: bad");
  assert_int_equal(pv_error_set(NULL, PV_EIO, "x"), PV_EIO);
}

static void log_lines_have_stamp_and_level(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  pv_log_set_stream(mem);
  pv_log_set_level(PV_LOG_INFO);
  pv_debug("hidden %d", 1);
  pv_warn("shown %d", 2);
  pv_log_set_stream(NULL);
  fclose(mem);
  /* "[YYYY-mm-dd HH:MM:SS] [WARN] shown 2\n" */
  assert_int_equal(strlen(buf), 21 + 8 + 8);
  assert_true(buf[0] == '[' && buf[20] == ']');
  assert_non_null(strstr(buf, "] [WARN] shown 2\n"));
  assert_null(strstr(buf, "hidden"));
  free(buf);
}

static void flight_recorder_keeps_the_newest_in_order(void **state) {
  (void)state;
  pv_log_set_level(PV_LOG_ERROR);
  uint64_t before = pv_events_total();
  for (int i = 0; i < PV_EVENT_RING_SIZE + 10; i++) pv_debug("event %d", i);
  assert_int_equal(pv_events_total() - before, PV_EVENT_RING_SIZE + 10);
  static pv_event evs[PV_EVENT_RING_SIZE + 5];
  int n = pv_events_snapshot(evs, PV_EVENT_RING_SIZE + 5);
  assert_int_equal(n, PV_EVENT_RING_SIZE);
  char want[32];
  snprintf(want, sizeof want, "event %d", PV_EVENT_RING_SIZE + 9);
  assert_string_equal(evs[n - 1].msg, want);
  snprintf(want, sizeof want, "event %d", 10);
  assert_string_equal(evs[0].msg, want);
  assert_string_equal(evs[0].thread, "main");
  assert_true(evs[0].mono_ns <= evs[n - 1].mono_ns);
  pv_log_set_level(PV_LOG_INFO);
}

static void clock_is_monotonic_and_sleeps(void **state) {
  (void)state;
  int64_t a = pv_now_ns();
  pv_sleep_ns(2 * PV_NS_PER_MS);
  int64_t b = pv_now_ns();
  assert_true(b - a >= 2 * PV_NS_PER_MS);
  char stamp[20];
  pv_format_wall(pv_wall_ns(), stamp);
  assert_int_equal(strlen(stamp), 19);
  assert_int_equal(pv_log_level_parse("warn"), PV_LOG_WARN);
  assert_int_equal(pv_log_level_parse("loud"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_names_come_from_the_table),
      cmocka_unit_test(error_set_formats_and_returns_status),
      cmocka_unit_test(log_lines_have_stamp_and_level),
      cmocka_unit_test(flight_recorder_keeps_the_newest_in_order),
      cmocka_unit_test(clock_is_monotonic_and_sleeps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
