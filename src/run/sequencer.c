/* The sequencer: steps through the targets, aligns each by vision and
 * records it.
 *
 * One point: move to the target and wait until settled (t_settled); then
 * up to max_iterations times: lease a frame exposed strictly after
 * t_settled, convert it to luma into the preallocated image, release the
 * lease (before any stage move), find the template, take the match nearest
 * the image centre (every die looks alike, so the best-scoring one may be
 * a neighbour), turn its offset into micrometres and either stop (within
 * tolerance) or move by the offset, wait for the new t_settled and look
 * again. Then the optional measurement hook, then one journal transaction.
 *
 * Invariants: no frame exposed at or before the last settle is ever used
 * (the camera's wait guarantees it; it is checked again here); the frame
 * and match path allocate nothing (luma, match list and result are owned
 * by the sequencer); every point that was started is recorded before the
 * next starts, and a failed journal write ends the run with its error.
 * Device failures are results (statuses), never fatal.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/run.h"

#define MATCHES_MAX 64

struct pv_sequencer {
  pv_sequencer_params p;
  pv_sequencer_io io;
  pv_image luma; /* max_w x max_h; each frame uses a view of its size */
  pv_match matches[MATCHES_MAX];
  pv_point_result res;
  int frames;
  int64_t min_margin_ns;
};

