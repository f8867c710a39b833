/* run: stepping by the station's own wafer map. The run asks the station
 * for the first die, aligns and records it with its (col, row, site),
 * asks for the next, and stops after the die flagged end_of_route; every
 * die of the route is visited once, in the route's order. A resumed run
 * continues at the die after the last recorded one; a NEXT whose reply was
 * lost after the station stepped neither skips nor repeats a die. With
 * contact on, the station never steps while the chuck is in contact.
 *
 * The station is a wrapper in front of the simulated stage implementing
 * map_step over the scene's die grid: a serpentine route over the first
 * ROUTE dies (row 0 left to right, row 1 right to left, ...), the chuck
 * moved to the die's alignment mark. */
#include "seq_station.h"

#define W 640
#define H 512
#define ROUTE 13
#define VISITS_MAX 64

#include "seq_world.h"

typedef struct mapper {
  pv_stage *inner;
  int cols;
  double pitch_x, pitch_y, mark_x, mark_y;
  int current;                /* route position, -1 before FIRST */
  int steps_in_contact;       /* map steps asked while in contact */
  int lose_next_reply_at;     /* route position whose NEXT reply is lost (-1: none) */
  int next_after_end;         /* NEXT asked after the last die */
  int visits[VISITS_MAX], nvisits; /* route positions stepped to */
} mapper;

static mapper map;

static void die_of(const mapper *m, int k, int *col, int *row) {
  *row = k / m->cols;
  *col = *row % 2 == 0 ? k % m->cols : m->cols - 1 - k % m->cols;
}

static int goto_die(mapper *m, int k, pv_map_die *out, pv_error *err) {
  double z;
  pv_stage_z where;
  if (pv_stage_get_z(m->inner, &z, &where, err) == 0 && where == PV_STAGE_Z_CONTACT)
    m->steps_in_contact++;
  die_of(m, k, &out->col, &out->row);
  out->site = 0;
  out->end_of_route = k == ROUTE - 1;
  out->x_um = m->mark_x + out->col * m->pitch_x;
  out->y_um = m->mark_y + out->row * m->pitch_y;
  int rc = pv_stage_move_abs(m->inner, out->x_um, out->y_um, err);
  if (rc != 0) return rc;
  m->current = k;
  if (m->nvisits < VISITS_MAX) m->visits[m->nvisits++] = k;
  return 0;
}

static int m_map_step(void *self, pv_map_step_kind kind, int col, int row, int site,
                      pv_map_die *out, pv_error *err) {
  mapper *m = self;
  (void)site;
  if (kind == PV_MAP_STEP_FIRST) return goto_die(m, 0, out, err);
  if (kind == PV_MAP_STEP_DIE) {
    for (int k = 0; k < ROUTE; k++) {
      int c, r;
      die_of(m, k, &c, &r);
      if (c == col && r == row) return goto_die(m, k, out, err);
    }
    return pv_error_set(err, PV_EINVAL, "mapper: no die col %d row %d", col, row);
  }
  if (m->current < 0) return pv_error_set(err, PV_EINVAL, "mapper: NEXT before FIRST");
  if (m->current == ROUTE - 1) {
    m->next_after_end++;
    return pv_error_set(err, PV_ENOTFOUND, "mapper: end of route");
  }
  int lose = m->current == m->lose_next_reply_at;
  int rc = goto_die(m, m->current + 1, out, err);
  if (rc == 0 && lose) {
    m->lose_next_reply_at = -1;
    return pv_error_set(err, PV_ETIMEDOUT, "mapper: reply lost after the step");
  }
  return rc;
}


static const pv_stage_driver mapper_driver = {
    .name = "mapper", .connect = fwd_connect, .move_abs = fwd_move_abs, .move_rel = fwd_move_rel,
    .wait_settled = fwd_wait_settled, .get_position = fwd_get_position,
    .get_truth = fwd_get_truth, .destroy = fwd_destroy_nothing, .contact = fwd_contact,
    .separate = fwd_separate, .get_z = fwd_get_z, .map_step = m_map_step};

