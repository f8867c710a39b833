/* sim: two SENTIO clients at once (an operator's tool and an automation
 * client): their lines interleaved byte by byte, each client's replies come
 * in order and in step with its own commands ('*' commands answer nothing);
 * both see one chuck; a client parked in wait_complete does not hold up
 * the other. */
#include "sentio_fixture.h"

/* Sends s to fd in pieces of 3 bytes, alternating with t to gd. */
static void interleave(int fd, const char *s, int gd, const char *t) {
  size_t ns = strlen(s), nt = strlen(t), i = 0, j = 0;
  while (i < ns || j < nt) {
    size_t a = ns - i < 3 ? ns - i : 3, b = nt - j < 3 ? nt - j : 3;
    if (a) send_bytes(fd, s + i, a);
    if (b) send_bytes(gd, t + j, b);
    i += a;
    j += b;
  }
}

static void interleaved_clients_stay_in_step(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int a = dial(f.port), b = dial(f.port);
  for (int round = 0; round < 20; round++) {
    char sa[256], sb[256], want[64];
    int x = 100 + round, y = 200 - round;
    snprintf(sa, sizeof sa,
             "*RCS 1\nmove_chuck_xy Z, %d, %d\n*LOCAL\nget_chuck_xy Wafer, M\n"
             "status:get_version\r\nmap:step_die %d, %d\n",
             x, y, round % 4, round % 3);
    snprintf(sb, sizeof sb,
             "*RCS 1\nget_chuck_z Z\n*IDN?\nno_such %d\nget_chuck_site_status Wafer\n", round);
    interleave(a, sa, b, sb);
    expect_reply(b, "get_chuck_z Z", "0,0,9700.000");
    expect_reply(b, "*IDN?", "MPI Corporation,Sentio*");
    expect_reply(b, "no_such", "3,0,*");
    expect_reply(b, "get_chuck_site_status Wafer", "0,0,1,1,0,1");
    snprintf(want, sizeof want, "0,0,%d.000,%d.000", x, y);
    expect_reply(a, "move_chuck_xy", want);
    snprintf(want, sizeof want, "0,0,%d.000,%d.000", 150000 + x, 150000 + y);
    expect_reply(a, "get_chuck_xy Wafer, M", want);
    expect_reply(a, "status:get_version", "0,0,Version: 24.0.0*");
    int last = round % 4 == 3 && round % 3 == 2; /* the route's last die */
    snprintf(want, sizeof want, "%d,0,%d,%d,0", last ? 3072 : 2048, round % 4, round % 3);
    expect_reply(a, "map:step_die", want);
  }
  char line[64];
  assert_int_equal(read_line(a, line, sizeof line, 100), -1);
  assert_int_equal(read_line(b, line, sizeof line, 100), -1);
  close(a);
  close(b);
  stop(&f);
}

static void one_chuck_for_both(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int a = dial(f.port), b = dial(f.port);
  static const exchange xa[] = {{"move_chuck_xy Z, 10, 20", "0,0,10.000,20.000"}};
  static const exchange xb[] = {{"get_chuck_xy", "0,0,10.000,20.000"},
                                {"move_chuck_contact", "0,0,10000.000"}};
  static const exchange xa2[] = {{"move_chuck_xy R, 1, 1", "12,0,*contact*"},
                                 {"get_chuck_z Z", "0,0,10000.000"}};
  RUN_EXCHANGES(a, xa);
  RUN_EXCHANGES(b, xb);
  RUN_EXCHANGES(a, xa2);
  assert_int_equal(pv_sim_stage_xy_in_contact(f.stage), 1);
  close(a);
  close(b);
  stop(&f);
}

/* A waits for the initialization (0.6 s); meanwhile B is answered at once:
 * its motion is refused (initializing), its queries answer. A's next line
 * is answered after A's wait. */
static void a_waiting_client_does_not_block_the_other(void **state) {
  (void)state;
  fixture f;
  pv_sentio_server_params p;
  fixture_params(&p);
  p.init_ms = 600;
  start_params(&f, &p);
  int a = dial(f.port), b = dial(f.port);
  static const exchange xa[] = {{"start_initialization", "0,1,*"}};
  RUN_EXCHANGES(a, xa);
  send_line(a, "wait_complete 1, 30");
  send_line(a, "get_chuck_xy");
  static const exchange xb[] = {{"query_command_status 1", "30,1,*"},
                                {"move_chuck_xy Z, 5, 5", "12,0,*"},
                                {"status:get_machine_status", "0,0,Initializing,*"},
                                {"get_chuck_z Z", "0,0,9700.000"}};
  /* B is answered while the command A waits for still runs (30,
   * Initializing): A's wait holds up nobody but A. */
  RUN_EXCHANGES(b, xb);
  expect_reply(a, "wait_complete 1, 30", "0,1,OK");
  expect_reply(a, "get_chuck_xy", "0,0,250.000,220.000");
  static const exchange xb2[] = {{"query_command_status 1", "0,1,OK"}};
  RUN_EXCHANGES(b, xb2);
  close(a);
  close(b);
  stop(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(interleaved_clients_stay_in_step),
      cmocka_unit_test(one_chuck_for_both),
      cmocka_unit_test(a_waiting_client_does_not_block_the_other),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
