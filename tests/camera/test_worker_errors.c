/* camera: the worker classifies grab results and escalates failures:
 * timeouts -> stream restart -> reopen with backoff -> recovery. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"

enum { T = PV_ETIMEDOUT, OK = PV_OK };

static pv_camera_params quick_params(void) {
  pv_camera_params p;
  pv_camera_params_default(&p);
  p.buffers = 3;
  p.grab_timeout_ms = 50;
  p.reopen_backoff_ms = 1;
  p.reopen_backoff_max_ms = 4;
  return p;
}

/* Polls until the camera counted every scripted grab and then `extra` more
 * (good) ones (a hang guard of 10 s, not a timing check). */
static void wait_script_done(pv_camera *cam, fake_driver *f, int extra) {
  int64_t give_up = pv_now_ns() + 10 * PV_NS_PER_S;
  for (;;) {
    fake_driver s;
    fake_snapshot(f, &s);
    pv_camera_counters c;
    pv_camera_get_counters(cam, &c);
    if (c.frames >= (uint64_t)(s.grab_len + extra)) return;
    assert_true(pv_now_ns() < give_up);
    pv_sleep_ns(PV_NS_PER_MS);
  }
}

/* After destroy: every open was closed, every start stopped, all calls on
 * one thread other than ours, in a sensible order. */
static void check_fake_after_destroy(fake_driver *f) {
  fake_driver s;
  fake_snapshot(f, &s);
  assert_true(s.destroyed);
  assert_int_equal(s.wrong_thread, 0);
  assert_int_equal(s.bad_order, 0);
  assert_int_equal(s.starts, s.stops);
  assert_int_equal(s.opened, s.closes);
  assert_false(s.is_open);
}

static void results_are_classified_and_counted(void **state) {
  (void)state;
  fake_driver *f = fake_new(32, 24);
  const int script[] = {OK, OK, T, PV_EINCOMPLETE, OK, PV_EDISCONNECTED, OK,
                        PV_EFATAL, OK, PV_EINCOMPLETE};
  fake_script_grabs(f, script, 10);
  pv_camera_params p = quick_params();
  pv_camera *cam;
  pv_error err = {{0}};
  assert_int_equal(pv_camera_create(&fake_driver_table, f, &p, &cam, &err), PV_OK);
  wait_script_done(cam, f, 3);
  pv_camera_counters c;
  pv_camera_get_counters(cam, &c);
  assert_int_equal(c.timeouts, 1);
  assert_int_equal(c.incomplete, 2);
  assert_int_equal(c.disconnected, 1);
  assert_int_equal(c.fatal, 1);
  assert_int_equal(c.reopens, 2); /* disconnected and fatal reopen */
  assert_int_equal(c.restarts, 0);
  assert_true(c.ok >= 4 + 3);
  assert_true(c.frames >= c.ok + 5);
  assert_int_equal(c.connected, 1);
  pv_camera_info info;
  pv_camera_get_info(cam, &info);
  assert_int_equal(info.payload, 32 * 24);
  pv_camera_destroy(cam);
  fake_driver s;
  fake_snapshot(f, &s);
  assert_int_equal(s.opens, 3);
  assert_int_equal(s.closes, 3);
  check_fake_after_destroy(f);
  fake_free(f);
}

static void timeouts_escalate_to_restart_then_reopen(void **state) {
  (void)state;
  fake_driver *f = fake_new(16, 16);
  int script[9];
  for (int i = 0; i < 9; i++) script[i] = T;
  fake_script_grabs(f, script, 9);
  const int opens[] = {OK, PV_EIO, PV_EIO, PV_EIO, OK};
  fake_script_opens(f, opens, 5);
  pv_camera_params p = quick_params();
  p.retries_before_restart = 3;
  p.restarts_before_reopen = 2;
  p.reopen_backoff_ms = 10;
  p.reopen_backoff_max_ms = 25;
  pv_camera *cam;
  assert_int_equal(pv_camera_create(&fake_driver_table, f, &p, &cam, NULL), PV_OK);
  wait_script_done(cam, f, 2);
  pv_camera_counters c;
  pv_camera_get_counters(cam, &c);
  assert_int_equal(c.timeouts, 9);
  assert_int_equal(c.restarts, 2);  /* after timeouts 3 and 6 */
  assert_int_equal(c.reopens, 1);   /* after timeout 9, on the 4th attempt */
  assert_true(c.ok >= 2);
  assert_int_equal(c.connected, 1);
  fake_driver s;
  fake_snapshot(f, &s);
  assert_int_equal(s.opens, 5);
  assert_int_equal(s.starts, 1 + 2 + 1);
  /* Backoff between attempts: 10, 20, then capped at 25 ms. */
  assert_true(s.open_times[2] - s.open_times[1] >= 20 * PV_NS_PER_MS);
  assert_true(s.open_times[3] - s.open_times[2] >= 25 * PV_NS_PER_MS);
  assert_true(s.open_times[4] - s.open_times[3] >= 25 * PV_NS_PER_MS);
  pv_camera_destroy(cam);
  fake_snapshot(f, &s);
  assert_int_equal(s.closes, 2); /* the first session and the reopened one */
  check_fake_after_destroy(f);
  fake_free(f);
}

static void good_frames_reset_the_escalation(void **state) {
  (void)state;
  fake_driver *f = fake_new(16, 16);
  const int script[] = {T, T, OK, T, T, OK, T, T, OK, T, T};
  fake_script_grabs(f, script, 11);
  pv_camera_params p = quick_params();
  p.retries_before_restart = 3;
  pv_camera *cam;
  assert_int_equal(pv_camera_create(&fake_driver_table, f, &p, &cam, NULL), PV_OK);
  wait_script_done(cam, f, 1);
  pv_camera_counters c;
  pv_camera_get_counters(cam, &c);
  assert_int_equal(c.timeouts, 8);
  assert_int_equal(c.restarts, 0);
  assert_int_equal(c.reopens, 0);
  pv_camera_destroy(cam);
  check_fake_after_destroy(f);
  fake_free(f);
}

static void failed_first_open_fails_create(void **state) {
  (void)state;
  fake_driver *f = fake_new(16, 16);
  const int opens[] = {PV_EIO};
  fake_script_opens(f, opens, 1);
  pv_camera *cam = (pv_camera *)1;
  pv_error err = {{0}};
  assert_int_equal(pv_camera_create(&fake_driver_table, f, NULL, &cam, &err), PV_EIO);
  assert_null(cam);
  assert_non_null(strstr(err.msg, "fake"));
  fake_driver s;
  fake_snapshot(f, &s);
  assert_true(s.destroyed);
  assert_int_equal(s.opens, 1);
  assert_int_equal(s.wrong_thread, 0);
  fake_free(f);
  pv_camera_destroy(NULL);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(results_are_classified_and_counted),
      cmocka_unit_test(timeouts_escalate_to_restart_then_reopen),
      cmocka_unit_test(good_frames_reset_the_escalation),
      cmocka_unit_test(failed_first_open_fails_create),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
