/* config: every kind of bad input gives a clean error naming FILE:LINE and
 * the key, and leaves the configuration unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/config.h"
#include "tmpfile.h"

/* Loads data; expects status and a message containing "PATH:line:" (when
 * line > 0) and each of the given fragments (NULL-terminated). */
static void expect_error(const void *data, size_t len, int status, int line, ...) {
  char path[64];
  write_tmp(path, data, len);
  pv_config c, before;
  pv_config_default(&c);
  before = c;
  pv_error err = {""};
  int rc = pv_config_load(&c, path, &err);
  unlink(path);
  if (rc != status) fail_msg("got %d (%s), want %d for:\n%.*s", rc, err.msg, status, (int)len, (const char *)data);
  char where[96];
  snprintf(where, sizeof where, "%s:%d:", path, line);
  if (line > 0 && strstr(err.msg, where) == NULL)
    fail_msg("'%s' lacks '%s'", err.msg, where);
  va_list ap;
  va_start(ap, line);
  for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
    if (strstr(err.msg, frag) == NULL) fail_msg("'%s' lacks '%s'", err.msg, frag);
  va_end(ap);
  assert_memory_equal(&c, &before, sizeof c);
}

#define EXPECT(text, line, ...) \
  expect_error(text, sizeof(text) - 1, PV_EPARSE, line, __VA_ARGS__, NULL)

static void unknown_sections_and_keys(void **state) {
  (void)state;
  EXPECT("[camera]\nwidth = 100\n[cam]\n", 3, "[cam]", "camera, stage");
  EXPECT("[camera]\nwidht = 100\n", 2, "widht", "[camera]", "width");
  EXPECT("width = 100\n", 1, "width", "before any [section]");
  EXPECT("[camera\n", 1, "lacks its ']'");
  EXPECT("[monitor]\nspeed = 0\n", 2, "speed", "[monitor]");
}

static void bad_numbers(void **state) {
  (void)state;
  EXPECT("[camera]\nwidth = 12x\n", 2, "camera.width", "12x", "16..16384");
  EXPECT("[camera]\nwidth = 1.5\n", 2, "camera.width", "not an integer");
  EXPECT("[camera]\nwidth =\n", 2, "camera.width", "not an integer");
  EXPECT("[camera]\nfps = fast\n", 2, "camera.fps", "0..1000");
  EXPECT("[camera]\nfps = 16 ; comment\n", 2, "camera.fps", "not a number");
  EXPECT("[camera]\nfps = nan\n", 2, "camera.fps");
  EXPECT("[camera]\nfps = inf\n", 2, "camera.fps");
  EXPECT("[sim]\nseed = 0x10\n", 2, "sim.seed");
}

static void out_of_range(void **state) {
  (void)state;
  EXPECT("[camera]\nwidth = 20000\n", 2, "camera.width", "out of range", "16..16384");
  EXPECT("[camera]\nwidth = 15\n", 2, "camera.width", "16..16384");
  EXPECT("[camera]\nwidth = 99999999999999999999\n", 2, "camera.width", "out of range");
  EXPECT("[sim]\nseed = -1\n", 2, "sim.seed", "0..9223372036854775807");
  EXPECT("[sim]\nseed = 9223372036854775808\n", 2, "sim.seed", "out of range");
  EXPECT("[align]\nmin_score = 1.0001\n", 2, "align.min_score", "0..1");
  EXPECT("[stage]\nspeed_um_s = 1e300\n", 2, "stage.speed_um_s", "1..10000000");
  EXPECT("[measure]\ntimeout_s = 0.05\n", 2, "measure.timeout_s", "0.1..86400");
  EXPECT("[monitor]\ninterval_s = 0\n", 2, "monitor.interval_s", "0.1..3600");
}

static void bad_words(void **state) {
  (void)state;
  EXPECT("[camera]\nflip_x = maybe\n", 2, "camera.flip_x", "maybe", "true/false");
  EXPECT("[camera]\npixel_format = RGB8\n", 2, "camera.pixel_format", "Mono8", "BayerBG8");
  EXPECT("[monitor]\nlog_level = loud\n", 2, "monitor.log_level", "debug, info");
  EXPECT("[stage]\ndriver = gpib\n", 2, "stage.driver", "sim, sentio");
  EXPECT("[camera]\ndevice = \"abc\n", 2, "camera.device", "closing double quote");
}

