/* stage: the sentio client reads every reply form of a real station
 * (script_server.h): command ids other than 0, status bits, messages with
 * commas, position replies with extra fields, a reply split across TCP
 * segments, a connection dropped mid-reply (reconnected within the same
 * call), and a station that restarts (refuses connections for 1.5 s): a
 * query rides it out within reconnect_ms and fails without it. */
#include "script_server.h"

static void extra_fields_ids_and_status_bits(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "0,7,100.000,200.000,Zero"},
                               {REPLY, "2048,0, 1.5 , 2.5 ,extra, fields, here"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client(s, 2000, 0);
  double x, y;
  assert_int_equal(pv_stage_move_abs(st, 100, 200, NULL), PV_OK);
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_true(x == 1.5 && y == 2.5);
  assert_int_equal(count(s, &s->connections), 1); /* nothing dropped */
  pv_stage_destroy(st);
  server_stop(s);
}

static void reply_split_across_segments(void **state) {
  (void)state;
  static const step steps[] = {{SPLIT, "0,0,3.250,-4.500"}};
  script_server *s = server_start(steps, 1);
  pv_stage *st = client(s, 2000, 0);
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_true(x == 3.25 && y == -4.5);
  pv_stage_destroy(st);
  server_stop(s);
}

static pv_stage *client_reconnecting(const script_server *s, int reconnect_ms) {
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  p.port = s->port;
  p.timeout_ms = 2000;
  p.connect_timeout_ms = 500;
  p.retries = 0;
  p.reconnect_ms = reconnect_ms;
  pv_stage *st = NULL;
  assert_int_equal(pv_sentio_stage_create(&p, &st, NULL), PV_OK);
  return st;
}

static void dropped_mid_reply_is_asked_again_on_a_new_connection(void **state) {
  (void)state;
  static const step steps[] = {{CLOSE_MID, "0,0,5"}, {REPLY, "0,0,5.000,6.000"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client_reconnecting(s, 3000);
  assert_int_equal(pv_stage_connect(st, NULL), PV_OK);
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK); /* retries = 0 */
  assert_true(x == 5 && y == 6);
  assert_int_equal(count(s, &s->connections), 2);
  assert_int_equal(count(s, &s->versions), 2); /* the handshake again */
  assert_string_equal(logged(s, 1), "get_chuck_xy Wafer, Zero");
  pv_stage_destroy(st);
  server_stop(s);
}

static void station_restart_is_ridden_out(void **state) {
  (void)state;
  static const step steps[] = {{DOWN, "1500"}, {REPLY, "0,0,7.000,8.000"},
                               {DOWN, "1500"}, {REPLY, "0,0,9.000,9.000"}};
  script_server *s = server_start(steps, 4);
  pv_stage *st = client_reconnecting(s, 5000);
  assert_int_equal(pv_stage_connect(st, NULL), PV_OK);
  double x, y;
  assert_int_equal(pv_stage_move_abs(st, 7, 8, NULL), PV_OK);
  assert_int_equal(count(s, &s->connections), 2);
  pv_stage_destroy(st);
  /* Without the reconnect window the same restart fails the call. */
  st = client_reconnecting(s, 0);
  assert_int_equal(pv_stage_connect(st, NULL), PV_OK);
  pv_error err;
  assert_true(pv_stage_get_position(st, &x, &y, &err) < 0);
  assert_non_null(strstr(err.msg, "gave up reconnecting"));
  pv_stage_destroy(st);
  server_stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(extra_fields_ids_and_status_bits),
      cmocka_unit_test(reply_split_across_segments),
      cmocka_unit_test(dropped_mid_reply_is_asked_again_on_a_new_connection),
      cmocka_unit_test(station_restart_is_ridden_out),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
