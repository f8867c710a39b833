/* The simulator's SENTIO remote-command server (pv_sentio_server_* in
 * sim.h): one thread named "sentio" serving one TCP client at a time for a
 * borrowed pv_stage.
 *
 * Loop: poll the wake eventfd and either the listening socket (no client)
 * or the client (one connected). Received bytes go through the fixed line
 * assembler; each complete line is answered in order before more is read.
 * Other clients wait in the listen backlog until the current one leaves
 * (EOF or error); then the next is accepted. Stop: pv_sentio_server_stop
 * writes the eventfd and joins; every wait in the thread (poll, the write
 * of a reply, a fault's delay) also watches the eventfd, so stop is prompt.
 *
 * Commands (names case-insensitive; args comma-separated):
 *   *IDN?                          identification line (no errc prefix)
 *   *RCS 0|1                       command set switch, no reply (SENTIO
 *                                  commands are accepted either way)
 *   move_chuck_xy REF, X, Y        REF Zero (absolute), Home (from the home
 *                                  position, which is 0, 0 here) or
 *                                  Relative; replies when settled:
 *                                  "0,0,X,Y" (the position, like SENTIO)
 *   get_chuck_xy [REF]             "0,0,X,Y"; REF Zero (default) or Home
 *   move_chuck_separation / move_chuck_contact    "0,0,OK"
 * Errors: "CODE,0,message" with the codes of probevision/sentio.h: 2 unknown
 * command, 3 bad parameters, 4 out of range, 5 move failed, 6 line too long.
 * Empty lines are ignored.
 *
 * Faults: stage_error (probability per move): the move is answered with
 * code 5 and the stage is not moved. stage_timeout (probability per move):
 * the move is made, then its reply is held back until the client hangs up
 * (a client that timed out closes its connection) or FAULT_DELAY_MS, then
 * sent if the client is still there. Random draws come from faults->seed.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probevision/sim.h"
#include "probevision/sentio.h"

#define FAULT_DELAY_MS 60000
#define WRITE_TIMEOUT_MS 2000
#define IDN_REPLY "probevision,SENTIO remote-command simulator,0,1.0"

struct pv_sentio_server {
  pv_stage *stage;
  pv_sim_faults faults;
  uint64_t rng;
  int listen_fd, wake_fd, client_fd;
  int port;
  pthread_t thread;
  pv_sentio_lines lines;
  char line[PV_SENTIO_LINE_MAX + 1];
};

enum { GO_ON = 0, DROP = -1, STOP = -2 };


static int stop_requested(const struct pollfd *wake) {
  return (wake->revents & POLLIN) != 0;
}

/* Writes the whole reply, waiting for room up to WRITE_TIMEOUT_MS. */
static int send_reply(pv_sentio_server *s, const char *text) {
  size_t n = strlen(text), off = 0;
  int64_t deadline = pv_now_ns() + WRITE_TIMEOUT_MS * PV_NS_PER_MS;
  while (off < n) {
    ssize_t w = send(s->client_fd, text + off, n - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return DROP;
    int64_t left = (deadline - pv_now_ns()) / PV_NS_PER_MS;
    if (left <= 0) return DROP;
    struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN},
                          {.fd = s->client_fd, .events = POLLOUT}};
    if (poll(p, 2, (int)left) > 0 && stop_requested(&p[0])) return STOP;
  }
  return GO_ON;
}

/* "CODE,0,message\n" with the message made printable; numbers with '.'
 * whatever LC_NUMERIC says. */
static int reply(pv_sentio_server *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reply(pv_sentio_server *s, int code, const char *fmt, ...) {
  char buf[PV_SENTIO_LINE_MAX + 2];
  int n = snprintf(buf, PV_SENTIO_LINE_MAX, "%d,0,", code);
  va_list ap;
  va_start(ap, fmt);
  pv_vsnprintf_c(buf + n, (size_t)(PV_SENTIO_LINE_MAX - n), fmt, ap);
  va_end(ap);
  for (char *c = buf; *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
  strcat(buf, "\n");
  return send_reply(s, buf);
}

/* The stage_timeout fault: waits until the client hangs up, a stop, or
 * FAULT_DELAY_MS. Bytes the client sends meanwhile are buffered. */
static int hold_reply(pv_sentio_server *s) {
  int64_t deadline = pv_now_ns() + FAULT_DELAY_MS * PV_NS_PER_MS;
  for (;;) {
    int64_t left = (deadline - pv_now_ns()) / PV_NS_PER_MS;
    if (left <= 0) return GO_ON;
    size_t cap;
    char *space = pv_sentio_lines_space(&s->lines, &cap);
    struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN},
                          {.fd = s->client_fd, .events = POLLIN}};
    int np = cap > 0 ? 2 : 1;
    if (poll(p, (nfds_t)np, cap > 0 ? (int)left : 20) <= 0) continue;
    if (stop_requested(&p[0])) return STOP;
    if (np == 2 && p[1].revents) {
      ssize_t r = recv(s->client_fd, space, cap, 0);
      if (r > 0) pv_sentio_lines_added(&s->lines, (size_t)r);
      else if (r == 0 || (errno != EINTR && errno != EAGAIN)) return DROP;
    }
  }
}

