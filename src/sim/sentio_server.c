/* The simulator's SENTIO remote-command server (pv_sentio_server_* in
 * sim.h): sockets and clients. The commands are in sentio_commands.c (the
 * table, references, error codes), sentio_map.c (the wafer map's route)
 * and sentio_async.c (asynchronous commands).
 *
 * One thread named "sentio" serves up to PV_SENTIO_SERVER_CLIENTS clients
 * at once (an operator's tool and an automation client, say): it polls the
 * wake eventfd, the listening socket (while a client slot is free) and
 * every client. Each client has its own line assembler; its complete lines
 * are answered in order, one reply line per command (none for '*'
 * commands without '?'), and commands of all clients are executed one at a
 * time, so the stage has one user. A reply that must wait (wait_complete
 * until its command ends, or a move reply held back by the stage-timeout
 * fault) parks that client: its further lines are buffered, not executed,
 * until the reply is sent; the other clients go on. Stop:
 * pv_sentio_server_stop writes the eventfd and joins; every wait in the
 * thread watches the eventfd, so stop is prompt.
 *
 * Faults: stage_error (probability per XY move: move_chuck_xy,
 * move_chuck_home, map steps): answered with error 2 and the chuck does not
 * move. stage_timeout (probability per XY move): the move is made, then its
 * reply is held back FAULT_DELAY_MS (a client that timed out hangs up, and
 * its reply is dropped with it). Random draws come from faults.seed.
 */
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sentio_internal.h"

#define FAULT_DELAY_MS 60000
#define WRITE_TIMEOUT_MS 2000

enum { GO_ON = 0, DROP = -1, STOP = -2 };

static int stop_requested(const struct pollfd *wake) {
  return (wake->revents & POLLIN) != 0;
}

/* Writes the whole text to c, waiting for room up to WRITE_TIMEOUT_MS. */
static int send_text(pv_sentio_server *s, pv__srv_client *c, const char *text) {
  size_t n = strlen(text), off = 0;
  int64_t deadline = pv_now_ns() + WRITE_TIMEOUT_MS * PV_NS_PER_MS;
  while (off < n) {
    ssize_t w = send(c->fd, text + off, n - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return DROP;
    int64_t left = (deadline - pv_now_ns()) / PV_NS_PER_MS;
    if (left <= 0) return DROP;
    struct pollfd p[2] = {{.fd = s->wake_fd, .events = POLLIN},
                          {.fd = c->fd, .events = POLLOUT}};
    if (poll(p, 2, (int)left) > 0 && stop_requested(&p[0])) return STOP;
  }
  return GO_ON;
}

/* "errc,cmdId,message\n" (errc = code | status bits), the message made
 * printable ASCII. */
static int send_reply(pv_sentio_server *s, pv__srv_client *c, const pv__srv_reply *r) {
  char buf[PV_SENTIO_LINE_MAX + 2];
  if (r->kind == PV__SRV_RAW)
    snprintf(buf, PV_SENTIO_LINE_MAX, "%s", r->msg);
  else
    snprintf(buf, PV_SENTIO_LINE_MAX, "%u,%ld,%s", (unsigned)r->code | r->status, r->cmd_id,
             r->msg);
  for (char *p = buf; *p; p++)
    if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) *p = '?';
  strcat(buf, "\n");
  return send_text(s, c, buf);
}

static void drop_client(pv__srv_client *c) {
  close(c->fd);
  c->fd = -1;
  c->state = PV__CL_FREE;
  pv_info("sentio server: client gone");
}

/* Acts on a handler's reply: sends it, or parks the client. */
static int deliver(pv_sentio_server *s, pv__srv_client *c, pv__srv_reply *r) {
  switch (r->kind) {
    case PV__SRV_NONE: return GO_ON;
    case PV__SRV_HOLD:
      c->pending = *r;
      c->pending.kind = PV__SRV_NOW;
      c->deadline_ns = pv_now_ns() + FAULT_DELAY_MS * PV_NS_PER_MS;
      c->state = PV__CL_HELD;
      return GO_ON;
    case PV__SRV_WAIT:
      c->pending = *r;
      c->state = PV__CL_WAIT;
      return GO_ON;
    default: return send_reply(s, c, r);
  }
}

