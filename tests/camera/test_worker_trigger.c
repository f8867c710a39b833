/* camera: the worker in software trigger mode, over the scripted fake
 * driver: every frame handed out answers its own request (the frame the
 * fake produced for a trigger fired after the request was taken), frames
 * left over, delivered twice or late are never handed out, lost triggers
 * escalate like timeouts, nothing is grabbed while nobody asks, and every
 * pool frame comes back. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"

static pv_camera_params quick_params(pv_acquisition a) {
  pv_camera_params p;
  pv_camera_params_default(&p);
  p.buffers = 3;
  p.grab_timeout_ms = 20;
  p.reopen_backoff_ms = 1;
  p.reopen_backoff_max_ms = 4;
  p.acquisition = a;
  return p;
}

static pv_camera *open_triggered(fake_driver *f) {
  pv_camera_params p = quick_params(PV_ACQUISITION_AUTO);
  pv_camera *cam;
  pv_error err = {{0}};
  f->trigger_mode = 1;
  if (pv_camera_create(&fake_driver_table, f, &p, &cam, &err) != PV_OK)
    fail_msg("camera: %s", err.msg);
  pv_camera_info info;
  pv_camera_get_info(cam, &info);
  assert_int_equal(info.acquisition, PV_ACQUISITION_SOFTWARE);
  return cam;
}

/* After destroy: every open closed, every start stopped, one thread. */
static void check_fake_after_destroy(fake_driver *f) {
  fake_driver *s = malloc(sizeof *s);
  fake_snapshot(f, s);
  assert_true(s->destroyed);
  assert_int_equal(s->wrong_thread, 0);
  assert_int_equal(s->bad_order, 0);
  assert_int_equal(s->starts, s->stops);
  assert_int_equal(s->opened, s->closes);
  free(s);
}

/* Checks that frame f, leased by a request taken at t_asked, is the frame
 * of a trigger fired after t_asked that delivered it normally. */
static void check_answer(fake_driver *fk, const pv_frame *f, int64_t t_asked) {
  fake_driver *s = malloc(sizeof *s);
  fake_snapshot(fk, s);
  uint64_t id = f->frame_id;
  assert_true(id > 0 && id < FAKE_IDS_MAX);
  assert_true(s->id_kind[id] == FAKE_T_OK || s->id_kind[id] == FAKE_T_DUP);
  assert_true(s->fired_at[id] > t_asked);
  assert_true(f->exposure_ns >= s->fired_at[id]);
  assert_true(f->exposure_ns > t_asked);
  assert_int_equal(f->time, PV_FRAME_TIME_TRIGGER); /* the fake's HOST time is not better */
  assert_int_equal(f->data[0], (uint8_t)id);       /* the pixels are that frame's */
  free(s);
}

