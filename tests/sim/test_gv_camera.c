/* sim: the GigE Vision camera, seen through Aravis's own client API: frames
 * are the scene at the truth position, in the client's format and region;
 * stop leaves no thread behind. Binds 127.0.0.1:3956: run through
 * tests/netns-run (a private network namespace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <dirent.h>

#include "probevision/image.h"
#include "probevision/scene.h"
#include "probevision/sim.h"

#ifndef PV_HAVE_ARAVIS
int main(void) { return 77; }
#else
#include <arv.h>

#define SENSOR_W 2448 /* the camera's default sensor */
#define SENSOR_H 2048

static pv_scene *scene;
static double truth_x, truth_y;

static void fixed_position(void *ctx, int64_t t_ns, double *x, double *y) {
  (void)ctx;
  (void)t_ns;
  *x = truth_x;
  *y = truth_y;
}

static pv_gv_camera *start_camera(void) {
  pv_truth_source truth = {fixed_position, NULL};
  pv_sim_faults f;
  memset(&f, 0, sizeof f);
  pv_gv_camera *cam = NULL;
  pv_error err = {{0}};
  int rc = PV_EBUSY;
  /* another test's camera may still be on 127.0.0.1:3956 for a moment */
  for (int i = 0; i < 50 && rc == PV_EBUSY; i++) {
    rc = pv_gv_camera_start("127.0.0.1", "PVTEST01", scene, truth, &f, &cam, &err);
    if (rc == PV_EBUSY) pv_sleep_ns(200 * PV_NS_PER_MS);
  }
  if (rc != PV_OK) fail_msg("pv_gv_camera_start: %s", err.msg);
  return cam;
}

static int thread_count(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* Threads of this process named `name` (/proc/self/task/N/comm). */
static int threads_named(const char *name) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[300], comm[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue; /* the thread ended meanwhile */
    if (fgets(comm, sizeof comm, f) != NULL) comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
    n += strcmp(comm, name) == 0;
  }
  closedir(d);
  return n;
}

/* The thread count once threads of earlier tests (Aravis's client threads
 * winding down) are gone: the same count twice 50 ms apart, within 2 s. */
static int settled_thread_count(void) {
  int n = thread_count();
  for (int i = 0; i < 40; i++) {
    pv_sleep_ns(50 * PV_NS_PER_MS);
    int m = thread_count();
    if (m == n) break;
    n = m;
  }
  return n;
}

/* Mean absolute difference between the lumas of two frames. */
static double luma_mad(const uint8_t *a, const uint8_t *b, int w, int h, pv_pixfmt fmt) {
  pv_image la = {0}, lb = {0};
  assert_int_equal(pv_image_alloc(&la, w, h), PV_OK);
  assert_int_equal(pv_image_alloc(&lb, w, h), PV_OK);
  assert_int_equal(pv_frame_to_luma(a, w, h, w, fmt, &la), PV_OK);
  assert_int_equal(pv_frame_to_luma(b, w, h, w, fmt, &lb), PV_OK);
  double sum = 0;
  for (int i = 0; i < w * h; i++) sum += abs((int)la.data[i] - (int)lb.data[i]);
  pv_image_free(&la);
  pv_image_free(&lb);
  return sum / ((double)w * h);
}

/* Grabs `n` frames of region (x, y, w, h) in `fmt` and checks each against
 * the scene rendered at the truth position (the region's centre). */
