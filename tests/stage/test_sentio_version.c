/* stage: the sentio client's command set follows the station's version
 * (status:get_version at connect): 25.2 and later get the chuck: group,
 * older stations and stations without a readable version the older names;
 * a station that refuses a chuck: command (3) gets the older names within
 * the same call and from then on. The plain get_chuck_xy is the fallback
 * for a station that refuses "get_chuck_xy Wafer, Zero". */
#include "script_server.h"

static const char *IDN = "MPI Corporation,Sentio - Probe System Software Suite,0,25.2.0.1\n";

static void newer_station_gets_the_chuck_group(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "0,0,1.000,2.000,Z"},
                               {REPLY, "0,0,1.000,2.000,Z"},
                               {REPLY, "0,0,9700.000,Zero"}};
  script_server *s = server_start_full(steps, 3, IDN, "0,0,Version: 25.2.1 (build 7)");
  pv_stage *st = client(s, 2000, 0);
  double x, y, z;
  pv_stage_z where;
  assert_int_equal(pv_stage_move_abs(st, 1, 2, NULL), PV_OK);
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_true(x == 1 && y == 2);
  assert_int_equal(pv_stage_get_z(st, &z, &where, NULL), PV_OK);
  assert_true(z == 9700);
  assert_string_equal(logged(s, 0), "chuck:move_xy Z, 1.000, 2.000");
  assert_string_equal(logged(s, 1), "chuck:get_xy Z");
  assert_string_equal(logged(s, 2), "chuck:get_z Zero");
  pv_stage_destroy(st);
  server_stop(s);
}

static void older_or_unknown_version_gets_the_older_names(void **state) {
  (void)state;
  static const char *versions[] = {"0,0,Version: 25.1.0", "0,0,Version: 24.0.12",
                                   "3,0,command handler not found", "0,0,no version here"};
  for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
    static const step steps[] = {{REPLY, "0,0,1.000,2.000"}, {REPLY, "0,0,9700.0"}};
    script_server *s = server_start_full(steps, 2, IDN, versions[i]);
    pv_stage *st = client(s, 2000, 0);
    double z;
    assert_int_equal(pv_stage_move_abs(st, 1, 2, NULL), PV_OK);
    assert_int_equal(pv_stage_get_z(st, &z, NULL, NULL), PV_OK);
    assert_string_equal(logged(s, 0), "move_chuck_xy Zero, 1.000, 2.000");
    assert_string_equal(logged(s, 1), "get_chuck_z Zero");
    pv_stage_destroy(st);
    server_stop(s);
  }
}

static void refused_chuck_group_falls_back_at_once(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "3,0,command handler not found: chuck:move_xy"},
                               {REPLY, "0,0,1.000,2.000"},
                               {REPLY, "6,0,invalid parameter"},
                               {REPLY, "0,0,1.000,2.000"},
                               {REPLY, "0,0,1.000,2.000"}};
  script_server *s = server_start_full(steps, 5, IDN, "0,0,Version: 26.0.4");
  pv_stage *st = client(s, 2000, 0); /* retries 0: the fallback is not a retry */
  double x, y;
  assert_int_equal(pv_stage_move_abs(st, 1, 2, NULL), PV_OK);
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_string_equal(logged(s, 0), "chuck:move_xy Z, 1.000, 2.000");
  assert_string_equal(logged(s, 1), "move_chuck_xy Zero, 1.000, 2.000");
  assert_string_equal(logged(s, 2), "get_chuck_xy Wafer, Zero");
  assert_string_equal(logged(s, 3), "get_chuck_xy");
  assert_string_equal(logged(s, 4), "get_chuck_xy");
  pv_stage_destroy(st);
  server_stop(s);
}

static void versions_parse(void **state) {
  (void)state;
  pv_sentio_version v;
  assert_int_equal(pv_sentio_parse_version("Version: 25.2.0", &v), 0);
  assert_true(v.major == 25 && v.minor == 2 && v.patch == 0);
  assert_true(pv_sentio_version_has_chuck_group(&v));
  assert_int_equal(pv_sentio_parse_version("SENTIO, version:24.0", &v), 0);
  assert_true(v.major == 24 && v.minor == 0 && !pv_sentio_version_has_chuck_group(&v));
  assert_int_equal(pv_sentio_parse_version("Version: 25.1.99", &v), 0);
  assert_true(pv_sentio_version_has_chuck_group(&v));
  assert_int_equal(pv_sentio_parse_version("Version: 25.1.98", &v), 0);
  assert_false(pv_sentio_version_has_chuck_group(&v));
  assert_int_equal(pv_sentio_parse_version("Version 25.2", &v), -1);
  assert_int_equal(pv_sentio_parse_version("Version: x", &v), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(newer_station_gets_the_chuck_group),
      cmocka_unit_test(older_or_unknown_version_gets_the_older_names),
      cmocka_unit_test(refused_chuck_group_falls_back_at_once),
      cmocka_unit_test(versions_parse),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
