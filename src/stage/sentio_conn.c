/* The sentio client's connection: TCP connect with a timeout (non-blocking
 * connect + poll), whole-line sends, line reads against a deadline through
 * the fixed line assembler.
 *
 * Invariant: whenever the byte stream may be out of step with the commands
 * (a reply timed out and may still arrive, a reply was overlong or
 * malformed, the peer closed), the connection is closed; the next command
 * reconnects, after a backoff that starts at PV__SENTIO_BACKOFF_MIN_MS and
 * doubles on each failed connect up to PV__SENTIO_BACKOFF_MAX_MS. So a reply
 * is never matched to the wrong command. Not thread-safe (one owner).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sentio_internal.h"

void pv__sentio_conn_init(pv__sentio_conn *c, const char *host, int port,
                          int connect_timeout_ms) {
  memset(c, 0, sizeof *c);
  snprintf(c->host, sizeof c->host, "%s", host);
  c->port = port;
  snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
  c->fd = -1;
  c->connect_timeout_ms = connect_timeout_ms;
  c->backoff_ms = PV__SENTIO_BACKOFF_MIN_MS;
  pv_sentio_lines_reset(&c->lines);
}

void pv__sentio_conn_close(pv__sentio_conn *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  pv_sentio_lines_reset(&c->lines);
  c->next_connect_ns = pv_now_ns() + c->backoff_ms * PV_NS_PER_MS;
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *fd_out,
                       int *sys_err) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  ai->ai_protocol);
  if (fd < 0) {
    *sys_err = errno;
    return PV_EIO;
  }
  int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc < 0 && errno == EINPROGRESS) {
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    do rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      close(fd);
      *sys_err = ETIMEDOUT;
      return PV_ETIMEDOUT;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
      soerr = errno;
    rc = soerr ? -1 : 0;
    errno = soerr;
  }
  if (rc < 0) {
    *sys_err = errno;
    close(fd);
    return PV_EIO;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  *fd_out = fd;
  return PV_OK;
}

int pv__sentio_conn_open(pv__sentio_conn *c, pv_error *err) {
  if (c->fd >= 0) return PV_OK;
  pv_sleep_ns(c->next_connect_ns - pv_now_ns());
  char port[16];
  snprintf(port, sizeof port, "%d", c->port);
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(c->host, port, &hints, &res);
  if (gai != 0) {
    pv__sentio_conn_close(c);
    return pv_error_set(err, PV_ENOTFOUND, "sentio %s: cannot resolve '%s': %s",
                        c->peer, c->host, gai_strerror(gai));
  }
  int rc = PV_EIO, sys_err = 0;
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
    rc = connect_one(ai, c->connect_timeout_ms, &c->fd, &sys_err);
    if (rc == PV_OK) break;
  }
  freeaddrinfo(res);
  if (rc < 0) {
    pv__sentio_conn_close(c);
    c->backoff_ms = c->backoff_ms * 2 > PV__SENTIO_BACKOFF_MAX_MS
                        ? PV__SENTIO_BACKOFF_MAX_MS
                        : c->backoff_ms * 2;
    return pv_error_set(err, rc, "sentio %s: cannot connect: %s", c->peer,
                        rc == PV_ETIMEDOUT ? "timed out" : strerror(sys_err));
  }
  c->backoff_ms = PV__SENTIO_BACKOFF_MIN_MS;
  pv_sentio_lines_reset(&c->lines);
  return PV_OK;
}

int pv__sentio_conn_send(pv__sentio_conn *c, const char *cmd, pv_error *err) {
  char buf[PV_SENTIO_LINE_MAX + 2];
  int n = snprintf(buf, sizeof buf, "%s\n", cmd);
  if (n < 0 || (size_t)n >= sizeof buf)
    return pv_error_set(err, PV_EINVAL, "sentio %s: command too long",
                        c->peer);
  size_t off = 0;
  int64_t deadline = pv_now_ns() + c->connect_timeout_ms * PV_NS_PER_MS;
  while (off < (size_t)n) {
    ssize_t w = send(c->fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    int64_t left_ms = (deadline - pv_now_ns()) / PV_NS_PER_MS;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && left_ms > 0) {
      struct pollfd p = {.fd = c->fd, .events = POLLOUT};
      poll(&p, 1, (int)left_ms);
      continue;
    }
    int e = w < 0 ? errno : EPIPE;
    pv__sentio_conn_close(c);
    return pv_error_set(err, PV_EDISCONNECTED, "sentio %s: sending '%s': %s",
                        c->peer, cmd, strerror(e));
  }
  return PV_OK;
}

int pv__sentio_conn_read_line(pv__sentio_conn *c, int timeout_ms,
                              const char *cmd, pv_error *err) {
  int64_t deadline = pv_now_ns() + (int64_t)timeout_ms * PV_NS_PER_MS;
  for (;;) {
    pv_sentio_line_event ev =
        pv_sentio_lines_next(&c->lines, c->line, &c->line_len);
    if (ev == PV_SENTIO_LINE) return PV_OK;
    if (ev == PV_SENTIO_OVERLONG) {
      pv__sentio_conn_close(c);
      return pv_error_set(err, PV_EPARSE,
                          "sentio %s: reply to '%s' longer than %d bytes",
                          c->peer, cmd, PV_SENTIO_LINE_MAX);
    }
    int64_t left = deadline - pv_now_ns();
    if (left <= 0) {
      pv__sentio_conn_close(c);
      return pv_error_set(err, PV_ETIMEDOUT,
                          "sentio %s: no reply to '%s' within %d ms", c->peer,
                          cmd, timeout_ms);
    }
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int pr = poll(&p, 1, (int)((left + PV_NS_PER_MS - 1) / PV_NS_PER_MS));
    if (pr <= 0) continue; /* timeout or EINTR: the deadline decides */
    size_t cap;
    char *space = pv_sentio_lines_space(&c->lines, &cap);
    ssize_t r = recv(c->fd, space, cap, 0);
    if (r > 0) {
      pv_sentio_lines_added(&c->lines, (size_t)r);
    } else if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
      continue;
    } else {
      int e = r < 0 ? errno : 0;
      pv__sentio_conn_close(c);
      return pv_error_set(err, PV_EDISCONNECTED,
                          "sentio %s: connection %s while waiting for the "
                          "reply to '%s'",
                          c->peer, e ? strerror(e) : "closed by the peer",
                          cmd);
    }
  }
}

