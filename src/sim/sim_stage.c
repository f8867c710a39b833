/* The simulated stage: reports the commanded position, really sits at the
 * commanded position plus a landing error, and moves in time.
 *
 * Positioning error: true = commanded + offset. Each move adds its landing
 * error to the offset: a random direction times min(error_frac * length,
 * 40 um), plus gaussian(error_um) per axis, plus backlash: when an axis
 * reverses its direction of motion, it lags by backlash_um opposite to the
 * motion (per-axis last-direction state). The offset a move inherits fades
 * with the move's length, exp(-length / ERROR_MEMORY_UM): a long step to
 * another die lands with a fresh error of tens of micrometres, while a short
 * correction keeps the current error and adds only its own small one. That
 * is what makes relative corrections converge on a real stage, and it keeps
 * the error bounded over a long run.
 *
 * Time (`speed` multiplies every duration: 1 real time, 0.01 a hundred times
 * faster, 0 instantaneous): the true position goes linearly from where it
 * was at the move's start to the new true target over length / speed_um_s,
 * then settles for settle_ms. One motion segment is kept: (from, t_start) ->
 * (to, t_end), settled at t_settled; position_at(t) interpolates it (times
 * before t_start give `from`, so the history of earlier moves is not kept).
 *
 * Faults (tests): with probability fault_error a move is refused
 * (PV_ESTAGE, the stage does not move); with probability fault_timeout the
 * move is carried out but its "reply" is lost: the call sleeps
 * timeout_ms * speed (real time, outside the lock) and returns PV_ETIMEDOUT,
 * so a caller that retries to the absolute goal lands once, and one that
 * repeated a relative move would land twice.
 *
 * Thread safety: the stepper owns the stage; the camera thread reads
 * position_at concurrently, so the segment is guarded by a mutex.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "probevision/sim.h"

#define MAX_PROPORTIONAL_ERROR_UM 40.0
#define ERROR_MEMORY_UM 1000.0

typedef struct sim_stage {
  pv_sim_stage_params p;
  pthread_mutex_t mu;
  uint64_t rng;
  double cmd_x, cmd_y;       /* commanded = reported */
  double from_x, from_y;     /* true position at t_start */
  double to_x, to_y;         /* true position from t_end on */
  int64_t t_start, t_end, t_settled;
  int64_t prev_settled;      /* t_settled of the move before (settled_during) */
  int last_dir[2];           /* -1, 0 (never moved), +1 per axis */
  pv_stage_z z_where;        /* separation (start) or contact */
  uint64_t xy_in_contact;    /* XY moves refused because in contact */
} sim_stage;

void pv_sim_stage_params_default(pv_sim_stage_params *p) {
  *p = (pv_sim_stage_params){
      .speed_um_s = 50000, .settle_ms = 30, .error_frac = 0.01,
      .error_um = 0.3, .backlash_um = 0.5,
      .x_min_um = -150000, .x_max_um = 150000,
      .y_min_um = -150000, .y_max_um = 150000,
      .contact_um = 10000, .separation_um = 300, .z_move_ms = 20,
      .speed = 1, .fault_error = 0, .fault_timeout = 0, .timeout_ms = 10000,
      .seed = 1};
}


/* Caller holds mu. */
static void truth_at_locked(const sim_stage *s, int64_t t, double *x,
                            double *y) {
  if (t >= s->t_end) {
    *x = s->to_x;
    *y = s->to_y;
  } else if (t <= s->t_start) {
    *x = s->from_x;
    *y = s->from_y;
  } else {
    double f = (double)(t - s->t_start) / (double)(s->t_end - s->t_start);
    *x = s->from_x + f * (s->to_x - s->from_x);
    *y = s->from_y + f * (s->to_y - s->from_y);
  }
}

static void position_at(void *ctx, int64_t t_ns, double *x_um, double *y_um) {
  sim_stage *s = ctx;
  pthread_mutex_lock(&s->mu);
  truth_at_locked(s, t_ns, x_um, y_um);
  pthread_mutex_unlock(&s->mu);
}



static int axis_dir(double d) { return d > 1e-9 ? 1 : (d < -1e-9 ? -1 : 0); }

