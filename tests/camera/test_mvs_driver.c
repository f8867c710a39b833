/* The mvs driver under the camera worker, through the real dlopen path,
 * against the fake libMvCameraControl.so of the suite ($PV_FAKE_MVS, built
 * from tests/camera/fake_mvs): frames flow in continuous and software
 * trigger mode with increasing frame ids; MV_E_NODATA bursts are timeouts
 * that escalate like any driver's (stream restarts, then a reopen); a lost
 * device (MV_E_NETER, then absent, then MV_E_ACCESS_DENIED) is reopened;
 * every buffer the SDK handed out was freed exactly once (the fake's
 * report). Each test loads its own copy of the library, so the fake's
 * state starts fresh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "probevision/camera.h"

typedef struct world {
  char dir[64], lib[128], report[128];
  pv_camera *cam;
} world;

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

/* A fresh copy of the fake library with these faults (NULL: none). */
static void world_init(world *w, const char *faults, int no_trigger) {
  memset(w, 0, sizeof *w);
  const char *fake = getenv("PV_FAKE_MVS");
  assert_non_null(fake);
  snprintf(w->dir, sizeof w->dir, "/tmp/pv_mvs_test_XXXXXX");
  assert_non_null(mkdtemp(w->dir));
  snprintf(w->lib, sizeof w->lib, "%s/libMvCameraControl.so", w->dir);
  snprintf(w->report, sizeof w->report, "%s/report.txt", w->dir);
  copy_file(fake, w->lib);
  setenv("FAKE_MVS_REPORT", w->report, 1);
  if (faults) setenv("FAKE_MVS_FAULTS", faults, 1);
  else unsetenv("FAKE_MVS_FAULTS");
  if (no_trigger) setenv("FAKE_MVS_NO_TRIGGER", "1", 1);
  else unsetenv("FAKE_MVS_NO_TRIGGER");
}

static int world_open(world *w, pv_acquisition mode, int timeout_ms, pv_error *err) {
  pv_mvs_camera_params mp;
  pv_mvs_camera_params_default(&mp);
  snprintf(mp.library, sizeof mp.library, "%s", w->lib);
  snprintf(mp.device, sizeof mp.device, "FAKE0001");
  mp.width = 640;
  mp.height = 480;
  mp.format = PV_PIXFMT_MONO8;
  mp.fps = 100;
  mp.exposure_us = 2000;
  const pv_camera_driver *drv;
  void *self;
  int rc = pv_mvs_camera_new(&mp, &drv, &self, err);
  assert_int_equal(rc, PV_OK);
  assert_string_equal(drv->name, "mvs");
  pv_camera_params cp;
  pv_camera_params_default(&cp);
  cp.acquisition = mode;
  cp.grab_timeout_ms = timeout_ms;
  cp.reopen_backoff_ms = 20;
  cp.reopen_backoff_max_ms = 100;
  return pv_camera_create(drv, self, &cp, &w->cam, err);
}

/* Destroys the camera (unloading the library) and checks the fake's
 * buffer accounting; returns the report line. */
static void world_close(world *w, char *line, size_t cap) {
  pv_camera_destroy(w->cam);
  w->cam = NULL;
  FILE *f = fopen(w->report, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, (int)cap, f));
  fclose(f);
  unsigned long long gets = 0, frees = 0, bad = 0, out = 0, leaked = 0;
  assert_int_equal(sscanf(line, "gets=%llu frees=%llu bad_frees=%llu outstanding=%llu leaked=%llu",
                          &gets, &frees, &bad, &out, &leaked), 5);
  assert_true(gets > 0);
  assert_int_equal(gets, frees);
  assert_int_equal(bad, 0);
  assert_int_equal(out, 0);
  assert_int_equal(leaked, 0);
  unlink(w->report);
  unlink(w->lib);
  rmdir(w->dir);
}