/* Answers c's buffered complete lines while it is not parked. */
static int serve_lines(pv_sentio_server *s, pv__srv_client *c) {
  while (c->state == PV__CL_IDLE) {
    size_t len;
    pv_sentio_line_event ev = pv_sentio_lines_next(&c->lines, s->line, &len);
    if (ev == PV_SENTIO_NONE) return GO_ON;
    pv__srv_reply r = {.kind = PV__SRV_NOW};
    if (ev == PV_SENTIO_OVERLONG) {
      pv__srv_set(&r, PV_SENTIO_ERR_INVALID_PARAM, "command line longer than %d bytes", PV_SENTIO_LINE_MAX);
    } else {
      int printable = 1;
      for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s->line[i];
        if ((ch < 0x20 && ch != '\t') || ch >= 0x7f) printable = 0;
      }
      if (!printable) {
        char esc[80];
        pv_sentio_escape(s->line, len, esc, sizeof esc);
        pv__srv_set(&r, PV_SENTIO_ERR_NO_HANDLER, "not a command: \"%s\"", esc);
      } else {
        pv__srv_handle(s, s->line, &r);
      }
    }
    int rc = deliver(s, c, &r);
    if (rc != GO_ON) return rc;
  }
  return GO_ON;
}

/* Sends the replies of parked clients whose wait is over, then serves
 * their buffered lines. */
static int resume_parked(pv_sentio_server *s) {
  int64_t now = pv_now_ns();
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++) {
    pv__srv_client *c = &s->clients[i];
    int over = 0;
    if (c->state == PV__CL_HELD) over = now >= c->deadline_ns;
    if (c->state == PV__CL_WAIT)
      over = pv__srv_wait_over(s, c->pending.wait_id, c->pending.wait_deadline_ns, &c->pending);
    if (!over) continue;
    c->state = PV__CL_IDLE;
    int rc = send_reply(s, c, &c->pending);
    if (rc == GO_ON) rc = serve_lines(s, c);
    if (rc == STOP) return STOP;
    if (rc == DROP) drop_client(c);
  }
  return GO_ON;
}

/* Milliseconds until the next deadline (a job's end, a parked client's),
 * -1: none. */
static int next_timeout_ms(const pv_sentio_server *s) {
  int64_t t = pv__srv_jobs_next_end(s);
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++) {
    const pv__srv_client *c = &s->clients[i];
    if (c->state == PV__CL_HELD && c->deadline_ns < t) t = c->deadline_ns;
    if (c->state == PV__CL_WAIT && c->pending.wait_deadline_ns < t) t = c->pending.wait_deadline_ns;
  }
  if (t == INT64_MAX) return -1;
  int64_t ms = (t - pv_now_ns() + PV_NS_PER_MS - 1) / PV_NS_PER_MS;
  return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static void accept_client(pv_sentio_server *s) {
  int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++) {
    pv__srv_client *c = &s->clients[i];
    if (c->state != PV__CL_FREE) continue;
    int one = 1; /* replies are small lines: no Nagle delay */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->state = PV__CL_IDLE;
    pv_sentio_lines_reset(&c->lines);
    pv_info("sentio server: client connected (slot %d)", i);
    return;
  }
  close(fd); /* not reached: the listener is polled only with a free slot */
}

/* Reads what c sent; answers it unless c is parked. A parked client whose
 * buffer is full is not read (events 0), but a hang-up still drops it. */
static int read_client(pv_sentio_server *s, pv__srv_client *c, short revents) {
  size_t cap;
  char *space = pv_sentio_lines_space(&c->lines, &cap);
  if (cap == 0) return (revents & (POLLHUP | POLLERR)) ? DROP : GO_ON;
  ssize_t r = recv(c->fd, space, cap, 0);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return GO_ON;
  if (r <= 0) return DROP;
  pv_sentio_lines_added(&c->lines, (size_t)r);
  return serve_lines(s, c);
}

