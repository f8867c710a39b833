/* stage: the sentio client against the simulator's SENTIO server over
 * 127.0.0.1 (port 0): moves land on the simulated stage; moves refused at
 * random (stage_error 0.5) succeed through retries; relative moves whose
 * replies are held past the client's timeout (stage_timeout 0.5) are
 * retried without being applied twice. Seeds are fixed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/sim.h"
#include "probevision/stage.h"

typedef struct loop {
  pv_stage *sim;
  pv_sentio_server *srv;
  pv_stage *client;
  char *log;
  size_t log_len;
  FILE *log_stream;
} loop;

static void start(loop *l, const pv_sim_faults *faults, int timeout_ms, int retries) {
  memset(l, 0, sizeof *l);
  l->log_stream = open_memstream(&l->log, &l->log_len);
  pv_log_set_stream(l->log_stream);
  pv_log_set_level(PV_LOG_WARN);
  pv_sim_stage_params sp;
  pv_sim_stage_params_default(&sp);
  sp.speed = 0;
  sp.error_frac = 0;
  sp.error_um = 0;
  sp.backlash_um = 0;
  assert_int_equal(pv_sim_stage_create(&sp, &l->sim), PV_OK);
  pv_error err;
  assert_int_equal(pv_sentio_server_start(l->sim, "127.0.0.1", 0, faults, &l->srv, &err), PV_OK);
  pv_sentio_stage_params cp;
  pv_sentio_stage_params_default(&cp);
  cp.port = pv_sentio_server_port(l->srv);
  cp.timeout_ms = timeout_ms;
  cp.retries = retries;
  assert_int_equal(pv_sentio_stage_create(&cp, &l->client, &err), PV_OK);
  assert_int_equal(pv_stage_connect(l->client, &err), PV_OK);
}

/* Stops the server, then returns the simulated stage's reported position. */
static void finish(loop *l, double *x, double *y) {
  pv_stage_destroy(l->client);
  pv_sentio_server_stop(l->srv);
  assert_int_equal(pv_stage_get_position(l->sim, x, y, NULL), PV_OK);
  pv_stage_destroy(l->sim);
  pv_log_set_stream(NULL);
  fclose(l->log_stream);
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

static void moves_land(void **state) {
  (void)state;
  loop l;
  start(&l, NULL, 2000, 0);
  pv_error err;
  int64_t t;
  assert_int_equal(pv_stage_move_abs(l.client, 1000, -2000, &err), PV_OK);
  assert_int_equal(pv_stage_wait_settled(l.client, &t, &err), PV_OK);
  assert_int_equal(pv_stage_move_rel(l.client, 12.5, 7.25, &err), PV_OK);
  double x, y;
  assert_int_equal(pv_stage_get_position(l.client, &x, &y, &err), PV_OK);
  assert_true(x == 1012.5 && y == -1992.75);
  assert_int_equal(pv_stage_move_abs(l.client, 1e9, 0, &err), PV_EREFUSED);
  assert_non_null(strstr(err.msg, "outside"));
  finish(&l, &x, &y);
  assert_true(x == 1012.5 && y == -1992.75);
  free(l.log);
}

static void refused_moves_succeed_through_retries(void **state) {
  (void)state;
  loop l;
  pv_sim_faults faults = {.stage_error = 0.5, .seed = 11};
  start(&l, &faults, 2000, 10); /* 11 attempts: a move fails with p = 2^-11 */
  pv_error err;
  for (int i = 1; i <= 20; i++) {
    assert_int_equal(pv_stage_move_abs(l.client, 100.0 * i, -50.0 * i, &err), PV_OK);
    double x, y;
    assert_int_equal(pv_stage_get_position(l.client, &x, &y, &err), PV_OK);
    assert_true(x == 100.0 * i && y == -50.0 * i);
  }
  double x, y;
  finish(&l, &x, &y);
  assert_true(x == 2000 && y == -1000);
  assert_true(count(l.log, "injected fault") > 0); /* retries did happen */
  free(l.log);
}

static void timed_out_relative_moves_are_not_applied_twice(void **state) {
  (void)state;
  loop l;
  pv_sim_faults faults = {.stage_timeout = 0.5, .seed = 5};
  start(&l, &faults, 150, 6);
  pv_error err;
  for (int i = 0; i < 6; i++)
    assert_int_equal(pv_stage_move_rel(l.client, 100, -10, &err), PV_OK);
  double x, y;
  assert_int_equal(pv_stage_get_position(l.client, &x, &y, &err), PV_OK);
  assert_true(x == 600 && y == -60);
  finish(&l, &x, &y);
  assert_true(x == 600 && y == -60);
  assert_true(count(l.log, "no reply") > 0); /* some replies did time out */
  free(l.log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(moves_land),
      cmocka_unit_test(refused_moves_succeed_through_retries),
      cmocka_unit_test(timed_out_relative_moves_are_not_applied_twice),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
