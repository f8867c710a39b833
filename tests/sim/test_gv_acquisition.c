/* sim: the GigE Vision camera's acquisition, seen through Aravis's client:
 * AcquisitionFrameRate is honoured (never faster than the rate; a faster
 * rate gives more frames), SingleFrame gives exactly 1 frame and MultiFrame
 * exactly AcquisitionFrameCount, software trigger gives exactly one frame
 * per TriggerSoftware and none without one. Runs in a private network
 * namespace (tests/netns-run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gv_client.h"
#include "scene_fixture.h"


static void still(void *ctx, int64_t t_ns, double *x, double *y) {
  (void)ctx;
  (void)t_ns;
  *x = 1000;
  *y = 1000;
}

/* Frames arriving within `ms` after the start at `fps`; their device
 * timestamps in ts[] (at most max). */
static int count_frames(gv_client *c, double fps, int ms, uint64_t *ts, int max) {
  GError *error = NULL;
  arv_camera_set_acquisition_mode(c->camera, ARV_ACQUISITION_MODE_CONTINUOUS, &error);
  gvc_check(&error, "AcquisitionMode");
  arv_camera_set_frame_rate(c->camera, fps, &error);
  gvc_check(&error, "AcquisitionFrameRate");
  gvc_start(c);
  int64_t end = pv_now_ns() + (int64_t)ms * PV_NS_PER_MS;
  int n = 0;
  for (ArvBuffer *b; (b = gvc_pop(c, (int)((end - pv_now_ns()) / PV_NS_PER_MS))) != NULL;) {
    if (n < max) ts[n] = arv_buffer_get_timestamp(b);
    n++;
  }
  gvc_stop(c);
  return n;
}

static void frame_rate_is_honoured(void **state) {
  (void)state;
  gv_client c;
  gvc_open(&c, scene, (pv_truth_source){still, NULL});
  uint64_t ts[64];
  int slow = count_frames(&c, 4.0, 1500, ts, 64);
  for (int i = 1; i < slow && i < 64; i++) /* never faster than 4 Hz */
    assert_true(ts[i] - ts[i - 1] >= 249 * PV_NS_PER_MS);
  int fast = count_frames(&c, 40.0, 1500, ts, 64);
  print_message("4 Hz: %d frames, 40 Hz: %d frames in 1.5 s\n", slow, fast);
  assert_true(slow >= 3 && slow <= 7); /* 1.5 s at 4 Hz: 6 or 7 at most */
  assert_true(fast <= 61);
  assert_true(fast > 2 * slow);
  gvc_close(&c);
}

static void single_and_multi_frame_give_exactly_their_count(void **state) {
  (void)state;
  gv_client c;
  GError *error = NULL;
  gvc_open(&c, scene, (pv_truth_source){still, NULL});
  arv_camera_set_frame_rate(c.camera, 50.0, &error);
  gvc_check(&error, "AcquisitionFrameRate");
  arv_camera_set_acquisition_mode(c.camera, ARV_ACQUISITION_MODE_SINGLE_FRAME, &error);
  gvc_check(&error, "SingleFrame");
  gvc_start(&c);
  assert_non_null(gvc_pop(&c, 3000));
  assert_null(gvc_pop(&c, 600)); /* 30 frame periods: nothing more */
  gvc_stop(&c);
  arv_camera_set_acquisition_mode(c.camera, ARV_ACQUISITION_MODE_MULTI_FRAME, &error);
  gvc_check(&error, "MultiFrame");
  arv_camera_set_integer(c.camera, "AcquisitionFrameCount", 5, &error);
  gvc_check(&error, "AcquisitionFrameCount");
  gvc_start(&c);
  int n = 0;
  while (gvc_pop(&c, n < 5 ? 3000 : 600) != NULL) n++;
  assert_int_equal(n, 5);
  gvc_stop(&c);
  gvc_close(&c);
}

static void software_trigger_gives_one_frame_per_command(void **state) {
  (void)state;
  gv_client c;
  GError *error = NULL;
  gvc_open(&c, scene, (pv_truth_source){still, NULL});
  assert_true(arv_camera_is_software_trigger_supported(c.camera, &error));
  arv_camera_set_acquisition_mode(c.camera, ARV_ACQUISITION_MODE_CONTINUOUS, &error);
  arv_camera_set_trigger(c.camera, "Software", &error);
  gvc_check(&error, "TriggerMode On, TriggerSource Software");
  gvc_start(&c);
  assert_null(gvc_pop(&c, 800)); /* no trigger, no frame */
  guint64 last_id = 0;
  for (int i = 0; i < 5; i++) {
    arv_camera_software_trigger(c.camera, &error);
    gvc_check(&error, "TriggerSoftware");
    ArvBuffer *b = gvc_pop(&c, 3000);
    assert_non_null(b);
    guint64 id = arv_buffer_get_frame_id(b);
    if (i > 0) assert_int_equal(id, last_id + 1);
    last_id = id;
    assert_null(gvc_pop(&c, 300)); /* exactly one */
  }
  /* two triggers in a row: two frames */
  arv_camera_software_trigger(c.camera, &error);
  arv_camera_software_trigger(c.camera, &error);
  gvc_check(&error, "TriggerSoftware");
  assert_non_null(gvc_pop(&c, 3000));
  assert_non_null(gvc_pop(&c, 3000));
  assert_null(gvc_pop(&c, 300));
  gvc_stop(&c);
  gvc_close(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(frame_rate_is_honoured),
      cmocka_unit_test(single_and_multi_frame_give_exactly_their_count),
      cmocka_unit_test(software_trigger_gives_one_frame_per_command),
  };
  return cmocka_run_group_tests(tests, scene_setup, scene_teardown);
}
