/* config: defaults, a full file, comments, whitespace, quotes, overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/config.h"
#include "tmpfile.h"

static void defaults_are_the_documented_ones(void **state) {
  (void)state;
  pv_config c;
  memset(&c, 0x5a, sizeof c);
  pv_config_default(&c);
  assert_string_equal(c.camera_driver, "sim");
  assert_string_equal(c.camera_device, "");
  assert_int_equal(c.camera_width, 2448);
  assert_int_equal(c.camera_height, 2048);
  assert_int_equal(c.camera_pixel_format, PV_PIXFMT_BAYER_BG8);
  assert_true(c.camera_fps == 16.0);
  assert_int_equal(c.camera_buffers, 4);
  assert_true(c.camera_um_per_px == 1.5);
  assert_false(c.camera_flip_x || c.camera_flip_y || c.camera_swap_xy);
  assert_int_equal(c.camera_reopen_backoff_max_ms, 5000);
  assert_true(c.stage_speed_um_s == 50000.0);
  assert_int_equal(c.stage_retries, 2);
  assert_true(c.align_tolerance_um == 2.0);
  assert_true(c.align_min_score == 0.6);
  assert_int_equal(c.match_max_results, 16);
  assert_string_equal(c.measure_command, "");
  assert_true(c.measure_timeout_s == 30.0);
  assert_true(c.monitor_interval_s == 5.0);
  assert_string_equal(c.monitor_incident_dir, ".");
  assert_int_equal(c.monitor_log_level, PV_LOG_INFO);
  assert_true(c.sim_speed == 1.0);
  assert_int_equal(c.sim_seed, 1);
  assert_true(c.sim_pitch_y_um == 900.0 && c.sim_mark_y_um == 220.0);
  assert_true(c.sim_blur_px == 0.8 && c.sim_fault_stage_error == 0.0);
  pv_error err;
  assert_int_equal(pv_config_check(&c, &err), PV_OK);
}

static const char full_file[] =
    "; probevision configuration\n"
    "[camera]\n"
    "driver = aravis\n"
    "device = Hikrobot-MV-CA050-12345\n"
    "width = 1224\n"
    "height = 1024\n"
    "pixel_format = Mono8\n"
    "fps = 7.5\n"
    "buffers = 8\n"
    "um_per_px = 0.75\n"
    "flip_x = yes\n"
    "flip_y = On\n"
    "swap_xy = 1\n"
    "timeout_ms = 500\n"
    "retries_before_restart = 5\n"
    "restarts_before_reopen = 4\n"
    "reopen_backoff_ms = 100\n"
    "reopen_backoff_max_ms = 60000\n"
    "[stage]\n"
    "driver = sentio\n"
    "address = 10.0.0.5:35555\n"
    "speed_um_s = 2.5e4\n"
    "settle_ms = 0\n"
    "timeout_ms = 20000\n"
    "retries = 0\n"
    "[align]\n"
    "tolerance_um = 0.5\n"
    "max_iterations = 5\n"
    "match_every = 3\n"
    "min_score = 0.75\n"
    "frame_timeout_ms = 1500\n"
    "frame_retries = 4\n"
    "[match]\n"
    "template = /data/templates/pad.png\n"
    "threshold = 0.4\n"
    "max_results = 100\n"
    "overlap = 0\n"
    "threads = 2\n"
    "[measure]\n"
    "command = ./measure.sh --point\n"
    "timeout_s = 0.5\n"
    "[monitor]\n"
    "interval_s = 1\n"
    "incident_dir = /var/tmp\n"
    "log_level = debug\n"
    "[sim]\n"
    "speed = 0\n"
    "seed = 9223372036854775807\n"
    "cols = 20\n"
    "rows = 16\n"
    "pitch_x_um = 2000\n"
    "pitch_y_um = 1800\n"
    "mark_x_um = 2000\n"
    "mark_y_um = 0\n"
    "noise = 0\n"
    "gradient = 1\n"
    "blur_px = 20\n"
    "landing_error_frac = 0.5\n"
    "landing_error_um = 1000\n"
    "backlash_um = 0\n"
    "fault_nodata = 0.01\n"
    "fault_incomplete = 0.02\n"
    "fault_stage_error = 1\n";

static void a_full_file_sets_every_key(void **state) {
  (void)state;
  char path[64];
  write_tmp_str(path, full_file);
  pv_config c;
  pv_config_default(&c);
  pv_error err = {""};
  assert_int_equal(pv_config_load(&c, path, &err), PV_OK);
  unlink(path);
  assert_string_equal(c.camera_driver, "aravis");
  assert_string_equal(c.camera_device, "Hikrobot-MV-CA050-12345");
  assert_int_equal(c.camera_width, 1224);
  assert_int_equal(c.camera_pixel_format, PV_PIXFMT_MONO8);
  assert_true(c.camera_fps == 7.5 && c.camera_um_per_px == 0.75);
  assert_true(c.camera_flip_x && c.camera_flip_y && c.camera_swap_xy);
  assert_int_equal(c.camera_reopen_backoff_max_ms, 60000);
  assert_string_equal(c.stage_driver, "sentio");
  assert_string_equal(c.stage_address, "10.0.0.5:35555");
  assert_true(c.stage_speed_um_s == 25000.0);
  assert_int_equal(c.stage_settle_ms, 0);
  assert_true(c.align_tolerance_um == 0.5);
  assert_int_equal(c.align_match_every, 3);
  assert_string_equal(c.match_template, "/data/templates/pad.png");
  assert_true(c.match_overlap == 0.0);
  assert_string_equal(c.measure_command, "./measure.sh --point");
  assert_true(c.measure_timeout_s == 0.5);
  assert_string_equal(c.monitor_incident_dir, "/var/tmp");
  assert_int_equal(c.monitor_log_level, PV_LOG_DEBUG);
  assert_true(c.sim_speed == 0.0);
  assert_true(c.sim_seed == INT64_MAX);
  assert_int_equal(c.sim_rows, 16);
  assert_true(c.sim_mark_x_um == 2000.0 && c.sim_mark_y_um == 0.0);
  assert_true(c.sim_fault_stage_error == 1.0);
}

static void comments_whitespace_and_quotes(void **state) {
  (void)state;
  char path[64];
  write_tmp_str(path,
                "\xEF\xBB\xBF# a comment\r\n"
                "\r\n"
                "  ; indented comment\n"
                "\t[ camera ]  \n"
                "width=640\n"
                "  height\t =\t 480  \r\n"
                "device = \"  two spaces  \"\n"
                "pixel_format = bayerrg8\n"
                "flip_x = FALSE\n"
                "[measure]\n"
                "command = \"echo a=b; echo \"c\"\"\n"
                "[match]\n"
                "template = \n"
                "[camera]\n"
                "fps = 0\n");
  pv_config c;
  pv_config_default(&c);
  c.camera_flip_x = true;
  snprintf(c.match_template, sizeof c.match_template, "old.png");
  pv_error err = {""};
  assert_int_equal(pv_config_load(&c, path, &err), PV_OK);
  unlink(path);
  assert_int_equal(c.camera_width, 640);
  assert_int_equal(c.camera_height, 480);
  assert_string_equal(c.camera_device, "  two spaces  ");
  assert_int_equal(c.camera_pixel_format, PV_PIXFMT_BAYER_RG8);
  assert_false(c.camera_flip_x);
  assert_string_equal(c.measure_command, "echo a=b; echo \"c\"");
  assert_string_equal(c.match_template, "");
  assert_true(c.camera_fps == 0.0);
  /* keys absent from the file keep their values */
  assert_int_equal(c.camera_buffers, 4);
  assert_true(c.sim_speed == 1.0);
}