void pv_sequencer_params_default(pv_sequencer_params *p) {
  memset(p, 0, sizeof *p);
  p->tolerance_um = 2.0;
  p->max_iterations = 3;
  p->match_every = 1;
  p->min_score = 0.5;
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
      p->frame_timeout_ms < 1 || p->frame_retries < 0 || p->stage_retries < 0 ||
      memchr(p->measure_command, '\0', sizeof p->measure_command) == NULL)
    return PV_EINVAL;
  pv_sequencer *s = calloc(1, sizeof *s);
  if (s == NULL) return PV_ENOMEM;
  s->p = *p;
  s->io = *io;
  int rc = pv_image_alloc(&s->luma, max_w, max_h);
  if (rc != 0) {
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void pv_sequencer_destroy(pv_sequencer *s) {
  if (s == NULL) return;
  pv_image_free(&s->luma);
  free(s);
}

/* Moves (absolute, or relative to the reported position) and waits until
 * settled, retrying stage_retries times. A retry of a relative move goes to
 * the absolute goal computed before the first attempt, so a move that
 * failed half-way is not applied twice. *retried (may be NULL) tells
 * whether it took more than one attempt. */
static int move_settled(pv_sequencer *s, int rel, double x, double y,
                        int64_t *t_settled, int *retried) {
  pv_stage *st = s->io.stage;
  pv_error err = {""};
  double gx = x, gy = y, px, py;
  int have_goal = !rel;
  if (rel && pv_stage_get_position(st, &px, &py, &err) == 0)
    gx = px + x, gy = py + y, have_goal = 1;
  int rc = 0;
  for (int attempt = 0; attempt <= s->p.stage_retries; attempt++) {
    if (retried) *retried = attempt > 0;
    if (rel && (attempt == 0 || !have_goal)) rc = pv_stage_move_rel(st, x, y, &err);
    else rc = pv_stage_move_abs(st, gx, gy, &err);
    if (rc == 0) rc = pv_stage_wait_settled(st, t_settled, &err);
    if (rc == 0) return 0;
    pv_warn("point %" PRId64 ": stage move failed (attempt %d of %d): %s",
            s->res.idx, attempt + 1, s->p.stage_retries + 1, err.msg);
  }
  snprintf(s->res.error, sizeof s->res.error, "stage: %s", err.msg);
  pv_incident_raise("stage-error", "point %" PRId64 ": stage move failed %d times: %s",
                    s->res.idx, s->p.stage_retries + 1, err.msg);
  return rc;
}

/* Leases a frame exposed after t_settled, converts it into a view of the
 * luma buffer and releases the lease. */
static int grab_luma(pv_sequencer *s, int64_t t_settled, pv_image *view) {
  pv_lease lease = {0};
  int rc = 0;
  for (int attempt = 0; attempt <= s->p.frame_retries; attempt++) {
    rc = pv_camera_wait_frame(s->io.cam, t_settled, s->p.frame_timeout_ms, &lease);
    if (rc == 0) break;
    pv_warn("point %" PRId64 ": no frame after the settle within %d ms "
            "(attempt %d of %d): %s", s->res.idx, s->p.frame_timeout_ms,
            attempt + 1, s->p.frame_retries + 1, pv_strerror(rc));
  }
  if (rc != 0) {
    snprintf(s->res.error, sizeof s->res.error,
             "camera: no frame exposed after the settle (%d waits of %d ms): %s",
             s->p.frame_retries + 1, s->p.frame_timeout_ms, pv_strerror(rc));
    pv_incident_raise("camera-error", "point %" PRId64 ": %s", s->res.idx, s->res.error);
    return rc;
  }
  const pv_frame *f = lease.frame;
  assert(f->exposure_ns > t_settled);
  if (f->exposure_ns <= t_settled) rc = PV_EINVAL;
  else rc = pv_image_view(&s->luma, 0, 0, f->width, f->height, view);
  if (rc == 0)
    rc = pv_frame_to_luma(f->data, f->width, f->height, f->stride, f->format, view);
  if (rc == 0) {
    int64_t margin = f->exposure_ns - t_settled;
    if (s->frames == 0 || margin < s->min_margin_ns) s->min_margin_ns = margin;
    s->frames++;
  } else {
    snprintf(s->res.error, sizeof s->res.error,
             "camera: unusable frame %" PRIu64 " (%dx%d %s): %s", f->seq,
             f->width, f->height, pv_pixfmt_name(f->format), pv_strerror(rc));
  }
  pv_lease_release(&lease);
  return rc;
}

/* The match nearest the centre, as a stage offset in um; sets score. */
static int measure_offset(pv_sequencer *s, const pv_image *img, double *dx,
                          double *dy) {
  pv_point_result *r = &s->res;
  int n = pv_matcher_find(s->io.matcher, img, s->matches, MATCHES_MAX);
  if (n < 0)
    snprintf(r->error, sizeof r->error, "match: %s", pv_strerror(n));
  if (n <= 0) return PV_POINT_NO_MATCH;
  double cx = (img->width - 1) / 2.0, cy = (img->height - 1) / 2.0;
  int best = 0;
  double best_d = INFINITY;
  for (int i = 0; i < n; i++) {
    double d = hypot(s->matches[i].x - cx, s->matches[i].y - cy);
    if (d < best_d) best_d = d, best = i;
  }
  r->score = s->matches[best].score;
  if (r->score < s->p.min_score) return PV_POINT_LOW_SCORE;
  double ox = s->matches[best].x - cx, oy = s->matches[best].y - cy;
  if (s->p.swap_xy) {
    double t = ox;
    ox = oy, oy = t;
  }
  if (s->p.flip_x) ox = -ox;
  if (s->p.flip_y) oy = -oy;
  *dx = ox * s->p.um_per_px;
  *dy = oy * s->p.um_per_px;
  return PV_POINT_OK;
}

/* Vision alignment after the first settle; returns the point status.
 * A correction that only succeeded after a stage fault (a reconnection, a
 * controller that may have re-homed) lands like a fresh long move, so the
 * point gets max_iterations frames again, once. */
static pv_point_status align(pv_sequencer *s, int64_t t_settled) {
  pv_point_result *r = &s->res;
  pv_image view;
  int fresh_starts = 1, frames = 0;
  for (int it = 1; it <= s->p.max_iterations; it++) {
    if (grab_luma(s, t_settled, &view) != 0) return PV_POINT_CAMERA_ERROR;
    r->iterations = ++frames;
    double dx = 0, dy = 0;
    pv_point_status st = measure_offset(s, &view, &dx, &dy);
    if (st != PV_POINT_OK) return st;
    r->residual_um = hypot(dx, dy);
    pv_debug("point %" PRId64 " iteration %d: score %.3f, offset (%.2f, %.2f) um",
             r->idx, it, r->score, dx, dy);
    if (r->residual_um <= s->p.tolerance_um) return PV_POINT_OK;
    if (it == s->p.max_iterations) break;
    int retried = 0;
    if (move_settled(s, 1, dx, dy, &t_settled, &retried) != 0) return PV_POINT_STAGE_ERROR;
    if (retried && fresh_starts > 0) {
      fresh_starts--;
      it = 0;
      pv_warn("point %" PRId64 ": the stage recovered from a fault; aligning afresh",
              r->idx);
    }
  }
  snprintf(r->error, sizeof r->error,
           "residual %.2f um above tolerance %.2f um after %d iterations",
           r->residual_um, s->p.tolerance_um, r->iterations);
  return PV_POINT_NOT_CONVERGED;
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
    snprintf(r->error, sizeof r->error, "%s", err.msg);
  }
}

