/* run: the per-frame vision step (pv_vision_locate, what the sequencer runs
 * on every alignment frame) converts only the pixels its search region
 * needs. The frame's rows outside the region's band are made unreadable
 * (PROT_NONE pages: stride = one page per row) and its columns outside
 * the band are garbage: the step still answers, with the same status,
 * offset and score as on a clean copy of the frame, and the offset is the
 * true landing error. A whole-frame conversion would fault. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/run.h"
#include "probevision/scene.h"

#define W 2448
#define H 2048
#define RADIUS_UM 405.0 /* the demo's automatic radius: 0.45 x 900 um */
#define MARGIN 48       /* px beyond the disc and the template's half:
                           pyramid alignment (2^top) and the Bayer
                           neighbours, with room to spare */

static pv_scene *scene;
static pv_image templ;
static long page;

static int group_setup(void **state) {
  (void)state;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  page = sysconf(_SC_PAGESIZE);
  if (page < W) return -1;
  if (pv_scene_create(&wp, &scene) != 0) return -1;
  return pv_scene_template(scene, &templ);
}

static int group_teardown(void **state) {
  (void)state;
  pv_image_free(&templ);
  pv_scene_destroy(scene);
  return 0;
}

static pv_frame frame_of(uint8_t *data, int stride) {
  pv_frame f;
  memset(&f, 0, sizeof f);
  f.width = W, f.height = H, f.stride = stride, f.format = PV_PIXFMT_BAYER_BG8;
  f.data = data;
  f.size = f.capacity = (size_t)stride * H;
  return f;
}

/* One landing: the chuck commanded to target + cmd_off, landed err away
 * from that; clean frame against the guarded one. */
static void one_landing(pv_matcher *m, int die, double cmd_dx, double cmd_dy, double err_x,
                        double err_y) {
  double tx, ty;
  assert_int_equal(pv_scene_die_mark(scene, die, &tx, &ty), 0);
  double cx = tx + cmd_dx, cy = ty + cmd_dy; /* commanded */
  double lx = cx + err_x, ly = cy + err_y;   /* where it stands */
  pv_sequencer_params p;
  pv_sequencer_params_default(&p);
  p.um_per_px = pv_scene_params(scene)->um_per_px;

  uint8_t *clean = malloc((size_t)W * H);
  assert_int_equal(pv_scene_render(scene, lx, ly, 5, PV_PIXFMT_BAYER_BG8, clean, W, H, W), 0);
  pv_frame fc = frame_of(clean, W);
  pv_vision_result want;
  assert_int_equal(pv_vision_locate(&p, m, &fc, RADIUS_UM, tx - cx, ty - cy, &want), 0);
  assert_int_equal(want.status, PV_POINT_OK);
  /* the mark's offset from the commanded position: target - landed */
  assert_true(fabs(want.dx_um - (tx - lx)) < 0.5 && fabs(want.dy_um - (ty - ly)) < 0.5);

  /* the band of rows and columns the disc's search may read */
  double upp = p.um_per_px, rad = RADIUS_UM / upp, half = templ.width / 2.0;
  double ex = (W - 1) / 2.0 + (tx - cx) / upp, ey = (H - 1) / 2.0 + (ty - cy) / upp;
  int x0 = (int)floor(ex - rad - half) - MARGIN, x1 = (int)ceil(ex + rad + half) + MARGIN;
  int y0 = (int)floor(ey - rad - half) - MARGIN, y1 = (int)ceil(ey + rad + half) + MARGIN;
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > W - 1) x1 = W - 1;
  if (y1 > H - 1) y1 = H - 1;
  assert_true(y1 - y0 < H / 2); /* most rows are guarded */

  size_t stride = (size_t)page, bytes = stride * H;
  uint8_t *g = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(g != MAP_FAILED);
  for (int y = 0; y < H; y++) {
    uint8_t *row = g + (size_t)y * stride;
    memset(row, 0xFF, stride); /* garbage: saturated, unlike any wafer */
    if (y >= y0 && y <= y1) memcpy(row + x0, clean + (size_t)y * W + x0, (size_t)(x1 - x0 + 1));
  }
  if (y0 > 0) assert_int_equal(mprotect(g, (size_t)y0 * stride, PROT_NONE), 0);
  if (y1 < H - 1)
    assert_int_equal(mprotect(g + (size_t)(y1 + 1) * stride, (size_t)(H - 1 - y1) * stride,
                              PROT_NONE), 0);
  pv_frame fg = frame_of(g, (int)stride);
  pv_vision_result got;
  assert_int_equal(pv_vision_locate(&p, m, &fg, RADIUS_UM, tx - cx, ty - cy, &got), 0);
  assert_int_equal(got.status, want.status);
  assert_int_equal(got.candidates, want.candidates);
  assert_memory_equal(&got.dx_um, &want.dx_um, sizeof got.dx_um);
  assert_memory_equal(&got.dy_um, &want.dy_um, sizeof got.dy_um);
  assert_memory_equal(&got.score, &want.score, sizeof got.score);
  assert_int_equal(munmap(g, bytes), 0);
  free(clean);
}

static void only_the_region_is_read(void **state) {
  (void)state;
  pv_matcher *m;
  assert_int_equal(pv_matcher_create(W, H, &templ, NULL, &m), 0);
  one_landing(m, 3 * 10 + 4, 0, 0, 23.4, -17.9);
  one_landing(m, 2 * 10 + 6, 0, 0, -61.0, 44.5);
  one_landing(m, 5 * 10 + 2, 30.0, -20.0, 4.2, 3.1); /* a correction: off the target */
  one_landing(m, 0, 0, 0, -8.0, -120.0);             /* the disc nears the frame's top */
  pv_matcher_destroy(m);
}

/* The step's statuses: nothing in the disc is no_match with the radius
 * named; a frame the matcher cannot take is an error with "match: ". */
static void statuses_say_why(void **state) {
  (void)state;
  pv_matcher *m;
  assert_int_equal(pv_matcher_create(W, H, &templ, NULL, &m), 0);
  pv_sequencer_params p;
  pv_sequencer_params_default(&p);
  double tx, ty;
  assert_int_equal(pv_scene_die_mark(scene, 33, &tx, &ty), 0);
  uint8_t *f = malloc((size_t)W * H);
  /* the view half a die off the mark: the disc of 60 um around the centre
   * holds no mark */
  assert_int_equal(pv_scene_render(scene, tx + 480, ty + 430, 5, PV_PIXFMT_BAYER_BG8, f, W, H, W),
                   0);
  pv_frame fr = frame_of(f, W);
  pv_vision_result v;
  assert_int_equal(pv_vision_locate(&p, m, &fr, 60.0, 0, 0, &v), 0);
  assert_int_equal(v.status, PV_POINT_NO_MATCH);
  assert_int_equal(v.candidates, 0);
  assert_true(isnan(v.score));
  assert_non_null(strstr(v.error, "within 60.0 um"));
  fr.format = PV_PIXFMT_COUNT;
  assert_int_equal(pv_vision_locate(&p, m, &fr, 60.0, 0, 0, &v), PV_EINVAL);
  assert_int_equal(v.status, PV_POINT_NO_MATCH);
  assert_non_null(strstr(v.error, "match: "));
  free(f);
  pv_matcher_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(only_the_region_is_read),
      cmocka_unit_test(statuses_say_why),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
