/* stage: every SENTIO error code as the client classifies it, against a
 * scripted station (script_server.h): with retries = 1, an error of the
 * RETRY class (2, 19, 30) is sent again and the second reply counts; every
 * other code (1, 3, 6, 7, 8, 12, 13, 18, 23, 31, 32 and codes the table does
 * not know) fails at once as PV_EREFUSED naming the command, the code, its
 * name and the station's message (commas kept); 11 is PV_ENOTFOUND. The
 * status bits above the code never change the class. */
#include "script_server.h"

typedef struct want {
  int code;
  int retried;
  const char *name;
} want;

static void each_code_is_classified(void **state) {
  (void)state;
  static const want table[] = {
      {1, 0, "InternalError"},        {2, 1, "ExecutionError"},
      {3, 0, "CommandHandlerNotFound"}, {4, 0, "unknown"},
      {6, 0, "InvalidParameter"},     {7, 0, "InvalidNumberOfParameters"},
      {8, 0, "ArgumentOutOfBounds"},  {12, 0, "InvalidOperation"},
      {13, 0, "NotSupported"},        {18, 0, "HomePositionNotSet"},
      {19, 1, "Timeout"},             {23, 0, "ContactHeightNotSet"},
      {30, 1, "CommandPending"},      {31, 0, "AsyncCommandAborted"},
      {32, 0, "UnknownCommandId"},    {99, 0, "unknown"},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    const want *w = &table[i];
    char first[96];
    /* status bit LastSite set on top of the code */
    snprintf(first, sizeof first, "%d,0,station says: no, really, code %d", w->code | (2 << 10),
             w->code);
    step steps[] = {{REPLY, first}, {REPLY, "0,0,1.000,2.000"}};
    script_server *s = server_start(steps, 2);
    pv_stage *st = client(s, 2000, 1);
    pv_error err;
    int rc = pv_stage_move_abs(st, 1, 2, &err);
    print_message("code %d: %s\n", w->code, rc ? err.msg : "ok after a retry");
    if (w->retried) {
      assert_int_equal(rc, PV_OK);
      assert_int_equal(count(s, &s->nlog), 2);
    } else {
      assert_int_equal(rc, PV_EREFUSED);
      assert_int_equal(count(s, &s->nlog), 1);
      char code[64];
      snprintf(code, sizeof code, "error %d %s", w->code, w->name);
      assert_non_null(strstr(err.msg, code));
      assert_non_null(strstr(err.msg, "move_chuck_xy Zero, 1.000, 2.000"));
      snprintf(code, sizeof code, "station says: no, really, code %d", w->code);
      assert_non_null(strstr(err.msg, code));
    }
    assert_int_equal(count(s, &s->connections), 1);
    pv_stage_destroy(st);
    server_stop(s);
  }
}

static void retry_class_gives_up_after_the_retries(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "2,0,motor fault"}, {REPLY, "19,0,timeout"},
                               {REPLY, "2,0,motor fault again"}};
  script_server *s = server_start(steps, 3);
  pv_stage *st = client(s, 2000, 2);
  pv_error err;
  assert_int_equal(pv_stage_move_abs(st, 1, 2, &err), PV_ESTAGE);
  assert_int_equal(count(s, &s->nlog), 3);
  assert_non_null(strstr(err.msg, "motor fault again"));
  pv_stage_destroy(st);
  server_stop(s);
}

static void table_lookups(void **state) {
  (void)state;
  assert_string_equal(pv_sentio_error_name(PV_SENTIO_ERR_CONTACT_NOT_SET), "ContactHeightNotSet");
  assert_int_equal(PV_SENTIO_ERR_CONTACT_NOT_SET, 23);
  assert_int_equal(pv_sentio_error_class(11), PV_SENTIO_END);
  assert_int_equal(pv_sentio_error_class(0), PV_SENTIO_PASS);
  assert_int_equal(pv_sentio_error_class(5), PV_SENTIO_FAIL);
  assert_string_equal(pv_sentio_error_name(10), "unknown");
  double v[3];
  assert_int_equal(pv_sentio_parse_first("1, 2,Zero", 2, v), 0);
  assert_true(v[0] == 1 && v[1] == 2);
  assert_int_equal(pv_sentio_parse_first("1", 2, v), -1);
  assert_int_equal(pv_sentio_parse_first("1,x,3", 2, v), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_code_is_classified),
      cmocka_unit_test(retry_class_gives_up_after_the_retries),
      cmocka_unit_test(table_lookups),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
