/* The sentio stage driver: drives the chuck of an MPI SENTIO probe station
 * through its remote commands over TCP (default port 35555).
 *
 * Commands used: "*RCS 1" (switch to SENTIO's command set; no reply) and
 * "*IDN?" on every (re)connect, then
 *   move_chuck_xy Zero, X, Y        absolute move, micrometres
 *   move_chuck_xy Relative, DX, DY  relative move
 *   get_chuck_xy                    position ("errc,0,X, Y")
 * A SENTIO move replies when the move has ended, so wait_settled returns the
 * moment that reply arrived plus settle_ms (an optional dwell for vibration
 * to die down; 0 by default, the station's own settling is inside the
 * move).
 *
 * Failures: a reply that does not come within timeout_ms, a dropped
 * connection or a malformed reply close the connection (see sentio_conn.c);
 * the next command reconnects. A move is attempted 1 + retries times
 * whatever the failure (the error codes differ between SENTIO versions and
 * an out-of-range move costs only a few round trips). A retried move is
 * always sent as an absolute target: a relative move is first converted to
 * "where the chuck was + delta", where the chuck was comes from the last
 * move reply or a get_chuck_xy; so a relative move whose reply timed out
 * after the chuck moved is never applied twice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentio_internal.h"
#include "stage_internal.h"

typedef struct sentio_stage {
  pv_sentio_stage_params p;
  pv__sentio_conn conn;
  int have_pos;            /* pos_x/pos_y are the chuck's known position */
  double pos_x, pos_y;
  int64_t t_move_done;     /* when the last move's reply arrived; 0: none */
} sentio_stage;