static pv_stage *wrap(pv_stage *inner, void *ctx) {
  (void)ctx;
  map.inner = inner;
  pv_stage *st = NULL;
  return pv_stage_create(&mapper_driver, &map, &st) == 0 ? st : NULL;
}

static void open_map(station *s, int contact) {
  memset(&map, 0, sizeof map);
  const pv_wafer_params *wp = pv_scene_params(scene);
  map.cols = wp->cols;
  map.pitch_x = wp->pitch_x_um, map.pitch_y = wp->pitch_y_um;
  map.mark_x = wp->mark_x_um, map.mark_y = wp->mark_y_um;
  map.current = -1;
  map.lose_next_reply_at = -1;
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.contact = contact;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.npoints = 1; /* unused: the route is the station's */
  o.seq = &sp;
  o.wrap = wrap;
  station_open(s, &o);
}

typedef struct seen {
  int n;
  int64_t idx[VISITS_MAX];
  int col[VISITS_MAX], row[VISITS_MAX];
} seen;

static void on_point(void *ctx, int done, int total, const pv_point_result *p) {
  seen *s = ctx;
  assert_int_equal(total, 0); /* not known beforehand */
  assert_int_equal(done, s->n + 1);
  assert_true(p->has_die);
  /* aligned where the station stepped to, not taken on trust */
  if (p->status == PV_POINT_OK) assert_true(p->iterations >= 1 && p->frame_id > 0);
  if (s->n < VISITS_MAX) s->idx[s->n] = p->idx, s->col[s->n] = p->die_col,
                         s->row[s->n] = p->die_row;
  s->n++;
}

/* Every die of the route recorded once, in order, with its col/row. */
static void assert_route_recorded(const station *s) {
  for (int k = 0; k < ROUTE; k++) {
    int c, r;
    die_of(&map, k, &c, &r);
    char where[160];
    snprintf(where, sizeof where,
             "idx = %d AND die_col = %d AND die_row = %d AND site = 0 AND name = 'die-%d-%d'",
             k, c, r, c, r);
    if (count_points(s, where) != 1) fail_msg("route die %d not recorded once: %s", k, where);
  }
  assert_int_equal(count_points(s, "1"), ROUTE);
}

static void every_die_of_the_route_once_in_order(void **state) {
  (void)state;
  station s;
  open_map(&s, 0);
  seen v = {0};
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run_map(s.seq, NULL, 0, on_point, &v, NULL, &sum), PV_OK);
  assert_int_equal(sum.done, ROUTE);
  assert_int_equal(sum.counts[PV_POINT_OK], ROUTE);
  assert_int_equal(sum.end_of_route, 1);
  assert_int_equal(map.next_after_end, 0); /* end_of_route stopped it */
  assert_int_equal(map.nvisits, ROUTE);
  for (int k = 0; k < ROUTE; k++) {
    int c, r;
    die_of(&map, k, &c, &r);
    assert_int_equal(map.visits[k], k);
    assert_int_equal(v.idx[k], k);
    assert_int_equal(v.col[k], c);
    assert_int_equal(v.row[k], r);
  }
  assert_route_recorded(&s);
  assert_int_equal(count_points(&s, "contact_z_um IS NULL"), ROUTE);
  station_close(&s);
}

static void max_points_stops_early(void **state) {
  (void)state;
  station s;
  open_map(&s, 0);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run_map(s.seq, NULL, 3, NULL, NULL, NULL, &sum), PV_OK);
  assert_int_equal(sum.done, 3);
  assert_int_equal(sum.end_of_route, 0);
  assert_int_equal(map.nvisits, 3); /* no step past the last point */
  station_close(&s);
}

