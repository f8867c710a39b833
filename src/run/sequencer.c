/* The sequencer: steps through the targets, aligns each by vision and
 * records it.
 *
 * One point: move to the target (the commanded position c = target) and
 * wait until settled (t_settled); then up to max_iterations times: lease
 * a frame exposed strictly after t_settled, search the template only in
 * the region where the target's mark must appear (a disc of the search
 * radius around the image centre moved by (target - c)), converting to luma
 * only the pixels that search reads (vision.c, pv_vision_locate), and
 * release the lease (before any stage move). Exactly one candidate there,
 * scoring at least min_score and
 * ambiguity_margin above any other candidate there, gives the mark's
 * position m = c + offset; within tolerance of c the point is aligned,
 * else c = m is commanded as an absolute move (a retry of it can never
 * apply the offset twice) and we look again. Then, with probe contact on,
 * contact, the optional measurement hook and back to separation
 * (contact.c), then one journal transaction. With contact on, every XY move
 * happens at separation: the chuck is brought there before the run's
 * first move, and a point that went to contact always ends at separation
 * whatever failed; a separation that fails stops the run.
 *
 * The search radius R is resolved on the first aligned frame of a run:
 * configured, or 0.45 x the smallest of the known pitch, the spacing of
 * the targets and the spacing of the marks in that frame (so a region never
 * holds two marks of a regular layout). A configured R that the first
 * frame shows holds two marks stops the run before anything is recorded.
 *
 * Invariants: no frame exposed at or before the last settle is ever used
 * (the camera's wait guarantees it; it is checked again here); every
 * commanded position is within R of the target, so a point is never
 * aligned on a neighbouring die's mark; a point is ok only when exactly
 * one candidate explains the frame; the frame and match path allocate
 * nothing (the luma buffer is the matcher's, the match list and result the
 * sequencer's); every
 * point that was started is recorded before the next starts, and a failed
 * journal write ends the run with its error. Device failures are results
 * (statuses), never fatal.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

#define MATCHES_MAX PV__MATCHES_MAX

void pv_sequencer_params_default(pv_sequencer_params *p) {
  memset(p, 0, sizeof *p);
  p->tolerance_um = 2.0;
  p->max_iterations = 3;
  p->match_every = 1;
  p->min_score = 0.5;
  p->ambiguity_margin = 0.1;
  p->frame_timeout_ms = 2000;
  p->frame_retries = 2;
  p->um_per_px = 1.5;
  p->stage_retries = 2;
  p->measure_timeout_s = 60;
}

int pv_sequencer_create(const pv_sequencer_params *p, const pv_sequencer_io *io,
                        int max_w, int max_h, pv_sequencer **out) {
  *out = NULL;
  if (io->cam == NULL || io->stage == NULL || io->matcher == NULL ||
      io->journal == NULL || p->max_iterations < 1 || p->match_every < 1 ||
      !(p->um_per_px > 0) || !(p->tolerance_um >= 0) ||
      !(p->search_radius_um >= 0) || !(p->ambiguity_margin >= 0) ||
      !(p->pitch_hint_um >= 0) ||
      p->frame_timeout_ms < 1 || p->frame_retries < 0 || p->stage_retries < 0 ||
      memchr(p->measure_command, '\0', sizeof p->measure_command) == NULL)
    return PV_EINVAL;
  if (p->contact && !pv_stage_has_z(io->stage)) return PV_EUNSUPPORTED;
  pv_sequencer *s = calloc(1, sizeof *s);
  if (s == NULL) return PV_ENOMEM;
  s->p = *p;
  s->io = *io;
  s->max_w = max_w, s->max_h = max_h;
  *out = s;
  return 0;
}

void pv_sequencer_destroy(pv_sequencer *s) {
  free(s);
}

/* Commands the absolute position (x, y) and waits until settled,
 * retrying stage_retries times, every attempt to the same absolute
 * position: a move whose reply was lost after the chuck moved is never
 * applied twice. *retried (may be NULL) tells whether it took more than
 * one attempt. */
