/* config: a key's range is the range of the module that consumes it. At
 * each end of the range the configuration accepts the value and the module
 * builds from it; one step outside, the configuration refuses it with a
 * message naming the key and the range, and the module refuses it too
 * (with the same numbers, where it has a message). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/config.h"
#include "probevision/frame.h"
#include "probevision/match.h"
#include "probevision/scene.h"
#include "probevision/sim.h"

/* The default configuration with key = value applied (must be accepted). */
static pv_config config_with(const char *key, const char *value) {
  pv_config c;
  pv_config_default(&c);
  pv_error err = {""};
  if (pv_config_set(&c, key, value, &err) != PV_OK)
    fail_msg("%s = %s refused: %s", key, value, err.msg);
  if (pv_config_check(&c, &err) != PV_OK) fail_msg("%s = %s: %s", key, value, err.msg);
  return c;
}

/* key = value is refused with a message naming the key and range "lo..hi". */
static void config_refuses(const char *key, const char *value, const char *range) {
  pv_config c;
  pv_config_default(&c);
  pv_error err = {""};
  assert_int_equal(pv_config_set(&c, key, value, &err), PV_EPARSE);
  if (strstr(err.msg, key) == NULL || strstr(err.msg, range) == NULL)
    fail_msg("'%s' should name %s and %s", err.msg, key, range);
}

/* The simulated wafer the program builds from a configuration. */
static pv_wafer_params wafer_of(const pv_config *c) {
  pv_wafer_params w;
  pv_sim_wafer_params(c, &w);
  return w;
}

/* A wafer key: lo and hi accepted by the configuration and by the scene's
 * check; the values just outside refused by both, the scene naming
 * `field` and the same range text. */
static void wafer_key(const char *key, const char *field, const char *lo, const char *hi,
                      const char *below, const char *above) {
  char range[64];
  snprintf(range, sizeof range, "%s..%s", lo, hi);
  const char *ok[] = {lo, hi};
  for (int i = 0; i < 2; i++) {
    pv_config c = config_with(key, ok[i]);
    pv_wafer_params w = wafer_of(&c);
    pv_error err = {""};
    if (pv_wafer_params_check(&w, &err) != PV_OK)
      fail_msg("%s = %s: the configuration takes it, the scene says: %s", key, ok[i], err.msg);
  }
  const char *bad[] = {below, above};
  for (int i = 0; i < 2; i++) {
    if (bad[i] == NULL) continue;
    config_refuses(key, bad[i], range);
    /* the same value reaching the scene directly */
    pv_config c;
    pv_config_default(&c);
    pv_wafer_params w = wafer_of(&c);
    double v = strtod(bad[i], NULL);
    if (strcmp(field, "cols") == 0) w.cols = (int)v;
    else if (strcmp(field, "rows") == 0) w.rows = (int)v;
    else if (strcmp(field, "pitch_x_um") == 0) w.pitch_x_um = v;
    else if (strcmp(field, "pitch_y_um") == 0) w.pitch_y_um = v;
    else if (strcmp(field, "um_per_px") == 0) w.um_per_px = v;
    else if (strcmp(field, "noise") == 0) w.noise = v;
    else if (strcmp(field, "blur_px") == 0) w.blur_px = v;
    else fail_msg("unknown field %s", field);
    pv_error err = {""};
    assert_int_equal(pv_wafer_params_check(&w, &err), PV_EINVAL);
    if (strstr(err.msg, field) == NULL || strstr(err.msg, range) == NULL)
      fail_msg("scene: '%s' should name %s and %s", err.msg, field, range);
    pv_scene *s = NULL;
    assert_int_equal(pv_scene_create(&w, &s), PV_EINVAL);
    assert_null(s);
  }
}

/* The case: the smallest pitch the configuration accepts builds a
 * scene; one below is refused by the configuration, naming the key. */
static void smallest_pitch_builds_the_scene(void **state) {
  (void)state;
  char min[32];
  snprintf(min, sizeof min, "%g", PV_SCENE_PITCH_MIN_UM);
  pv_config c = config_with("sim.pitch_x_um", min);
  pv_error err = {""};
  assert_int_equal(pv_config_set(&c, "sim.pitch_y_um", min, &err), PV_OK);
  assert_int_equal(pv_config_set(&c, "sim.mark_x_um", "150", &err), PV_OK);
  assert_int_equal(pv_config_set(&c, "sim.mark_y_um", "150", &err), PV_OK);
  assert_int_equal(pv_config_check(&c, &err), PV_OK);
  pv_wafer_params w = wafer_of(&c);
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&w, &s), PV_OK);
  assert_true(pv_scene_params(s)->pitch_x_um == PV_SCENE_PITCH_MIN_UM);
  pv_scene_destroy(s);

  char below[32], range[64];
  snprintf(below, sizeof below, "%g", PV_SCENE_PITCH_MIN_UM - 1);
  snprintf(range, sizeof range, "%g..%g", PV_SCENE_PITCH_MIN_UM, PV_SCENE_PITCH_MAX_UM);
  config_refuses("sim.pitch_x_um", below, range);
  config_refuses("sim.pitch_y_um", below, range);
}

