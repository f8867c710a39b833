/* config: the canonical dump round-trips and the hash follows exactly the
 * non-volatile keys. */
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

/* A configuration far from the defaults, with awkward values. */
static void unusual_config(pv_config *c) {
  pv_config_default(c);
  static const char *const sets[][2] = {
      {"camera.device", "\"  leading and trailing  \""},
      {"measure.command", "sh -c \"echo x=1; exit 0\""},
      {"match.template", "dir with spaces/t.pgm"},
      {"camera.fps", "0.1"},
      {"camera.um_per_px", "0.3333333333333333"},
      {"sim.seed", "9223372036854775807"},
      {"sim.noise", "1e-5"},
      {"camera.pixel_format", "BayerGR8"},
      {"camera.swap_xy", "on"},
      {"monitor.log_level", "error"},
      {"sim.speed", "0"},
  };
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
    assert_int_equal(pv_config_set(c, sets[i][0], sets[i][1], NULL), PV_OK);
}

static void dump_load_round_trip_keeps_everything(void **state) {
  (void)state;
  pv_config a, b;
  unusual_config(&a);
  char text[PV_CONFIG_DUMP_CAP], again[PV_CONFIG_DUMP_CAP];
  int n = pv_config_dump(&a, 0, text, sizeof text);
  assert_true(n > 0);
  assert_int_equal((size_t)n, strlen(text));
  char path[64];
  write_tmp(path, text, (size_t)n);
  pv_config_default(&b);
  pv_error err = {""};
  int rc = pv_config_load(&b, path, &err);
  unlink(path);
  if (rc != PV_OK) fail_msg("%s", err.msg);
  assert_int_equal(pv_config_dump(&b, 0, again, sizeof again), n);
  assert_string_equal(text, again);
  assert_memory_equal(&a, &b, offsetof(pv_config, origin_file)); /* values, not origins */
  assert_true(pv_config_hash(&a) == pv_config_hash(&b));
}

static void longest_strings_fit_the_dump_cap(void **state) {
  (void)state;
  pv_config c;
  pv_config_default(&c);
  memset(c.camera_device, 'd', sizeof c.camera_device - 1);
  memset(c.stage_address, 'a', sizeof c.stage_address - 1);
  memset(c.match_template, 't', sizeof c.match_template - 1);
  memset(c.measure_command, 'm', sizeof c.measure_command - 1);
  memset(c.monitor_incident_dir, 'i', sizeof c.monitor_incident_dir - 1);
  static char text[PV_CONFIG_DUMP_CAP];
  int n = pv_config_dump(&c, 0, text, sizeof text);
  assert_true(n > 5 * 255);
  assert_int_equal(pv_config_dump(&c, 0, text, (size_t)n), PV_ERANGE);
  assert_int_equal(pv_config_dump(&c, 0, text, (size_t)n + 1), n);
  assert_int_equal(pv_config_dump(&c, 0, text, 0), PV_ERANGE);
}

static void hashed_dump_leaves_out_volatile_keys(void **state) {
  (void)state;
  pv_config c;
  pv_config_default(&c);
  char all[PV_CONFIG_DUMP_CAP], hashed[PV_CONFIG_DUMP_CAP];
  assert_true(pv_config_dump(&c, 0, all, sizeof all) > 0);
  assert_true(pv_config_dump(&c, 1, hashed, sizeof hashed) > 0);
  assert_non_null(strstr(all, "[monitor]\n"));
  assert_non_null(strstr(all, "\nspeed = 1\n"));
  assert_null(strstr(hashed, "[monitor]"));
  assert_null(strstr(hashed, "\nspeed ="));
  assert_non_null(strstr(hashed, "\nspeed_um_s = 50000\n"));
  assert_non_null(strstr(hashed, "\nseed = 1\n"));
}

static void hash_follows_hashed_keys_only(void **state) {
  (void)state;
  pv_config base;
  unusual_config(&base);
  uint64_t h = pv_config_hash(&base);
  assert_true(h == pv_config_hash(&base));

  static const char *const hashed[][2] = {
      {"camera.width", "2000"},     {"camera.flip_x", "true"},
      {"align.tolerance_um", "2.5"}, {"match.template", "other.png"},
      {"sim.seed", "2"},            {"stage.driver", "sentio"},
      {"camera.device", "leading and trailing"},
  };
  for (size_t i = 0; i < sizeof hashed / sizeof hashed[0]; i++) {
    pv_config c = base;
    assert_int_equal(pv_config_set(&c, hashed[i][0], hashed[i][1], NULL), PV_OK);
    if (pv_config_hash(&c) == h) fail_msg("hash ignores %s", hashed[i][0]);
  }

  static const char *const volatile_keys[][2] = {
      {"sim.speed", "50"},
      {"monitor.interval_s", "0.5"},
      {"monitor.incident_dir", "/var/tmp/incidents"},
      {"monitor.log_level", "debug"},
  };
  pv_config c = base;
  for (size_t i = 0; i < sizeof volatile_keys / sizeof volatile_keys[0]; i++)
    assert_int_equal(pv_config_set(&c, volatile_keys[i][0], volatile_keys[i][1], NULL), PV_OK);
  assert_true(pv_config_hash(&c) == h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(dump_load_round_trip_keeps_everything),
      cmocka_unit_test(longest_strings_fit_the_dump_cap),
      cmocka_unit_test(hashed_dump_leaves_out_volatile_keys),
      cmocka_unit_test(hash_follows_hashed_keys_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