static int move_settled(pv_sequencer *s, double x, double y,
                        int64_t *t_settled, int *retried) {
  pv_stage *st = s->io.stage;
  pv_error err = {""};
  int rc = 0;
  s->cmd_x = x, s->cmd_y = y;
  for (int attempt = 0; attempt <= s->p.stage_retries; attempt++) {
    if (retried) *retried = attempt > 0;
    rc = pv_stage_move_abs(st, x, y, &err);
    if (rc == 0) rc = pv_stage_wait_settled(st, t_settled, &err);
    if (rc == 0) return 0;
    pv_warn("point %" PRId64 ": stage move failed (attempt %d of %d, to %.2f, %.2f um): %s",
            s->res.idx, attempt + 1, s->p.stage_retries + 1, x, y, err.msg);
    if (rc == PV_EREFUSED) break; /* the station said no: asking again cannot help */
  }
  pv_snprintf_c(s->res.error, sizeof s->res.error, "stage: %s", err.msg);
  pv_incident_raise("stage-error", "point %" PRId64 ": stage move failed: %s", s->res.idx,
                    err.msg);
  return rc;
}

/* Whether the matcher can take f: a known format (Bayer needs 2 x 2), at
 * most max_w x max_h (what converting it into a luma view checked). */
static int frame_usable(const pv_sequencer *s, const pv_frame *f) {
  return f->width <= s->max_w && f->height <= s->max_h &&
         pv_frame_luma_check(f->data, f->width, f->height, f->stride, f->format) == PV_OK;
}

/* Leases a frame exposed after t_settled into *lease (held on success: the
 * caller releases it, before any stage move) and books it as the point's
 * frame. On failure nothing is held. */
static int grab_frame(pv_sequencer *s, int64_t t_settled, pv_lease *lease) {
  int rc = 0;
  for (int attempt = 0; attempt <= s->p.frame_retries; attempt++) {
    rc = pv_camera_frame_after(s->io.cam, t_settled, s->p.frame_timeout_ms, lease);
    if (rc == 0) break;
    pv_warn("point %" PRId64 ": no frame after the settle within %d ms "
            "(attempt %d of %d): %s", s->res.idx, s->p.frame_timeout_ms,
            attempt + 1, s->p.frame_retries + 1, pv_strerror(rc));
  }
  if (rc != 0) {
    pv_snprintf_c(s->res.error, sizeof s->res.error,
             "camera: no frame exposed after the settle (%d waits of %d ms): %s",
             s->p.frame_retries + 1, s->p.frame_timeout_ms, pv_strerror(rc));
    pv_incident_raise("camera-error", "point %" PRId64 ": %s", s->res.idx, s->res.error);
    return rc;
  }
  const pv_frame *f = lease->frame;
  assert(f->exposure_ns > t_settled);
  if (f->exposure_ns <= t_settled || !frame_usable(s, f)) rc = PV_EINVAL;
  if (rc == 0) {
    int64_t margin = f->exposure_ns - t_settled;
    if (s->frames == 0 || margin < s->min_margin_ns) s->min_margin_ns = margin;
    s->frames++;
    /* the last frame of a point is its final decision's: journalled */
    s->res.frame_id = f->frame_id;
    s->res.exposure_margin_ms = (double)margin / 1e6;
  } else {
    pv_snprintf_c(s->res.error, sizeof s->res.error,
             "camera: unusable frame %" PRIu64 " (%dx%d %s): %s", f->seq,
             f->width, f->height, pv_pixfmt_name(f->format), pv_strerror(rc));
    pv_lease_release(lease);
  }
  return rc;
}

/* On the first aligned frame of a run: the search radius, configured or
 * derived, checked against the marks this frame shows. Returns 0, or
 * PV_EINVAL with s->config_error set. */
static int resolve_radius(pv_sequencer *s, const pv_frame *f) {
  pv_match_region all = {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 0};
  int n = pv_matcher_find_frame(s->io.matcher, f->data, f->width, f->height, f->stride,
                                f->format, &all, s->matches, MATCHES_MAX);
  double marks = n > 1 ? pv__marks_spacing(s->matches, n, s->p.min_score, s->p.um_per_px)
                       : INFINITY;
  double hint = s->p.pitch_hint_um > 0 ? s->p.pitch_hint_um : INFINITY;
  double small = fmin(marks, fmin(hint, s->targets_spacing_um));
  double r = s->p.search_radius_um;
  if (r == 0) { /* auto */
    /* no repetition known: the whole frame */
    r = isfinite(small) ? 0.45 * small
                        : hypot(f->width, f->height) * s->p.um_per_px;
    pv_info("align: search radius %.1f um = 0.45 x the smallest spacing (um) of: marks "
            "in frame 1 %.1f, targets %.1f, pitch %.1f", r, marks, s->targets_spacing_um, hint);
  } else if (2 * r >= marks) {
    pv_snprintf_c(s->config_error, sizeof s->config_error,
             "align.search_radius_um = %.1f um, but identical marks repeat every %.1f um "
             "in the first frame (point %" PRId64 "): a search region would hold two "
             "dies' marks; set it below %.1f um (less than half that spacing) or to auto",
             r, marks, s->res.idx, 0.5 * marks);
    return PV_EINVAL;
  } else {
    pv_info("align: search radius %.1f um (configured); spacing (um) of marks in frame 1 "
            "%.1f, targets %.1f", r, marks, s->targets_spacing_um);
  }
  if (!(r > s->p.tolerance_um)) {
    pv_snprintf_c(s->config_error, sizeof s->config_error,
             "the search radius (%.1f um) is not larger than align.tolerance_um "
             "(%.1f um): no correction could be found; marks repeat every %.1f um",
             r, s->p.tolerance_um, small);
    return PV_EINVAL;
  }
  s->radius_um = r;
  return 0;
}

