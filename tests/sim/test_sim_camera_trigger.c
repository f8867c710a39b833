/* sim: the simulated camera's software trigger, driven directly through
 * the driver table (no worker): AUTO opens in software mode, a grab
 * without a pending trigger times out, each trigger exposes one frame at
 * its fire time (plus the latency) with the next frame id and the truth
 * position of that instant, stop forgets pending triggers, a nodata fault
 * loses the triggered frame (its id is used), and the records tell when
 * each frame's trigger fired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/camera.h"
#include "probevision/sim.h"

enum { W = 64, H = 48 };

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

/* A truth source moving at 1 um per ms, so an instant has its position. */
static void moving(void *ctx, int64_t t_ns, double *x, double *y) {
  (void)ctx;
  *x = (double)t_ns / 1e6;
  *y = 0;
}

typedef struct cam {
  const pv_camera_driver *drv;
  void *self;
  pv_camera_info info;
  pv_frame f;
} cam;

static void open_cam(cam *c, pv_sim_camera_params *p, pv_acquisition asked) {
  pv_truth_source truth = {moving, NULL};
  assert_int_equal(pv_sim_camera_new(p, scene, truth, &c->drv, &c->self), PV_OK);
  c->info = (pv_camera_info){.acquisition = asked};
  assert_int_equal(c->drv->open(c->self, &c->info, NULL), PV_OK);
  assert_int_equal(c->drv->start(c->self), PV_OK);
  c->f = (pv_frame){.data = buf, .capacity = sizeof buf};
}

static void close_cam(cam *c) {
  c->drv->stop(c->self);
  c->drv->close(c->self);
  c->drv->destroy(c->self);
}

static pv_sim_camera_params params(double speed) {
  pv_sim_camera_params p;
  pv_sim_camera_params_default(&p);
  p.width = W;
  p.height = H;
  p.format = PV_PIXFMT_MONO8;
  p.speed = speed;
  return p;
}

static void each_trigger_exposes_one_frame(void **state) {
  (void)state;
  pv_sim_camera_params p = params(1);
  p.trigger_latency_us = 2000;
  cam c;
  open_cam(&c, &p, PV_ACQUISITION_AUTO);
  assert_int_equal(c.info.acquisition, PV_ACQUISITION_SOFTWARE);
  assert_true(c.info.can_trigger);
  assert_non_null(c.drv->trigger);
  assert_int_equal(c.drv->grab(c.self, &c.f, 5), PV_ETIMEDOUT); /* nothing fired */
  for (uint64_t id = 1; id <= 3; id++) {
    int64_t before = pv_now_ns();
    assert_int_equal(c.drv->trigger(c.self), PV_OK);
    int64_t after = pv_now_ns();
    assert_int_equal(c.drv->grab(c.self, &c.f, 1000), PV_OK);
    assert_int_equal(c.f.frame_id, id);
    assert_int_equal(c.f.time, PV_FRAME_TIME_TRUTH);
    int64_t fired, exposure;
    assert_int_equal(pv_sim_camera_frame_record(c.self, id, &fired, &exposure), PV_OK);
    assert_true(fired >= before && fired <= after);
    assert_int_equal(exposure, fired + 2 * PV_NS_PER_MS); /* the latency */
    assert_int_equal(c.f.exposure_ns, exposure);
    assert_true(c.f.has_truth);
    assert_float_equal(c.f.truth_x_um, (double)exposure / 1e6, 1e-6);
  }
  /* two triggers, two frames in order */
  assert_int_equal(c.drv->trigger(c.self), PV_OK);
  assert_int_equal(c.drv->trigger(c.self), PV_OK);
  assert_int_equal(c.drv->grab(c.self, &c.f, 1000), PV_OK);
  assert_int_equal(c.f.frame_id, 4);
  assert_int_equal(c.drv->grab(c.self, &c.f, 1000), PV_OK);
  assert_int_equal(c.f.frame_id, 5);
  assert_int_equal(c.drv->grab(c.self, &c.f, 5), PV_ETIMEDOUT);
  /* stop forgets a pending trigger */
  assert_int_equal(c.drv->trigger(c.self), PV_OK);
  c.drv->stop(c.self);
  assert_int_equal(c.drv->start(c.self), PV_OK);
  assert_int_equal(c.drv->grab(c.self, &c.f, 5), PV_ETIMEDOUT);
  assert_int_equal(pv_sim_camera_frame_record(c.self, 99, NULL, NULL), PV_ENOTFOUND);
  close_cam(&c);
}

static void nodata_loses_the_triggered_frame(void **state) {
  (void)state;
  pv_sim_camera_params p = params(0);
  p.fault_nodata = 1;
  cam c;
  open_cam(&c, &p, PV_ACQUISITION_SOFTWARE);
  assert_int_equal(c.drv->trigger(c.self), PV_OK);
  assert_int_equal(c.drv->grab(c.self, &c.f, 1000), PV_ETIMEDOUT);
  int64_t fired = 0;
  assert_int_equal(pv_sim_camera_frame_record(c.self, 1, &fired, NULL), PV_OK); /* id used */
  assert_true(fired > 0);
  assert_int_equal(c.drv->grab(c.self, &c.f, 1000), PV_ETIMEDOUT); /* not delivered later */
  close_cam(&c);
}

static void continuous_asked_streams_and_refuses_triggers(void **state) {
  (void)state;
  pv_sim_camera_params p = params(0);
  cam c;
  open_cam(&c, &p, PV_ACQUISITION_CONTINUOUS);
  assert_int_equal(c.info.acquisition, PV_ACQUISITION_CONTINUOUS);
  assert_int_equal(c.drv->grab(c.self, &c.f, 1000), PV_OK);
  int64_t fired = -1;
  assert_int_equal(pv_sim_camera_frame_record(c.self, c.f.frame_id, &fired, NULL), PV_OK);
  assert_int_equal(fired, 0);
  assert_int_equal(c.drv->trigger(c.self), PV_EFATAL);
  close_cam(&c);
}

/* The once-only faults come a few triggered frames in (a stall here). */
static void stall_comes_after_a_few_triggered_frames(void **state) {
  (void)state;
  pv_sim_camera_params p = params(0);
  p.stall_s = 0.2;
  cam c;
  open_cam(&c, &p, PV_ACQUISITION_AUTO);
  int ok = 0, rc;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(c.drv->trigger(c.self), PV_OK);
    if ((rc = c.drv->grab(c.self, &c.f, 1)) != PV_OK) break;
    ok++;
  }
  assert_int_equal(rc, PV_ETIMEDOUT);
  assert_int_equal(ok, 8);
  assert_int_equal(c.drv->grab(c.self, &c.f, 1), PV_ETIMEDOUT); /* the trigger was swallowed */
  close_cam(&c);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_trigger_exposes_one_frame),
      cmocka_unit_test(nodata_loses_the_triggered_frame),
      cmocka_unit_test(continuous_asked_streams_and_refuses_triggers),
      cmocka_unit_test(stall_comes_after_a_few_triggered_frames),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