static void resume_continues_after_the_last_recorded_die(void **state) {
  (void)state;
  station s;
  open_map(&s, 1);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run_map(s.seq, NULL, 3, NULL, NULL, NULL, &sum), PV_OK);
  assert_int_equal(sum.done, 3);
  /* as `--resume` does: the last recorded point of the run */
  pv_error err;
  int64_t idx;
  int has_die;
  pv_map_die last;
  assert_int_equal(pv_journal_last_point(s.journal, s.run_id, &idx, &has_die, &last, &err), 0);
  assert_int_equal(idx, 2);
  assert_int_equal(has_die, 1);
  pv_map_start from = {1, idx, last.col, last.row, last.site};
  map.current = -1; /* a restarted station: no current die */
  map.nvisits = 0;
  assert_int_equal(pv_sequencer_run_map(s.seq, &from, 0, NULL, NULL, NULL, &sum), PV_OK);
  assert_int_equal(sum.done, ROUTE - 3);
  assert_int_equal(sum.end_of_route, 1);
  assert_int_equal(map.visits[0], 2); /* back to the last recorded die, then on */
  for (int k = 1; k < map.nvisits; k++) assert_int_equal(map.visits[k], k + 2);
  assert_route_recorded(&s);
  assert_int_equal(count_points(&s, "contact_z_um = 10000"), ROUTE);
  assert_int_equal(map.steps_in_contact, 0);
  assert_int_equal(pv_sim_stage_xy_in_contact(s.sim_stage), 0);
  station_close(&s);
}

static void resume_after_the_route_end_does_nothing(void **state) {
  (void)state;
  station s;
  open_map(&s, 0);
  int c, r;
  die_of(&map, ROUTE - 1, &c, &r);
  pv_map_start from = {1, ROUTE - 1, c, r, 0};
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run_map(s.seq, &from, 0, NULL, NULL, NULL, &sum), PV_OK);
  assert_int_equal(sum.done, 0);
  assert_int_equal(sum.end_of_route, 1);
  assert_int_equal(map.next_after_end, 0);
  station_close(&s);
}

static void a_lost_next_reply_neither_skips_nor_repeats(void **state) {
  (void)state;
  station s;
  open_map(&s, 1);
  map.lose_next_reply_at = 2;
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run_map(s.seq, NULL, 0, NULL, NULL, NULL, &sum), PV_OK);
  assert_int_equal(sum.done, ROUTE);
  assert_int_equal(sum.end_of_route, 1);
  assert_route_recorded(&s);
  assert_int_equal(map.steps_in_contact, 0);
  assert_int_equal(pv_sim_stage_xy_in_contact(s.sim_stage), 0);
  station_close(&s);
}

static void a_stage_without_a_map_is_refused(void **state) {
  (void)state;
  station s;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.npoints = 1;
  station_open(&s, &o); /* the bare simulated stage: no map */
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run_map(s.seq, NULL, 0, NULL, NULL, NULL, &sum),
                   PV_EUNSUPPORTED);
  assert_non_null(strstr(sum.error, "wafer map"));
  assert_int_equal(count_points(&s, "1"), 0);
  station_close(&s);
}

static void the_map_targets_hash_is_fixed(void **state) {
  (void)state;
  pv_targets none = {0};
  assert_true(pv_targets_map_hash() == pv_targets_map_hash());
  assert_true(pv_targets_map_hash() != pv_targets_hash(&none));
  assert_true(pv_targets_map_hash() ==
              pv_fnv1a64(PV_FNV1A64_INIT, "sentio-map\n", strlen("sentio-map\n")));
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_die_of_the_route_once_in_order),
      cmocka_unit_test(max_points_stops_early),
      cmocka_unit_test(resume_continues_after_the_last_recorded_die),
      cmocka_unit_test(resume_after_the_route_end_does_nothing),
      cmocka_unit_test(a_lost_next_reply_neither_skips_nor_repeats),
      cmocka_unit_test(a_stage_without_a_map_is_refused),
      cmocka_unit_test(the_map_targets_hash_is_fixed),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