static void wafer_keys_agree_with_the_scene(void **state) {
  (void)state;
  wafer_key("sim.pitch_x_um", "pitch_x_um", "400", "100000", "399.5", "100001");
  wafer_key("sim.pitch_y_um", "pitch_y_um", "400", "100000", "399.5", "100001");
  wafer_key("sim.cols", "cols", "1", "1000", "0", "1001");
  wafer_key("sim.rows", "rows", "1", "1000", "0", "1001");
  wafer_key("camera.um_per_px", "um_per_px", "0.05", "100", "0.049", "100.5");
  wafer_key("sim.noise", "noise", "0", "100", NULL, "100.5");
  wafer_key("sim.blur_px", "blur_px", "0", "20", NULL, "20.5");
  /* the numbers above are the exported constants */
  assert_true(PV_SCENE_PITCH_MIN_UM == 400 && PV_SCENE_PITCH_MAX_UM == 100000);
  assert_true(PV_SCENE_DIES_MAX == 1000);
  assert_true(PV_SCENE_UM_PER_PX_MIN == 0.05 && PV_SCENE_UM_PER_PX_MAX == 100);
  assert_true(PV_SCENE_NOISE_MAX == 100 && PV_SCENE_BLUR_MAX_PX == 20);
}

/* match.threads: 1..PV_MATCH_THREADS_MAX in the table and in the matcher. */
static void match_threads_agree_with_the_matcher(void **state) {
  (void)state;
  pv_image t;
  assert_int_equal(pv_image_alloc(&t, 16, 16), PV_OK);
  for (int i = 0; i < 16 * 16; i++) t.data[(i / 16) * t.stride + i % 16] = (uint8_t)(i * 7);
  char max[16], range[32];
  snprintf(max, sizeof max, "%d", PV_MATCH_THREADS_MAX);
  snprintf(range, sizeof range, "1..%d", PV_MATCH_THREADS_MAX);
  const char *ok[] = {"1", max};
  for (int i = 0; i < 2; i++) {
    pv_config c = config_with("match.threads", ok[i]);
    pv_match_params mp;
    pv_match_params_default(&mp);
    mp.threads = c.match_threads;
    pv_matcher *m = NULL;
    assert_int_equal(pv_matcher_create(64, 64, &t, &mp, &m), PV_OK);
    pv_matcher_destroy(m);
  }
  char above[16];
  snprintf(above, sizeof above, "%d", PV_MATCH_THREADS_MAX + 1);
  const char *bad[] = {"0", above};
  const int badv[] = {0, PV_MATCH_THREADS_MAX + 1};
  for (int i = 0; i < 2; i++) {
    config_refuses("match.threads", bad[i], range);
    pv_match_params mp;
    pv_match_params_default(&mp);
    mp.threads = badv[i];
    pv_matcher *m = NULL;
    assert_int_equal(pv_matcher_create(64, 64, &t, &mp, &m), PV_EINVAL);
  }
  pv_image_free(&t);
}

/* camera.buffers: 2..PV_FRAME_POOL_MAX in the table and in the pool. */
static void camera_buffers_agree_with_the_pool(void **state) {
  (void)state;
  char max[16], above[16], range[32];
  snprintf(max, sizeof max, "%d", PV_FRAME_POOL_MAX);
  snprintf(above, sizeof above, "%d", PV_FRAME_POOL_MAX + 1);
  snprintf(range, sizeof range, "2..%d", PV_FRAME_POOL_MAX);
  const char *ok[] = {"2", max};
  for (int i = 0; i < 2; i++) {
    pv_config c = config_with("camera.buffers", ok[i]);
    pv_frame_pool *pool = NULL;
    assert_int_equal(pv_frame_pool_create(c.camera_buffers, 64, &pool), PV_OK);
    pv_frame_pool_destroy(pool);
  }
  config_refuses("camera.buffers", "1", range);
  config_refuses("camera.buffers", above, range);
  pv_frame_pool *pool = NULL;
  assert_int_equal(pv_frame_pool_create(1, 64, &pool), PV_EINVAL);
  assert_int_equal(pv_frame_pool_create(PV_FRAME_POOL_MAX + 1, 64, &pool), PV_EINVAL);
}

/* camera.fps 0 ("as fast as possible") and camera.width/height up to
 * PV_IMAGE_MAX_DIM are taken by the simulated camera too. */
static void camera_keys_agree_with_the_simulated_camera(void **state) {
  (void)state;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  pv_scene *scene = NULL;
  assert_int_equal(pv_scene_create(&wp, &scene), PV_OK);
  char max[16], above[16], range[32];
  snprintf(max, sizeof max, "%d", PV_IMAGE_MAX_DIM);
  snprintf(above, sizeof above, "%d", PV_IMAGE_MAX_DIM + 1);
  snprintf(range, sizeof range, "16..%d", PV_IMAGE_MAX_DIM);
  pv_config cs[] = {config_with("camera.fps", "0"), config_with("camera.fps", "1000"),
                    config_with("camera.width", max), config_with("camera.height", max),
                    config_with("camera.width", "16")};
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    pv_sim_camera_params p;
    pv_sim_camera_params_default(&p);
    p.width = cs[i].camera_width;
    p.height = cs[i].camera_height;
    p.fps = cs[i].camera_fps;
    const pv_camera_driver *drv = NULL;
    void *self = NULL;
    pv_truth_source none = {0};
    assert_int_equal(pv_sim_camera_new(&p, scene, none, &drv, &self), PV_OK);
    drv->destroy(self);
  }
  config_refuses("camera.width", above, range);
  config_refuses("camera.height", above, range);
  pv_sim_camera_params p;
  pv_sim_camera_params_default(&p);
  p.width = PV_IMAGE_MAX_DIM + 1;
  const pv_camera_driver *drv = NULL;
  void *self = NULL;
  pv_truth_source none = {0};
  assert_int_equal(pv_sim_camera_new(&p, scene, none, &drv, &self), PV_EINVAL);
  pv_scene_destroy(scene);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(smallest_pitch_builds_the_scene),
      cmocka_unit_test(wafer_keys_agree_with_the_scene),
      cmocka_unit_test(match_threads_agree_with_the_matcher),
      cmocka_unit_test(camera_buffers_agree_with_the_pool),
      cmocka_unit_test(camera_keys_agree_with_the_simulated_camera),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