static void an_empty_file_changes_nothing(void **state) {
  (void)state;
  char path[64];
  write_tmp_str(path, "");
  pv_config a, b;
  pv_config_default(&a);
  a.camera_width = 100;
  b = a;
  assert_int_equal(pv_config_load(&a, path, NULL), PV_OK);
  unlink(path);
  assert_memory_equal(&a, &b, offsetof(pv_config, origin_file)); /* values, not origins */
}

static void overrides_use_section_dot_key(void **state) {
  (void)state;
  pv_config c;
  pv_config_default(&c);
  pv_error err = {""};
  assert_int_equal(pv_config_set(&c, "sim.speed", "0", &err), PV_OK);
  assert_true(c.sim_speed == 0.0);
  assert_int_equal(pv_config_set(&c, "camera.pixel_format", " Mono8 ", &err), PV_OK);
  assert_int_equal(c.camera_pixel_format, PV_PIXFMT_MONO8);
  assert_int_equal(pv_config_set(&c, "monitor.log_level", "warn", &err), PV_OK);
  assert_int_equal(c.monitor_log_level, PV_LOG_WARN);
  assert_int_equal(pv_config_set(&c, "stage.address", "\"host:1\"", &err), PV_OK);
  assert_string_equal(c.stage_address, "host:1");

  pv_config before = c;
  assert_int_equal(pv_config_set(&c, "sim.speed", "fast", &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "sim.speed"));
  assert_non_null(strstr(err.msg, "0..1000"));
  assert_int_equal(pv_config_set(&c, "sim.sped", "1", &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "sim.sped"));
  assert_int_equal(pv_config_set(&c, "speed", "1", &err), PV_EPARSE);
  assert_int_equal(pv_config_set(&c, "camera.driver", "gige", &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "sim, aravis"));
  assert_memory_equal(&c, &before, sizeof c);

  /* cross-key rules are checked on request, after all overrides */
  assert_int_equal(pv_config_set(&c, "sim.mark_x_um", "1500", &err), PV_OK);
  assert_int_equal(pv_config_check(&c, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "sim.mark_x_um"));
  assert_non_null(strstr(err.msg, "sim.pitch_x_um"));
  assert_int_equal(pv_config_set(&c, "sim.pitch_x_um", "2000", &err), PV_OK);
  assert_int_equal(pv_config_check(&c, &err), PV_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_are_the_documented_ones),
      cmocka_unit_test(a_full_file_sets_every_key),
      cmocka_unit_test(comments_whitespace_and_quotes),
      cmocka_unit_test(an_empty_file_changes_nothing),
      cmocka_unit_test(overrides_use_section_dot_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
