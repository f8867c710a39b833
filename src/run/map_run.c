/* Stepping by the station's own wafer map (`--targets sentio-map`).
 *
 * The station knows the route; the run asks it for the first die, aligns,
 * measures and records the point there with the die's (col, row, site),
 * then asks for the next die, until the die flagged end_of_route. Points
 * are numbered 0, 1, ... in route order; a point's target is where the
 * station put the chuck. With probe contact on the chuck is at separation
 * at every step (the loop brings it there first, and every point ends
 * there), so the station's own XY step never happens in contact.
 *
 * Retries never skip or repeat a die: FIRST and DIE name their die and are
 * simply retried; NEXT is relative to the station's current die, so after
 * a failed NEXT (whose reply may be lost after the station stepped) the
 * run steps back to the last done die by DIE, then NEXT again. Resuming
 * is the same: DIE to the last recorded die, then NEXT.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "run_internal.h"

/* One map step with retries of itself (FIRST, DIE only). */
static int step_retry(pv_sequencer *s, pv_map_step_kind kind, int col, int row, int site,
                      pv_map_die *d, pv_error *err) {
  int rc = 0;
  for (int attempt = 0; attempt <= s->p.stage_retries; attempt++) {
    memset(d, 0, sizeof *d);
    rc = pv_stage_map_step(s->io.stage, kind, col, row, site, d, err);
    if (rc == 0 || rc == PV_ENOTFOUND || rc == PV_EREFUSED) return rc;
    pv_warn("map: stepping to %s failed (attempt %d of %d): %s",
            kind == PV_MAP_STEP_FIRST ? "the first die" : "a die", attempt + 1,
            s->p.stage_retries + 1, err->msg);
  }
  return rc;
}

/* The die after `last`: NEXT; after a failure DIE(last) then NEXT again. */
static int step_next(pv_sequencer *s, const pv_map_die *last, pv_map_die *d, pv_error *err) {
  int rc = 0;
  for (int attempt = 0; attempt <= s->p.stage_retries; attempt++) {
    if (attempt > 0) {
      pv_map_die back;
      rc = step_retry(s, PV_MAP_STEP_DIE, last->col, last->row, last->site, &back, err);
      if (rc != 0) return rc;
    }
    memset(d, 0, sizeof *d);
    rc = pv_stage_map_step(s->io.stage, PV_MAP_STEP_NEXT, 0, 0, 0, d, err);
    if (rc == 0 || rc == PV_ENOTFOUND || rc == PV_EREFUSED) return rc;
    pv_warn("map: stepping to the die after col %d row %d site %d failed (attempt %d of "
            "%d): %s", last->col, last->row, last->site, attempt + 1,
            s->p.stage_retries + 1, err->msg);
  }
  return rc;
}

/* Settles after the station's step; *t is the settle time. */
static int settle(pv_sequencer *s, int64_t *t, pv_error *err) {
  int rc = pv_stage_wait_settled(s->io.stage, t, err);
  if (rc == 0 && *t <= 0) *t = 1;
  return rc;
}

static int map_error(pv_run_summary *out, const char *what, const pv_error *err) {
  pv_snprintf_c(out->error, sizeof out->error, "stage: wafer map: %s: %s", what, err->msg);
  pv_error("%s", out->error);
  pv_incident_raise("stage-error", "%s", out->error);
  return PV_ESTAGE;
}

int pv_sequencer_run_map(pv_sequencer *s, const pv_map_start *start, int max_points,
                         pv_progress_cb progress, void *ctx,
                         volatile sig_atomic_t *stop, pv_run_summary *out) {
  pv__summary_init(out);
  if (!pv_stage_has_map(s->io.stage)) {
    pv_snprintf_c(out->error, sizeof out->error, "stage '%s' cannot step a wafer map",
                  pv_stage_driver_name(s->io.stage));
    return PV_EUNSUPPORTED;
  }
  s->targets_spacing_um = INFINITY; /* the route is not known beforehand */
  pv__run_loop L;
  int rc = pv__loop_begin(s, &L, out, progress, ctx, 0);
  if (rc != 0) {
    pv__loop_end(s, &L);
    return rc;
  }
  pv_error err = {""};
  pv_map_die die;
  int64_t idx = 0;
  if (start != NULL && start->resume) {
    idx = start->last_idx + 1;
    rc = step_retry(s, PV_MAP_STEP_DIE, start->col, start->row, start->site, &die, &err);
    if (rc != 0) {
      rc = map_error(out, "cannot step to the last recorded die", &err);
    } else if (die.end_of_route) {
      pv_info("map: the last recorded die (col %d row %d site %d) ends the route",
              die.col, die.row, die.site);
      out->end_of_route = 1;
    } else {
      pv_map_die last = die;
      rc = step_next(s, &last, &die, &err);
      if (rc == PV_ENOTFOUND) out->end_of_route = 1, rc = 0;
      else if (rc != 0) rc = map_error(out, "cannot step past the last recorded die", &err);
    }
    if (rc == 0 && !out->end_of_route)
      pv_info("map: resuming at die col %d row %d site %d (point %" PRId64 ")", die.col,
              die.row, die.site, idx);
  } else {
    rc = step_retry(s, PV_MAP_STEP_FIRST, 0, 0, 0, &die, &err);
    if (rc == PV_ENOTFOUND) out->end_of_route = 1, rc = 0; /* an empty route */
    else if (rc != 0) rc = map_error(out, "cannot step to the first die", &err);
  }
  while (rc == 0 && !out->end_of_route) {
    if (stop != NULL && *stop) {
      out->stopped = 1;
      break;
    }
    int64_t t_settled = 0;
    if (settle(s, &t_settled, &err) != 0) t_settled = 0; /* run_point moves itself */
    pv_target t = {.index = idx, .x_um = die.x_um, .y_um = die.y_um};
    pv_snprintf_c(t.name, sizeof t.name, "die-%d-%d", die.col, die.row);
    if (die.site != 0) {
      size_t n = strlen(t.name);
      pv_snprintf_c(t.name + n, sizeof t.name - n, "-s%d", die.site);
    }
    rc = pv__loop_point(s, &L, (int)(idx % 1000000000), &t, t_settled, &die);
    if (rc != 0) break;
    if (die.end_of_route) {
      out->end_of_route = 1;
      break;
    }
    if (max_points > 0 && out->done >= max_points) break;
    if (stop != NULL && *stop) {
      out->stopped = 1;
      break;
    }
    pv_map_die last = die;
    rc = step_next(s, &last, &die, &err);
    if (rc == PV_ENOTFOUND) {
      out->end_of_route = 1, rc = 0;
    } else if (rc != 0) {
      rc = map_error(out, "cannot step to the next die", &err);
    }
    idx++;
  }
  if (out->end_of_route) pv_info("map: end of route (%d points in this call)", out->done);
  pv__loop_end(s, &L);
  return rc;
}
