/* The sentio stage's Z and wafer-map stepping (driver entries contact,
 * separate, get_z, map_step; see sentio_session.c for the command forms and
 * the retry policy). Not thread-safe: one thread owns the stage.
 *
 * Z: move_chuck_contact / move_chuck_separation answer the height reached
 * (micrometres from the Z axis' zero); the client remembers both. get_z
 * reads the height (get_chuck_z Zero, or chuck:get_z Zero) and says CONTACT
 * or SEPARATION when it is within PV__SENTIO_Z_TOL_UM of the height the
 * station reported for that move, else UNKNOWN (also before either move was
 * made through this stage: the caller then separates, which is safe). A
 * station without a contact height answers 23 (ContactHeightNotSet): the
 * contact fails at once with that name and the station's message.
 *
 * Map stepping: map:step_first_die, map:step_next_die and map:step_die
 * COL, ROW, SITE answer "col,row,site"; the EndOfRoute status bit marks the
 * route's last die; 11 (EndOfRoute) after it is PV_ENOTFOUND. The station
 * moves the chuck itself; the position is then read (as get_position).
 * FIRST and DIE are retried like any request. NEXT is not idempotent: when
 * its reply is lost the client asks map:die:get_current_index; if the
 * current die is still the one before, NEXT is sent again, else the client
 * sends map:step_die to the current die (the chuck is already there; the
 * reply restores the EndOfRoute bit). Without a known previous die a lost
 * NEXT fails (the step may have happened). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sentio_internal.h"

static int z_reply(pv__sentio_stage *s, const pv_sentio_reply *r, const char *what, double *z,
                   pv_error *err) {
  return pv__sentio_numbers(s, r, 1, z, what, "a height", err);
}

static int z_move(pv__sentio_stage *s, pv__sentio_op op, double *z_um, pv_error *err) {
  pv__sentio_req q = {.op = op};
  pv_sentio_reply r;
  int contact = op == PV__SENTIO_CONTACT;
  int rc = pv__sentio_request(s, &q, s->p.retries, 0, &r, NULL, err);
  if (rc < 0) return rc;
  double z = 0;
  rc = z_reply(s, &r, contact ? "the contact move" : "the separation move", &z, err);
  if (rc < 0) return rc;
  if (contact) {
    s->contact_z = z;
    s->have_contact_z = 1;
  } else {
    s->sep_z = z;
    s->have_sep_z = 1;
  }
  if (z_um) *z_um = z;
  return PV_OK;
}

int pv__sentio_contact(void *self, double *z_um, pv_error *err) {
  return z_move(self, PV__SENTIO_CONTACT, z_um, err);
}

int pv__sentio_separate(void *self, double *z_um, pv_error *err) {
  return z_move(self, PV__SENTIO_SEPARATE, z_um, err);
}

int pv__sentio_get_z(void *self, double *z_um, pv_stage_z *where, pv_error *err) {
  pv__sentio_stage *s = self;
  pv__sentio_req q = {.op = PV__SENTIO_GET_Z};
  pv_sentio_reply r;
  int rc = pv__sentio_request(s, &q, s->p.retries, 0, &r, NULL, err);
  double z = 0;
  if (rc == 0) rc = z_reply(s, &r, "the height query", &z, err);
  if (rc < 0) return rc;
  pv_stage_z w = PV_STAGE_Z_UNKNOWN;
  if (s->have_contact_z && fabs(z - s->contact_z) <= PV__SENTIO_Z_TOL_UM)
    w = PV_STAGE_Z_CONTACT;
  else if (s->have_sep_z && fabs(z - s->sep_z) <= PV__SENTIO_Z_TOL_UM)
    w = PV_STAGE_Z_SEPARATION;
  if (z_um) *z_um = z;
  if (where) *where = w;
  return PV_OK;
}

/* The first n (<= 3) integers of r's message into v. */
static int ints(pv__sentio_stage *s, const pv_sentio_reply *r, int n, int *v, const char *what,
                const char *form, pv_error *err) {
  double d[3];
  int rc = pv__sentio_numbers(s, r, n, d, what, form, err);
  for (int i = 0; rc == 0 && i < n; i++) {
    if (!(d[i] == floor(d[i]) && fabs(d[i]) < 1e9))
      return pv__sentio_bad_reply(s, r, what, form, err);
    v[i] = (int)d[i];
  }
  return rc;
}