/* Finds the target's mark in the search region of f (vision.c); its
 * stage offset from the commanded position goes to (dx, dy), its score
 * (when there is a candidate) and why not ok to the result. Returns the
 * point status. */
static pv_point_status locate(pv_sequencer *s, const pv_frame *f, double *dx, double *dy) {
  pv_point_result *r = &s->res;
  pv_vision_result v;
  pv_vision_locate(&s->p, s->io.matcher, f, s->radius_um, r->x_target_um - s->cmd_x,
                   r->y_target_um - s->cmd_y, &v);
  if (v.candidates > 0) {
    r->score = v.score;
    pv_debug("point %" PRId64 ": %d candidates within %.1f um, best %.3f, next %.3f", r->idx,
             v.candidates, s->radius_um, v.score, v.next_score);
  }
  if (v.status != PV_POINT_OK) {
    pv_snprintf_c(r->error, sizeof r->error, "%s", v.error);
    return v.status;
  }
  *dx = v.dx_um, *dy = v.dy_um;
  return PV_POINT_OK;
}

/* Vision alignment after the first settle; returns the point status.
 * A correction that only succeeded after a stage fault (a reconnection, a
 * controller that may have re-homed) lands like a fresh long move, so the
 * point gets max_iterations frames again, once. */
#define CANNOT_ALIGN PV_POINT_STATUS_COUNT /* align(): the configuration */

static pv_point_status align(pv_sequencer *s, int64_t t_settled) {
  pv_point_result *r = &s->res;
  int fresh_starts = 1, frames = 0;
  for (int it = 1; it <= s->p.max_iterations; it++) {
    pv_lease lease = {0};
    if (grab_frame(s, t_settled, &lease) != 0) return PV_POINT_CAMERA_ERROR;
    if (isnan(s->radius_um) && resolve_radius(s, lease.frame) != 0) {
      pv_lease_release(&lease);
      return CANNOT_ALIGN;
    }
    r->iterations = ++frames;
    double dx = 0, dy = 0;
    pv_point_status st = locate(s, lease.frame, &dx, &dy);
    pv_lease_release(&lease); /* before any stage move */
    if (st != PV_POINT_OK) return st;
    r->residual_um = hypot(dx, dy);
    pv_debug("point %" PRId64 " iteration %d: score %.3f, offset (%.2f, %.2f) um",
             r->idx, it, r->score, dx, dy);
    if (r->residual_um <= s->p.tolerance_um) return PV_POINT_OK;
    if (it == s->p.max_iterations) break;
    int retried = 0;
    if (move_settled(s, s->cmd_x + dx, s->cmd_y + dy, &t_settled, &retried) != 0)
      return PV_POINT_STAGE_ERROR;
    if (retried && fresh_starts > 0) {
      fresh_starts--;
      it = 0;
      pv_warn("point %" PRId64 ": the stage recovered from a fault; aligning afresh",
              r->idx);
    }
  }
  pv_snprintf_c(r->error, sizeof r->error,
           "residual %.2f um above tolerance %.2f um after %d iterations",
           r->residual_um, s->p.tolerance_um, r->iterations);
  return PV_POINT_NOT_CONVERGED;
}

/* Where the stage is after a point, against where it was last sent.
 * Sets the reported position into r (NaN when unreadable). LOST: farther
 * than the search radius (or 50 um before the radius is known) from the
 * commanded position: the stage lost its position while the point ran (a
 * controller restarted, a re-home), so the frames may show another die.
 * UNREADABLE: the stage did not answer; nothing says where the frames were
 * taken either. */
enum { POSITION_OK, POSITION_LOST, POSITION_UNREADABLE };

