/* The sentio stage's session: the handshake on every (re)connect, the
 * command set by the station's version, and the retry policy of every
 * request. Not thread-safe: one thread owns the stage.
 *
 * Handshake: "*RCS 1" (SENTIO's own command set; no reply), "*IDN?" (the
 * identification line, logged), "status:get_version" ("Version: N.N.N" in
 * the message, logged). A station of version >= 25.2 gets the chuck:
 * command group for XY and the height (as MPI's own client does); an older
 * one, or one whose version cannot be read, the older names. A station that
 * answers 3 (unknown command), 6 or 7 to a chuck: command gets the older
 * names from then on (logged once): MPI's 25.2 client still sends them.
 *
 *   request      >= 25.2                    older
 *   absolute XY  chuck:move_xy Z, X, Y      move_chuck_xy Zero, X, Y
 *   relative XY  chuck:move_xy R, DX, DY    move_chuck_xy Relative, DX, DY
 *   position     chuck:get_xy Z             get_chuck_xy Wafer, Zero
 *   height       chuck:get_z Zero           get_chuck_z Zero
 *   contact      move_chuck_contact         (same)
 *   separation   move_chuck_separation      (same)
 *   map steps    map:step_first_die, map:step_next_die,
 *                map:step_die COL, ROW, SITE, map:die:get_current_index
 * A station that refuses "get_chuck_xy Wafer, Zero" with 3/6/7 gets plain
 * "get_chuck_xy" from then on. Replies may carry more fields than read
 * (the chuck: group appends the reference): only the leading numbers count.
 *
 * Retry policy (the station's error classes are in sentio.h's table):
 * - a reply timeout or a malformed reply (the connection is closed and
 *   reopened) and RETRY-class errors (2, 19, 30) are attempted again, up
 *   to `retries` more times; 30 waits a backoff step first;
 * - FAIL-class errors (6, 7, 8, 12, 13, 18, 23, ...) fail at once:
 *   PV_EREFUSED naming the command, the code, its name and the message
 *   (callers do not retry it either);
 *   11 (end of route) is PV_ENOTFOUND;
 * - a connection that cannot be opened, or is lost, after one worked: the
 *   request keeps reconnecting (backoff 50 ms doubling to 1 s) for
 *   reconnect_ms (at least connect_timeout_ms + 1 s) from the first
 *   failure, without spending its retries: a restarted station is reached.
 *   A request with `once` returns when a sent attempt fails, so a relative
 *   move or a map:step_next_die is never carried out twice. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sentio_internal.h"

static int transport_rc(int rc) {
  return rc == PV_EIO || rc == PV_ETIMEDOUT || rc == PV_EDISCONNECTED || rc == PV_ENOTFOUND;
}

/* Reads the handshake's reply to cmd into c->line. */
static int handshake_read(pv__sentio_stage *s, const char *cmd, pv_error *err) {
  return pv__sentio_conn_read_line(&s->conn, s->p.timeout_ms, cmd, err);
}

static void read_version(pv__sentio_stage *s) {
  pv__sentio_conn *c = &s->conn;
  pv_sentio_reply r;
  pv_error e;
  s->have_version = 0;
  if (pv_sentio_parse_reply(c->line, c->line_len, c->peer, &r, &e) == 0 && r.code == 0 &&
      pv_sentio_parse_version(r.msg, &s->version) == 0)
    s->have_version = 1;
  s->chuck_group = s->have_version && !s->group_refused &&
                   pv_sentio_version_has_chuck_group(&s->version);
}

int pv__sentio_session_open(pv__sentio_stage *s, pv_error *err) {
  pv__sentio_conn *c = &s->conn;
  if (c->fd >= 0) return PV_OK;
  int rc = pv__sentio_conn_open(c, err);
  if (rc < 0) return rc;
  rc = pv__sentio_conn_send(c, "*RCS 1", err);
  if (rc == 0) rc = pv__sentio_conn_send(c, "*IDN?", err);
  if (rc == 0) rc = handshake_read(s, "*IDN?", err);
  if (rc < 0) return rc;
  int ok = c->line_len > 0 && memchr(c->line, ',', c->line_len) != NULL;
  for (size_t i = 0; ok && i < c->line_len; i++)
    ok = c->line[i] >= 0x20 && c->line[i] < 0x7f;
  if (!ok) {
    char esc[160];
    pv_sentio_escape(c->line, c->line_len, esc, sizeof esc);
    pv__sentio_conn_close(c);
    return pv_error_set(err, PV_EPARSE,
                        "sentio %s: the reply to '*IDN?' is not an identification: \"%s\"",
                        c->peer, esc);
  }
  size_t n = c->line_len < sizeof s->idn - 1 ? c->line_len : sizeof s->idn - 1;
  memcpy(s->idn, c->line, n); /* kept for the reconnect log lines */
  s->idn[n] = '\0';
  rc = pv__sentio_conn_send(c, "status:get_version", err);
  if (rc == 0) rc = handshake_read(s, "status:get_version", err);
  if (rc < 0) return rc;
  read_version(s);
  char ver[64];
  if (s->have_version)
    snprintf(ver, sizeof ver, "SENTIO version %d.%d.%d", s->version.major, s->version.minor,
             s->version.patch);
  else
    snprintf(ver, sizeof ver, "SENTIO version unknown");
  const char *set = s->chuck_group ? "the chuck: command group" : "the older command names";
  if (s->ever_connected)
    pv_warn("sentio %s: reconnected to \"%s\", %s, %s", c->peer, s->idn, ver, set);
  else
    pv_info("sentio %s: connected to \"%s\", %s, %s", c->peer, s->idn, ver, set);
  s->ever_connected = 1;
  s->have_pos = 0;
  return PV_OK;
}