/* Splits "a, b, c" at commas into at most max trimmed fields. */
static int split_args(char *args, char **out, int max) {
  int n = 0;
  while (*args == ' ' || *args == '\t') args++;
  if (*args == '\0') return 0;
  for (char *tok = args;;) {
    if (n == max) return -1;
    char *comma = strchr(tok, ',');
    if (comma) *comma = '\0';
    while (*tok == ' ' || *tok == '\t') tok++;
    char *end = tok + strlen(tok);
    while (end > tok && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
    out[n++] = tok;
    if (comma == NULL) return n;
    tok = comma + 1;
  }
}

static int position_reply(pv_sentio_server *s, double ox, double oy) {
  double x, y;
  pv_error e;
  if (pv_stage_get_position(s->stage, &x, &y, &e) < 0)
    return reply(s, PV_SENTIO_E_MOVE, "cannot read the position: %s", e.msg);
  return reply(s, 0, "%.3f,%.3f", x - ox, y - oy);
}

static int do_move(pv_sentio_server *s, char **a, int n) {
  if (n != 3) return reply(s, PV_SENTIO_E_BAD_PARAM, "move_chuck_xy wants REF, X, Y");
  double x, y, cx, cy;
  if (pv_sentio_parse_number(a[1], strlen(a[1]), &x) < 0 ||
      pv_sentio_parse_number(a[2], strlen(a[2]), &y) < 0)
    return reply(s, PV_SENTIO_E_BAD_PARAM, "X and Y must be numbers (um)");
  pv_error e;
  if (strcasecmp(a[0], "relative") == 0) {
    if (pv_stage_get_position(s->stage, &cx, &cy, &e) < 0)
      return reply(s, PV_SENTIO_E_MOVE, "cannot read the position: %s", e.msg);
    x += cx;
    y += cy;
  } else if (strcasecmp(a[0], "zero") != 0 && strcasecmp(a[0], "home") != 0) {
    return reply(s, PV_SENTIO_E_BAD_PARAM, "REF must be Zero, Home or Relative");
  }
  if (s->faults.stage_error > 0 && pv_rng_uniform(&s->rng) < s->faults.stage_error) {
    pv_info("sentio server: injected stage error on a move to (%.3f, %.3f) um", x, y);
    return reply(s, PV_SENTIO_E_MOVE, "injected fault: move to %.3f, %.3f failed", x, y);
  }
  int rc = pv_stage_move_abs(s->stage, x, y, &e);
  if (rc == PV_ERANGE) return reply(s, PV_SENTIO_E_RANGE, "%s", e.msg);
  if (rc < 0) return reply(s, PV_SENTIO_E_MOVE, "%s", e.msg);
  int64_t t;
  if (pv_stage_wait_settled(s->stage, &t, &e) < 0)
    return reply(s, PV_SENTIO_E_MOVE, "%s", e.msg);
  if (s->faults.stage_timeout > 0 && pv_rng_uniform(&s->rng) < s->faults.stage_timeout) {
    pv_info("sentio server: injected delay of the reply to a move to (%.3f, %.3f) um", x, y);
    rc = hold_reply(s);
    if (rc != GO_ON) return rc;
  }
  return position_reply(s, 0, 0);
}

static int handle(pv_sentio_server *s, char *line, size_t len) {
  char esc[80];
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)line[i];
    if ((c < 0x20 && c != '\t') || c >= 0x7f) {
      pv_sentio_escape(line, len, esc, sizeof esc);
      return reply(s, PV_SENTIO_E_UNKNOWN_CMD, "not a command: \"%s\"", esc);
    }
  }
  while (*line == ' ' || *line == '\t') line++;
  if (*line == '\0') return GO_ON;
  char *args = line + strcspn(line, " \t");
  if (*args) *args++ = '\0';
  char *a[4];
  int n = split_args(args, a, 4);
  if (strcasecmp(line, "*IDN?") == 0) return send_reply(s, IDN_REPLY "\n");
  if (strcasecmp(line, "*RCS") == 0) {
    if (n == 1 && (strcmp(a[0], "0") == 0 || strcmp(a[0], "1") == 0)) return GO_ON;
    return reply(s, PV_SENTIO_E_BAD_PARAM, "*RCS wants 0 or 1");
  }
  if (strcasecmp(line, "move_chuck_xy") == 0) return do_move(s, a, n);
  if (strcasecmp(line, "get_chuck_xy") == 0) {
    if (n == 0 || (n == 1 && strcasecmp(a[0], "zero") == 0)) return position_reply(s, 0, 0);
    if (n == 1 && strcasecmp(a[0], "home") == 0) return position_reply(s, 0, 0);
    return reply(s, PV_SENTIO_E_BAD_PARAM, "get_chuck_xy wants [Zero|Home]");
  }
  if (strcasecmp(line, "move_chuck_separation") == 0 ||
      strcasecmp(line, "move_chuck_contact") == 0) {
    if (n != 0) return reply(s, PV_SENTIO_E_BAD_PARAM, "%s takes no parameters", line);
    return reply(s, 0, "OK");
  }
  pv_sentio_escape(line, strlen(line), esc, sizeof esc);
  pv_debug("sentio server: unknown command \"%s\"", esc);
  return reply(s, PV_SENTIO_E_UNKNOWN_CMD, "unknown command \"%s\"", esc);
}

