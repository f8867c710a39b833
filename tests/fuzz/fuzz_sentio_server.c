/* libFuzzer target: the simulator's SENTIO server command handling
 * (src/sim/sentio_server.c) over real TCP on 127.0.0.1. One server over a
 * simulated stage (speed 0: moves take no time) is started on first use
 * and kept; each input is one client connection: the bytes are sent, the
 * write side shut, and replies read until the server hangs up. Checked:
 * the server accepts every connection, answers within 5 s, and every
 * reply line (but the *IDN? one) parses with the client's reply parser. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_input.h"
#include "probevision/sim.h"
#include "probevision/sentio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int server_port(void) {
  static pv_stage *stage;
  static pv_sentio_server *srv;
  if (srv == NULL) {
    pv_log_set_level(PV_LOG_ERROR);
    pv_sim_stage_params p;
    pv_sim_stage_params_default(&p);
    p.speed = 0;
    pv_error err = {{0}};
    FUZZ_CHECK(pv_sim_stage_create(&p, &stage) == PV_OK);
    FUZZ_CHECK(pv_sentio_server_start(stage, "127.0.0.1", 0, NULL, &srv, &err) == PV_OK);
  }
  return pv_sentio_server_port(srv);
}

static void check_reply(const char *line, size_t len) {
  if (strncmp(line, "MPI Corporation,", 16) == 0) return; /* *IDN? */
  pv_sentio_reply r;
  pv_error err = {{0}};
  if (pv_sentio_parse_reply(line, len, "server", &r, &err) != PV_OK) {
    fprintf(stderr, "%s\n", err.msg);
    FUZZ_CHECK(!"server reply the client cannot parse");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static pv_sentio_lines lb;
  static char line[PV_SENTIO_LINE_MAX + 1];
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)server_port())};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
  pv_sentio_lines_reset(&lb);
  size_t sent = 0;
  int write_open = 1;
  for (;;) {
    if (write_open && sent == size) {
      shutdown(fd, SHUT_WR);
      write_open = 0;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN | (write_open ? POLLOUT : 0)};
    FUZZ_CHECK(poll(&p, 1, 5000) == 1); /* 5 s without progress: a hang */
    if (write_open && (p.revents & POLLOUT)) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += (size_t)n;
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      size_t cap;
      char *space = pv_sentio_lines_space(&lb, &cap);
      ssize_t n = recv(fd, space, cap, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && (p.revents & (POLLHUP | POLLERR)))) break;
      if (n < 0) continue;
      pv_sentio_lines_added(&lb, (size_t)n);
      size_t len;
      pv_sentio_line_event ev;
      while ((ev = pv_sentio_lines_next(&lb, line, &len)) != PV_SENTIO_NONE) {
        FUZZ_CHECK(ev == PV_SENTIO_LINE); /* the server never sends overlong lines */
        check_reply(line, len);
      }
    }
  }
  close(fd);
  return 0;
}
