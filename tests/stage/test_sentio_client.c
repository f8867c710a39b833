/* stage: the sentio client against a scripted TCP server on 127.0.0.1 (port
 * 0): normal moves, error replies, a reply that never comes (timeout, then
 * reconnect), a connection closed mid-reply, garbage and oversized replies,
 * a retried relative move sent as its absolute target, a bad
 * identification and a refused connection. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/stage.h"
#include "probevision/sentio.h"

/* ---- the scripted server ------------------------------------------------ */

enum action { REPLY, SILENT, CLOSE_MID };
typedef struct step {
  enum action action;
  const char *reply; /* sent as is (REPLY: "\n" appended) */
} step;

#define MAX_LOG 32
typedef struct script_server {
  int listen_fd, port;
  pthread_t thread;
  atomic_int stop;
  const char *idn;         /* identification reply */
  const step *steps;
  int nsteps, next;
  int connections, rcs, idns;
  char log[MAX_LOG][128];  /* commands other than *RCS / *IDN?, in order */
  int nlog;
  pthread_mutex_t mu;
} script_server;

static void send_str(int fd, const char *s) {
  (void)!send(fd, s, strlen(s), MSG_NOSIGNAL);
}

/* Waits until the peer closes fd (or stop). */
static void wait_hangup(script_server *s, int fd) {
  char b[256];
  while (!s->stop) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 20) > 0 && recv(fd, b, sizeof b, 0) <= 0) return;
  }
}

/* Serves one connection; returns when it is closed. */
static void serve_conn(script_server *s, int fd) {
  pv_sentio_lines lb;
  pv_sentio_lines_reset(&lb);
  char line[PV_SENTIO_LINE_MAX + 1];
  size_t len, cap;
  while (!s->stop) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 20) <= 0) continue;
    char *sp = pv_sentio_lines_space(&lb, &cap);
    ssize_t r = recv(fd, sp, cap, 0);
    if (r <= 0) return;
    pv_sentio_lines_added(&lb, (size_t)r);
    while (pv_sentio_lines_next(&lb, line, &len) == PV_SENTIO_LINE) {
      pthread_mutex_lock(&s->mu);
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
      if (s->nlog < MAX_LOG) snprintf(s->log[s->nlog++], sizeof s->log[0], "%.120s", line);
      step st = s->next < s->nsteps ? s->steps[s->next++] : (step){CLOSE_MID, ""};
      pthread_mutex_unlock(&s->mu);
      if (st.action == REPLY) {
        send_str(fd, st.reply);
        send_str(fd, "\n");
      } else if (st.action == SILENT) {
        wait_hangup(s, fd);
        return;
      } else {
        send_str(fd, st.reply);
        return;
      }
    }
  }
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
    serve_conn(s, fd);
    close(fd);
  }
  return NULL;
}

static script_server *server_start_idn(const step *steps, int n, const char *idn) {
  script_server *s = calloc(1, sizeof *s);
  s->steps = steps;
  s->nsteps = n;
  s->idn = idn;
  pthread_mutex_init(&s->mu, NULL);
  s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s->listen_fd, 4), 0);
  socklen_t sl = sizeof a;
  getsockname(s->listen_fd, (struct sockaddr *)&a, &sl);
  s->port = ntohs(a.sin_port);
  pthread_create(&s->thread, NULL, server_main, s);
  return s;
}

static script_server *server_start(const step *steps, int n) {
  return server_start_idn(steps, n, "MPI Corporation,SENTIO,0,test\n");
}

/* Reads of what the server thread recorded (under its mutex). */
static int count(script_server *s, const int *field) {
  pthread_mutex_lock(&s->mu);
  int v = *field;
  pthread_mutex_unlock(&s->mu);
  return v;
}

static const char *logged(script_server *s, int i) {
  static char buf[128];
  pthread_mutex_lock(&s->mu);
  snprintf(buf, sizeof buf, "%s", i < s->nlog ? s->log[i] : "");
  pthread_mutex_unlock(&s->mu);
  return buf;
}

