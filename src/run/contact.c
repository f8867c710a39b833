/* The probing cycle's Z: contact for the measurement, separation for
 * every XY move.
 *
 * With probe contact on, a point that aligned goes to contact (the height
 * reached is recorded), runs the measurement hook, and returns to
 * separation; a point that attempted contact always attempts separation,
 * whatever failed in between (contact itself, the hook, its timeout or
 * crash). Contact and separation are moves to absolute heights, so a
 * failed one is simply retried (stage_retries times). A separation that
 * still fails leaves the chuck possibly in contact: the point is a stage
 * error and s->separation_failed tells the loop to stop before any XY
 * move. With contact off the stage's Z is never touched.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "run_internal.h"

typedef int (*z_fn)(pv_stage *st, double *z_um, pv_error *err);

/* One Z move with retries; logs each failure. */
static int z_move(pv_sequencer *s, z_fn fn, const char *what, double *z_um, pv_error *err) {
  int rc = 0;
  for (int attempt = 0; attempt <= s->p.stage_retries; attempt++) {
    rc = fn(s->io.stage, z_um, err);
    if (rc == 0) return 0;
    pv_warn("point %" PRId64 ": %s failed (attempt %d of %d): %s", s->res.idx, what,
            attempt + 1, s->p.stage_retries + 1, err->msg);
    if (rc == PV_EREFUSED) break; /* the station said no: asking again cannot help */
  }
  return rc;
}

int pv__z_ensure_separation(pv_sequencer *s, char *msg, size_t cap) {
  pv_error err = {""};
  double z = NAN;
  pv_stage_z where = PV_STAGE_Z_UNKNOWN;
  int rc = pv_stage_get_z(s->io.stage, &z, &where, &err);
  if (rc == 0 && where == PV_STAGE_Z_SEPARATION) {
    pv_info("probe: the chuck is at separation (z %.1f um) before the first move", z);
    return 0;
  }
  if (rc != 0)
    pv_warn("probe: cannot read the chuck's height (%s); moving to separation", err.msg);
  else
    pv_info("probe: the chuck is %s (z %.1f um); moving to separation before the first move",
            where == PV_STAGE_Z_CONTACT ? "in contact" : "not at separation", z);
  s->res.idx = -1;
  rc = z_move(s, pv_stage_separate, "separation before the first move", &z, &err);
  if (rc == 0) return 0;
  pv_snprintf_c(msg, cap, "stage: cannot move the chuck to separation before the first "
                "move: %s", err.msg);
  pv_incident_raise("stage-error", "%s", msg);
  return PV_ESTAGE;
}

static void run_hook(pv_sequencer *s) {
  pv_point_result *r = &s->res;
  pv_measure_env env = {s->io.run_id, r->idx, r->name, r->x_final_um, r->y_final_um};
  if (isnan(env.x_um)) env.x_um = r->x_target_um, env.y_um = r->y_target_um;
  pv_error err = {""};
  int code = -1;
  r->measured = 1;
  if (pv_measure_run(s->p.measure_command, s->p.measure_timeout_s, &env,
                     r->measure_output, sizeof r->measure_output, &code, &err) != 0) {
    r->status = PV_POINT_MEASURE_FAILED;
    pv_snprintf_c(r->error, sizeof r->error, "%s", err.msg);
  }
}

void pv__z_measure(pv_sequencer *s) {
  pv_point_result *r = &s->res;
  int hook = s->p.measure_command[0] != '\0';
  if (!s->p.contact) {
    if (hook) run_hook(s);
    return;
  }
  pv_error err = {""};
  double z = NAN;
  if (z_move(s, pv_stage_contact, "contact", &z, &err) == 0) {
    r->contact_z_um = z;
    if (hook) run_hook(s);
  } else {
    r->status = PV_POINT_STAGE_ERROR;
    pv_snprintf_c(r->error, sizeof r->error, "stage: contact failed: %s", err.msg);
  }
  /* always, even when contact failed: the chuck may have moved up part way */
  double zs = NAN;
  pv_error serr = {""};
  if (z_move(s, pv_stage_separate, "separation", &zs, &serr) == 0) return;
  s->separation_failed = 1;
  size_t n = strlen(r->error);
  r->status = PV_POINT_STAGE_ERROR;
  pv_snprintf_c(r->error + n, sizeof r->error - n, "%sstage: separation failed: %s",
                n > 0 ? "; " : "", serr.msg);
}
