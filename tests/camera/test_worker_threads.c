/* camera: one named thread calls the driver; readers lease frames; drops
 * are counted when every frame is leased; destroy wakes waiters; every
 * pool frame comes back. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"

static pv_camera *start_camera(fake_driver *f, int buffers) {
  pv_camera_params p;
  pv_camera_params_default(&p);
  p.buffers = buffers;
  p.grab_timeout_ms = 50;
  pv_camera *cam;
  assert_int_equal(pv_camera_create(&fake_driver_table, f, &p, &cam, NULL), PV_OK);
  return cam;
}

static void driver_is_called_only_by_the_camera_thread(void **state) {
  (void)state;
  fake_driver *f = fake_new(16, 16);
  pv_camera *cam = start_camera(f, 4);
  pv_lease l;
  assert_int_equal(pv_camera_frame_after(cam, 0, 5000, &l), PV_OK);
  assert_int_equal(l.frame->width, 16);
  pv_lease_release(&l);
  fake_driver s;
  fake_snapshot(f, &s);
  assert_true(s.driver_tid != 0);
  char path[64], comm[32] = "";
  snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)s.driver_tid);
  FILE *fp = fopen(path, "r");
  assert_non_null(fp);
  assert_non_null(fgets(comm, sizeof comm, fp));
  fclose(fp);
  assert_string_equal(comm, "camera\n");
  char list[512];
  pv_thread_list(list, sizeof list);
  assert_non_null(strstr(list, "camera("));
  pv_camera_destroy(cam);
  fake_snapshot(f, &s);
  assert_int_equal(s.wrong_thread, 0);
  assert_int_equal(s.opened, s.closes);
  assert_int_equal(s.starts, s.stops);
  fake_free(f);
}

struct waiter {
  pv_camera *cam;
  int rc;
};

static void *wait_forever(void *arg) {
  struct waiter *w = arg;
  pv_lease l;
  w->rc = pv_camera_frame_after(w->cam, INT64_MAX - 1, 30000, &l);
  if (w->rc == PV_OK) pv_lease_release(&l);
  return NULL;
}

static void destroy_wakes_waiters(void **state) {
  (void)state;
  fake_driver *f = fake_new(16, 16);
  pv_camera *cam = start_camera(f, 2);
  struct waiter w[2] = {{cam, 1}, {cam, 1}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, wait_forever, &w[i]);
  pv_sleep_ns(20 * PV_NS_PER_MS);
  pv_camera_destroy(cam);
  for (int i = 0; i < 2; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].rc, PV_ECANCELED);
  }
  fake_free(f);
}

static int frame_is_uniform(const pv_frame *fr, uint8_t v) {
  for (size_t i = 0; i < fr->size; i++)
    if (fr->data[i] != v) return 0;
  return 1;
}

static void drops_are_counted_when_all_frames_are_leased(void **state) {
  (void)state;
  enum { N = 3 };
  fake_driver *f = fake_new(64, 48);
  pv_camera *cam = start_camera(f, N);
  pv_lease l[N];
  uint8_t seen[N];
  int64_t last = 0;
  for (int i = 0; i < N; i++) {
    assert_int_equal(pv_camera_frame_after(cam, last, 5000, &l[i]), PV_OK);
    last = l[i].frame->exposure_ns;
    seen[i] = l[i].frame->data[0];
    for (int j = 0; j < i; j++) assert_ptr_not_equal(l[i].frame, l[j].frame);
  }
  pv_frame_pool_stats ps;
  pv_camera_get_pool_stats(cam, &ps);
  assert_int_equal(ps.leased, N);
  /* Every frame is leased: good pictures are dropped and counted. */
  pv_camera_counters c;
  int64_t give_up = pv_now_ns() + 10 * PV_NS_PER_S;
  do {
    pv_sleep_ns(PV_NS_PER_MS);
    pv_camera_get_counters(cam, &c);
    assert_true(pv_now_ns() < give_up);
  } while (c.dropped < 5);
  pv_lease extra;
  assert_int_equal(pv_camera_frame_after(cam, last, 10, &extra), PV_ETIMEDOUT);
  for (int i = 0; i < N; i++) assert_true(frame_is_uniform(l[i].frame, seen[i]));
  uint64_t ok_before = c.ok;
  for (int i = 0; i < N; i++) pv_lease_release(&l[i]);
  /* Publishing resumes once leases come back. */
  assert_int_equal(pv_camera_frame_after(cam, last, 5000, &extra), PV_OK);
  pv_lease_release(&extra);
  pv_camera_get_counters(cam, &c);
  assert_true(c.ok > ok_before);
  assert_true(c.fps > 0);
  pv_camera_get_pool_stats(cam, &ps);
  assert_int_equal(ps.leased, 0);
  assert_true(ps.dropped >= 5);
  pv_camera_destroy(cam);
  fake_free(f);
}

struct reader {
  pv_camera *cam;
  int leases, bad;
};

static void *read_frames(void *arg) {
  struct reader *r = arg;
  int64_t last = 0;
  for (int i = 0; i < 200; i++) {
    pv_lease l;
    if (pv_camera_frame_after(r->cam, last, 2000, &l) != PV_OK) {
      r->bad++;
      continue;
    }
    r->leases++;
    if (l.frame->exposure_ns <= last) r->bad++;
    last = l.frame->exposure_ns;
    if (!frame_is_uniform(l.frame, l.frame->data[0])) r->bad++;
    pv_lease_release(&l);
  }
  return NULL;
}

static void every_frame_comes_back_after_busy_readers(void **state) {
  (void)state;
  fake_driver *f = fake_new(64, 48);
  f->ok_sleep_us = 100;
  pv_camera *cam = start_camera(f, 3);
  struct reader r[3];
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    r[i] = (struct reader){cam, 0, 0};
    pthread_create(&t[i], NULL, read_frames, &r[i]);
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(r[i].bad, 0);
    assert_int_equal(r[i].leases, 200);
  }
  pv_frame_pool_stats ps;
  pv_camera_get_pool_stats(cam, &ps);
  assert_int_equal(ps.leased, 0);
  pv_camera_counters c;
  pv_camera_get_counters(cam, &c);
  assert_true(ps.published > 0);
  assert_true(c.ok + 1 >= ps.published); /* ok is counted just after publish */
  pv_camera_destroy(cam);
  fake_free(f);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(driver_is_called_only_by_the_camera_thread),
      cmocka_unit_test(destroy_wakes_waiters),
      cmocka_unit_test(drops_are_counted_when_all_frames_are_leased),
      cmocka_unit_test(every_frame_comes_back_after_busy_readers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
