/* stage: the sentio client against a scripted station (script_server.h):
 * normal moves, a retried execution error and an out-of-bounds error that is
 * not retried, a reply that never comes (timeout, then reconnect), a
 * connection closed mid-reply, garbage and oversized replies, a retried
 * relative move sent as its absolute target, a bad identification and a
 * refused connection. */
#include "script_server.h"

/* ---- tests ---------------------------------------------------------------- */

static void moves_and_position(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "0,0,100.000,200.000"},
                               {REPLY, "0,0,110.000,205.000"},
                               {REPLY, "0,0,110.5,205.25"}};
  script_server *s = server_start(steps, 3);
  pv_stage *st = client(s, 2000, 0);
  assert_int_equal(pv_stage_connect(st, NULL), PV_OK);
  int64_t before = pv_now_ns(), t;
  assert_int_equal(pv_stage_move_abs(st, 100, 200, NULL), PV_OK);
  assert_int_equal(pv_stage_wait_settled(st, &t, NULL), PV_OK);
  assert_true(t >= before);
  assert_int_equal(pv_stage_move_rel(st, 10, 5, NULL), PV_OK);
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_true(x == 110.5 && y == 205.25);
  assert_int_equal(pv_stage_get_truth(st, &x, &y), PV_EUNSUPPORTED);
  assert_string_equal(logged(s, 0), "move_chuck_xy Zero, 100.000, 200.000");
  assert_string_equal(logged(s, 1), "move_chuck_xy Relative, 10.000, 5.000");
  assert_string_equal(logged(s, 2), "get_chuck_xy Wafer, Zero");
  assert_int_equal(count(s, &s->connections), 1);
  assert_int_equal(count(s, &s->rcs), 1);
  assert_int_equal(count(s, &s->idns), 1);
  assert_int_equal(count(s, &s->versions), 1);
  /* The handshake, in order: nothing waits for a reply to "*RCS 1". */
  assert_string_equal(received(s, 0), "*RCS 1");
  assert_string_equal(received(s, 1), "*IDN?");
  assert_string_equal(received(s, 2), "status:get_version");
  pv_stage_destroy(st);
  server_stop(s);
}

static void execution_error_retried_out_of_bounds_not(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "2,0,motor fault, axis X"},
                               {REPLY, "0,0,1.000,2.000"},
                               {REPLY, "8,0,target 1e9, 0 is outside the travel range"}};
  script_server *s = server_start(steps, 3);
  pv_stage *st = client(s, 2000, 1);
  pv_error err;
  assert_int_equal(pv_stage_move_abs(st, 1, 2, &err), PV_OK); /* 2 retried once */
  assert_int_equal(count(s, &s->nlog), 2);
  assert_int_equal(pv_stage_move_abs(st, 1e9, 0, &err), PV_EREFUSED);
  assert_int_equal(count(s, &s->nlog), 3); /* not retried, although retries = 1 */
  assert_non_null(strstr(err.msg, "error 8 ArgumentOutOfBounds"));
  assert_non_null(strstr(err.msg, "target 1e9, 0 is outside the travel range"));
  assert_non_null(strstr(err.msg, "not retried"));
  assert_int_equal(count(s, &s->connections), 1); /* error replies keep the connection */
  pv_stage_destroy(st);
  server_stop(s);
}

