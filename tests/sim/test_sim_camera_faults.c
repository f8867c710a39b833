/* sim: the simulated camera's once-only faults (stall, disconnect) and
 * packet loss, driven directly through the driver table (no worker), and
 * the simulated stage's lost move reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/camera.h"
#include "probevision/sim.h"

enum { W = 64, H = 48, FPS = 16, BEFORE = 2 * FPS };

static pv_scene *scene;
static unsigned char buf[W * H];

static int setup(void **state) {
  (void)state;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  return pv_scene_create(&wp, &scene);
}

static int teardown(void **state) {
  (void)state;
  pv_scene_destroy(scene);
  return 0;
}

typedef struct drv_obj {
  const pv_camera_driver *drv;
  void *self;
  pv_frame f;
} drv_obj;

static void open_driver(drv_obj *d, pv_sim_camera_params *p) {
  pv_truth_source none = {0};
  assert_int_equal(pv_sim_camera_new(p, scene, none, &d->drv, &d->self), PV_OK);
  pv_camera_info info = {.acquisition = PV_ACQUISITION_CONTINUOUS};
  assert_int_equal(d->drv->open(d->self, &info, NULL), PV_OK);
  assert_int_equal(d->drv->start(d->self), PV_OK);
  d->f = (pv_frame){.data = buf, .capacity = sizeof buf};
}

static void close_driver(drv_obj *d) {
  d->drv->stop(d->self);
  d->drv->close(d->self);
  d->drv->destroy(d->self);
}

static pv_sim_camera_params fast_params(void) {
  pv_sim_camera_params p;
  pv_sim_camera_params_default(&p);
  p.width = W;
  p.height = H;
  p.format = PV_PIXFMT_MONO8;
  p.fps = FPS;
  p.speed = 0;
  return p;
}

/* Grabs until a result other than `while_rc` (bounded); returns it and the
 * number of while_rc results seen. */
static int grab_until_not(drv_obj *d, int while_rc, int *seen) {
  *seen = 0;
  for (int i = 0; i < 100000; i++) {
    int rc = d->drv->grab(d->self, &d->f, 1);
    if (rc != while_rc) return rc;
    (*seen)++;
  }
  return while_rc;
}

/* 2 * fps good frames, then timeouts for stall_s real seconds, surviving a
 * stream restart, then frames again; only once. */
static void stall_stops_frames_once(void **state) {
  (void)state;
  pv_sim_camera_params p = fast_params();
  p.stall_s = 0.2;
  drv_obj d;
  open_driver(&d, &p);
  int n;
  assert_int_equal(grab_until_not(&d, PV_OK, &n), PV_ETIMEDOUT);
  assert_int_equal(n, BEFORE);
  assert_int_equal(d.drv->stop(d.self), PV_OK);
  assert_int_equal(d.drv->start(d.self), PV_OK);
  assert_int_equal(grab_until_not(&d, PV_ETIMEDOUT, &n), PV_OK);
  assert_true(n >= 1);
  for (int i = 0; i < 4 * BEFORE; i++)
    assert_int_equal(d.drv->grab(d.self, &d.f, 1), PV_OK);
  close_driver(&d);
}

/* After 2 * fps frames the camera is gone: grab says disconnected, open
 * fails until disconnect_s has passed, then works for good. */
static void disconnect_fails_open_until_back(void **state) {
  (void)state;
  pv_sim_camera_params p = fast_params();
  p.disconnect_s = 0.2;
  drv_obj d;
  open_driver(&d, &p);
  int n;
  assert_int_equal(grab_until_not(&d, PV_OK, &n), PV_EDISCONNECTED);
  assert_int_equal(n, BEFORE);
  d.drv->stop(d.self);
  d.drv->close(d.self);
  pv_camera_info info = {.acquisition = PV_ACQUISITION_CONTINUOUS};
  pv_error err = {""};
  int rc, failures = 0;
  while ((rc = d.drv->open(d.self, &info, &err)) == PV_EDISCONNECTED) {
    failures++;
    pv_sleep_ns(20 * PV_NS_PER_MS);
  }
  assert_int_equal(rc, PV_OK);
  assert_true(failures >= 1);
  assert_non_null(strstr(err.msg, "disconnected"));
  assert_int_equal(d.drv->start(d.self), PV_OK);
  for (int i = 0; i < 4 * BEFORE; i++)
    assert_int_equal(d.drv->grab(d.self, &d.f, 1), PV_OK);
  close_driver(&d);
}

/* Packet loss spoils whole frames: all of them at 1000 per thousand. */
static void packet_loss_makes_frames_incomplete(void **state) {
  (void)state;
  pv_sim_camera_params p = fast_params();
  p.packet_loss = 1000;
  drv_obj d;
  open_driver(&d, &p);
  for (int i = 0; i < 10; i++) assert_int_equal(d.drv->grab(d.self, &d.f, 1), PV_EINCOMPLETE);
  close_driver(&d);
  p.packet_loss = 1001;
  const pv_camera_driver *drv;
  void *self;
  pv_truth_source none = {0};
  assert_int_equal(pv_sim_camera_new(&p, scene, none, &drv, &self), PV_EINVAL);
}

/* A lost reply: the move happened, the call says PV_ETIMEDOUT. */
static void stage_lost_reply_moves_then_times_out(void **state) {
  (void)state;
  pv_sim_stage_params sp;
  pv_sim_stage_params_default(&sp);
  sp.speed = 0;
  sp.fault_timeout = 1;
  pv_stage *st;
  assert_int_equal(pv_sim_stage_create(&sp, &st), PV_OK);
  pv_error err = {""};
  assert_int_equal(pv_stage_move_abs(st, 100, -50, &err), PV_ETIMEDOUT);
  assert_non_null(strstr(err.msg, "no reply"));
  double x, y;
  assert_int_equal(pv_stage_get_position(st, &x, &y, &err), PV_OK);
  assert_true(x == 100 && y == -50);
  pv_stage_destroy(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stall_stops_frames_once),
      cmocka_unit_test(disconnect_fails_open_until_back),
      cmocka_unit_test(packet_loss_makes_frames_incomplete),
      cmocka_unit_test(stage_lost_reply_moves_then_times_out),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