static unsigned long long report_field(const char *line, const char *key) {
  const char *p = strstr(line, key);
  assert_non_null(p);
  return strtoull(p + strlen(key), NULL, 10);
}

/* n frames, each exposed after the call began, never stamped later than
 * the fake's true exposure start: ids increase. */
static void take_frames(pv_camera *cam, int n, pv_frame_time want) {
  uint64_t last_id = 0, last_trigger = 0;
  for (int i = 0; i < n; i++) {
    int64_t t0 = pv_now_ns();
    pv_lease l;
    assert_int_equal(pv_camera_frame_after(cam, t0, 3000, &l), PV_OK);
    const pv_frame *f = l.frame;
    assert_int_equal(f->width, 640);
    assert_int_equal(f->height, 480);
    assert_true(f->frame_id > last_id);
    assert_true(f->exposure_ns > t0);
    assert_true(f->exposure_ns <= pv_now_ns());
    assert_int_equal(f->time, want);
    int64_t truth; /* the fake writes the true exposure start there */
    memcpy(&truth, f->data, sizeof truth);
    assert_true(f->exposure_ns <= truth);                  /* never late */
    assert_true(truth - f->exposure_ns < 50 * PV_NS_PER_MS); /* nor absurdly early */
    if (want == PV_FRAME_TIME_TRIGGER) {
      assert_true(f->trigger > last_trigger);
      last_trigger = f->trigger;
    }
    last_id = f->frame_id;
    assert_int_equal(pv_lease_release(&l), PV_OK);
  }
}

static void test_continuous_frames(void **state) {
  (void)state;
  world w;
  world_init(&w, NULL, 0);
  pv_error err = {{0}};
  assert_int_equal(world_open(&w, PV_ACQUISITION_CONTINUOUS, 500, &err), PV_OK);
  pv_camera_info info;
  pv_camera_get_info(w.cam, &info);
  assert_int_equal(info.acquisition, PV_ACQUISITION_CONTINUOUS);
  assert_int_equal(info.can_trigger, 1);
  assert_int_equal(info.width, 640);
  assert_int_equal(info.format, PV_PIXFMT_MONO8);
  take_frames(w.cam, 10, PV_FRAME_TIME_ESTIMATE);
  pv_camera_counters c;
  pv_camera_get_counters(w.cam, &c);
  assert_true(c.ok >= 10);
  assert_int_equal(c.timeouts + c.disconnected + c.fatal, 0);
  char line[512];
  world_close(&w, line, sizeof line);
}

static void test_software_trigger_frames(void **state) {
  (void)state;
  world w;
  world_init(&w, NULL, 0);
  pv_error err = {{0}};
  assert_int_equal(world_open(&w, PV_ACQUISITION_AUTO, 500, &err), PV_OK);
  pv_camera_info info;
  pv_camera_get_info(w.cam, &info);
  assert_int_equal(info.acquisition, PV_ACQUISITION_SOFTWARE);
  take_frames(w.cam, 8, PV_FRAME_TIME_TRIGGER);
  pv_camera_counters c;
  pv_camera_get_counters(w.cam, &c);
  assert_true(c.triggers >= 8);
  char line[512];
  world_close(&w, line, sizeof line);
  assert_true(report_field(line, "triggers=") >= 8);
}

static void test_no_trigger_camera(void **state) {
  (void)state;
  world w;
  world_init(&w, NULL, 1);
  pv_error err = {{0}};
  assert_int_equal(world_open(&w, PV_ACQUISITION_AUTO, 500, &err), PV_OK);
  pv_camera_info info;
  pv_camera_get_info(w.cam, &info);
  assert_int_equal(info.acquisition, PV_ACQUISITION_CONTINUOUS);
  assert_int_equal(info.can_trigger, 0);
  take_frames(w.cam, 3, PV_FRAME_TIME_ESTIMATE);
  char line[512];
  world_close(&w, line, sizeof line);
  /* software asked for, and the camera cannot: open fails, naming it */
  world_init(&w, NULL, 1);
  int rc = world_open(&w, PV_ACQUISITION_SOFTWARE, 500, &err);
  assert_int_not_equal(rc, PV_OK);
  assert_non_null(strstr(err.msg, "TriggerSource"));
  unlink(w.report);
  unlink(w.lib);
  rmdir(w.dir);
}