static void server_stop(script_server *s) {
  s->stop = 1;
  pthread_join(s->thread, NULL);
  close(s->listen_fd);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static pv_stage *client(const script_server *s, int timeout_ms, int retries) {
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  snprintf(p.host, sizeof p.host, "127.0.0.1");
  p.port = s->port;
  p.timeout_ms = timeout_ms;
  p.connect_timeout_ms = 1000;
  p.retries = retries;
  pv_stage *st = NULL;
  assert_int_equal(pv_sentio_stage_create(&p, &st, NULL), PV_OK);
  assert_string_equal(pv_stage_driver_name(st), "sentio");
  return st;
}

/* ---- tests ---------------------------------------------------------------- */

static void moves_and_position(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "0,0,100.000,200.000"},
                               {REPLY, "0,0,110.000,205.000"},
                               {REPLY, "0,0,110.5,205.25"}};
  script_server *s = server_start(steps, 3);
  pv_stage *st = client(s, 2000, 0);
  assert_int_equal(pv_stage_connect(st, NULL), PV_OK);
  int64_t before = pv_now_ns(), t;
  assert_int_equal(pv_stage_move_abs(st, 100, 200, NULL), PV_OK);
  assert_int_equal(pv_stage_wait_settled(st, &t, NULL), PV_OK);
  assert_true(t >= before);
  assert_int_equal(pv_stage_move_rel(st, 10, 5, NULL), PV_OK);
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_true(x == 110.5 && y == 205.25);
  assert_int_equal(pv_stage_get_truth(st, &x, &y), PV_EUNSUPPORTED);
  assert_string_equal(logged(s, 0), "move_chuck_xy Zero, 100.000, 200.000");
  assert_string_equal(logged(s, 1), "move_chuck_xy Relative, 10.000, 5.000");
  assert_string_equal(logged(s, 2), "get_chuck_xy");
  assert_int_equal(count(s, &s->connections), 1);
  assert_int_equal(count(s, &s->rcs), 1);
  assert_int_equal(count(s, &s->idns), 1);
  pv_stage_destroy(st);
  server_stop(s);
}

static void error_replies_are_stage_errors_and_retried(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "5,0,motor fault"},
                               {REPLY, "3076,0,out of range"}, /* 3<<10 | 4 */
                               {REPLY, "1029,0,still failing"},
                               {REPLY, "0,0,1.000,2.000"}};
  script_server *s = server_start(steps, 4);
  pv_stage *st = client(s, 2000, 1);
  pv_error err;
  assert_int_equal(pv_stage_move_abs(st, 1, 2, &err), PV_ESTAGE);
  assert_non_null(strstr(err.msg, "out of range"));
  assert_non_null(strstr(err.msg, "error 4"));
  assert_int_equal(count(s, &s->nlog), 2); /* 1 + retries attempts */
  assert_int_equal(pv_stage_move_abs(st, 1, 2, &err), PV_OK); /* 2nd attempt ok */
  assert_int_equal(count(s, &s->nlog), 4);
  assert_int_equal(count(s, &s->connections), 1); /* error replies keep the connection */
  pv_stage_destroy(st);
  server_stop(s);
}

static void missing_reply_times_out_then_reconnects(void **state) {
  (void)state;
  static const step steps[] = {{SILENT, NULL}, {REPLY, "0,0,7.000,8.000"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client(s, 200, 0);
  pv_error err;
  assert_int_equal(pv_stage_move_abs(st, 7, 8, &err), PV_ETIMEDOUT);
  assert_non_null(strstr(err.msg, "no reply"));
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 7 && y == 8);
  assert_int_equal(count(s, &s->connections), 2);
  assert_int_equal(count(s, &s->rcs), 2);
  pv_stage_destroy(st);
  server_stop(s);
}

static void closed_mid_reply_reconnects_on_next_command(void **state) {
  (void)state;
  static const step steps[] = {{CLOSE_MID, "0,0,12"}, {REPLY, "0,0,3.000,4.000"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client(s, 2000, 0);
  pv_error err;
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EDISCONNECTED);
  assert_non_null(strstr(err.msg, "closed"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 3 && y == 4);
  assert_int_equal(count(s, &s->connections), 2);
  pv_stage_destroy(st);
  server_stop(s);
}

static void garbage_replies_are_parse_errors(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "garbage"},
                               {REPLY, "\x01\x02\xff,0,0"},
                               {REPLY, "0,0,not a position"},
                               {REPLY, "0,0,5.000,6.000"}};
  script_server *s = server_start(steps, 4);
  pv_stage *st = client(s, 2000, 0);
  pv_error err;
  double x, y;
  char peer[64];
  snprintf(peer, sizeof peer, "127.0.0.1:%d", s->port);
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, peer));
  assert_non_null(strstr(err.msg, "\"garbage\""));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "\\x01\\x02\\xff"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "not a position"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 5 && y == 6);
  pv_stage_destroy(st);
  server_stop(s);
}

