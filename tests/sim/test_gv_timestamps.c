/* sim: the GigE Vision camera's device clock, seen through Aravis's client:
 * successive frames' timestamps differ by the frame period; a latched
 * timestamp (GevTimestampControlLatch / TimestampLatch) lies between two
 * host readings mapped through the device's clock offset; a frame exposed
 * across a stage move is delivered (not dropped), shows the position at its
 * exposure start, and its timestamp says when that was. Runs in a private
 * network namespace (tests/netns-run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gv_client.h"
#include "probevision/image.h"
#include "scene_fixture.h"

static double mark_x, mark_y;

/* The stage sits at the mark until `move_at` (0: never), then 40 um right. */
static _Atomic int64_t move_at;

static void stage(void *ctx, int64_t t_ns, double *x, double *y) {
  (void)ctx;
  int64_t m = move_at;
  *x = mark_x + (m != 0 && t_ns >= m ? 40.0 : 0.0);
  *y = mark_y;
}

static void successive_frames_are_one_period_apart(void **state) {
  (void)state;
  gv_client c;
  GError *error = NULL;
  move_at = 0;
  gvc_open(&c, scene, (pv_truth_source){stage, NULL});
  arv_camera_set_frame_rate(c.camera, 10.0, &error);
  gvc_check(&error, "AcquisitionFrameRate");
  gvc_start(&c);
  uint64_t ts[6];
  for (int i = 0; i < 6; i++) {
    ArvBuffer *b = gvc_pop(&c, 3000);
    assert_non_null(b);
    ts[i] = arv_buffer_get_timestamp(b);
  }
  gvc_stop(&c);
  int exact = 0;
  for (int i = 1; i < 6; i++) {
    int64_t d = (int64_t)(ts[i] - ts[i - 1]);
    print_message("frame %d: %.3f ms after the previous\n", i, d / 1e6);
    assert_true(d >= 100 * PV_NS_PER_MS - 1000);           /* never early */
    exact += d <= 100 * PV_NS_PER_MS + 1000;                  /* on the schedule */
  }
  assert_true(exact >= 3); /* a loaded machine may push a start, not all */
  gvc_close(&c);
}

static void latched_timestamp_is_the_device_clock(void **state) {
  (void)state;
  gv_client c;
  GError *error = NULL;
  gvc_open(&c, scene, (pv_truth_source){stage, NULL});
  int64_t off = pv_gv_camera_clock_offset_ns(c.cam);
  assert_true(off >= 1000 * PV_NS_PER_S); /* not host time */
  assert_int_equal(arv_camera_get_integer(c.camera, "GevTimestampTickFrequency", &error),
                   1000000000);
  const char *latch[2] = {"GevTimestampControlLatch", "TimestampLatch"};
  const char *value[2] = {"GevTimestampValue", "TimestampLatchValue"};
  for (int i = 0; i < 2; i++) {
    int64_t h0 = pv_now_ns();
    arv_camera_execute_command(c.camera, latch[i], &error);
    gvc_check(&error, latch[i]);
    int64_t h1 = pv_now_ns();
    int64_t v = arv_camera_get_integer(c.camera, value[i], &error);
    gvc_check(&error, value[i]);
    print_message("%s: device %lld, host window [%lld, %lld] + offset\n", latch[i],
                  (long long)v, (long long)(h0 + off), (long long)(h1 + off));
    assert_true(v >= h0 + off && v <= h1 + off);
  }
  gvc_close(&c);
}

static double luma_mad(const uint8_t *a, const uint8_t *b, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += abs((int)a[i] - (int)b[i]);
  return s / n;
}

static void frame_across_a_move_is_delivered_with_its_time(void **state) {
  (void)state;
  gv_client c;
  GError *error = NULL;
  move_at = 0;
  gvc_open(&c, scene, (pv_truth_source){stage, NULL});
  int64_t off = pv_gv_camera_clock_offset_ns(c.cam);
  arv_camera_set_exposure_time(c.camera, 300000, &error); /* 300 ms */
  gvc_check(&error, "ExposureTime");
  arv_camera_set_trigger(c.camera, "Software", &error);
  gvc_check(&error, "trigger");
  gvc_start(&c);
  int64_t h0 = pv_now_ns();
  arv_camera_software_trigger(c.camera, &error);
  gvc_check(&error, "TriggerSoftware");
  int64_t h1 = pv_now_ns();
  move_at = h1 + 100 * PV_NS_PER_MS; /* the stage moves during the exposure */
  ArvBuffer *b = gvc_pop(&c, 5000);
  assert_non_null(b); /* delivered, not dropped */
  int64_t t0 = (int64_t)arv_buffer_get_timestamp(b) - off; /* exposure start, host clock */
  print_message("exposure start %.3f ms after the trigger was sent, move %.3f ms after\n",
                (t0 - h0) / 1e6, (move_at - h0) / 1e6);
  assert_true(t0 >= h0 && t0 <= h1); /* started when the command was processed */
  assert_true(t0 < move_at && t0 + 300 * PV_NS_PER_MS > move_at); /* across the move */
  size_t size = 0;
  const uint8_t *data = arv_buffer_get_data(b, &size);
  assert_int_equal(size, (size_t)GVC_W * GVC_H);
  uint8_t *before = malloc(GVC_W * GVC_H), *after = malloc(GVC_W * GVC_H);
  assert_non_null(before);
  assert_non_null(after);
  assert_int_equal(pv_scene_render(scene, mark_x, mark_y, 1, PV_PIXFMT_MONO8, before, GVC_W,
                                   GVC_H, GVC_W), PV_OK);
  assert_int_equal(pv_scene_render(scene, mark_x + 40, mark_y, 1, PV_PIXFMT_MONO8, after, GVC_W,
                                   GVC_H, GVC_W), PV_OK);
  double same = luma_mad(data, before, GVC_W * GVC_H), moved = luma_mad(data, after, GVC_W * GVC_H);
  print_message("MAD to the view at the start %.2f, after the move %.2f\n", same, moved);
  assert_true(same < 5.0 && moved > 2 * same); /* the position at the exposure start */
  free(before);
  free(after);
  gvc_stop(&c);
  gvc_close(&c);
}

static int setup(void **state) {
  if (scene_setup(state) != 0) return -1;
  pv_scene_die_mark(scene, 5, &mark_x, &mark_y);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(successive_frames_are_one_period_apart),
      cmocka_unit_test(latched_timestamp_is_the_device_clock),
      cmocka_unit_test(frame_across_a_move_is_delivered_with_its_time),
  };
  return cmocka_run_group_tests(tests, setup, scene_teardown);
}
