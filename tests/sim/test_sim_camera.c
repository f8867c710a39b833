/* sim: the simulated camera renders the scene at the stage's true
 * position at exposure time, paces frames, and injects faults. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/camera.h"
#include "probevision/sim.h"

enum { W = 512, H = 384 };

static pv_scene *scene;

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

static pv_stage *exact_stage(double speed) {
  pv_sim_stage_params sp;
  pv_sim_stage_params_default(&sp);
  sp.error_frac = 0;
  sp.error_um = 0;
  sp.backlash_um = 0;
  sp.speed = speed;
  sp.speed_um_s = 1000;
  sp.settle_ms = 0;
  pv_stage *st;
  assert_int_equal(pv_sim_stage_create(&sp, &st), PV_OK);
  return st;
}

static pv_camera *sim_camera(pv_sim_camera_params *cp, pv_truth_source truth) {
  const pv_camera_driver *drv;
  void *self;
  assert_int_equal(pv_sim_camera_new(cp, scene, truth, &drv, &self), PV_OK);
  pv_camera_params p;
  pv_camera_params_default(&p);
  pv_camera *cam;
  assert_int_equal(pv_camera_create(drv, self, &p, &cam, NULL), PV_OK);
  return cam;
}

static pv_sim_camera_params small_params(void) {
  pv_sim_camera_params cp;
  pv_sim_camera_params_default(&cp);
  cp.width = W;
  cp.height = H;
  cp.format = PV_PIXFMT_MONO8;
  return cp;
}

/* Frames taken while the stage moves carry the truth at their exposure. */
static void frames_carry_seq_exposure_and_truth(void **state) {
  (void)state;
  pv_stage *st = exact_stage(0.3); /* 1000 um in 300 ms */
  pv_truth_source truth = pv_sim_stage_truth(st);
  pv_sim_camera_params cp = small_params();
  cp.fps = 50;
  cp.speed = 1;
  pv_camera *cam = sim_camera(&cp, truth);
  assert_int_equal(pv_stage_move_abs(st, 1000, 0, NULL), PV_OK);
  uint64_t last_seq = 0;
  int64_t last_exp = 0;
  double first_x = NAN, last_x = NAN;
  for (int i = 0; i < 8; i++) {
    pv_lease l;
    assert_int_equal(pv_camera_frame_after(cam, last_exp, 5000, &l), PV_OK);
    const pv_frame *f = l.frame;
    assert_true(f->seq > last_seq);
    assert_true(f->exposure_ns > last_exp);
    assert_true(f->has_truth);
    assert_int_equal(f->width, W);
    assert_int_equal(f->size, (size_t)W * H);
    double x, y;
    truth.position_at(truth.ctx, f->exposure_ns, &x, &y);
    assert_float_equal(f->truth_x_um, x, 1e-9);
    assert_float_equal(f->truth_y_um, y, 1e-9);
    if (i == 0) first_x = x;
    last_x = x;
    last_seq = f->seq;
    last_exp = f->exposure_ns;
    pv_lease_release(&l);
  }
  assert_true(last_x > first_x); /* the frames saw the stage moving */
  pv_camera_destroy(cam);
  pv_stage_destroy(st);
}

/* NCC of the template against the luma at top-left (u, v). */
static double ncc_at(const pv_image *img, const pv_image *tpl, int u, int v) {
  double st = 0, si = 0, stt = 0, sii = 0, sti = 0;
  int n = tpl->width * tpl->height;
  for (int j = 0; j < tpl->height; j++)
    for (int i = 0; i < tpl->width; i++) {
      double a = tpl->data[j * tpl->stride + i];
      double b = img->data[(v + j) * img->stride + u + i];
      st += a;
      si += b;
      stt += a * a;
      sii += b * b;
      sti += a * b;
    }
  double cov = sti - st * si / n;
  double va = stt - st * st / n, vb = sii - si * si / n;
  return cov / sqrt(va * vb + 1e-12);
}