static int move_to(sim_stage *s, double x, double y, pv_error *err) {
  const pv_sim_stage_params *p = &s->p;
  if (!isfinite(x) || !isfinite(y) || x < p->x_min_um || x > p->x_max_um ||
      y < p->y_min_um || y > p->y_max_um)
    return pv_error_set(err, PV_ERANGE,
                        "sim stage: target (%.3f, %.3f) um outside the travel "
                        "range x [%.0f, %.0f], y [%.0f, %.0f]",
                        x, y, p->x_min_um, p->x_max_um, p->y_min_um,
                        p->y_max_um);
  pthread_mutex_lock(&s->mu);
  if (s->z_where == PV_STAGE_Z_CONTACT) { /* the interlock: never scratch the wafer */
    s->xy_in_contact++;
    pthread_mutex_unlock(&s->mu);
    pv_warn("sim stage: XY move to (%.3f, %.3f) um refused: the chuck is in contact", x, y);
    return pv_error_set(err, PV_ESTAGE,
                        "sim stage: XY move to (%.3f, %.3f) um refused: the chuck is in "
                        "contact (move to separation first)", x, y);
  }
  if (p->fault_error > 0 && pv_rng_uniform(&s->rng) < p->fault_error) {
    pthread_mutex_unlock(&s->mu);
    return pv_error_set(err, PV_ESTAGE,
                        "sim stage: injected fault on move to (%.3f, %.3f) um",
                        x, y);
  }
  int lost_reply = p->fault_timeout > 0 && pv_rng_uniform(&s->rng) < p->fault_timeout;
  double dx = x - s->cmd_x, dy = y - s->cmd_y;
  double len = hypot(dx, dy);
  double mag = fmin(p->error_frac * len, MAX_PROPORTIONAL_ERROR_UM);
  double ang = 2.0 * M_PI * pv_rng_uniform(&s->rng);
  double ex = mag * cos(ang) + p->error_um * pv_rng_gaussian(&s->rng);
  double ey = mag * sin(ang) + p->error_um * pv_rng_gaussian(&s->rng);
  int dir[2] = {axis_dir(dx), axis_dir(dy)};
  double *e[2] = {&ex, &ey};
  for (int a = 0; a < 2; a++) {
    if (dir[a] == 0) continue;
    if (s->last_dir[a] != 0 && dir[a] != s->last_dir[a])
      *e[a] -= dir[a] * p->backlash_um;
    s->last_dir[a] = dir[a];
  }

  int64_t now = pv_now_ns();
  double cur_x, cur_y;
  truth_at_locked(s, now, &cur_x, &cur_y);
  s->from_x = cur_x;
  s->from_y = cur_y;
  double keep = exp(-len / ERROR_MEMORY_UM);
  s->to_x = x + (s->to_x - s->cmd_x) * keep + ex;
  s->to_y = y + (s->to_y - s->cmd_y) * keep + ey;
  s->cmd_x = x;
  s->cmd_y = y;
  s->prev_settled = s->t_settled;
  s->t_start = now;
  if (p->speed > 0) {
    double travel_s = p->speed_um_s > 0 ? len / p->speed_um_s : 0;
    s->t_end = now + (int64_t)(travel_s * p->speed * 1e9);
    s->t_settled = s->t_end + (int64_t)(p->settle_ms * p->speed * 1e6);
  } else {
    s->t_end = s->t_settled = now;
  }
  pthread_mutex_unlock(&s->mu);
  if (lost_reply) {
    pv_sleep_ns((int64_t)(p->timeout_ms * p->speed * 1e6));
    return pv_error_set(err, PV_ETIMEDOUT,
                        "sim stage: injected fault: no reply to the move to "
                        "(%.3f, %.3f) um within %.0f ms", x, y, p->timeout_ms);
  }
  return PV_OK;
}

static int sim_connect(void *self, pv_error *err) {
  (void)self;
  (void)err;
  return PV_OK;
}

static int sim_move_abs(void *self, double x_um, double y_um, pv_error *err) {
  return move_to(self, x_um, y_um, err);
}

static int sim_move_rel(void *self, double dx_um, double dy_um,
                        pv_error *err) {
  sim_stage *s = self;
  return move_to(s, s->cmd_x + dx_um, s->cmd_y + dy_um, err);
}

static int sim_wait_settled(void *self, int64_t *t_settled_ns, pv_error *err) {
  (void)err;
  sim_stage *s = self;
  if (s->p.speed <= 0) {
    *t_settled_ns = pv_now_ns();
    return PV_OK;
  }
  pthread_mutex_lock(&s->mu);
  int64_t t = s->t_settled;
  pthread_mutex_unlock(&s->mu);
  pv_sleep_ns(t - pv_now_ns());
  *t_settled_ns = t;
  return PV_OK;
}

static int sim_get_position(void *self, double *x_um, double *y_um,
                            pv_error *err) {
  (void)err;
  sim_stage *s = self;
  *x_um = s->cmd_x;
  *y_um = s->cmd_y;
  return PV_OK;
}

