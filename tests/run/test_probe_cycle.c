/* run: the probing cycle with Z. Every XY move happens at separation;
 * after alignment the chuck goes to contact, the measurement runs, and the
 * chuck returns to separation before the next die, whatever failed in
 * between (the hook's failure, timeout or crash, the contact itself); the
 * chuck is brought to separation before the run's first XY move; a stop
 * request mid-point leaves it at separation; a separation that fails stops
 * the run without another XY move. probe contact off never touches Z, and
 * contact on a stage without Z is refused.
 *
 * The stage under test is a recorder in front of the simulated stage
 * (which refuses and counts XY moves in contact): it writes one letter per
 * call, M (move), S (settled), G (get_z), C (contact), P (separation),
 * and H when the hook ran between a contact and its separation (the hook
 * appends to a file the recorder reads at separation). */
#include "seq_station.h"

#define W 640
#define H 512
#define NPOINTS 5
#define LOG_CAP 4096

static pv_scene *scene;
static pv_image templ;
static char hook_file[128];

static int group_setup(void **state) {
  (void)state;
  int rc = seq_world_open(NULL, &scene, &templ);
  snprintf(hook_file, sizeof hook_file, "%s/hook.txt", seq_dir);
  return rc;
}

static int group_teardown(void **state) {
  (void)state;
  return seq_world_close(scene, &templ);
}

typedef struct recorder {
  pv_stage *inner;
  char log[LOG_CAP];
  int n;
  long hook_size;          /* hook file size at the last contact */
  int fail_separate_from;  /* separations numbered from 1; fail from this one on (0: never) */
  int fail_contact;        /* every contact fails */
  int separations, contacts;
  volatile sig_atomic_t *stop_at_contact; /* set at the contact numbered stop_contact */
  int stop_contact;
} recorder;

static recorder rec;

static void note(recorder *r, char c) {
  if (r->n < LOG_CAP - 1) r->log[r->n++] = c, r->log[r->n] = '\0';
}

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return 0;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

static int r_move_abs(void *self, double x, double y, pv_error *err) {
  note(self, 'M');
  return pv_stage_move_abs(((recorder *)self)->inner, x, y, err);
}
static int r_move_rel(void *self, double dx, double dy, pv_error *err) {
  note(self, 'M');
  return pv_stage_move_rel(((recorder *)self)->inner, dx, dy, err);
}
static int r_wait_settled(void *self, int64_t *t, pv_error *err) {
  note(self, 'S');
  return pv_stage_wait_settled(((recorder *)self)->inner, t, err);
}
static int r_contact(void *self, double *z, pv_error *err) {
  recorder *r = self;
  note(r, 'C');
  r->contacts++;
  r->hook_size = file_size(hook_file);
  if (r->stop_at_contact != NULL && r->contacts == r->stop_contact) *r->stop_at_contact = 1;
  int rc = pv_stage_contact(r->inner, z, err);
  if (rc == 0 && r->fail_contact)
    return pv_error_set(err, PV_ESTAGE, "recorder: contact refused");
  return rc;
}
static int r_separate(void *self, double *z, pv_error *err) {
  recorder *r = self;
  if (file_size(hook_file) > r->hook_size) note(r, 'H');
  r->hook_size = file_size(hook_file);
  note(r, 'P');
  r->separations++;
  if (r->fail_separate_from > 0 && r->separations >= r->fail_separate_from)
    return pv_error_set(err, PV_ESTAGE, "recorder: separation refused");
  return pv_stage_separate(r->inner, z, err);
}
static int r_get_z(void *self, double *z, pv_stage_z *where, pv_error *err) {
  note(self, 'G');
  return pv_stage_get_z(((recorder *)self)->inner, z, where, err);
}

static const pv_stage_driver recorder_driver = {
    .name = "recorder", .connect = fwd_connect, .move_abs = r_move_abs,
    .move_rel = r_move_rel, .wait_settled = r_wait_settled, .get_position = fwd_get_position,
    .get_truth = fwd_get_truth, .destroy = fwd_destroy_nothing, .contact = r_contact,
    .separate = r_separate, .get_z = r_get_z};
static const pv_stage_driver recorder_no_z_driver = {
    .name = "recorder-no-z", .connect = fwd_connect, .move_abs = r_move_abs,
    .move_rel = r_move_rel, .wait_settled = r_wait_settled, .get_position = fwd_get_position,
    .get_truth = fwd_get_truth, .destroy = fwd_destroy_nothing};

static pv_stage *wrap(pv_stage *inner, void *ctx) {
  rec.inner = inner;
  pv_stage *st = NULL;
  return pv_stage_create(ctx ? ctx : &recorder_driver, &rec, &st) == 0 ? st : NULL;
}

/* Opens a station with the recorder, probe contact as given, the hook
 * command (NULL: none). */