static void mark_is_centred_at_its_die_position(void **state) {
  (void)state;
  pv_stage *st = exact_stage(0);
  double mx, my;
  assert_int_equal(pv_scene_die_mark(scene, 5, &mx, &my), PV_OK);
  assert_int_equal(pv_stage_move_abs(st, mx, my, NULL), PV_OK);
  pv_sim_camera_params cp = small_params();
  cp.format = PV_PIXFMT_BAYER_BG8;
  cp.speed = 0;
  pv_camera *cam = sim_camera(&cp, pv_sim_stage_truth(st));
  pv_lease l;
  assert_int_equal(pv_camera_frame_after(cam, 0, 5000, &l), PV_OK);
  pv_image luma, tpl;
  assert_int_equal(pv_image_alloc(&luma, W, H), PV_OK);
  assert_int_equal(pv_frame_to_luma(l.frame->data, W, H, l.frame->stride,
                                    l.frame->format, &luma), PV_OK);
  assert_float_equal(l.frame->truth_x_um, mx, 1e-9);
  pv_lease_release(&l);
  pv_camera_destroy(cam);

  assert_int_equal(pv_scene_template(scene, &tpl), PV_OK);
  /* Image centre (W-1)/2 = template centre (T-1)/2 + top-left u. */
  int u0 = (W - tpl.width) / 2, v0 = (H - tpl.height) / 2;
  double best = -2;
  int bu = 0, bv = 0;
  for (int dv = -6; dv <= 6; dv++)
    for (int du = -6; du <= 6; du++) {
      double c = ncc_at(&luma, &tpl, u0 + du, v0 + dv);
      if (c > best) {
        best = c;
        bu = du;
        bv = dv;
      }
    }
  assert_true(best > 0.7);
  assert_int_equal(bu, 0);
  assert_int_equal(bv, 0);
  /* Far from the mark the template does not match as well. */
  assert_true(ncc_at(&luma, &tpl, 10, 10) < best - 0.2);
  pv_image_free(&luma);
  pv_image_free(&tpl);
  pv_stage_destroy(st);
}

static void faults_are_injected(void **state) {
  (void)state;
  pv_sim_camera_params cp = small_params();
  cp.speed = 0;
  cp.fault_nodata = 1;
  const pv_camera_driver *drv;
  void *self;
  pv_truth_source none = {NULL, NULL};
  /* Driven directly: no worker thread here. */
  assert_int_equal(pv_sim_camera_new(&cp, scene, none, &drv, &self), PV_OK);
  pv_camera_info info = {.acquisition = PV_ACQUISITION_CONTINUOUS};
  assert_int_equal(drv->open(self, &info, NULL), PV_OK);
  assert_int_equal(info.payload, (size_t)W * H);
  assert_int_equal(drv->start(self), PV_OK);
  uint8_t *buf = malloc(info.payload);
  pv_frame f = {.capacity = info.payload, .data = buf};
  assert_int_equal(drv->grab(self, &f, 1000), PV_ETIMEDOUT);
  drv->stop(self);
  drv->close(self);
  drv->destroy(self);

  cp.fault_nodata = 0.2;
  cp.fault_incomplete = 0.3;
  assert_int_equal(pv_sim_camera_new(&cp, scene, none, &drv, &self), PV_OK);
  drv->open(self, &info, NULL);
  drv->start(self);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 60; i++) {
    int rc = drv->grab(self, &f, 1000);
    assert_true(rc == PV_OK || rc == PV_ETIMEDOUT || rc == PV_EINCOMPLETE);
    counts[rc == PV_OK ? 0 : rc == PV_ETIMEDOUT ? 1 : 2]++;
    if (rc == PV_OK) assert_false(f.has_truth);
  }
  for (int k = 0; k < 3; k++) assert_true(counts[k] > 0);
  drv->stop(self);
  drv->close(self);
  drv->destroy(self);
  free(buf);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frames_carry_seq_exposure_and_truth),
      cmocka_unit_test(mark_is_centred_at_its_die_position),
      cmocka_unit_test(faults_are_injected),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