/* 10 NODATA in a row: 3 -> restart, 3 -> restart, 3 -> reopen. */
static void test_nodata_escalates(void **state) {
  (void)state;
  world w;
  world_init(&w, "nodata:10@5", 0);
  pv_error err = {{0}};
  assert_int_equal(world_open(&w, PV_ACQUISITION_CONTINUOUS, 60, &err), PV_OK);
  pv_camera_counters c;
  int64_t deadline = pv_now_ns() + 20 * PV_NS_PER_S;
  do {
    pv_sleep_ns(20 * PV_NS_PER_MS);
    pv_camera_get_counters(w.cam, &c);
  } while (c.reopens < 1 && pv_now_ns() < deadline);
  assert_int_equal(c.reopens, 1);
  take_frames(w.cam, 3, PV_FRAME_TIME_ESTIMATE);
  pv_camera_get_counters(w.cam, &c);
  assert_int_equal(c.timeouts, 10);
  assert_int_equal(c.restarts, 2);
  assert_int_equal(c.reopens, 1);
  assert_int_equal(c.disconnected + c.fatal, 0);
  char line[512];
  world_close(&w, line, sizeof line);
  assert_int_equal(report_field(line, "nodata="), 10);
  assert_int_equal(report_field(line, "opens="), 2);
}

/* The device vanishes at the 10th GetImageBuffer: MV_E_NETER, absent from
 * two enumerations, MV_E_ACCESS_DENIED once, then back. */
static void test_lost_device_reopens(void **state) {
  (void)state;
  world w;
  world_init(&w, "lost@10", 0);
  pv_error err = {{0}};
  assert_int_equal(world_open(&w, PV_ACQUISITION_CONTINUOUS, 200, &err), PV_OK);
  pv_camera_counters c;
  int64_t deadline = pv_now_ns() + 20 * PV_NS_PER_S;
  do {
    pv_sleep_ns(20 * PV_NS_PER_MS);
    pv_camera_get_counters(w.cam, &c);
  } while ((c.reopens < 1 || !c.connected) && pv_now_ns() < deadline);
  assert_true(c.disconnected >= 1);
  assert_int_equal(c.reopens, 1);
  take_frames(w.cam, 3, PV_FRAME_TIME_ESTIMATE);
  char line[512];
  world_close(&w, line, sizeof line);
  assert_int_equal(report_field(line, "lost="), 1);
  assert_int_equal(report_field(line, "opens="), 2);
}

/* A slow FreeImageBuffer and a frame with lost packets: frames still flow,
 * the damaged one is counted incomplete, every buffer freed. */
static void test_slow_free_and_incomplete(void **state) {
  (void)state;
  world w;
  world_init(&w, "slowfree:30,incomplete@4", 0);
  pv_error err = {{0}};
  assert_int_equal(world_open(&w, PV_ACQUISITION_CONTINUOUS, 500, &err), PV_OK);
  take_frames(w.cam, 6, PV_FRAME_TIME_ESTIMATE);
  pv_camera_counters c;
  pv_camera_get_counters(w.cam, &c);
  assert_int_equal(c.incomplete, 1);
  assert_int_equal(c.stream.failures, 1);
  char line[512];
  world_close(&w, line, sizeof line);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_continuous_frames),
      cmocka_unit_test(test_software_trigger_frames),
      cmocka_unit_test(test_no_trigger_camera),
      cmocka_unit_test(test_nodata_escalates),
      cmocka_unit_test(test_lost_device_reopens),
      cmocka_unit_test(test_slow_free_and_incomplete),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