static void open_cycle(station *s, int contact, const char *hook, double hook_timeout_s) {
  memset(&rec, 0, sizeof rec);
  remove(hook_file);
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.contact = contact;
  if (hook != NULL) snprintf(sp.measure_command, sizeof sp.measure_command, "%s", hook);
  if (hook_timeout_s > 0) sp.measure_timeout_s = hook_timeout_s;
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.npoints = NPOINTS;
  o.seq = &sp;
  o.wrap = wrap;
  station_open(s, &o);
}

static pv_stage_z z_of(pv_stage *sim) {
  double z;
  pv_stage_z where = PV_STAGE_Z_UNKNOWN;
  pv_error err;
  assert_int_equal(pv_stage_get_z(sim, &z, &where, &err), 0);
  return where;
}

/* Every XY move (M) comes while at separation: after the start or a P,
 * never between a C and the next P. */
static void assert_no_move_in_contact(const char *log) {
  int in_contact = 0;
  for (const char *c = log; *c; c++) {
    if (*c == 'C') in_contact = 1;
    if (*c == 'P') in_contact = 0;
    if (*c == 'M' && in_contact) fail_msg("XY move in contact: %s", log);
  }
}

/* The per-point order: move... contact [hook] separation, n times. */
static int count_cycles(const char *log, int want_hook) {
  int n = 0;
  const char *c = log;
  while (*c == 'G' || *c == 'P') c++; /* the start */
  while (*c) {
    if (*c != 'M') fail_msg("point %d does not start with a move: %s", n, c);
    while (*c == 'M' || *c == 'S') c++;
    if (*c != 'C') fail_msg("point %d: no contact after the moves: %s", n, c);
    c++;
    if (want_hook && *c++ != 'H') fail_msg("point %d: no measurement in contact: %s", n, log);
    if (*c++ != 'P') fail_msg("point %d: no separation after contact: %s", n, log);
    n++;
  }
  return n;
}

static void contact_and_separation_around_every_measurement(void **state) {
  (void)state;
  station s;
  char hook[256];
  snprintf(hook, sizeof hook, "echo $PV_INDEX >> '%s'", hook_file);
  open_cycle(&s, 1, hook, 0);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, NPOINTS, NULL, NULL, NULL,
                                    &sum), PV_OK);
  assert_int_equal(sum.counts[PV_POINT_OK], NPOINTS);
  assert_int_equal(rec.log[0], 'G'); /* the height is read before the first move */
  assert_int_equal(count_cycles(rec.log, 1), NPOINTS);
  assert_no_move_in_contact(rec.log);
  assert_int_equal(pv_sim_stage_xy_in_contact(s.sim_stage), 0);
  assert_int_equal(z_of(s.sim_stage), PV_STAGE_Z_SEPARATION);
  assert_int_equal(count_points(&s, "contact_z_um = 10000 AND status = 'ok'"), NPOINTS);
  station_close(&s);
}

static void a_chuck_left_in_contact_is_separated_before_the_first_move(void **state) {
  (void)state;
  station s;
  open_cycle(&s, 1, NULL, 0);
  double z;
  pv_error err;
  assert_int_equal(pv_stage_contact(s.sim_stage, &z, &err), 0); /* a crashed earlier run */
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, NPOINTS, NULL, NULL, NULL,
                                    &sum), PV_OK);
  assert_int_equal(strncmp(rec.log, "GPM", 3), 0);
  assert_int_equal(count_cycles(rec.log, 0), NPOINTS);
  assert_int_equal(pv_sim_stage_xy_in_contact(s.sim_stage), 0);
  station_close(&s);
}

/* A hook that fails (exit code, timeout, crash) still separates. */
static void run_failing_hook(const char *hook, double timeout_s) {
  station s;
  open_cycle(&s, 1, hook, timeout_s);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, 3, NULL, NULL, NULL, &sum),
                   PV_OK);
  assert_int_equal(sum.counts[PV_POINT_MEASURE_FAILED], 3);
  assert_int_equal(rec.contacts, 3);
  assert_int_equal(rec.separations, 3);
  assert_int_equal(count_cycles(rec.log, 0), 3);
  assert_int_equal(pv_sim_stage_xy_in_contact(s.sim_stage), 0);
  assert_int_equal(z_of(s.sim_stage), PV_STAGE_Z_SEPARATION);
  assert_int_equal(count_points(&s, "status = 'measure_failed' AND contact_z_um = 10000"), 3);
  station_close(&s);
}

static void a_failed_measurement_still_separates(void **state) {
  (void)state;
  run_failing_hook("exit 3", 0);
}

static void a_measurement_timeout_still_separates(void **state) {
  (void)state;
  run_failing_hook("sleep 5", 0.2);
}

static void a_crashed_measurement_still_separates(void **state) {
  (void)state;
  run_failing_hook("kill -SEGV $$", 0);
}