static void grab_and_compare(int x, int y, int w, int h, ArvPixelFormat afmt, pv_pixfmt fmt,
                             int n) {
  GError *error = NULL;
  ArvCamera *camera = arv_camera_new("127.0.0.1", &error);
  if (camera == NULL) fail_msg("arv_camera_new: %s", error ? error->message : "?");
  arv_camera_set_pixel_format(camera, afmt, &error);
  assert_null(error);
  arv_camera_set_region(camera, x, y, w, h, &error);
  assert_null(error);
  ArvStream *stream = arv_camera_create_stream(camera, NULL, NULL, &error);
  if (stream == NULL) fail_msg("create_stream: %s", error ? error->message : "?");
  size_t payload = arv_camera_get_payload(camera, &error);
  assert_int_equal(payload, (size_t)w * h);
  for (int i = 0; i < 3; i++) arv_stream_push_buffer(stream, arv_buffer_new(payload, NULL));
  arv_camera_start_acquisition(camera, &error);
  assert_null(error);

  double um = pv_scene_params(scene)->um_per_px;
  double cx = truth_x + (x + (w - 1) / 2.0 - (SENSOR_W - 1) / 2.0) * um;
  double cy = truth_y + (y + (h - 1) / 2.0 - (SENSOR_H - 1) / 2.0) * um;
  uint8_t *want = malloc((size_t)w * h), *moved = malloc((size_t)w * h);
  assert_non_null(want);
  assert_non_null(moved);
  assert_int_equal(pv_scene_render(scene, cx, cy, 777, fmt, want, w, h, w), PV_OK);
  /* the same view 12 pixels off: the comparison must tell them apart */
  assert_int_equal(pv_scene_render(scene, cx + 12 * um, cy, 777, fmt, moved, w, h, w), PV_OK);
  int good = 0;
  for (int i = 0; i < n + 5 && good < n; i++) {
    ArvBuffer *b = arv_stream_timeout_pop_buffer(stream, 3000000);
    assert_non_null(b);
    if (arv_buffer_get_status(b) == ARV_BUFFER_STATUS_SUCCESS) {
      assert_int_equal(arv_buffer_get_image_width(b), w);
      assert_int_equal(arv_buffer_get_image_height(b), h);
      assert_int_equal(arv_buffer_get_image_pixel_format(b), afmt);
      size_t size = 0;
      const uint8_t *data = arv_buffer_get_data(b, &size);
      assert_int_equal(size, (size_t)w * h);
      double same = luma_mad(data, want, w, h, fmt);
      double off = luma_mad(data, moved, w, h, fmt);
      print_message("frame %d: %dx%d%+d%+d mad %.2f (12 px off: %.2f)\n", good, w, h, x, y,
                    same, off);
      assert_true(same < 5.0); /* noise only: sigma 3 per frame, MAD of a difference ~3.4 */
      assert_true(off > 2 * same);
      good++;
    }
    arv_stream_push_buffer(stream, b);
  }
  assert_int_equal(good, n);
  arv_camera_stop_acquisition(camera, NULL);
  g_object_unref(stream);
  g_object_unref(camera);
  free(want);
  free(moved);
}

static void bayer_full_sensor_shows_the_scene(void **state) {
  (void)state;
  pv_gv_camera *cam = start_camera();
  grab_and_compare(0, 0, SENSOR_W, SENSOR_H, ARV_PIXEL_FORMAT_BAYER_BG_8, PV_PIXFMT_BAYER_BG8, 2);
  pv_gv_camera_stop(cam);
}

static void mono_region_is_the_window_of_the_sensor(void **state) {
  (void)state;
  pv_gv_camera *cam = start_camera();
  grab_and_compare(512, 640, 640, 480, ARV_PIXEL_FORMAT_MONO_8, PV_PIXFMT_MONO8, 2);
  grab_and_compare(0, 0, 512, 512, ARV_PIXEL_FORMAT_BAYER_RG_8, PV_PIXFMT_BAYER_RG8, 1);
  pv_gv_camera_stop(cam);
}

static void stop_leaves_no_thread(void **state) {
  (void)state;
  int before = settled_thread_count();
  pv_gv_camera *cam = start_camera();
  grab_and_compare(896, 896, 256, 256, ARV_PIXEL_FORMAT_MONO_8, PV_PIXFMT_MONO8, 1);
  assert_int_equal(threads_named("gvcp"), 1); /* the camera's own threads, named */
  assert_int_equal(threads_named("gvstream"), 1);
  pv_gv_camera_stop(cam);
  pv_gv_camera_stop(NULL);
  assert_int_equal(threads_named("gvcp"), 0); /* joined by stop */
  assert_int_equal(threads_named("gvstream"), 0);
  int after = thread_count();
  for (int i = 0; i < 40 && after > before; i++) { /* client threads wind down */
    pv_sleep_ns(50 * PV_NS_PER_MS);
    after = thread_count();
  }
  assert_int_equal(after, before);
}

static void refuses_a_foreign_address(void **state) {
  (void)state;
  pv_truth_source truth = {fixed_position, NULL};
  pv_gv_camera *cam = (pv_gv_camera *)&cam;
  pv_error err = {{0}};
  int rc = pv_gv_camera_start("203.0.113.7", NULL, scene, truth, NULL, &cam, &err);
  assert_true(rc < 0);
  assert_null(cam);
  assert_non_null(strstr(err.msg, "203.0.113.7"));
  assert_int_equal(rc, PV_EIO);
}

static int setup(void **state) {
  (void)state;
  pv_log_set_level(PV_LOG_WARN);
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  if (pv_scene_create(&p, &scene) != PV_OK) return -1;
  pv_scene_die_mark(scene, 13, &truth_x, &truth_y);
  truth_x += 3.3; /* not on a pixel grid */
  truth_y -= 7.1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  pv_scene_destroy(scene);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bayer_full_sensor_shows_the_scene),
      cmocka_unit_test(mono_region_is_the_window_of_the_sensor),
      cmocka_unit_test(stop_leaves_no_thread),
      cmocka_unit_test(refuses_a_foreign_address),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
#endif