/* A lost reply to map:step_next_die: finds out whether the station
 * stepped and ends the step on the current die. */
static int recover_next(pv__sentio_stage *s, pv_sentio_reply *r, pv_error *err) {
  pv__sentio_req q = {.op = PV__SENTIO_MAP_INDEX};
  int rc = pv__sentio_request(s, &q, s->p.retries, 0, r, NULL, err);
  int v[3];
  if (rc == 0) rc = ints(s, r, 3, v, "map:die:get_current_index", "\"index,col,row\"", err);
  if (rc < 0) return rc;
  if (v[1] == s->die.col && v[2] == s->die.row) return 1; /* not stepped: send NEXT again */
  pv__sentio_req d = {.op = PV__SENTIO_MAP_DIE, .col = v[1], .row = v[2], .site = s->die.site};
  return pv__sentio_request(s, &d, s->p.retries, 0, r, NULL, err);
}

static int step_next(pv__sentio_stage *s, pv_sentio_reply *r, pv_error *err) {
  pv__sentio_req q = {.op = PV__SENTIO_MAP_NEXT};
  for (int attempt = 0;; attempt++) {
    pv__sentio_outcome out;
    pv_error e;
    int rc = pv__sentio_request(s, &q, 0, 1, r, &out, &e);
    if (rc == 0) return PV_OK;
    int unsure = out.code < 0 ? out.sent : pv_sentio_error_class(out.code) == PV_SENTIO_RETRY;
    if (!unsure || attempt >= s->p.retries) return pv_error_set(err, rc, "%s", e.msg);
    if (!s->have_die)
      return pv_error_set(err, rc,
                          "%s; the step may have happened and the die before it is not known: "
                          "not retried",
                          e.msg);
    pv_warn("%s; asking the station which die is current", e.msg);
    rc = recover_next(s, r, err);
    if (rc <= 0) return rc;
  }
}

int pv__sentio_map_step(void *self, pv_map_step_kind kind, int col, int row, int site,
                        pv_map_die *out, pv_error *err) {
  pv__sentio_stage *s = self;
  pv_sentio_reply r;
  int rc;
  const char *what = kind == PV_MAP_STEP_FIRST  ? "map:step_first_die"
                     : kind == PV_MAP_STEP_NEXT ? "map:step_next_die"
                                                : "map:step_die";
  s->have_pos = 0;
  if (kind == PV_MAP_STEP_NEXT) {
    rc = step_next(s, &r, err);
  } else {
    pv__sentio_req q = {.op = kind == PV_MAP_STEP_FIRST ? PV__SENTIO_MAP_FIRST : PV__SENTIO_MAP_DIE,
                        .col = col, .row = row, .site = site};
    rc = pv__sentio_request(s, &q, s->p.retries, 0, &r, NULL, err);
  }
  if (rc < 0) return rc;
  pv_map_die d = {0};
  int v[3];
  rc = ints(s, &r, 3, v, what, "a die \"col,row,site\"", err);
  if (rc < 0) return rc;
  d.col = v[0], d.row = v[1], d.site = v[2];
  d.end_of_route = (r.status & PV_SENTIO_STAT_END_OF_ROUTE) != 0;
  s->die = d;
  s->have_die = 1;
  s->t_move_done = pv_now_ns();
  rc = pv__sentio_query_position(s, &d.x_um, &d.y_um, err);
  if (rc < 0) return rc;
  s->die = d;
  if (out) *out = d;
  return PV_OK;
}