/* The command line for q in the station's command set; *group: 1 when it
 * is a form the station may refuse (then the older form exists). */
static void format_req(const pv__sentio_stage *s, const pv__sentio_req *q, char *buf, size_t cap,
                       int *group) {
  int g = s->chuck_group;
  *group = 0;
  switch (q->op) {
  case PV__SENTIO_MOVE_ABS:
  case PV__SENTIO_MOVE_REL: {
    int rel = q->op == PV__SENTIO_MOVE_REL;
    if (g) {
      pv_snprintf_c(buf, cap, "chuck:move_xy %s, %.3f, %.3f", rel ? "R" : "Z", q->x, q->y);
      *group = 1;
    } else {
      pv_sentio_format_move(buf, cap, rel ? "Relative" : "Zero", q->x, q->y);
    }
    break;
  }
  case PV__SENTIO_GET_XY:
    *group = g || !s->plain_get_xy;
    snprintf(buf, cap, "%s",
             g ? "chuck:get_xy Z" : s->plain_get_xy ? "get_chuck_xy" : "get_chuck_xy Wafer, Zero");
    break;
  case PV__SENTIO_CONTACT: snprintf(buf, cap, "move_chuck_contact"); break;
  case PV__SENTIO_SEPARATE: snprintf(buf, cap, "move_chuck_separation"); break;
  case PV__SENTIO_GET_Z:
    *group = g;
    snprintf(buf, cap, "%s", g ? "chuck:get_z Zero" : "get_chuck_z Zero");
    break;
  case PV__SENTIO_MAP_FIRST: snprintf(buf, cap, "map:step_first_die"); break;
  case PV__SENTIO_MAP_NEXT: snprintf(buf, cap, "map:step_next_die"); break;
  case PV__SENTIO_MAP_DIE:
    snprintf(buf, cap, "map:step_die %d, %d, %d", q->col, q->row, q->site);
    break;
  case PV__SENTIO_MAP_INDEX: snprintf(buf, cap, "map:die:get_current_index"); break;
  }
}

/* The station refused a newer form (3, 6 or 7): use the older one. */
static void fall_back(pv__sentio_stage *s, const char *cmd, const pv_sentio_reply *r) {
  char esc[160];
  pv_sentio_escape(r->msg, strlen(r->msg), esc, sizeof esc);
  if (s->chuck_group) {
    s->chuck_group = 0;
    s->group_refused = 1;
  } else {
    s->plain_get_xy = 1;
  }
  pv_warn("sentio %s: the station answered '%s' with error %d %s (\"%s\"): using the older "
          "command form from now on",
          s->conn.peer, cmd, r->code, pv_sentio_error_name(r->code), esc);
}

static int station_error(pv__sentio_stage *s, const char *cmd, const pv_sentio_reply *r,
                         int status, const char *tail, pv_error *err) {
  char esc[200];
  pv_sentio_escape(r->msg, strlen(r->msg), esc, sizeof esc);
  return pv_error_set(err, status, "sentio %s: '%s' failed: error %d %s (%s): %s%s", s->conn.peer,
                      cmd, r->code, pv_sentio_error_name(r->code),
                      pv_sentio_error_what(r->code), esc, tail);
}