static void every_frame_answers_its_own_request(void **state) {
  (void)state;
  fake_driver *fk = fake_new(32, 24);
  fk->leftover_at_start = 3;
  const int script[] = {FAKE_T_OK,   FAKE_T_DUP,  FAKE_T_OK,         FAKE_T_LATE,
                        FAKE_T_OK,   FAKE_T_LOST, FAKE_T_OK,         FAKE_T_INCOMPLETE,
                        FAKE_T_DUP,  FAKE_T_LATE, FAKE_T_LOST,       FAKE_T_OK,
                        FAKE_T_DUP,  FAKE_T_DUP,  FAKE_T_INCOMPLETE, FAKE_T_LATE};
  fake_script_triggers(fk, script, (int)(sizeof script / sizeof script[0]));
  pv_camera *cam = open_triggered(fk);
  uint64_t last_id = 0;
  enum { N = 24 };
  for (int i = 1; i <= N; i++) {
    int64_t t0 = pv_now_ns();
    pv_lease l;
    assert_int_equal(pv_camera_frame_after(cam, t0, 5000, &l), PV_OK);
    assert_int_equal(l.frame->trigger, (uint64_t)i); /* one reader: request i */
    check_answer(fk, l.frame, t0);
    assert_true(l.frame->frame_id > last_id);        /* never the same frame twice */
    last_id = l.frame->frame_id;
    assert_int_equal(pv_lease_release(&l), PV_OK);
  }
  pv_camera_counters c;
  pv_camera_get_counters(cam, &c);
  fake_driver *s = malloc(sizeof *s);
  fake_snapshot(fk, s);
  assert_int_equal(c.ok, N);
  assert_int_equal(c.triggers, (uint64_t)s->triggers);
  assert_int_equal(c.lost_triggers, 5); /* 2 lost + 3 late */
  assert_int_equal(c.timeouts, 5);
  assert_int_equal(c.incomplete, 2);
  assert_int_equal(c.triggers, c.ok + c.lost_triggers + c.incomplete);
  assert_true(c.stale >= 3 + 4); /* the leftovers and the second copies */
  assert_int_equal(c.restarts, 0); /* never 3 timeouts in a row */
  /* a delivered late frame never was an answer: late ids never delivered
   * after a flush, and never handed out (check_answer) */
  for (int k = 0; k < s->delivered_n; k++) assert_true(s->id_kind[s->delivered_ids[k]] != FAKE_T_LATE);
  free(s);
  pv_frame_pool_stats ps;
  pv_camera_get_pool_stats(cam, &ps);
  assert_int_equal(ps.leased, 0);
  pv_camera_destroy(cam);
  check_fake_after_destroy(fk);
  fake_free(fk);
}

static void lost_triggers_escalate_like_timeouts(void **state) {
  (void)state;
  fake_driver *fk = fake_new(32, 24);
  int script[9];
  for (int i = 0; i < 9; i++) script[i] = FAKE_T_LOST;
  fake_script_triggers(fk, script, 9);
  pv_camera *cam = open_triggered(fk); /* retries 3, restarts before reopen 2 */
  int64_t t0 = pv_now_ns();
  pv_lease l;
  assert_int_equal(pv_camera_frame_after(cam, t0, 10000, &l), PV_OK);
  check_answer(fk, l.frame, t0);
  assert_int_equal(l.frame->frame_id, 10);
  pv_lease_release(&l);
  pv_camera_counters c;
  pv_camera_get_counters(cam, &c);
  assert_int_equal(c.lost_triggers, 9);
  assert_int_equal(c.timeouts, 9);
  assert_int_equal(c.restarts, 2);
  assert_int_equal(c.reopens, 1);
  assert_int_equal(c.triggers, 10);
  assert_int_equal(c.ok, 1);
  assert_int_equal(c.frames, 10);
  fake_driver *s = malloc(sizeof *s);
  fake_snapshot(fk, s);
  assert_int_equal(s->opened, 2);
  free(s);
  pv_camera_destroy(cam);
  check_fake_after_destroy(fk);
  fake_free(fk);
}

static void nothing_is_grabbed_while_nobody_asks(void **state) {
  (void)state;
  fake_driver *fk = fake_new(32, 24);
  pv_camera *cam = open_triggered(fk);
  pv_sleep_ns(30 * PV_NS_PER_MS);
  fake_driver *s = malloc(sizeof *s);
  fake_snapshot(fk, s);
  assert_int_equal(s->triggers, 0);
  assert_int_equal(s->grabs, 0);
  /* one call, one trigger, even for a time long past */
  pv_lease l;
  assert_int_equal(pv_camera_frame_after(cam, 0, 5000, &l), PV_OK);
  assert_int_equal(l.frame->trigger, 1);
  pv_lease_release(&l);
  fake_snapshot(fk, s);
  assert_int_equal(s->triggers, 1);
  free(s);
  pv_camera_destroy(cam);
  check_fake_after_destroy(fk);
  fake_free(fk);
}

