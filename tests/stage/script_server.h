/* tests/stage: a scripted SENTIO station on 127.0.0.1 (port 0) for the
 * client tests. It answers the handshake itself ("*RCS 1": nothing, as
 * SENTIO; "*IDN?": idn; "status:get_version": version) and every other
 * command with the next step of its script, recording every line it
 * received (handshake included) in order. Step actions: REPLY (the line +
 * "\n"), SPLIT (the same in 3-byte segments 5 ms apart), SILENT (never
 * answers; waits for the client to hang up), CLOSE_MID (sends the text
 * without "\n" and closes), DOWN (closes the connection and refuses
 * connections for atoi(reply) ms, then listens again on the same port). One
 * connection at a time. Header-only; include once per test file. */
#ifndef TESTS_STAGE_SCRIPT_SERVER_H
#define TESTS_STAGE_SCRIPT_SERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/sentio.h"
#include "probevision/stage.h"

enum action { REPLY, SILENT, CLOSE_MID, SPLIT, DOWN };
typedef struct step {
  enum action action;
  const char *reply; /* DOWN: how many ms connections are refused */
} step;

#define MAX_LOG 64
typedef struct script_server {
  int listen_fd, port;
  pthread_t thread;
  atomic_int stop;
  const char *idn;     /* identification reply, with "\n" */
  const char *version; /* reply to status:get_version, without "\n" */
  const step *steps;
  int nsteps, next;
  int connections, rcs, idns, versions;
  char all[MAX_LOG][128]; /* every line received, in order */
  int nall;
  char log[MAX_LOG][128]; /* the lines other than the handshake */
  int nlog;
  pthread_mutex_t mu;
} script_server;

static inline void send_str(int fd, const char *s) { (void)!send(fd, s, strlen(s), MSG_NOSIGNAL); }

static inline void wait_hangup(script_server *s, int fd) {
  char b[256];
  while (!s->stop) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 20) > 0 && recv(fd, b, sizeof b, 0) <= 0) return;
  }
}

static inline void listen_on(script_server *s, int port) {
  s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s->listen_fd, 4), 0);
  socklen_t sl = sizeof a;
  getsockname(s->listen_fd, (struct sockaddr *)&a, &sl);
  s->port = ntohs(a.sin_port);
}

/* Serves one connection; returns 1 when it closed fd itself. */
static inline int serve_conn(script_server *s, int fd) {
  pv_sentio_lines lb;
  pv_sentio_lines_reset(&lb);
  char line[PV_SENTIO_LINE_MAX + 1];
  size_t len, cap;
  while (!s->stop) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 20) <= 0) continue;
    char *sp = pv_sentio_lines_space(&lb, &cap);
    ssize_t r = recv(fd, sp, cap, 0);
    if (r <= 0) return 0;
    pv_sentio_lines_added(&lb, (size_t)r);
    while (pv_sentio_lines_next(&lb, line, &len) == PV_SENTIO_LINE) {
      pthread_mutex_lock(&s->mu);
      if (s->nall < MAX_LOG) snprintf(s->all[s->nall++], sizeof s->all[0], "%.120s", line);
      if (strcmp(line, "*RCS 1") == 0) {
        s->rcs++;
        pthread_mutex_unlock(&s->mu);
        continue;
      }
      if (strcmp(line, "*IDN?") == 0) {
        s->idns++;
        pthread_mutex_unlock(&s->mu);
        send_str(fd, s->idn);
        continue;
      }
      if (strcmp(line, "status:get_version") == 0) {
        s->versions++;
        pthread_mutex_unlock(&s->mu);
        send_str(fd, s->version);
        send_str(fd, "\n");
        continue;
      }
      if (s->nlog < MAX_LOG) snprintf(s->log[s->nlog++], sizeof s->log[0], "%.120s", line);
      step st = s->next < s->nsteps ? s->steps[s->next++] : (step){CLOSE_MID, ""};
      pthread_mutex_unlock(&s->mu);
      if (st.action == REPLY) {
        send_str(fd, st.reply);
        send_str(fd, "\n");
      } else if (st.action == SPLIT) {
        char seg[4];
        size_t n = strlen(st.reply);
        for (size_t i = 0; i <= n; i += 3) {
          snprintf(seg, sizeof seg, "%s", st.reply + i);
          send_str(fd, seg);
          usleep(5000);
        }
        send_str(fd, "\n");
      } else if (st.action == SILENT) {
        wait_hangup(s, fd);
        return 0;
      } else if (st.action == DOWN) {
        close(fd);
        int port = s->port;
        close(s->listen_fd);
        usleep((useconds_t)atoi(st.reply) * 1000);
        listen_on(s, port);
        return 1;
      } else {
        send_str(fd, st.reply);
        return 0;
      }
    }
  }
  return 0;
}

static void *server_main(void *arg) {
  script_server *s = arg;
  while (!s->stop) {
    struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) continue;
    pthread_mutex_lock(&s->mu);
    s->connections++;
    pthread_mutex_unlock(&s->mu);
    if (!serve_conn(s, fd)) close(fd);
  }
  return NULL;
}

static inline script_server *server_start_full(const step *steps, int n, const char *idn,
                                        const char *version) {
  script_server *s = calloc(1, sizeof *s);
  s->steps = steps;
  s->nsteps = n;
  s->idn = idn;
  s->version = version;
  pthread_mutex_init(&s->mu, NULL);
  listen_on(s, 0);
  pthread_create(&s->thread, NULL, server_main, s);
  return s;
}

static inline script_server *server_start_idn(const step *steps, int n, const char *idn) {
  return server_start_full(steps, n, idn, "0,0,Version: 23.2.99");
}

static inline script_server *server_start(const step *steps, int n) {
  return server_start_idn(steps, n, "MPI Corporation,SENTIO,0,test\n");
}

/* Reads of what the server thread recorded (under its mutex). */
static inline int count(script_server *s, const int *field) {
  pthread_mutex_lock(&s->mu);
  int v = *field;
  pthread_mutex_unlock(&s->mu);
  return v;
}

static inline const char *logged(script_server *s, int i) {
  static char buf[128];
  pthread_mutex_lock(&s->mu);
  snprintf(buf, sizeof buf, "%s", i < s->nlog ? s->log[i] : "");
  pthread_mutex_unlock(&s->mu);
  return buf;
}

static inline const char *received(script_server *s, int i) {
  static char buf[128];
  pthread_mutex_lock(&s->mu);
  snprintf(buf, sizeof buf, "%s", i < s->nall ? s->all[i] : "");
  pthread_mutex_unlock(&s->mu);
  return buf;
}

static inline void server_stop(script_server *s) {
  s->stop = 1;
  pthread_join(s->thread, NULL);
  close(s->listen_fd);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static inline pv_stage *client(const script_server *s, int timeout_ms, int retries) {
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  snprintf(p.host, sizeof p.host, "127.0.0.1");
  p.port = s->port;
  p.timeout_ms = timeout_ms;
  p.connect_timeout_ms = 1000;
  p.retries = retries;
  p.reconnect_ms = 0;
  pv_stage *st = NULL;
  assert_int_equal(pv_sentio_stage_create(&p, &st, NULL), PV_OK);
  assert_string_equal(pv_stage_driver_name(st), "sentio");
  return st;
}

#endif