static int check_position(pv_sequencer *s, pv_error *err) {
  pv_point_result *r = &s->res;
  if (pv_stage_get_position(s->io.stage, &r->x_final_um, &r->y_final_um, err) != 0) {
    pv_warn("point %" PRId64 ": cannot read the stage position: %s", r->idx, err->msg);
    r->x_final_um = r->y_final_um = NAN;
    return POSITION_UNREADABLE;
  }
  double limit = isnan(s->radius_um) ? 50.0 : s->radius_um;
  double off = hypot(r->x_final_um - s->cmd_x, r->y_final_um - s->cmd_y);
  if (!(off > limit)) return POSITION_OK;
  pv_warn("point %" PRId64 ": the stage reports (%.2f, %.2f) um, %.1f um from the commanded "
          "(%.2f, %.2f) um: it lost its position during the point (restarted or re-homed?)",
          r->idx, r->x_final_um, r->y_final_um, off, s->cmd_x, s->cmd_y);
  return POSITION_LOST;
}

/* Runs one point; when the stage's position afterwards is lost or cannot
 * be read, runs it once more from its target, and then records a stage
 * error rather than a result nothing vouches for. pre_settled > 0: the
 * stage already stands at the target (stepped there by the station),
 * settled at that time. */
static void run_point(pv_sequencer *s, int pos, const pv_target *t, int64_t pre_settled) {
  pv_point_result *r = &s->res;
  for (int attempt = 0;; attempt++) {
    memset(r, 0, sizeof *r);
    r->idx = t->index;
    memcpy(r->name, t->name, sizeof r->name);
    r->x_target_um = t->x_um;
    r->y_target_um = t->y_um;
    r->x_final_um = r->y_final_um = r->residual_um = r->score = NAN;
    r->truth_error_um = NAN;
    r->exposure_margin_ms = NAN;
    r->contact_z_um = NAN;
    r->started_wall_ns = pv_wall_ns();

    int64_t t_settled = 0;
    /* the station may have stepped the chuck there already (map runs) */
    if (attempt == 0 && pre_settled > 0)
      t_settled = pre_settled, s->cmd_x = t->x_um, s->cmd_y = t->y_um;
    else if (move_settled(s, t->x_um, t->y_um, &t_settled, NULL) != 0)
      r->status = PV_POINT_STAGE_ERROR;
    if (r->status != PV_POINT_STAGE_ERROR)
      r->status = pos % s->p.match_every == 0
                      ? align(s, t_settled)
                      : PV_POINT_OK; /* alignment skipped by choice: iterations 0 */
    if (r->status == CANNOT_ALIGN) return;
    if (r->status == PV_POINT_STAGE_ERROR) break;
    pv_error err = {""};
    int where = check_position(s, &err);
    if (where == POSITION_OK) break;
    if (attempt == 1) {
      r->status = PV_POINT_STAGE_ERROR;
      if (where == POSITION_LOST)
        pv_snprintf_c(r->error, sizeof r->error,
                      "stage: reports (%.2f, %.2f) um after a move to (%.2f, %.2f) um, twice",
                      r->x_final_um, r->y_final_um, s->cmd_x, s->cmd_y);
      else
        pv_snprintf_c(r->error, sizeof r->error, "stage: position unreadable: %s", err.msg);
      break;
    }
    pv_warn("point %" PRId64 ": running the point again from its target", r->idx);
  }
  double tx, ty;
  if (pv_stage_get_truth(s->io.stage, &tx, &ty) == 0)
    r->truth_error_um = hypot(tx - t->x_um, ty - t->y_um);
  if (r->status == PV_POINT_OK) pv__z_measure(s);
  r->finished_wall_ns = pv_wall_ns();
}

static void stats_add(double *sum, double *max, int *n, double v) {
  if (isnan(v)) return;
  *sum += v;
  *max = *n == 0 || v > *max ? v : *max;
  (*n)++;
}

void pv__summary_init(pv_run_summary *out) {
  memset(out, 0, sizeof *out);
  out->residual_mean_um = out->residual_max_um = NAN;
  out->truth_mean_um = out->truth_max_um = NAN;
  out->min_settle_margin_ns = INT64_MAX;
  out->search_radius_um = NAN;
}

int pv__loop_begin(pv_sequencer *s, pv__run_loop *L, pv_run_summary *out,
                   pv_progress_cb progress, void *ctx, int total) {
  memset(L, 0, sizeof *L);
  L->out = out, L->progress = progress, L->ctx = ctx, L->total = total;
  L->t0 = pv_now_ns();
  s->radius_um = NAN;
  s->config_error[0] = '\0';
  s->frames = 0;
  s->separation_failed = 0;
  if (s->p.contact && pv__z_ensure_separation(s, out->error, sizeof out->error) != 0)
    return PV_ESTAGE;
  return 0;
}