/* Answers every complete line buffered. */
static int serve_lines(pv_sentio_server *s) {
  for (;;) {
    size_t len;
    pv_sentio_line_event ev = pv_sentio_lines_next(&s->lines, s->line, &len);
    if (ev == PV_SENTIO_NONE) return GO_ON;
    int rc = ev == PV_SENTIO_LINE
                 ? handle(s, s->line, len)
                 : reply(s, PV_SENTIO_E_TOO_LONG,
                         "command line longer than %d bytes", PV_SENTIO_LINE_MAX);
    if (rc != GO_ON) return rc;
  }
}

static void drop_client(pv_sentio_server *s) {
  close(s->client_fd);
  s->client_fd = -1;
  pv_info("sentio server: client gone");
}

static void *serve(void *arg) {
  pv_sentio_server *s = arg;
  pv_thread_set_name("sentio");
  for (;;) {
    int listening = s->client_fd < 0;
    struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN},
                          {.fd = listening ? s->listen_fd : s->client_fd,
                           .events = POLLIN}};
    if (poll(p, 2, -1) <= 0) continue;
    if (stop_requested(&p[0])) break;
    if (p[1].revents == 0) continue;
    if (listening) {
      int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) continue;
      int one = 1; /* replies are small lines: no Nagle delay */
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      s->client_fd = fd;
      pv_sentio_lines_reset(&s->lines);
      pv_info("sentio server: client connected");
      continue;
    }
    size_t cap;
    char *space = pv_sentio_lines_space(&s->lines, &cap);
    ssize_t r = recv(s->client_fd, space, cap, 0);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) {
      drop_client(s);
      continue;
    }
    pv_sentio_lines_added(&s->lines, (size_t)r);
    int rc = serve_lines(s);
    if (rc == STOP) break;
    if (rc == DROP) drop_client(s);
  }
  if (s->client_fd >= 0) close(s->client_fd);
  s->client_fd = -1;
  return NULL;
}

static int open_listener(pv_sentio_server *s, const char *address, int port,
                         pv_error *err) {
  char port_s[16];
  snprintf(port_s, sizeof port_s, "%d", port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(address, port_s, &hints, &res);
  if (gai != 0)
    return pv_error_set(err, PV_ENOTFOUND, "sentio server: address '%s': %s",
                        address ? address : "*", gai_strerror(gai));
  int e = 0;
  for (struct addrinfo *ai = res; ai && s->listen_fd < 0; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0) {
      s->listen_fd = fd;
      break;
    }
    e = errno;
    if (fd >= 0) close(fd);
  }
  freeaddrinfo(res);
  if (s->listen_fd < 0)
    return pv_error_set(err, PV_EIO, "sentio server: cannot listen on %s:%d: %s",
                        address ? address : "*", port, strerror(e));
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  getsockname(s->listen_fd, (struct sockaddr *)&ss, &sl);
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) == 0)
    s->port = atoi(serv);
  return PV_OK;
}

int pv_sentio_server_start(pv_stage *stage, const char *address, int port,
                           const pv_sim_faults *faults,
                           pv_sentio_server **out, pv_error *err) {
  *out = NULL;
  if (stage == NULL || port < 0 || port > 65535)
    return pv_error_set(err, PV_EINVAL, "sentio server: no stage or bad port %d", port);
  pv_sentio_server *s = calloc(1, sizeof *s);
  if (s == NULL) return pv_error_set(err, PV_ENOMEM, "sentio server: no memory");
  s->stage = stage;
  if (faults) s->faults = *faults;
  s->rng = s->faults.seed ^ 0x5e4710ULL;
  s->client_fd = s->listen_fd = -1;
  s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int rc = s->wake_fd < 0 ? pv_error_set(err, PV_EIO, "sentio server: eventfd: %s",
                                         strerror(errno))
                          : open_listener(s, address, port, err);
  if (rc == PV_OK && pthread_create(&s->thread, NULL, serve, s) != 0)
    rc = pv_error_set(err, PV_EIO, "sentio server: cannot start its thread");
  if (rc < 0) {
    if (s->listen_fd >= 0) close(s->listen_fd);
    if (s->wake_fd >= 0) close(s->wake_fd);
    free(s);
    return rc;
  }
  pv_info("sentio server: listening on %s:%d", address ? address : "*", s->port);
  *out = s;
  return PV_OK;
}

int pv_sentio_server_port(const pv_sentio_server *srv) { return srv->port; }

void pv_sentio_server_stop(pv_sentio_server *srv) {
  if (srv == NULL) return;
  uint64_t one = 1;
  if (write(srv->wake_fd, &one, sizeof one) < 0) pv_warn("sentio server: wake failed");
  pthread_join(srv->thread, NULL);
  close(srv->listen_fd);
  close(srv->wake_fd);
  free(srv);
}