static void run_point(pv_sequencer *s, int pos, const pv_target *t) {
  pv_point_result *r = &s->res;
  memset(r, 0, sizeof *r);
  r->idx = t->index;
  memcpy(r->name, t->name, sizeof r->name);
  r->x_target_um = t->x_um;
  r->y_target_um = t->y_um;
  r->x_final_um = r->y_final_um = r->residual_um = r->score = NAN;
  r->truth_error_um = NAN;
  r->started_wall_ns = pv_wall_ns();

  int64_t t_settled = 0;
  if (move_settled(s, 0, t->x_um, t->y_um, &t_settled, NULL) != 0)
    r->status = PV_POINT_STAGE_ERROR;
  else if (pos % s->p.match_every == 0)
    r->status = align(s, t_settled);
  else
    r->status = PV_POINT_OK; /* alignment skipped by choice: iterations 0 */

  pv_error err;
  if (pv_stage_get_position(s->io.stage, &r->x_final_um, &r->y_final_um, &err) != 0)
    r->x_final_um = r->y_final_um = NAN;
  double tx, ty;
  if (pv_stage_get_truth(s->io.stage, &tx, &ty) == 0)
    r->truth_error_um = hypot(tx - t->x_um, ty - t->y_um);
  if (r->status == PV_POINT_OK && s->p.measure_command[0] != '\0') run_hook(s);
  r->finished_wall_ns = pv_wall_ns();
}

typedef struct stats { double sum, max; int n; } stats;

static void stats_add(stats *st, double v) {
  if (isnan(v)) return;
  st->sum += v;
  st->max = st->n == 0 || v > st->max ? v : st->max;
  st->n++;
}

int pv_sequencer_run(pv_sequencer *s, const pv_targets *targets,
                     const unsigned char *skip, int first_pos, int npoints,
                     pv_progress_cb progress, void *ctx,
                     volatile sig_atomic_t *stop, pv_run_summary *out) {
  memset(out, 0, sizeof *out);
  out->residual_mean_um = out->residual_max_um = NAN;
  out->truth_mean_um = out->truth_max_um = NAN;
  out->min_settle_margin_ns = INT64_MAX;
  if (first_pos < 0 || npoints < 0 || first_pos > targets->count ||
      npoints > targets->count - first_pos)
    return PV_EINVAL;
  int64_t t0 = pv_now_ns();
  int end = first_pos + npoints, total = 0, rc = 0;
  for (int pos = first_pos; pos < end; pos++) total += !(skip && skip[pos]);
  stats res = {0, 0, 0}, truth = {0, 0, 0};
  s->frames = 0;
  for (int pos = first_pos; pos < end; pos++) {
    if (skip != NULL && skip[pos]) continue;
    if (stop != NULL && *stop) {
      out->stopped = 1;
      break;
    }
    run_point(s, pos, &targets->items[pos]);
    const pv_point_result *r = &s->res;
    pv_error err;
    rc = pv_journal_record(s->io.journal, s->io.run_id, r, &err);
    if (rc != 0) {
      pv_error("point %" PRId64 " (%s, residual %.2f um) not recorded, run "
               "stopped: %s", r->idx, pv_point_status_name(r->status),
               r->residual_um, err.msg);
      break;
    }
    char resid[24] = "-", score[24] = "-";
    if (!isnan(r->residual_um)) snprintf(resid, sizeof resid, "%.2f um", r->residual_um);
    if (!isnan(r->score)) snprintf(score, sizeof score, "%.3f", r->score);
    pv_info("point %" PRId64 " %s: %s, %d iterations, residual %s, score %s%s%s",
            r->idx, r->name, pv_point_status_name(r->status), r->iterations,
            resid, score, r->error[0] ? ": " : "", r->error);
    out->counts[r->status]++;
    out->done++;
    stats_add(&res, r->residual_um);
    stats_add(&truth, r->truth_error_um);
    if (progress != NULL) progress(ctx, out->done, total, r);
  }
  if (res.n > 0) out->residual_mean_um = res.sum / res.n, out->residual_max_um = res.max;
  if (truth.n > 0) out->truth_mean_um = truth.sum / truth.n, out->truth_max_um = truth.max;
  out->frames = s->frames;
  if (s->frames > 0) out->min_settle_margin_ns = s->min_margin_ns;
  out->elapsed_s = (double)(pv_now_ns() - t0) / 1e9;
  return rc;
}
