/* camera: the worker's incidents carry the class of the result that caused
 * them (never a word of a message), and its recoveries are structured
 * records of the same cause (pv_incident_recovered), found by
 * pv_incident_find_recovery. A timeout's words name the driver's clock. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"

enum { T = PV_ETIMEDOUT, OK = PV_OK };

#define SEEN_MAX 16
typedef struct seen {
  pthread_mutex_t mu;
  int n;
  char cause[SEEN_MAX][PV_INCIDENT_CAUSE_MAX];
  char summary[SEEN_MAX][PV_INCIDENT_SUMMARY_MAX];
} seen;

static seen raised = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_incident(void *ctx, const char *cause, const char *summary) {
  (void)ctx, (void)summary;
  pthread_mutex_lock(&raised.mu);
  if (raised.n < SEEN_MAX) {
    snprintf(raised.cause[raised.n], PV_INCIDENT_CAUSE_MAX, "%s", cause);
    snprintf(raised.summary[raised.n++], PV_INCIDENT_SUMMARY_MAX, "%s", summary);
  }
  pthread_mutex_unlock(&raised.mu);
}

static int setup(void **state) {
  (void)state;
  pthread_mutex_lock(&raised.mu);
  raised.n = 0;
  pthread_mutex_unlock(&raised.mu);
  pv_incident_set_handler(on_incident, NULL);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  pv_incident_set_handler(NULL, NULL);
  return 0;
}

static pv_camera_params quick_params(void) {
  pv_camera_params p;
  pv_camera_params_default(&p);
  p.buffers = 3;
  p.grab_timeout_ms = 50;
  p.retries_before_restart = 3;
  p.restarts_before_reopen = 2;
  p.reopen_backoff_ms = 1;
  p.reopen_backoff_max_ms = 4;
  return p;
}

/* Runs the camera until every scripted grab was seen and `cause` has a
 * recovery reported since t0 (a hang guard of 10 s, not a timing check). */
static void run_until_recovered(fake_driver *f, const char *cause, int64_t t0,
                                pv_incident_recovery *rec) {
  pv_camera_params p = quick_params();
  pv_camera *cam;
  pv_error err = {{0}};
  assert_int_equal(pv_camera_create(&fake_driver_table, f, &p, &cam, &err), PV_OK);
  int64_t give_up = pv_now_ns() + 10 * PV_NS_PER_S;
  for (;;) {
    fake_driver s;
    fake_snapshot(f, &s);
    if (s.grab_pos >= s.grab_len && pv_incident_find_recovery(cause, t0, rec)) break;
    assert_true(pv_now_ns() < give_up);
    pv_sleep_ns(PV_NS_PER_MS);
  }
  pv_camera_destroy(cam);
}

static void assert_raised_only(const char *cause, int min) {
  pthread_mutex_lock(&raised.mu);
  int n = raised.n;
  for (int i = 0; i < n; i++) assert_string_equal(raised.cause[i], cause);
  pthread_mutex_unlock(&raised.mu);
  assert_true(n >= min);
}

static void a_disconnect_is_classified_by_its_status(void **state) {
  (void)state;
  int64_t t0 = pv_now_ns();
  fake_driver *f = fake_new(32, 24);
  const int grabs[] = {OK, OK, PV_EDISCONNECTED};
  fake_script_grabs(f, grabs, 3);
  pv_incident_recovery rec;
  run_until_recovered(f, "camera-disconnected", t0, &rec);
  assert_raised_only("camera-disconnected", 1);
  assert_true(rec.mono_ns >= t0);
  assert_non_null(strstr(rec.msg, "after 1 attempt(s)"));
  fake_free(f);
}

/* A stream restart whose start() says the device is gone: the reopen is a
 * disconnect, although the escalation began with timeouts and the words
 * are "stream restart failed". */
