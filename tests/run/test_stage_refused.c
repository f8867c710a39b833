/* run: a stage error the station says cannot succeed on a retry
 * (PV_EREFUSED: SENTIO's 6, 7, 8, 12, 13, 18, 23) fails the point at once:
 * the sequencer sends the move exactly once and records a stage error with
 * the station's words, while an ordinary stage error (PV_ESTAGE) is retried
 * stage_retries times. The stage under test is a wrapper in front of the
 * simulated stage that fails the moves to one chosen target. */
#include "seq_station.h"

#define W 640
#define H 512
#define NPOINTS 4
#define PICKED 2

#include "seq_world.h"

typedef struct refuser {
  pv_stage *inner;
  double x, y; /* the picked target: moves there fail with `status` */
  int status;
  int moves_to_picked;
} refuser;

static int r_move_abs(void *self, double x, double y, pv_error *err) {
  refuser *r = self;
  if (x == r->x && y == r->y) {
    r->moves_to_picked++;
    return pv_error_set(err, r->status, "station: error 8 ArgumentOutOfBounds (test)");
  }
  return pv_stage_move_abs(r->inner, x, y, err);
}
static const pv_stage_driver refuser_driver = {
    .name = "refuser", .connect = fwd_connect, .move_abs = r_move_abs,
    .move_rel = fwd_move_rel, .wait_settled = fwd_wait_settled,
    .get_position = fwd_get_position, .get_truth = fwd_get_truth,
    .destroy = fwd_destroy_nothing};

static pv_stage *wrap(pv_stage *inner, void *ctx) {
  refuser *r = ctx;
  r->inner = inner;
  pv_stage *st = NULL;
  return pv_stage_create(&refuser_driver, r, &st) == 0 ? st : NULL;
}

typedef struct outcome {
  pv_point_status status[NPOINTS];
  char error[NPOINTS][PV_POINT_ERROR_MAX];
} outcome;

static void on_point(void *ctx, int done, int total, const pv_point_result *p) {
  (void)total;
  outcome *o = ctx;
  o->status[done - 1] = p->status;
  snprintf(o->error[done - 1], sizeof o->error[done - 1], "%s", p->error);
}

static refuser run(int status, int retries, outcome *out) {
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.npoints = NPOINTS;
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.stage_retries = retries;
  sp.contact = 0;
  o.seq = &sp;
  refuser r = {.status = status};
  o.wrap = wrap;
  o.wrap_ctx = &r;
  station s;
  station_open(&s, &o);
  r.x = s.targets.items[PICKED].x_um;
  r.y = s.targets.items[PICKED].y_um;
  memset(out, 0, sizeof *out);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, NPOINTS, on_point, out, NULL,
                                    &sum), PV_OK);
  station_close(&s);
  return r;
}

static void a_refused_move_is_sent_once(void **state) {
  (void)state;
  outcome o;
  refuser r = run(PV_EREFUSED, 3, &o);
  assert_int_equal(r.moves_to_picked, 1);
  assert_int_equal(o.status[PICKED], PV_POINT_STAGE_ERROR);
  assert_non_null(strstr(o.error[PICKED], "ArgumentOutOfBounds"));
  for (int i = 0; i < NPOINTS; i++)
    if (i != PICKED) assert_int_equal(o.status[i], PV_POINT_OK);
}

static void an_ordinary_stage_error_is_retried(void **state) {
  (void)state;
  outcome o;
  refuser r = run(PV_ESTAGE, 3, &o);
  assert_int_equal(r.moves_to_picked, 4);
  assert_int_equal(o.status[PICKED], PV_POINT_STAGE_ERROR);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_refused_move_is_sent_once),
      cmocka_unit_test(an_ordinary_stage_error_is_retried),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