void pv_sentio_stage_params_default(pv_sentio_stage_params *p) {
  memset(p, 0, sizeof *p);
  snprintf(p->host, sizeof p->host, "127.0.0.1");
  p->port = PV_SENTIO_DEFAULT_PORT;
  p->connect_timeout_ms = 3000;
  p->timeout_ms = 10000;
  p->retries = 2;
  p->settle_ms = 0;
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

/* Connects and identifies the station, if not connected. */
static int ensure_connected(sentio_stage *s, pv_error *err) {
  pv__sentio_conn *c = &s->conn;
  if (c->fd >= 0) return PV_OK;
  int rc = pv__sentio_conn_open(c, err);
  if (rc < 0) return rc;
  rc = pv__sentio_conn_send(c, "*RCS 1", err);
  if (rc == 0) rc = pv__sentio_conn_send(c, "*IDN?", err);
  if (rc == 0) rc = pv__sentio_conn_read_line(c, s->p.timeout_ms, "*IDN?", err);
  if (rc < 0) return rc;
  int ok = c->line_len > 0 && memchr(c->line, ',', c->line_len) != NULL;
  for (size_t i = 0; ok && i < c->line_len; i++)
    ok = c->line[i] >= 0x20 && c->line[i] < 0x7f;
  if (!ok) {
    char esc[160];
    pv_sentio_escape(c->line, c->line_len, esc, sizeof esc);
    pv__sentio_conn_close(c);
    return pv_error_set(err, PV_EPARSE,
                        "sentio %s: the reply to '*IDN?' is not an "
                        "identification: \"%s\"",
                        c->peer, esc);
  }
  pv_info("sentio %s: connected to \"%s\"", c->peer, c->line);
  s->have_pos = 0;
  return PV_OK;
}

static int command(sentio_stage *s, const char *cmd, pv_sentio_reply *r,
                   pv_error *err) {
  int rc = ensure_connected(s, err);
  if (rc < 0) return rc;
  return pv__sentio_conn_command(&s->conn, cmd, s->p.timeout_ms, r, err);
}

static int query_position(sentio_stage *s, double *x, double *y,
                          pv_error *err) {
  pv_sentio_reply r;
  int rc = command(s, "get_chuck_xy", &r, err);
  if (rc < 0) return rc;
  if (pv_sentio_parse_xy(r.msg, x, y) < 0) {
    char esc[160];
    pv_sentio_escape(s->conn.line, s->conn.line_len, esc, sizeof esc);
    pv__sentio_conn_close(&s->conn);
    return pv_error_set(err, PV_EPARSE,
                        "sentio %s: reply to 'get_chuck_xy' is not a "
                        "position \"X, Y\": \"%s\"",
                        s->conn.peer, esc);
  }
  s->pos_x = *x;
  s->pos_y = *y;
  s->have_pos = 1;
  return PV_OK;
}

/* One attempt at a move. rel: send as a relative move. (gx, gy): the
 * absolute target, recorded as the position when the reply has none. */
static int move_once(sentio_stage *s, int rel, double ax, double ay,
                     double gx, double gy, pv_error *err) {
  char cmd[160];
  pv_sentio_format_move(cmd, sizeof cmd, rel ? "Relative" : "Zero", ax, ay); /* fits: 160 */
  s->have_pos = 0;
  pv_sentio_reply r;
  int rc = command(s, cmd, &r, err);
  if (rc < 0) return rc;
  s->t_move_done = pv_now_ns();
  double x, y;
  if (pv_sentio_parse_xy(r.msg, &x, &y) == 0) { /* SENTIO reports it */
    s->pos_x = x;
    s->pos_y = y;
  } else {
    s->pos_x = gx;
    s->pos_y = gy;
  }
  s->have_pos = 1;
  return PV_OK;
}

/* Moves to the absolute target (gx, gy); the first attempt is sent as the
 * relative move (dx, dy) when rel. */
static int move(sentio_stage *s, int rel, double dx, double dy, double gx,
                double gy, pv_error *err) {
  int rc = PV_OK;
  pv_error e;
  for (int attempt = 0; attempt <= s->p.retries; attempt++) {
    if (attempt == 0 && rel)
      rc = move_once(s, 1, dx, dy, gx, gy, &e);
    else
      rc = move_once(s, 0, gx, gy, gx, gy, &e);
    if (rc == PV_OK) return PV_OK;
    if (attempt < s->p.retries)
      pv_warn("sentio: move to (%.3f, %.3f) um, attempt %d of %d: %s", gx, gy,
              attempt + 1, s->p.retries + 1, e.msg);
  }
  return pv_error_set(err, rc, "%s", e.msg);
}

static int sentio_connect(void *self, pv_error *err) {
  return ensure_connected(self, err);
}

static int sentio_move_abs(void *self, double x_um, double y_um,
                           pv_error *err) {
  if (!isfinite(x_um) || !isfinite(y_um))
    return pv_error_set(err, PV_EINVAL, "sentio: target is not finite");
  return move(self, 0, 0, 0, x_um, y_um, err);
}

static int sentio_move_rel(void *self, double dx_um, double dy_um,
                           pv_error *err) {
  sentio_stage *s = self;
  if (!isfinite(dx_um) || !isfinite(dy_um))
    return pv_error_set(err, PV_EINVAL, "sentio: move is not finite");
  double x = s->pos_x, y = s->pos_y;
  int rc = PV_OK;
  pv_error e;
  for (int attempt = 0; !s->have_pos && attempt <= s->p.retries; attempt++)
    rc = query_position(s, &x, &y, &e);
  if (!s->have_pos) return pv_error_set(err, rc, "%s", e.msg);
  return move(s, 1, dx_um, dy_um, x + dx_um, y + dy_um, err);
}

static int sentio_wait_settled(void *self, int64_t *t_settled_ns,
                               pv_error *err) {
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

static int sentio_get_position(void *self, double *x_um, double *y_um,
                               pv_error *err) {
  sentio_stage *s = self;
  int rc = PV_OK;
  pv_error e;
  for (int attempt = 0; attempt <= s->p.retries; attempt++) {
    rc = query_position(s, x_um, y_um, &e);
    if (rc == PV_OK || rc == PV_ESTAGE) break;
  }
  return rc < 0 ? pv_error_set(err, rc, "%s", e.msg) : PV_OK;
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
};

int pv_sentio_stage_create(const pv_sentio_stage_params *p, pv_stage **out,
                           pv_error *err) {
  *out = NULL;
  if (p == NULL || p->host[0] == '\0' || p->port < 1 || p->port > 65535 ||
      p->connect_timeout_ms < 1 || p->timeout_ms < 1 || p->retries < 0 ||
      p->settle_ms < 0)
    return pv_error_set(err, PV_EINVAL,
                        "sentio stage: bad parameters (host, port 1-65535, "
                        "timeouts >= 1 ms, retries and settle_ms >= 0)");
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