int pv__sentio_request(pv__sentio_stage *s, const pv__sentio_req *q, int retries, int once,
                       pv_sentio_reply *r, pv__sentio_outcome *out, pv_error *err) {
  pv__sentio_outcome dummy;
  if (out == NULL) out = &dummy;
  out->sent = 0;
  out->code = -1;
  int64_t window_end = 0;
  int attempts = 0, rc;
  char cmd[160];
  pv_error e;
  for (;;) {
    int group = 0, sent_now = 0;
    rc = pv__sentio_session_open(s, &e);
    if (rc == 0) {
      format_req(s, q, cmd, sizeof cmd, &group);
      rc = pv__sentio_conn_send(&s->conn, cmd, &e);
      if (rc == 0) {
        out->sent = sent_now = 1;
        rc = pv__sentio_conn_read_line(&s->conn, s->p.timeout_ms, cmd, &e);
        if (rc == PV_EDISCONNECTED && once) return pv_error_set(err, rc, "%s", e.msg);
      }
    }
    if (rc < 0 && transport_rc(rc) && (rc != PV_ETIMEDOUT || !sent_now) && s->ever_connected) {
      /* Connection refused, timed out or lost: the station may be restarting. */
      int window = s->p.reconnect_ms;
      if (window > 0 && window < s->p.connect_timeout_ms + PV__SENTIO_BACKOFF_MAX_MS)
        window = s->p.connect_timeout_ms + PV__SENTIO_BACKOFF_MAX_MS;
      int64_t now = pv_now_ns();
      if (window_end == 0) {
        window_end = now + (int64_t)window * PV_NS_PER_MS;
        if (window > 0)
          pv_warn("sentio %s: %s; reconnecting for up to %d ms", s->conn.peer, e.msg, window);
      }
      if (now < window_end) continue; /* pv__sentio_conn_open sleeps the backoff */
      return pv_error_set(err, rc, "%s (gave up reconnecting after %d ms)", e.msg, window);
    }
    if (rc == 0) {
      pv_error pe;
      rc = pv_sentio_parse_reply(s->conn.line, s->conn.line_len, s->conn.peer, r, &pe);
      if (rc < 0) {
        pv__sentio_conn_close(&s->conn);
        pv_error_set(&e, rc, "%s (to '%s')", pe.msg, cmd);
      }
    }
    if (rc < 0) { /* a reply or connect timeout, a malformed reply */
      if (once && out->sent) return pv_error_set(err, rc, "%s", e.msg);
      if (!transport_rc(rc) && rc != PV_EPARSE) return pv_error_set(err, rc, "%s", e.msg);
      if (rc == PV_EPARSE && !out->sent) return pv_error_set(err, rc, "%s", e.msg);
      if (attempts >= retries) return pv_error_set(err, rc, "%s", e.msg);
      attempts++;
      pv_warn("sentio %s: attempt %d of %d: %s", s->conn.peer, attempts, retries + 1, e.msg);
      continue;
    }
    window_end = 0;
    out->code = r->code;
    if (r->code == 0) return PV_OK;
    if (group && (r->code == PV_SENTIO_ERR_NO_HANDLER || r->code == PV_SENTIO_ERR_INVALID_PARAM ||
                  r->code == PV_SENTIO_ERR_PARAM_COUNT)) {
      fall_back(s, cmd, r);
      out->sent = 0; /* the refused form did nothing */
      continue;
    }
    switch (pv_sentio_error_class(r->code)) {
    case PV_SENTIO_END: return station_error(s, cmd, r, PV_ENOTFOUND, "", err);
    case PV_SENTIO_RETRY:
      if (once || attempts >= retries)
        return station_error(s, cmd, r, PV_ESTAGE, attempts ? " (retried)" : "", err);
      attempts++;
      station_error(s, cmd, r, PV_ESTAGE, "", &e);
      pv_warn("%s; attempt %d of %d", e.msg, attempts + 1, retries + 1);
      if (r->code == PV_SENTIO_ERR_PENDING) pv_sleep_ns(PV__SENTIO_BACKOFF_MIN_MS * PV_NS_PER_MS);
      continue;
    default: return station_error(s, cmd, r, PV_EREFUSED, " (not retried)", err);
    }
  }
}

int pv__sentio_numbers(const pv__sentio_stage *s, const pv_sentio_reply *r, int n, double *v,
                       const char *what, const char *form, pv_error *err) {
  if (pv_sentio_parse_first(r->msg, n, v) == 0) return PV_OK;
  return pv__sentio_bad_reply(s, r, what, form, err);
}

int pv__sentio_bad_reply(const pv__sentio_stage *s, const pv_sentio_reply *r, const char *what,
                         const char *form, pv_error *err) {
  char esc[160];
  pv_sentio_escape(r->msg, strlen(r->msg), esc, sizeof esc);
  return pv_error_set(err, PV_EPARSE, "sentio %s: the reply to %s is not %s: \"%s\"",
                      s->conn.peer, what, form, esc);
}

int pv__sentio_query_position(pv__sentio_stage *s, double *x, double *y, pv_error *err) {
  pv__sentio_req q = {.op = PV__SENTIO_GET_XY};
  pv_sentio_reply r;
  int rc = pv__sentio_request(s, &q, s->p.retries, 0, &r, NULL, err);
  if (rc < 0) return rc;
  double v[2];
  rc = pv__sentio_numbers(s, &r, 2, v, "the position query", "a position \"X, Y\"", err);
  if (rc < 0) return rc;
  *x = s->pos_x = v[0];
  *y = s->pos_y = v[1];
  s->have_pos = 1;
  return PV_OK;
}
