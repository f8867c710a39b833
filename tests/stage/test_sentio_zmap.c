/* stage: the sentio client's Z and wafer-map stepping against a scripted
 * station (script_server.h): contact and separation report the heights
 * the station answered, get_z tells contact / separation / unknown from
 * them; 23 (no contact height) fails at once by name; map steps read
 * "col,row,site" and the EndOfRoute status bit, 11 after the last die is
 * PV_ENOTFOUND, every step reads the chuck position; a lost reply to
 * map:step_next_die is resolved through map:die:get_current_index and
 * never steps twice. */
#include "script_server.h"

static void contact_separation_and_height(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "0,0,10000.000"}, {REPLY, "0,0,9700.000"},
                               {REPLY, "0,0,9700.2"},    {REPLY, "0,0,10000.0,Zero"},
                               {REPLY, "0,0,9850.0"},    {REPLY, "23,0,contact height not set, site Wafer"}};
  script_server *s = server_start(steps, 6);
  pv_stage *st = client(s, 2000, 2);
  assert_true(pv_stage_has_z(st));
  double z;
  pv_stage_z where;
  assert_int_equal(pv_stage_contact(st, &z, NULL), PV_OK);
  assert_true(z == 10000);
  assert_int_equal(pv_stage_separate(st, &z, NULL), PV_OK);
  assert_true(z == 9700);
  assert_int_equal(pv_stage_get_z(st, &z, &where, NULL), PV_OK);
  assert_int_equal(where, PV_STAGE_Z_SEPARATION);
  assert_int_equal(pv_stage_get_z(st, &z, &where, NULL), PV_OK);
  assert_int_equal(where, PV_STAGE_Z_CONTACT);
  assert_int_equal(pv_stage_get_z(st, &z, &where, NULL), PV_OK);
  assert_int_equal(where, PV_STAGE_Z_UNKNOWN);
  pv_error err;
  assert_int_equal(pv_stage_contact(st, &z, &err), PV_EREFUSED);
  assert_non_null(strstr(err.msg, "ContactHeightNotSet"));
  assert_non_null(strstr(err.msg, "contact height not set, site Wafer"));
  assert_int_equal(count(s, &s->nlog), 6); /* 23 not retried */
  assert_string_equal(logged(s, 0), "move_chuck_contact");
  assert_string_equal(logged(s, 1), "move_chuck_separation");
  assert_string_equal(logged(s, 2), "get_chuck_z Zero");
  pv_stage_destroy(st);
  server_stop(s);
}

static void map_steps_to_the_end_of_the_route(void **state) {
  (void)state;
  static const step steps[] = {
      {REPLY, "0,0,3,4,0"},      {REPLY, "0,0,3000.0,4000.0"},
      {REPLY, "0,0,4,4,0"},      {REPLY, "0,0,4000.0,4000.0"},
      {REPLY, "1024,0,5,4,0"},   {REPLY, "0,0,5000.0,4000.0"},
      {REPLY, "11,0,end of route"},
      {REPLY, "0,0,2,3,1"},      {REPLY, "0,0,2000.0,3000.0"}};
  script_server *s = server_start(steps, 9);
  pv_stage *st = client(s, 2000, 1);
  assert_true(pv_stage_has_map(st));
  pv_map_die d;
  pv_error err;
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_FIRST, 0, 0, 0, &d, NULL), PV_OK);
  assert_true(d.col == 3 && d.row == 4 && d.site == 0 && !d.end_of_route);
  assert_true(d.x_um == 3000 && d.y_um == 4000);
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_NEXT, 0, 0, 0, &d, NULL), PV_OK);
  assert_true(d.col == 4 && !d.end_of_route);
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_NEXT, 0, 0, 0, &d, NULL), PV_OK);
  assert_true(d.col == 5 && d.end_of_route && d.x_um == 5000);
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_NEXT, 0, 0, 0, &d, &err), PV_ENOTFOUND);
  assert_non_null(strstr(err.msg, "EndOfRoute"));
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_DIE, 2, 3, 1, &d, NULL), PV_OK);
  assert_true(d.col == 2 && d.row == 3 && d.site == 1);
  assert_string_equal(logged(s, 0), "map:step_first_die");
  assert_string_equal(logged(s, 1), "get_chuck_xy Wafer, Zero");
  assert_string_equal(logged(s, 2), "map:step_next_die");
  assert_string_equal(logged(s, 6), "map:step_next_die");
  assert_string_equal(logged(s, 7), "map:step_die 2, 3, 1");
  assert_int_equal(count(s, &s->nlog), 9); /* 11 was not retried */
  pv_stage_destroy(st);
  server_stop(s);
}

static void lost_next_reply_never_steps_twice(void **state) {
  (void)state;
  static const step steps[] = {
      {REPLY, "0,0,3,4,0"},     {REPLY, "0,0,3000.0,4000.0"},
      {SILENT, NULL},                          /* NEXT carried out, reply lost */
      {REPLY, "0,0,7,4,4"},                    /* index 7: die 4,4 is current */
      {REPLY, "1024,0,4,4,0"},  {REPLY, "0,0,4000.0,4000.0"},
      {SILENT, NULL},                          /* NEXT not carried out */
      {REPLY, "0,0,7,4,4"},                    /* still die 4,4 */
      {REPLY, "0,0,5,4,0"},     {REPLY, "0,0,5000.0,4000.0"}};
  script_server *s = server_start(steps, 10);
  pv_stage *st = client(s, 300, 1);
  pv_map_die d;
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_FIRST, 0, 0, 0, &d, NULL), PV_OK);
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_NEXT, 0, 0, 0, &d, NULL), PV_OK);
  assert_true(d.col == 4 && d.row == 4 && d.end_of_route && d.x_um == 4000);
  assert_string_equal(logged(s, 3), "map:die:get_current_index");
  assert_string_equal(logged(s, 4), "map:step_die 4, 4, 0");
  assert_int_equal(pv_stage_map_step(st, PV_MAP_STEP_NEXT, 0, 0, 0, &d, NULL), PV_OK);
  assert_true(d.col == 5 && d.row == 4);
  assert_string_equal(logged(s, 7), "map:die:get_current_index");
  assert_string_equal(logged(s, 8), "map:step_next_die");
  pv_stage_destroy(st);
  server_stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(contact_separation_and_height),
      cmocka_unit_test(map_steps_to_the_end_of_the_route),
      cmocka_unit_test(lost_next_reply_never_steps_twice),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
