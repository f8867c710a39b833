/* sim: the SENTIO server over a simulated stage, through real TCP on
 * 127.0.0.1 (port 0): identification, command set switch, moves with each
 * reference, positions, out of range, unknown commands, random lines and
 * bytes, overlong lines, abrupt disconnects and queued clients, the
 * stage_error and stage_timeout faults, and stop while a client is there. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/sim.h"
#include "probevision/sentio.h"

typedef struct fixture {
  pv_stage *stage;
  pv_sentio_server *srv;
  int port;
} fixture;

static void start(fixture *f, const pv_sim_faults *faults) {
  pv_sim_stage_params p;
  pv_sim_stage_params_default(&p);
  p.speed = 0;
  p.error_frac = 0;
  p.error_um = 0;
  assert_int_equal(pv_sim_stage_create(&p, &f->stage), PV_OK);
  pv_error err;
  assert_int_equal(pv_sentio_server_start(f->stage, "127.0.0.1", 0, faults, &f->srv, &err),
                   PV_OK);
  f->port = pv_sentio_server_port(f->srv);
  assert_true(f->port > 0);
}

static void stop(fixture *f) {
  pv_sentio_server_stop(f->srv);
  pv_stage_destroy(f->stage);
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void send_bytes(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    assert_true(w > 0);
    s += w;
    n -= (size_t)w;
  }
}

static void send_line(int fd, const char *s) {
  send_bytes(fd, s, strlen(s));
  send_bytes(fd, "\n", 1);
}

/* One reply line into out (without "\n"); -1 when none within timeout_ms. */
static int read_line(int fd, char *out, size_t cap, int timeout_ms) {
  size_t n = 0;
  while (n + 1 < cap) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) <= 0) return -1;
    if (recv(fd, out + n, 1, 0) != 1) return -1;
    if (out[n] == '\n') break;
    n++;
  }
  out[n] = '\0';
  return (int)n;
}

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

static void identification_and_moves(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int fd = dial(f.port);
  char line[256], msg[256];
  send_line(fd, "*IDN?");
  assert_true(read_line(fd, line, sizeof line, 5000) > 0);
  assert_non_null(strchr(line, ','));
  send_line(fd, "*RCS 1"); /* no reply: the next line answers the next command */
  assert_int_equal(ask(fd, "move_chuck_xy Zero, 1000, 2000", msg, sizeof msg), 0);
  double x, y;
  assert_int_equal(pv_sentio_parse_xy(msg, &x, &y), 0);
  assert_true(x == 1000 && y == 2000);
  assert_int_equal(ask(fd, "move_chuck_xy Relative, 10.5, -20", NULL, 0), 0);
  assert_at(fd, 1010.5, 1980);
  assert_int_equal(ask(fd, "MOVE_CHUCK_XY home,5,5", NULL, 0), 0);
  assert_at(fd, 5, 5);
  assert_int_equal(ask(fd, "move_chuck_xy RELATIVE , 1 , 1\r", NULL, 0), 0);
  assert_int_equal(ask(fd, "get_chuck_xy Home", msg, sizeof msg), 0);
  assert_int_equal(pv_sentio_parse_xy(msg, &x, &y), 0);
  assert_true(x == 6 && y == 6);
  assert_int_equal(ask(fd, "move_chuck_separation", NULL, 0), 0);
  assert_int_equal(ask(fd, "move_chuck_contact", NULL, 0), 0);
  close(fd);
  stop(&f);
}