int pv__loop_point(pv_sequencer *s, pv__run_loop *L, int pos, const pv_target *t,
                   int64_t pre_settled, const pv_map_die *die) {
  pv_run_summary *out = L->out;
  run_point(s, pos, t, pre_settled);
  pv_point_result *r = &s->res;
  if (r->status == CANNOT_ALIGN) {
    pv_error("point %" PRId64 ": the configuration cannot align; run stopped", r->idx);
    pv_snprintf_c(out->error, sizeof out->error, "%s", s->config_error);
    return PV_EINVAL;
  }
  if (die != NULL) {
    r->has_die = 1;
    r->die_col = die->col, r->die_row = die->row, r->die_site = die->site;
  }
  pv_error err;
  int rc = pv_journal_record(s->io.journal, s->io.run_id, r, &err);
  if (rc != 0) {
    pv_error("point %" PRId64 " (%s, residual %.2f um) not recorded, run "
             "stopped: %s", r->idx, pv_point_status_name(r->status),
             r->residual_um, err.msg);
    return rc;
  }
  char resid[24] = "-", score[24] = "-", z[48] = "", where[48] = "";
  if (!isnan(r->residual_um)) pv_snprintf_c(resid, sizeof resid, "%.2f um", r->residual_um);
  if (!isnan(r->score)) pv_snprintf_c(score, sizeof score, "%.3f", r->score);
  if (!isnan(r->contact_z_um))
    pv_snprintf_c(z, sizeof z, ", contact at z %.1f um", r->contact_z_um);
  if (r->has_die)
    pv_snprintf_c(where, sizeof where, " (die col %d row %d site %d)", r->die_col,
                  r->die_row, r->die_site);
  pv_info("point %" PRId64 " %s%s: %s, %d iterations, residual %s, score %s%s%s%s",
          r->idx, r->name, where, pv_point_status_name(r->status), r->iterations,
          resid, score, z, r->error[0] ? ": " : "", r->error);
  out->counts[r->status]++;
  out->done++;
  stats_add(&L->res_sum, &L->res_max, &L->res_n, r->residual_um);
  stats_add(&L->truth_sum, &L->truth_max, &L->truth_n, r->truth_error_um);
  if (L->progress != NULL) L->progress(L->ctx, out->done, L->total, r);
  if (s->separation_failed) {
    pv_snprintf_c(out->error, sizeof out->error,
                  "point %" PRId64 ": the chuck did not return to separation (%s); the run "
                  "stopped without moving XY", r->idx, r->error);
    pv_error("%s", out->error);
    pv_incident_raise("stage-error", "%s", out->error);
    return PV_ESTAGE;
  }
  return 0;
}

void pv__loop_end(pv_sequencer *s, pv__run_loop *L) {
  pv_run_summary *out = L->out;
  if (L->res_n > 0)
    out->residual_mean_um = L->res_sum / L->res_n, out->residual_max_um = L->res_max;
  if (L->truth_n > 0)
    out->truth_mean_um = L->truth_sum / L->truth_n, out->truth_max_um = L->truth_max;
  out->frames = s->frames;
  out->search_radius_um = s->radius_um;
  if (s->frames > 0) out->min_settle_margin_ns = s->min_margin_ns;
  out->elapsed_s = (double)(pv_now_ns() - L->t0) / 1e9;
}

int pv_sequencer_run(pv_sequencer *s, const pv_targets *targets,
                     const unsigned char *skip, int first_pos, int npoints,
                     pv_progress_cb progress, void *ctx,
                     volatile sig_atomic_t *stop, pv_run_summary *out) {
  pv__summary_init(out);
  if (first_pos < 0 || npoints < 0 || first_pos > targets->count ||
      npoints > targets->count - first_pos)
    return PV_EINVAL;
  int rc = pv__targets_spacing(targets, &s->targets_spacing_um);
  if (rc != 0) return rc;
  int end = first_pos + npoints, total = 0;
  for (int pos = first_pos; pos < end; pos++) total += !(skip && skip[pos]);
  pv__run_loop L;
  rc = pv__loop_begin(s, &L, out, progress, ctx, total);
  for (int pos = first_pos; rc == 0 && pos < end; pos++) {
    if (skip != NULL && skip[pos]) continue;
    if (stop != NULL && *stop) {
      out->stopped = 1;
      break;
    }
    rc = pv__loop_point(s, &L, pos, &targets->items[pos], 0, NULL);
  }
  pv__loop_end(s, &L);
  return rc;
}
