/* The sentio stage driver: drives the chuck of an MPI SENTIO probe station
 * through its remote commands over TCP (default port 35555): XY moves and
 * the position here, contact / separation / height and wafer-map stepping
 * in sentio_zmap.c, the handshake, the command set by version and the
 * retry policy in sentio_session.c.
 *
 * A SENTIO move replies when the move has ended, so wait_settled returns
 * the moment that reply arrived plus settle_ms (an optional dwell for
 * vibration to die down; 0 by default, the station's own settling is
 * inside the move).
 *
 * A move is retried per the session's policy. A retried move is always
 * sent as an absolute target: a relative move is first converted to "where
 * the chuck was + delta", where the chuck was comes from the last move
 * reply or a position query; so a relative move whose reply was lost after
 * the chuck moved is never applied twice. Not thread-safe: one thread owns
 * the stage.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentio_internal.h"
#include "stage_internal.h"

typedef pv__sentio_stage sentio_stage;

void pv_sentio_stage_params_default(pv_sentio_stage_params *p) {
  memset(p, 0, sizeof *p);
  snprintf(p->host, sizeof p->host, "127.0.0.1");
  p->port = PV_SENTIO_DEFAULT_PORT;
  p->connect_timeout_ms = 3000;
  p->timeout_ms = 10000;
  p->retries = 2;
  p->settle_ms = 0;
  p->reconnect_ms = 10000;
}

int pv_sentio_parse_address(const char *spec, pv_sentio_stage_params *p,
                            pv_error *err) {
  const char *host = spec, *host_end, *port = NULL;
  if (spec[0] == '[') {
    host = spec + 1;
    host_end = strchr(host, ']');
    if (host_end == NULL || (host_end[1] != '\0' && host_end[1] != ':'))
      goto bad;
    if (host_end[1] == ':') port = host_end + 2;
  } else {
    host_end = strchr(spec, ':');
    if (host_end == NULL) {
      host_end = spec + strlen(spec);
    } else {
      port = host_end + 1;
      if (strchr(port, ':') != NULL) goto bad;
    }
  }
  size_t hl = (size_t)(host_end - host);
  if (hl == 0 || hl >= sizeof p->host) goto bad;
  int port_num = PV_SENTIO_DEFAULT_PORT;
  if (port != NULL) {
    char *end;
    long v = strtol(port, &end, 10);
    if (end == port || *end != '\0' || v < 1 || v > 65535) goto bad;
    port_num = (int)v;
  }
  memcpy(p->host, host, hl);
  p->host[hl] = '\0';
  p->port = port_num;
  return PV_OK;
bad:
  return pv_error_set(err, PV_EPARSE,
                      "sentio address '%s': expected HOST:PORT (port 1-65535)",
                      spec);
}

/* Records the reply of a move that succeeded: the position it reports
 * (the first two numbers) or else the target. */
static void moved(sentio_stage *s, const pv_sentio_reply *r, double gx, double gy) {
  double v[2];
  s->t_move_done = pv_now_ns();
  if (pv_sentio_parse_first(r->msg, 2, v) == 0) {
    s->pos_x = v[0];
    s->pos_y = v[1];
  } else {
    s->pos_x = gx;
    s->pos_y = gy;
  }
  s->have_pos = 1;
}

/* Moves to the absolute target (gx, gy) with `retries` retries. */
static int move_abs(sentio_stage *s, double gx, double gy, int retries, pv_error *err) {
  pv__sentio_req q = {.op = PV__SENTIO_MOVE_ABS, .x = gx, .y = gy};
  pv_sentio_reply r;
  s->have_pos = 0;
  int rc = pv__sentio_request(s, &q, retries, 0, &r, NULL, err);
  if (rc == 0) moved(s, &r, gx, gy);
  return rc;
}

static int sentio_connect(void *self, pv_error *err) {
  return pv__sentio_session_open(self, err);
}

static int sentio_move_abs(void *self, double x_um, double y_um, pv_error *err) {
  sentio_stage *s = self;
  if (!isfinite(x_um) || !isfinite(y_um))
    return pv_error_set(err, PV_EINVAL, "sentio: target is not finite");
  return move_abs(s, x_um, y_um, s->p.retries, err);
}

/* The first attempt is the relative move; when it fails after it was sent
 * (the chuck may have moved) or with a RETRY-class error, the remaining
 * attempts go to the absolute target. */
