/* tests/sim: a SENTIO server over a simulated stage (speed 0, no landing
 * error) on 127.0.0.1, and a raw line client. The wafer map is 4 x 3 dies
 * of 1000 x 900 um, marks at (250, 220) in each die. Header-only: each
 * test file includes it once. */
#ifndef PV_TEST_SENTIO_FIXTURE_H
#define PV_TEST_SENTIO_FIXTURE_H

#include <arpa/inet.h>
#include <fnmatch.h>
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

#include "probevision/sentio.h"
#include "probevision/sim.h"

typedef struct fixture {
  pv_stage *stage;
  pv_sentio_server *srv;
  int port;
} fixture;

static void fixture_params(pv_sentio_server_params *p) {
  pv_sentio_server_params_default(p);
  p->wafer.cols = 4;
  p->wafer.rows = 3;
  p->wafer.pitch_x_um = 1000;
  p->wafer.pitch_y_um = 900;
  p->wafer.mark_x_um = 250;
  p->wafer.mark_y_um = 220;
}

static void start_params(fixture *f, const pv_sentio_server_params *p) {
  pv_sim_stage_params sp;
  pv_sim_stage_params_default(&sp);
  sp.speed = 0;
  sp.error_frac = 0;
  sp.error_um = 0;
  assert_int_equal(pv_sim_stage_create(&sp, &f->stage), PV_OK);
  pv_error err;
  assert_int_equal(pv_sentio_server_start_params(f->stage, "127.0.0.1", 0, p, &f->srv, &err),
                   PV_OK);
  f->port = pv_sentio_server_port(f->srv);
  assert_true(f->port > 0);
}

static __attribute__((unused)) void start(fixture *f, const pv_sim_faults *faults) {
  pv_sentio_server_params p;
  fixture_params(&p);
  if (faults) p.faults = *faults;
  start_params(f, &p);
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

/* One exchange: a command line and the reply line it must get (an fnmatch
 * pattern), or NULL: no reply at all (the next exchange proves it). */
typedef struct exchange {
  const char *send, *expect;
} exchange;

static __attribute__((unused)) void expect_reply(int fd, const char *cmd, const char *pattern) {
  char line[PV_SENTIO_LINE_MAX + 2];
  int n = read_line(fd, line, sizeof line, 5000);
  if (n < 0) fail_msg("'%s': no reply (want '%s')", cmd, pattern);
  if (fnmatch(pattern, line, 0) != 0) fail_msg("'%s': reply '%s', want '%s'", cmd, line, pattern);
}

static __attribute__((unused)) void run_exchanges(int fd, const exchange *x, size_t n) {
  for (size_t i = 0; i < n; i++) {
    send_line(fd, x[i].send);
    if (x[i].expect) expect_reply(fd, x[i].send, x[i].expect);
  }
  char line[256]; /* nothing more: every reply was in step */
  assert_int_equal(read_line(fd, line, sizeof line, 100), -1);
}

#define RUN_EXCHANGES(fd, table) run_exchanges(fd, table, sizeof table / sizeof table[0])

#endif