static int sim_get_truth(void *self, double *x_um, double *y_um) {
  position_at(self, pv_now_ns(), x_um, y_um);
  return PV_OK;
}

/* Z: contact at p.contact_um, separation p.separation_um below it; a Z move
 * takes p.z_move_ms (times speed). */
/* The chuck height at a Z position. */
static double z_of(const sim_stage *s, pv_stage_z where) {
  return where == PV_STAGE_Z_CONTACT ? s->p.contact_um : s->p.contact_um - s->p.separation_um;
}

static int move_z(sim_stage *s, pv_stage_z to, double *z_um) {
  pthread_mutex_lock(&s->mu);
  s->z_where = to;
  *z_um = z_of(s, to);
  pthread_mutex_unlock(&s->mu);
  if (s->p.speed > 0) pv_sleep_ns((int64_t)(s->p.z_move_ms * s->p.speed * 1e6));
  return PV_OK;
}

static int sim_contact(void *self, double *z_um, pv_error *err) {
  (void)err;
  return move_z(self, PV_STAGE_Z_CONTACT, z_um);
}

static int sim_separate(void *self, double *z_um, pv_error *err) {
  (void)err;
  return move_z(self, PV_STAGE_Z_SEPARATION, z_um);
}

static int sim_get_z(void *self, double *z_um, pv_stage_z *where, pv_error *err) {
  (void)err;
  sim_stage *s = self;
  pthread_mutex_lock(&s->mu);
  *z_um = z_of(s, s->z_where);
  *where = s->z_where;
  pthread_mutex_unlock(&s->mu);
  return PV_OK;
}

static void sim_destroy(void *self) {
  sim_stage *s = self;
  if (s == NULL) return;
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static const pv_stage_driver sim_driver = {
    .name = "sim",
    .connect = sim_connect,
    .move_abs = sim_move_abs,
    .move_rel = sim_move_rel,
    .wait_settled = sim_wait_settled,
    .get_position = sim_get_position,
    .get_truth = sim_get_truth,
    .destroy = sim_destroy,
    .contact = sim_contact,
    .separate = sim_separate,
    .get_z = sim_get_z,
};

/* Starts at (0, 0), settled, with no landing error. */
int pv_sim_stage_create(const pv_sim_stage_params *p, pv_stage **out) {
  *out = NULL;
  pv_sim_stage_params def;
  if (p == NULL) {
    pv_sim_stage_params_default(&def);
    p = &def;
  }
  if (p->speed < 0 || p->speed_um_s < 0 || p->settle_ms < 0 ||
      !(p->fault_timeout >= 0 && p->fault_timeout <= 1) ||
      !(p->timeout_ms >= 0 && p->timeout_ms <= 3600e3) ||
      p->x_min_um > p->x_max_um || p->y_min_um > p->y_max_um ||
      !(p->separation_um > 0 && p->separation_um <= p->contact_um) ||
      !(p->z_move_ms >= 0 && p->z_move_ms <= 60000))
    return PV_EINVAL;
  sim_stage *s = calloc(1, sizeof *s);
  if (s == NULL) return PV_ENOMEM;
  s->p = *p;
  s->rng = p->seed;
  s->z_where = PV_STAGE_Z_SEPARATION;
  pthread_mutex_init(&s->mu, NULL);
  return pv_stage_create(&sim_driver, s, out);
}

uint64_t pv_sim_stage_xy_in_contact(pv_stage *st) {
  sim_stage *s = pv_stage_driver_self(st, &sim_driver);
  if (s == NULL) return 0;
  pthread_mutex_lock(&s->mu);
  uint64_t n = s->xy_in_contact;
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* Not a simulated stage: -1 (unknown). */
int pv_sim_stage_settled_during(pv_stage *st, int64_t t0_ns, int64_t t1_ns) {
  sim_stage *s = pv_stage_driver_self(st, &sim_driver);
  if (s == NULL) return -1;
  pthread_mutex_lock(&s->mu);
  /* within the last segment: settled from t_settled; before it (the stage
   * sat at `from` since the previous move settled): from prev_settled */
  int ok = t1_ns < s->t_start ? t0_ns >= s->prev_settled : t0_ns >= s->t_settled;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

/* A stage that is not simulated has no truth: {NULL, NULL}. */
pv_truth_source pv_sim_stage_truth(pv_stage *st) {
  void *self = pv_stage_driver_self(st, &sim_driver);
  if (self == NULL) return (pv_truth_source){NULL, NULL};
  return (pv_truth_source){position_at, self};
}
