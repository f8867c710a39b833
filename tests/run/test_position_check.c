/* run: after a point, the sequencer compares where the stage says it is
 * with where it was last sent. A stage that lost its position while the
 * point ran (a controller restarted, a re-home), or that cannot say where it
 * is, gets the point run once more from its target; if that happens again
 * the point is a stage error, never a result nothing vouches for.
 *
 * The stage under test is a wrapper in front of the simulated stage that
 * lies about its position, or fails to give it, for one chosen target. */
#include "seq_station.h"

#define W 640
#define H 512
#define NPOINTS 6
#define PICKED 3 /* the point whose position is lost */

#include "seq_world.h"

/* What the liar does when asked for its position after a move to
 * (x, y): the first `bad` answers are wrong (far off, or an error). */
typedef struct liar {
  pv_stage *inner;
  double x, y;       /* the picked point's target */
  int at_picked;     /* the stage is at the picked point (its target or
                        a correction near it) */
  int bad;           /* bad answers left */
  int fail;          /* 1: answer with an error; 0: with a far position */
  int moves_to_picked, lies;
} liar;

static int l_move_abs(void *self, double x, double y, pv_error *err) {
  liar *l = self;
  int to_target = x == l->x && y == l->y;
  l->moves_to_picked += to_target;
  /* corrections stay within the search radius of the target */
  l->at_picked = to_target || (l->at_picked && hypot(x - l->x, y - l->y) < 1000);
  return pv_stage_move_abs(l->inner, x, y, err);
}
static int l_get_position(void *self, double *x, double *y, pv_error *err) {
  liar *l = self;
  int rc = pv_stage_get_position(l->inner, x, y, err);
  if (rc != 0 || !l->at_picked || l->bad == 0) return rc;
  l->bad--, l->lies++;
  if (l->fail) return pv_error_set(err, PV_EDISCONNECTED, "liar: no answer");
  *x += 20000, *y -= 20000; /* a restarted controller elsewhere */
  return 0;
}
static const pv_stage_driver liar_driver = {
    .name = "liar", .connect = fwd_connect, .move_abs = l_move_abs, .move_rel = fwd_move_rel,
    .wait_settled = fwd_wait_settled, .get_position = l_get_position,
    .get_truth = fwd_get_truth, .destroy = fwd_destroy_nothing};

static pv_stage *wrap(pv_stage *inner, void *ctx) {
  liar *l = ctx;
  l->inner = inner;
  pv_stage *st = NULL;
  return pv_stage_create(&liar_driver, l, &st) == 0 ? st : NULL;
}

typedef struct outcome {
  pv_point_status status[NPOINTS];
  char error[NPOINTS][PV_POINT_ERROR_MAX];
} outcome;

static void on_point(void *ctx, int done, int total, const pv_point_result *p) {
  (void)total;
  outcome *o = ctx;
  assert_true(done >= 1 && done <= NPOINTS);
  o->status[done - 1] = p->status;
  snprintf(o->error[done - 1], sizeof o->error[done - 1], "%s", p->error);
}

/* Runs NPOINTS points with the liar set up as given; returns the liar. */
static liar run(int bad, int fail, outcome *out) {
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.npoints = NPOINTS;
  liar l = {.bad = bad, .fail = fail};
  o.wrap = wrap;
  o.wrap_ctx = &l;
  station s;
  /* the picked target is known once the station made its targets */
  station_open(&s, &o);
  l.x = s.targets.items[PICKED].x_um;
  l.y = s.targets.items[PICKED].y_um;
  memset(out, 0, sizeof *out);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, NPOINTS, on_point, out, NULL,
                                    &sum), PV_OK);
  station_close(&s);
  return l;
}

static void a_lost_position_runs_the_point_again(void **state) {
  (void)state;
  outcome o;
  liar l = run(1, 0, &o);
  assert_int_equal(l.lies, 1);
  assert_int_equal(l.moves_to_picked, 2); /* the point ran twice */
  for (int i = 0; i < NPOINTS; i++) assert_int_equal(o.status[i], PV_POINT_OK);
}

static void an_unreadable_position_runs_the_point_again(void **state) {
  (void)state;
  outcome o;
  liar l = run(1, 1, &o);
  assert_int_equal(l.moves_to_picked, 2);
  for (int i = 0; i < NPOINTS; i++) assert_int_equal(o.status[i], PV_POINT_OK);
}

static void lost_twice_is_a_stage_error(void **state) {
  (void)state;
  outcome o;
  liar l = run(100, 0, &o);
  assert_int_equal(l.moves_to_picked, 2); /* once again, not forever */
  assert_int_equal(o.status[PICKED], PV_POINT_STAGE_ERROR);
  assert_non_null(strstr(o.error[PICKED], "twice"));
  for (int i = 0; i < NPOINTS; i++)
    if (i != PICKED) assert_int_equal(o.status[i], PV_POINT_OK);
}

static void unreadable_twice_is_a_stage_error(void **state) {
  (void)state;
  outcome o;
  run(100, 1, &o);
  assert_int_equal(o.status[PICKED], PV_POINT_STAGE_ERROR);
  assert_non_null(strstr(o.error[PICKED], "position unreadable"));
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_lost_position_runs_the_point_again),
      cmocka_unit_test(an_unreadable_position_runs_the_point_again),
      cmocka_unit_test(lost_twice_is_a_stage_error),
      cmocka_unit_test(unreadable_twice_is_a_stage_error),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