static void software_needs_a_trigger(void **state) {
  (void)state;
  fake_driver *fk = fake_new(32, 24); /* no trigger offered */
  pv_camera_params p = quick_params(PV_ACQUISITION_SOFTWARE);
  pv_camera *cam = NULL;
  pv_error err = {{0}};
  assert_int_equal(pv_camera_create(&fake_driver_table, fk, &p, &cam, &err), PV_EUNSUPPORTED);
  assert_null(cam);
  assert_non_null(strstr(err.msg, "camera fake"));
  assert_non_null(strstr(err.msg, "software"));
  fake_free(fk);

  fk = fake_new(32, 24); /* AUTO without a trigger: continuous */
  p.acquisition = PV_ACQUISITION_AUTO;
  assert_int_equal(pv_camera_create(&fake_driver_table, fk, &p, &cam, &err), PV_OK);
  pv_camera_info info;
  pv_camera_get_info(cam, &info);
  assert_int_equal(info.acquisition, PV_ACQUISITION_CONTINUOUS);
  pv_camera_destroy(cam);
  fake_free(fk);

  fk = fake_new(32, 24); /* CONTINUOUS asked of a camera that could trigger */
  fk->trigger_mode = 1;
  p.acquisition = PV_ACQUISITION_CONTINUOUS;
  assert_int_equal(pv_camera_create(&fake_driver_table, fk, &p, &cam, &err), PV_OK);
  pv_camera_get_info(cam, &info);
  assert_int_equal(info.acquisition, PV_ACQUISITION_CONTINUOUS);
  pv_lease l;
  assert_int_equal(pv_camera_frame_after(cam, pv_now_ns(), 5000, &l), PV_OK);
  assert_int_equal(l.frame->trigger, 0);
  pv_lease_release(&l);
  pv_camera_counters c;
  pv_camera_get_counters(cam, &c);
  assert_int_equal(c.triggers, 0);
  pv_camera_destroy(cam);
  check_fake_after_destroy(fk);
  fake_free(fk);
}

typedef struct reader {
  pv_camera *cam;
  fake_driver *fk;
  int got, bad;
} reader;

static void *read_frames(void *arg) {
  reader *r = arg;
  fake_driver *s = malloc(sizeof *s);
  for (int i = 0; i < 15; i++) {
    int64_t t0 = pv_now_ns();
    pv_lease l;
    if (pv_camera_frame_after(r->cam, t0, 5000, &l) != PV_OK) {
      r->bad++;
      continue;
    }
    fake_snapshot(r->fk, s);
    uint64_t id = l.frame->frame_id;
    if (id == 0 || id >= FAKE_IDS_MAX || s->fired_at[id] <= t0 || l.frame->exposure_ns <= t0 ||
        s->id_kind[id] != FAKE_T_OK)
      r->bad++;
    r->got++;
    pv_lease_release(&l);
  }
  free(s);
  return NULL;
}

/* Several readers at once: each frame was fired after its reader asked. */
static void concurrent_readers_get_frames_fired_after_they_asked(void **state) {
  (void)state;
  fake_driver *fk = fake_new(32, 24);
  fk->leftover_at_start = 2;
  pv_camera *cam = open_triggered(fk);
  enum { R = 4 };
  reader rd[R];
  pthread_t th[R];
  for (int i = 0; i < R; i++) {
    rd[i] = (reader){cam, fk, 0, 0};
    pthread_create(&th[i], NULL, read_frames, &rd[i]);
  }
  for (int i = 0; i < R; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(rd[i].got, 15);
    assert_int_equal(rd[i].bad, 0);
  }
  pv_frame_pool_stats ps;
  pv_camera_get_pool_stats(cam, &ps);
  assert_int_equal(ps.leased, 0);
  pv_camera_destroy(cam);
  check_fake_after_destroy(fk);
  fake_free(fk);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_frame_answers_its_own_request),
      cmocka_unit_test(lost_triggers_escalate_like_timeouts),
      cmocka_unit_test(nothing_is_grabbed_while_nobody_asks),
      cmocka_unit_test(software_needs_a_trigger),
      cmocka_unit_test(concurrent_readers_get_frames_fired_after_they_asked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