static void oversized_reply_is_rejected(void **state) {
  (void)state;
  char *big = malloc(20001);
  memset(big, '9', 20000);
  big[20000] = '\0';
  step steps[] = {{REPLY, big}, {REPLY, "0,0,1.000,1.000"}};
  script_server *s = server_start(steps, 2);
  pv_stage *st = client(s, 2000, 0);
  pv_error err;
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "longer than"));
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 1 && y == 1);
  pv_stage_destroy(st);
  server_stop(s);
  free(big);
}

static void retried_relative_move_goes_to_the_absolute_target(void **state) {
  (void)state;
  static const step steps[] = {{REPLY, "0,0,50.000,60.000"},
                               {SILENT, NULL},
                               {REPLY, "0,0,60.000,60.000"}};
  script_server *s = server_start(steps, 3);
  pv_stage *st = client(s, 200, 1);
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, NULL), PV_OK);
  assert_int_equal(pv_stage_move_rel(st, 10, 0, NULL), PV_OK);
  assert_string_equal(logged(s, 1), "move_chuck_xy Relative, 10.000, 0.000");
  assert_string_equal(logged(s, 2), "move_chuck_xy Zero, 60.000, 60.000");
  pv_stage_destroy(st);
  server_stop(s);
}

static void bad_identification_and_refused_connection(void **state) {
  (void)state;
  script_server *s = server_start_idn(NULL, 0, "\x01\x02 hello\n");
  pv_stage *st = client(s, 500, 0);
  pv_error err;
  assert_int_equal(pv_stage_connect(st, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "*IDN?"));
  pv_stage_destroy(st);
  int port = s->port;
  server_stop(s); /* nothing listens on port now */
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  p.port = port;
  assert_int_equal(pv_sentio_stage_create(&p, &st, NULL), PV_OK);
  assert_int_equal(pv_stage_connect(st, &err), PV_EIO);
  assert_non_null(strstr(err.msg, "cannot connect"));
  pv_stage_destroy(st);
}

static void addresses_parse(void **state) {
  (void)state;
  pv_sentio_stage_params p;
  pv_sentio_stage_params_default(&p);
  assert_int_equal(pv_sentio_parse_address("10.0.0.5:4000", &p, NULL), PV_OK);
  assert_string_equal(p.host, "10.0.0.5");
  assert_int_equal(p.port, 4000);
  assert_int_equal(pv_sentio_parse_address("prober", &p, NULL), PV_OK);
  assert_int_equal(p.port, PV_SENTIO_DEFAULT_PORT);
  assert_int_equal(pv_sentio_parse_address("[::1]:5", &p, NULL), PV_OK);
  assert_string_equal(p.host, "::1");
  static const char *bad[] = {"", ":80", "h:", "h:0", "h:70000", "h:1:2", "[::1", "h:8x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pv_error err;
    assert_int_equal(pv_sentio_parse_address(bad[i], &p, &err), PV_EPARSE);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(moves_and_position),
      cmocka_unit_test(error_replies_are_stage_errors_and_retried),
      cmocka_unit_test(missing_reply_times_out_then_reconnects),
      cmocka_unit_test(closed_mid_reply_reconnects_on_next_command),
      cmocka_unit_test(garbage_replies_are_parse_errors),
      cmocka_unit_test(oversized_reply_is_rejected),
      cmocka_unit_test(retried_relative_move_goes_to_the_absolute_target),
      cmocka_unit_test(bad_identification_and_refused_connection),
      cmocka_unit_test(addresses_parse),
  };
  pv_log_set_level(PV_LOG_ERROR);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