static void missing_reply_times_out_then_reconnects(void **state) {
  (void)state;
  static const step steps[] = {{SILENT, NULL}, {REPLY, "0,0,7.000,8.000"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client(s, 200, 0);
  pv_error err;
  assert_int_equal(pv_stage_move_abs(st, 7, 8, &err), PV_ETIMEDOUT);
  assert_non_null(strstr(err.msg, "no reply"));
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 7 && y == 8);
  assert_int_equal(count(s, &s->connections), 2);
  assert_int_equal(count(s, &s->rcs), 2);
  pv_stage_destroy(st);
  server_stop(s);
}

static void closed_mid_reply_reconnects_on_next_command(void **state) {
  (void)state;
  static const step steps[] = {{CLOSE_MID, "0,0,12"}, {REPLY, "0,0,3.000,4.000"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client(s, 2000, 0);
  pv_error err;
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EDISCONNECTED);
  assert_non_null(strstr(err.msg, "closed"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 3 && y == 4);
  assert_int_equal(count(s, &s->connections), 2);
  pv_stage_destroy(st);
  server_stop(s);
}

static void garbage_replies_are_parse_errors(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "garbage"},
                               {REPLY, "\x01\x02\xff,0,0"},
                               {REPLY, "0,0,not a position"},
                               {REPLY, "0,0,5.000,6.000"}};
  script_server *s = server_start(steps, 4);
  pv_stage *st = client(s, 2000, 0);
  pv_error err;
  double x, y;
  char peer[64];
  snprintf(peer, sizeof peer, "127.0.0.1:%d", s->port);
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, peer));
  assert_non_null(strstr(err.msg, "\"garbage\""));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "\\x01\\x02\\xff"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "not a position"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 5 && y == 6);
  pv_stage_destroy(st);
  server_stop(s);
}

static void oversized_reply_is_rejected(void **state) {
  (void)state;
  char *big = malloc(20001);
  memset(big, '9', 20000);
  big[20000] = '\0';
  step steps[] = {{REPLY, big}, {REPLY, "0,0,1.000,1.000"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client(s, 2000, 0);
  pv_error err;
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "longer than"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 1 && y == 1);
  pv_stage_destroy(st);
  server_stop(s);
  free(big);
}

static void retried_relative_move_goes_to_the_absolute_target(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "0,0,50.000,60.000"},
                               {SILENT, NULL},
                               {REPLY, "0,0,60.000,60.000"}};
  script_server *s = server_start(steps, 3);
  pv_stage *st = client(s, 200, 1);
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_int_equal(pv_stage_move_rel(st, 10, 0, NULL), PV_OK);
  assert_string_equal(logged(s, 1), "move_chuck_xy Relative, 10.000, 0.000");
  assert_string_equal(logged(s, 2), "move_chuck_xy Zero, 60.000, 60.000");
  pv_stage_destroy(st);
  server_stop(s);
}

static void bad_identification_and_refused_connection(void **state) {
  (void)state;
  script_server *s = server_start_idn(NULL, 0, "\x01\x02 hello\n");
  pv_stage *st = client(s, 500, 0);
  pv_error err;
  assert_int_equal(pv_stage_connect(st, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "*IDN?"));
  pv_stage_destroy(st);
  int port = s->port;
  server_stop(s); /* nothing listens on port now */
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  p.port = port;
  assert_int_equal(pv_sentio_stage_create(&p, &st, NULL), PV_OK);
  assert_int_equal(pv_stage_connect(st, &err), PV_EIO);
  assert_non_null(strstr(err.msg, "cannot connect"));
  pv_stage_destroy(st);
}

static void addresses_parse(void **state) {
  (void)state;
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  assert_int_equal(pv_sentio_parse_address("10.0.0.5:4000", &p, NULL), PV_OK);
  assert_string_equal(p.host, "10.0.0.5");
  assert_int_equal(p.port, 4000);
  assert_int_equal(pv_sentio_parse_address("prober", &p, NULL), PV_OK);
  assert_int_equal(p.port, PV_SENTIO_DEFAULT_PORT);
  assert_int_equal(pv_sentio_parse_address("[::1]:5", &p, NULL), PV_OK);
  assert_string_equal(p.host, "::1");
  static const char *bad[] = {"", ":80", "h:", "h:0", "h:70000", "h:1:2", "[::1", "h:8x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pv_error err;
    assert_int_equal(pv_sentio_parse_address(bad[i], &p, &err), PV_EPARSE);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(moves_and_position),
      cmocka_unit_test(execution_error_retried_out_of_bounds_not),
      cmocka_unit_test(missing_reply_times_out_then_reconnects),
      cmocka_unit_test(closed_mid_reply_reconnects_on_next_command),
      cmocka_unit_test(garbage_replies_are_parse_errors),
      cmocka_unit_test(oversized_reply_is_rejected),
      cmocka_unit_test(retried_relative_move_goes_to_the_absolute_target),
      cmocka_unit_test(bad_identification_and_refused_connection),
      cmocka_unit_test(addresses_parse),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