static int sentio_move_rel(void *self, double dx_um, double dy_um, pv_error *err) {
  sentio_stage *s = self;
  if (!isfinite(dx_um) || !isfinite(dy_um))
    return pv_error_set(err, PV_EINVAL, "sentio: move is not finite");
  double x = s->pos_x, y = s->pos_y;
  if (!s->have_pos) {
    int rc = pv__sentio_query_position(s, &x, &y, err);
    if (rc < 0) return rc;
  }
  double gx = x + dx_um, gy = y + dy_um;
  pv__sentio_req q = {.op = PV__SENTIO_MOVE_REL, .x = dx_um, .y = dy_um};
  pv_sentio_reply r;
  pv__sentio_outcome out;
  pv_error e;
  s->have_pos = 0;
  int rc = pv__sentio_request(s, &q, 0, 1, &r, &out, &e);
  if (rc == 0) {
    moved(s, &r, gx, gy);
    return PV_OK;
  }
  int retry = s->p.retries > 0 &&
              (out.code < 0 ? out.sent : pv_sentio_error_class(out.code) == PV_SENTIO_RETRY);
  if (!retry) return pv_error_set(err, rc, "%s", e.msg);
  pv_warn("sentio: relative move by (%.3f, %.3f) um: %s; retrying as the absolute move to "
          "(%.3f, %.3f) um",
          dx_um, dy_um, e.msg, gx, gy);
  return move_abs(s, gx, gy, s->p.retries - 1, err);
}

static int sentio_wait_settled(void *self, int64_t *t_settled_ns, pv_error *err) {
  (void)err;
  sentio_stage *s = self;
  if (s->t_move_done == 0) {
    *t_settled_ns = pv_now_ns();
    return PV_OK;
  }
  int64_t t = s->t_move_done + (int64_t)s->p.settle_ms * PV_NS_PER_MS;
  pv_sleep_ns(t - pv_now_ns());
  *t_settled_ns = t;
  return PV_OK;
}

static int sentio_get_position(void *self, double *x_um, double *y_um, pv_error *err) {
  return pv__sentio_query_position(self, x_um, y_um, err);
}

static int sentio_get_truth(void *self, double *x_um, double *y_um) {
  (void)self;
  (void)x_um;
  (void)y_um;
  return PV_EUNSUPPORTED;
}

static void sentio_destroy(void *self) {
  sentio_stage *s = self;
  if (s == NULL) return;
  pv__sentio_conn_close(&s->conn);
  free(s);
}

static const pv_stage_driver sentio_driver = {
    .name = "sentio",
    .connect = sentio_connect,
    .move_abs = sentio_move_abs,
    .move_rel = sentio_move_rel,
    .wait_settled = sentio_wait_settled,
    .get_position = sentio_get_position,
    .get_truth = sentio_get_truth,
    .destroy = sentio_destroy,
    .contact = pv__sentio_contact,
    .separate = pv__sentio_separate,
    .get_z = pv__sentio_get_z,
    .map_step = pv__sentio_map_step,
};

int pv_sentio_stage_create(const pv_sentio_stage_params *p, pv_stage **out,
                           pv_error *err) {
  *out = NULL;
  if (p == NULL || p->host[0] == '\0' || p->port < 1 || p->port > 65535 ||
      p->connect_timeout_ms < 1 || p->timeout_ms < 1 || p->retries < 0 ||
      p->settle_ms < 0 || p->reconnect_ms < 0)
    return pv_error_set(err, PV_EINVAL,
                        "sentio stage: bad parameters (host, port 1-65535, timeouts >= 1 ms, "
                        "retries, settle_ms and reconnect_ms >= 0)");
  sentio_stage *s = calloc(1, sizeof *s);
  if (s == NULL) return pv_error_set(err, PV_ENOMEM, "sentio stage: no memory");
  s->p = *p;
  s->p.host[sizeof s->p.host - 1] = '\0';
  pv__sentio_conn_init(&s->conn, s->p.host, s->p.port, p->connect_timeout_ms);
  s->conn.next_connect_ns = 0;
  int rc = pv_stage_create(&sentio_driver, s, out);
  if (rc < 0) return pv_error_set(err, rc, "sentio stage: no memory");
  return PV_OK;
}