static void *serve(void *arg) {
  pv_sentio_server *s = arg;
  pv_thread_set_name("sentio");
  struct pollfd p[2 + PV_SENTIO_SERVER_CLIENTS];
  int who[2 + PV_SENTIO_SERVER_CLIENTS];
  for (;;) {
    pv__srv_jobs_tick(s);
    if (resume_parked(s) == STOP) break;
    int np = 0, free_slot = 0;
    p[np++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
    for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++) {
      pv__srv_client *c = &s->clients[i];
      if (c->state == PV__CL_FREE) {
        free_slot = 1;
        continue;
      }
      size_t cap;
      pv_sentio_lines_space(&c->lines, &cap);
      who[np] = i;
      p[np++] = (struct pollfd){.fd = c->fd, .events = cap > 0 ? POLLIN : 0};
    }
    int listen_at = -1;
    if (free_slot) {
      listen_at = np;
      p[np++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
    }
    if (poll(p, (nfds_t)np, next_timeout_ms(s)) < 0) continue;
    if (stop_requested(&p[0])) break;
    int stop = 0;
    for (int k = 1; k < np && !stop; k++) {
      if (p[k].revents == 0) continue;
      if (k == listen_at) {
        accept_client(s);
        continue;
      }
      pv__srv_client *c = &s->clients[who[k]];
      int rc = (p[k].revents & (POLLIN | POLLHUP | POLLERR)) ? read_client(s, c, p[k].revents) : GO_ON;
      if (rc == STOP) stop = 1;
      if (rc == DROP) drop_client(c);
    }
    if (stop) break;
  }
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++)
    if (s->clients[i].state != PV__CL_FREE) close(s->clients[i].fd);
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

void pv_sentio_server_params_default(pv_sentio_server_params *p) {
  memset(p, 0, sizeof *p);
  pv_wafer_params_default(&p->wafer);
  pv_sim_stage_params sp;
  pv_sim_stage_params_default(&sp);
  p->machine_x_um = p->machine_y_um = 150000;
  p->home_x_um = p->home_y_um = NAN;
  p->user_x_um = p->user_y_um = NAN;
  p->contact_um = sp.contact_um;
  p->separation_um = sp.separation_um;
  p->init_ms = 1500;
}

int pv_sentio_server_start(pv_stage *stage, const char *address, int port,
                           const pv_sim_faults *faults,
                           pv_sentio_server **out, pv_error *err) {
  pv_sentio_server_params p;
  pv_sentio_server_params_default(&p);
  if (faults) p.faults = *faults;
  return pv_sentio_server_start_params(stage, address, port, &p, out, err);
}

int pv_sentio_server_start_params(pv_stage *stage, const char *address, int port,
                                  const pv_sentio_server_params *p,
                                  pv_sentio_server **out, pv_error *err) {
  *out = NULL;
  if (stage == NULL || p == NULL || port < 0 || port > 65535)
    return pv_error_set(err, PV_EINVAL, "sentio server: no stage or parameters, or bad port %d",
                        port);
  const pv_wafer_params *w = &p->wafer;
  if (w->cols < 1 || w->rows < 1 || w->cols > PV_SCENE_DIES_MAX || w->rows > PV_SCENE_DIES_MAX ||
      !(w->pitch_x_um > 0) || !(w->pitch_y_um > 0) || !(p->init_ms >= 0 && p->init_ms <= 3600e3))
    return pv_error_set(err, PV_EINVAL,
                        "sentio server: die grid %d x %d, pitch %g x %g um or init_ms %g out "
                        "of range", w->cols, w->rows, w->pitch_x_um, w->pitch_y_um, p->init_ms);
  pv_sentio_server *s = calloc(1, sizeof *s);
  if (s == NULL) return pv_error_set(err, PV_ENOMEM, "sentio server: no memory");
  s->stage = stage;
  s->p = *p;
  if (isnan(s->p.home_x_um) || isnan(s->p.home_y_um)) {
    s->p.home_x_um = w->mark_x_um;
    s->p.home_y_um = w->mark_y_um;
  }
  if (isnan(s->p.user_x_um) || isnan(s->p.user_y_um)) {
    s->p.user_x_um = w->pitch_x_um / 2;
    s->p.user_y_um = w->pitch_y_um / 2;
  }
  s->rng = s->p.faults.seed ^ 0x5e4710ULL;
  s->initialized = s->home_set = !p->uninitialized;
  s->contact_set = !p->no_contact_height;
  s->route_pos = -1;
  s->next_job_id = 1;
  s->listen_fd = -1;
  for (int i = 0; i < PV_SENTIO_SERVER_CLIENTS; i++) s->clients[i].fd = -1;
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
  pv_info("sentio server: listening on %s:%d (SENTIO %s, map %d x %d dies)",
          address ? address : "*", s->port, PV__SRV_VERSION, w->cols, w->rows);
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
