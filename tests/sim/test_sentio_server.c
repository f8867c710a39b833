/* sim: the SENTIO server's robustness over real TCP on 127.0.0.1 (port
 * 0): random lines and bytes, overlong lines, abrupt disconnects, as many
 * clients at once as it serves and one more queued, the stage_error and
 * stage_timeout faults (a held reply parks only its client), and stop while
 * a reply is held. The protocol itself: test_sentio_protocol.c. */
#include "sentio_fixture.h"

/* Sends cmd and parses the reply; returns its error code. */
static int ask(int fd, const char *cmd, char *msg, size_t cap) {
  char line[PV_SENTIO_LINE_MAX + 2];
  send_line(fd, cmd);
  int n = read_line(fd, line, sizeof line, 5000);
  assert_true(n >= 0);
  pv_sentio_reply r;
  pv_error err;
  assert_int_equal(pv_sentio_parse_reply(line, (size_t)n, "server", &r, &err), PV_OK);
  assert_int_equal(r.cmd_id, 0);
  if (msg) snprintf(msg, cap, "%s", r.msg);
  return r.code;
}

static void position(int fd, double *x, double *y) {
  char msg[256];
  assert_int_equal(ask(fd, "get_chuck_xy", msg, sizeof msg), 0);
  assert_int_equal(pv_sentio_parse_xy(msg, x, y), 0);
}

static void assert_at(int fd, double ex, double ey) {
  double x, y;
  position(fd, &x, &y);
  assert_true(x == ex && y == ey);
}

/* Random lines (printable and binary), each followed by a known command:
 * every reply is well-formed and the known command's reply always comes. */
static void random_lines_and_bytes(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int fd = dial(f.port);
  uint64_t seed = 99;
  char buf[300], line[PV_SENTIO_LINE_MAX + 2];
  for (int i = 0; i < 600; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    size_t len = (size_t)(seed >> 33) % sizeof buf;
    for (size_t k = 0; k < len; k++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      unsigned v = (unsigned)(seed >> 40);
      buf[k] = (i & 1) ? "move_chuck_xy get Zero, 1.5-e\t*?"[v % 33] : (char)v;
      if (buf[k] == '\n') buf[k] = ' ';
    }
    send_bytes(fd, buf, len);
    send_bytes(fd, "\nstatus:get_version\n", 20);
    int got_sentinel = 0; /* the reply to status:get_version */
    for (int r = 0; r < 3 && !got_sentinel; r++) {
      int n = read_line(fd, line, sizeof line, 5000);
      assert_true(n >= 0);
      pv_sentio_reply rep;
      if (pv_sentio_parse_reply(line, (size_t)n, "s", &rep, NULL) < 0) {
        assert_int_equal(strncmp(line, "MPI Corporation,", 16), 0); /* *IDN? */
        continue;
      }
      got_sentinel = rep.code == 0 && strncmp(rep.msg, "Version: ", 9) == 0;
    }
    assert_true(got_sentinel);
  }
  /* A 64 KiB blob of random bytes without terminators, then a command. */
  char *blob = malloc(65536);
  for (size_t k = 0; k < 65536; k++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    blob[k] = (char)(seed >> 40);
    if (blob[k] == '\n') blob[k] = 'x';
  }
  send_bytes(fd, blob, 65536);
  free(blob);
  char msg[64];
  assert_int_equal(ask(fd, "", msg, sizeof msg), 6);
  assert_at(fd, 0, 0);
  close(fd);
  stop(&f);
}

static void overlong_lines_are_answered_and_skipped(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int fd = dial(f.port);
  char *big = malloc(5001);
  memset(big, 'a', 5000);
  big[5000] = '\0';
  assert_int_equal(ask(fd, big, NULL, 0), 6);
  /* Exactly PV_SENTIO_LINE_MAX bytes: a command with trailing blanks. */
  memset(big, ' ', PV_SENTIO_LINE_MAX);
  memcpy(big, "get_chuck_xy", 12);
  big[PV_SENTIO_LINE_MAX] = '\0';
  assert_int_equal(ask(fd, big, NULL, 0), 0);
  big[PV_SENTIO_LINE_MAX] = ' ';
  big[PV_SENTIO_LINE_MAX + 1] = '\0';
  assert_int_equal(ask(fd, big, NULL, 0), 6);
  free(big);
  assert_at(fd, 0, 0);
  close(fd);
  stop(&f);
}

static void abrupt_disconnects_and_queued_clients(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int a = dial(f.port);
  send_bytes(a, "move_chuck_x", 12); /* half a command, then gone */
  close(a);
  a = dial(f.port);
  send_line(a, "move_chuck_xy Zero, 50, 60"); /* gone before the reply */
  close(a);
  int c[PV_SENTIO_SERVER_CLIENTS];
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++) { /* all served at once */
    c[i] = dial(f.port);
    assert_at(c[i], 50, 60);
  }
  int b = dial(f.port); /* one too many: waits in the backlog */
  send_line(b, "get_chuck_xy");
  char line[128];
  assert_int_equal(read_line(b, line, sizeof line, 200), -1);
  assert_at(c[0], 50, 60);
  close(c[3]);
  assert_true(read_line(b, line, sizeof line, 5000) > 0);
  assert_string_equal(line, "0,0,50.000,60.000");
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++)
    if (i != 3) assert_at(c[i], 50, 60);
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++)
    if (i != 3) close(c[i]);
  close(b);
  stop(&f);
}

static void stage_error_fault_refuses_every_move(void **state) {
  (void)state;
  fixture f;
  pv_sim_faults faults = {.stage_error = 1, .seed = 3};
  start(&f, &faults);
  int fd = dial(f.port);
  char msg[256];
  for (int i = 0; i < 5; i++)
    assert_int_equal(ask(fd, "move_chuck_xy Zero, 100, 100", msg, sizeof msg),
                     2);
  assert_at(fd, 0, 0);
  close(fd);
  stop(&f);
}

/* The held reply parks only its client: another is served meanwhile. */
static void stage_timeout_fault_holds_the_reply(void **state) {
  (void)state;
  fixture f;
  pv_sim_faults faults = {.stage_timeout = 1, .seed = 3};
  start(&f, &faults);
  int fd = dial(f.port), other = dial(f.port);
  char line[128];
  send_line(fd, "move_chuck_xy Zero, 700, 800");
  send_line(fd, "get_chuck_xy"); /* waits behind the held reply */
  assert_int_equal(read_line(fd, line, sizeof line, 300), -1); /* client gives up */
  assert_at(other, 700, 800); /* the move was made; the other client goes on */
  close(fd);
  fd = dial(f.port);
  assert_at(fd, 700, 800);
  send_line(fd, "move_chuck_xy Zero, 1, 1");
  assert_int_equal(read_line(fd, line, sizeof line, 100), -1);
  stop(&f); /* prompt although a reply is held */
  close(fd);
  close(other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_lines_and_bytes),
      cmocka_unit_test(overlong_lines_are_answered_and_skipped),
      cmocka_unit_test(abrupt_disconnects_and_queued_clients),
      cmocka_unit_test(stage_error_fault_refuses_every_move),
      cmocka_unit_test(stage_timeout_fault_holds_the_reply),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