static void a_restart_that_finds_the_device_gone_is_a_disconnect(void **state) {
  (void)state;
  int64_t t0 = pv_now_ns();
  fake_driver *f = fake_new(32, 24);
  const int grabs[] = {OK, T, T, T};
  const int starts[] = {OK, PV_EDISCONNECTED}; /* first open's start, the restart's */
  fake_script_grabs(f, grabs, 4);
  fake_script_starts(f, starts, 2);
  pv_incident_recovery rec;
  run_until_recovered(f, "camera-disconnected", t0, &rec);
  pthread_mutex_lock(&raised.mu);
  assert_int_equal(raised.n, 2);
  assert_string_equal(raised.cause[0], "camera-timeout");      /* the restart */
  assert_string_equal(raised.cause[1], "camera-disconnected"); /* its failure */
  pthread_mutex_unlock(&raised.mu);
  fake_free(f);
}

static void any_other_failure_is_fatal(void **state) {
  (void)state;
  int64_t t0 = pv_now_ns();
  fake_driver *f = fake_new(32, 24);
  const int grabs[] = {OK, PV_EIO};
  fake_script_grabs(f, grabs, 2);
  pv_incident_recovery rec;
  run_until_recovered(f, "camera-fatal", t0, &rec);
  assert_raised_only("camera-fatal", 1);
  fake_free(f);
}

static void frames_back_after_a_restart_recover_the_timeout(void **state) {
  (void)state;
  int64_t t0 = pv_now_ns();
  fake_driver *f = fake_new(32, 24);
  const int grabs[] = {OK, T, T, T, OK};
  fake_script_grabs(f, grabs, 5);
  pv_incident_recovery rec;
  run_until_recovered(f, "camera-timeout", t0, &rec);
  assert_raised_only("camera-timeout", 1);
  assert_non_null(strstr(rec.msg, "frames are back after the stream restart"));
  assert_int_equal(pv_incident_find_recovery("camera-disconnected", t0, NULL), 0);
  fake_free(f);
}

/* Runs three timeouts and a good frame on a fake with the given clock;
 * returns the restart incident's summary (static). */
static const char *timeout_summary(int simulated, double scale) {
  int64_t t0 = pv_now_ns();
  setup(NULL);
  fake_driver *f = fake_new(32, 24);
  f->simulated_clock = simulated;
  f->time_scale = scale;
  const int grabs[] = {OK, T, T, T, OK};
  fake_script_grabs(f, grabs, 5);
  pv_incident_recovery rec;
  run_until_recovered(f, "camera-timeout", t0, &rec);
  fake_free(f);
  static char s[PV_INCIDENT_SUMMARY_MAX];
  pthread_mutex_lock(&raised.mu);
  assert_int_equal(raised.n, 1);
  snprintf(s, sizeof s, "%s", raised.summary[0]);
  pthread_mutex_unlock(&raised.mu);
  return s;
}

static void a_timeout_names_its_clock(void **state) {
  (void)state;
  const char *s = timeout_summary(0, 0); /* a real camera */
  assert_non_null(strstr(s, "no frame within 50 ms, 3 times in a row"));
  s = timeout_summary(1, 1); /* simulated at real time: the same */
  assert_non_null(strstr(s, "no frame within 50 ms, 3 times in a row"));
  s = timeout_summary(1, 0);
  assert_non_null(
      strstr(s, "no frame within 50 ms of simulated time (x0: as fast as possible), 3 times"));
  s = timeout_summary(1, 0.1);
  assert_non_null(
      strstr(s, "no frame within 50 ms of simulated time (x0.1: 5 ms real), 3 times"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(a_disconnect_is_classified_by_its_status, setup, teardown),
      cmocka_unit_test_setup_teardown(a_restart_that_finds_the_device_gone_is_a_disconnect,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(any_other_failure_is_fatal, setup, teardown),
      cmocka_unit_test_setup_teardown(frames_back_after_a_restart_recover_the_timeout, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_timeout_names_its_clock, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