static void a_failed_contact_separates_and_goes_on(void **state) {
  (void)state;
  station s;
  open_cycle(&s, 1, "true", 0);
  rec.fail_contact = 1;
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, 3, NULL, NULL, NULL, &sum),
                   PV_OK);
  assert_int_equal(sum.counts[PV_POINT_STAGE_ERROR], 3);
  assert_int_equal(rec.separations, 3 * 1); /* one separation per point */
  assert_no_move_in_contact(rec.log);
  assert_int_equal(pv_sim_stage_xy_in_contact(s.sim_stage), 0);
  assert_int_equal(count_points(&s, "error LIKE '%contact failed%' AND measure_output IS NULL"),
                   3);
  station_close(&s);
}

static void a_stop_mid_point_finishes_it_at_separation(void **state) {
  (void)state;
  station s;
  open_cycle(&s, 1, "true", 0);
  static volatile sig_atomic_t stop;
  stop = 0;
  rec.stop_at_contact = &stop;
  rec.stop_contact = 2; /* SIGTERM while point 1 is in contact */
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, NPOINTS, NULL, NULL, &stop,
                                    &sum), PV_OK);
  assert_int_equal(sum.stopped, 1);
  assert_int_equal(sum.done, 2); /* the point in progress was finished and recorded */
  assert_int_equal(count_points(&s, "idx = 1 AND status = 'ok' AND contact_z_um = 10000"), 1);
  assert_int_equal(rec.log[rec.n - 1], 'P');
  assert_int_equal(z_of(s.sim_stage), PV_STAGE_Z_SEPARATION);
  station_close(&s);
}

static void a_failed_separation_stops_the_run_without_moving(void **state) {
  (void)state;
  station s;
  open_cycle(&s, 1, NULL, 0);
  rec.fail_separate_from = 2; /* point 1's separation (point 0 used the 1st) */
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, NPOINTS, NULL, NULL, NULL,
                                    &sum), PV_ESTAGE);
  assert_int_equal(sum.done, 2);
  assert_non_null(strstr(sum.error, "separation"));
  assert_int_equal(count_points(&s, "idx = 1 AND status = 'stage_error' AND error LIKE "
                                    "'%separation failed%'"), 1);
  assert_int_equal(count_points(&s, "1"), 2);
  /* after the failed separations (retried), no XY move */
  const char *last_c = strrchr(rec.log, 'C');
  assert_non_null(last_c);
  assert_null(strchr(last_c, 'M'));
  assert_int_equal(pv_sim_stage_xy_in_contact(s.sim_stage), 0);
  station_close(&s);
}

static void contact_off_never_touches_z(void **state) {
  (void)state;
  station s;
  char hook[256];
  snprintf(hook, sizeof hook, "echo $PV_INDEX >> '%s'", hook_file);
  open_cycle(&s, 0, hook, 0);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, NPOINTS, NULL, NULL, NULL,
                                    &sum), PV_OK);
  assert_int_equal(sum.counts[PV_POINT_OK], NPOINTS);
  assert_null(strchr(rec.log, 'G'));
  assert_null(strchr(rec.log, 'C'));
  assert_null(strchr(rec.log, 'P'));
  assert_int_equal(file_size(hook_file) > 0, 1); /* the measurement ran, without contact */
  assert_int_equal(count_points(&s, "contact_z_um IS NULL AND measure_output IS NOT NULL"),
                   NPOINTS);
  station_close(&s);
}

static void contact_on_a_stage_without_z_is_refused(void **state) {
  (void)state;
  station s;
  memset(&rec, 0, sizeof rec);
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.npoints = 1;
  o.wrap = wrap;
  o.wrap_ctx = (void *)&recorder_no_z_driver;
  station_open(&s, &o); /* contact off: accepted */
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.contact = 1;
  pv_sequencer_io io = {s.cam, s.wrapped, s.matcher, s.journal, s.run_id};
  pv_sequencer *seq = NULL;
  assert_int_equal(pv_sequencer_create(&sp, &io, W, H, &seq), PV_EUNSUPPORTED);
  assert_null(seq);
  assert_int_equal(rec.n, 0); /* nothing moved */
  station_close(&s);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(contact_and_separation_around_every_measurement),
      cmocka_unit_test(a_chuck_left_in_contact_is_separated_before_the_first_move),
      cmocka_unit_test(a_failed_measurement_still_separates),
      cmocka_unit_test(a_measurement_timeout_still_separates),
      cmocka_unit_test(a_crashed_measurement_still_separates),
      cmocka_unit_test(a_failed_contact_separates_and_goes_on),
      cmocka_unit_test(a_stop_mid_point_finishes_it_at_separation),
      cmocka_unit_test(a_failed_separation_stops_the_run_without_moving),
      cmocka_unit_test(contact_off_never_touches_z),
      cmocka_unit_test(contact_on_a_stage_without_z_is_refused),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