static void bad_commands_get_error_codes(void **state) {
  (void)state;
  fixture f;
  start(&f, NULL);
  int fd = dial(f.port);
  char msg[256];
  assert_int_equal(ask(fd, "move_chuck_xy Zero, 300, 400", NULL, 0), 0);
  assert_int_equal(ask(fd, "move_chuck_xy Zero, 1e9, 0", msg, sizeof msg), PV_SENTIO_E_RANGE);
  assert_true(strlen(msg) > 0);
  assert_int_equal(ask(fd, "move_chuck_xy Relative, 0, -1e7", NULL, 0), PV_SENTIO_E_RANGE);
  assert_at(fd, 300, 400); /* refused moves leave the chuck */
  static const char *bad_param[] = {"move_chuck_xy Sideways, 1, 2", "move_chuck_xy Zero, 1",
                                    "move_chuck_xy", "move_chuck_xy Zero, x, 2",
                                    "move_chuck_xy Zero, 1, 2, 3", "move_chuck_xy Zero, nan, 2",
                                    "get_chuck_xy Relative", "*RCS 7",
                                    "move_chuck_contact 5"};
  for (size_t i = 0; i < sizeof bad_param / sizeof bad_param[0]; i++)
    assert_int_equal(ask(fd, bad_param[i], NULL, 0), PV_SENTIO_E_BAD_PARAM);
  assert_int_equal(ask(fd, "move_chuck_z 5", msg, sizeof msg), PV_SENTIO_E_UNKNOWN_CMD);
  assert_non_null(strstr(msg, "move_chuck_z"));
  assert_int_equal(ask(fd, "*RST", NULL, 0), PV_SENTIO_E_UNKNOWN_CMD);
  assert_at(fd, 300, 400);
  close(fd);
  stop(&f);
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
    send_bytes(fd, "\nmove_chuck_contact\n", 20);
    int got_sentinel = 0; /* "0,0,OK": the reply to move_chuck_contact */
    for (int r = 0; r < 3 && !got_sentinel; r++) {
      int n = read_line(fd, line, sizeof line, 5000);
      assert_true(n >= 0);
      pv_sentio_reply rep;
      if (pv_sentio_parse_reply(line, (size_t)n, "s", &rep, NULL) < 0) {
        assert_non_null(strchr(line, ',')); /* only *IDN? answers otherwise */
        continue;
      }
      got_sentinel = rep.code == 0 && strcmp(rep.msg, "OK") == 0;
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
  assert_int_equal(ask(fd, "", msg, sizeof msg), PV_SENTIO_E_TOO_LONG);
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
  assert_int_equal(ask(fd, big, NULL, 0), PV_SENTIO_E_TOO_LONG);
  /* Exactly PV_SENTIO_LINE_MAX bytes: a command with trailing blanks. */
  memset(big, ' ', PV_SENTIO_LINE_MAX);
  memcpy(big, "get_chuck_xy", 12);
  big[PV_SENTIO_LINE_MAX] = '\0';
  assert_int_equal(ask(fd, big, NULL, 0), 0);
  big[PV_SENTIO_LINE_MAX] = ' ';
  big[PV_SENTIO_LINE_MAX + 1] = '\0';
  assert_int_equal(ask(fd, big, NULL, 0), PV_SENTIO_E_TOO_LONG);
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
  a = dial(f.port);
  assert_at(a, 50, 60);
  int b = dial(f.port); /* waits in the backlog while a is served */
  send_line(b, "get_chuck_xy");
  char line[128];
  assert_int_equal(read_line(b, line, sizeof line, 100), -1);
  assert_at(a, 50, 60);
  close(a);
  assert_true(read_line(b, line, sizeof line, 5000) > 0);
  assert_int_equal(strncmp(line, "0,0,", 4), 0);
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
                     PV_SENTIO_E_MOVE);
  assert_at(fd, 0, 0);
  close(fd);
  stop(&f);
}

static void stage_timeout_fault_holds_the_reply(void **state) {
  (void)state;
  fixture f;
  pv_sim_faults faults = {.stage_timeout = 1, .seed = 3};
  start(&f, &faults);
  int fd = dial(f.port);
  char line[128];
  send_line(fd, "move_chuck_xy Zero, 700, 800");
  assert_int_equal(read_line(fd, line, sizeof line, 300), -1); /* client gives up */
  close(fd);
  fd = dial(f.port); /* the server serves the next client; the move was made */
  assert_at(fd, 700, 800);
  send_line(fd, "move_chuck_xy Zero, 1, 1");
  assert_int_equal(read_line(fd, line, sizeof line, 100), -1);
  stop(&f); /* prompt although a reply is held */
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(identification_and_moves),
      cmocka_unit_test(bad_commands_get_error_codes),
      cmocka_unit_test(random_lines_and_bytes),
      cmocka_unit_test(overlong_lines_are_answered_and_skipped),
      cmocka_unit_test(abrupt_disconnects_and_queued_clients),
      cmocka_unit_test(stage_error_fault_refuses_every_move),
      cmocka_unit_test(stage_timeout_fault_holds_the_reply),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