static void duplicates_and_garbage_lines(void **state) {
  (void)state;
  EXPECT("[camera]\nwidth = 100\nheight = 100\n[stage]\n[camera]\nwidth = 200\n", 6,
         "duplicate", "camera.width", "line 2");
  EXPECT("[camera]\nwidth = 100\nthis is not a setting\n", 3, "expected 'key = value'",
         "this is not a setting");
  EXPECT("[camera]\n= 5\n", 2, "expected 'key = value'");
}

static void over_long_values_and_lines(void **state) {
  (void)state;
  char text[PV_CONFIG_LINE_MAX + 64];
  int n = snprintf(text, sizeof text, "[camera]\ndevice = ");
  memset(text + n, 'd', PV_CONFIG_ID_CAP);
  strcpy(text + n + PV_CONFIG_ID_CAP, "\n");
  expect_error(text, strlen(text), PV_EPARSE, 2, "camera.device", "256 bytes long",
               "at most 255", NULL);
  n = snprintf(text, sizeof text, "[measure]\ncommand = ");
  memset(text + n, 'c', PV_CONFIG_LINE_MAX);
  strcpy(text + n + PV_CONFIG_LINE_MAX, "\n");
  expect_error(text, strlen(text), PV_EPARSE, 2, "longer than", NULL);
}

static void cross_key_rules_name_both_keys(void **state) {
  (void)state;
  EXPECT("[sim]\nmark_x_um = 1500\n", 2, "sim.mark_x_um", "sim.pitch_x_um");
  EXPECT("[camera]\nreopen_backoff_ms = 9000\n", 2, "camera.reopen_backoff_ms",
         "camera.reopen_backoff_max_ms");
}

static void binary_files_fail_cleanly(void **state) {
  (void)state;
  static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                      0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 1, 0};
  expect_error(png, sizeof png, PV_EPARSE, 1, NULL);
  static const char nul_inside[] = "[camera]\nwidth = 20\0""00\n";
  expect_error(nul_inside, sizeof nul_inside - 1, PV_EPARSE, 2, "0x00", NULL);
  static const char high_bytes[] = "\xff\xfe\xfd=\xfc\n";
  expect_error(high_bytes, sizeof high_bytes - 1, PV_EPARSE, 1, NULL);

  /* random bytes: always an error, never a crash */
  unsigned char junk[2048];
  uint64_t x = 0x9e3779b97f4a7c15u;
  for (int round = 0; round < 64; round++) {
    for (size_t i = 0; i < sizeof junk; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      junk[i] = (unsigned char)x;
    }
    expect_error(junk, (size_t)(64 + round * 30), PV_EPARSE, 0, NULL);
  }
}

static void endless_binary_streams_fail_cleanly(void **state) {
  (void)state;
  pv_config c;
  pv_config_default(&c);
  pv_error err = {""};
  assert_int_equal(pv_config_load(&c, "/dev/zero", &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "/dev/zero:1:"));
  assert_non_null(strstr(err.msg, "0x00"));
}

static void unreadable_files_are_io_errors(void **state) {
  (void)state;
  pv_config c;
  pv_config_default(&c);
  pv_error err = {""};
  assert_int_equal(pv_config_load(&c, "/nonexistent/probevision.ini", &err), PV_EIO);
  assert_non_null(strstr(err.msg, "/nonexistent/probevision.ini"));
  assert_int_equal(pv_config_load(&c, "/tmp", &err), PV_EIO);
  assert_non_null(strstr(err.msg, "/tmp"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unknown_sections_and_keys),
      cmocka_unit_test(bad_numbers),
      cmocka_unit_test(out_of_range),
      cmocka_unit_test(bad_words),
      cmocka_unit_test(duplicates_and_garbage_lines),
      cmocka_unit_test(over_long_values_and_lines),
      cmocka_unit_test(cross_key_rules_name_both_keys),
      cmocka_unit_test(binary_files_fail_cleanly),
      cmocka_unit_test(endless_binary_streams_fail_cleanly),
      cmocka_unit_test(unreadable_files_are_io_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
