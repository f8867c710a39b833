/* sim: the GigE Vision camera's timing faults and truth log, seen through
 * Aravis's client: leader-delay:MS makes every frame arrive at least MS ms
 * after its exposure ended; queue:N makes frames arrive N at a time (the
 * first of a bunch only after the N-th was exposed); the truth log has one
 * line per frame sent whose block id, exposure start and device timestamp
 * are the frame's. Runs in a private network namespace (tests/netns-run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <unistd.h>

#include "gv_client.h"
#include "scene_fixture.h"


static void still(void *ctx, int64_t t_ns, double *x, double *y) {
  (void)ctx;
  (void)t_ns;
  *x = 2000;
  *y = 1500;
}

static void leader_delay_holds_every_frame_back(void **state) {
  (void)state;
  pv_sim_faults f = {.leader_delay_ms = 300};
  gv_client c;
  GError *error = NULL;
  gvc_open_opts(&c, scene, (pv_truth_source){still, NULL}, &f, NULL);
  int64_t off = pv_gv_camera_clock_offset_ns(c.cam);
  arv_camera_set_trigger(c.camera, "Software", &error);
  gvc_check(&error, "trigger");
  gvc_start(&c);
  for (int i = 0; i < 3; i++) {
    arv_camera_software_trigger(c.camera, &error);
    gvc_check(&error, "TriggerSoftware");
    ArvBuffer *b = gvc_pop(&c, 3000);
    int64_t arrived = pv_now_ns();
    assert_non_null(b);
    int64_t t1 = (int64_t)arv_buffer_get_timestamp(b) - off + PV_NS_PER_MS; /* 1 ms exposure */
    print_message("frame %d arrived %.1f ms after its exposure ended\n", i, (arrived - t1) / 1e6);
    assert_true(arrived >= t1 + 300 * PV_NS_PER_MS);
  }
  gvc_stop(&c);
  gvc_close(&c);
}

static void queue_sends_frames_in_bunches(void **state) {
  (void)state;
  pv_sim_faults f = {.queue_frames = 3};
  gv_client c;
  GError *error = NULL;
  gvc_open_opts(&c, scene, (pv_truth_source){still, NULL}, &f, NULL);
  int64_t off = pv_gv_camera_clock_offset_ns(c.cam);
  arv_camera_set_frame_rate(c.camera, 10.0, &error);
  gvc_check(&error, "AcquisitionFrameRate");
  gvc_start(&c);
  int64_t arrived[6], t0[6];
  for (int i = 0; i < 6; i++) {
    ArvBuffer *b = gvc_pop(&c, 3000);
    assert_non_null(b);
    arrived[i] = pv_now_ns();
    t0[i] = (int64_t)arv_buffer_get_timestamp(b) - off;
  }
  gvc_stop(&c);
  for (int i = 0; i < 6; i++) {
    int last_of_bunch = i / 3 * 3 + 2;
    print_message("frame %d: exposed at %.1f ms, arrived at %.1f ms\n", i,
                  (t0[i] - t0[0]) / 1e6, (arrived[i] - t0[0]) / 1e6);
    assert_true(arrived[i] >= t0[last_of_bunch]); /* held until the bunch was full */
  }
  gvc_close(&c);
}

static void truth_log_has_a_line_per_frame_sent(void **state) {
  (void)state;
  char path[] = "/tmp/pv-truth-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  pv_gv_camera_options o = {.truth_log = path};
  gv_client c;
  GError *error = NULL;
  gvc_open_opts(&c, scene, (pv_truth_source){still, NULL}, NULL, &o);
  int64_t off = pv_gv_camera_clock_offset_ns(c.cam);
  arv_camera_set_acquisition_mode(c.camera, ARV_ACQUISITION_MODE_MULTI_FRAME, &error);
  arv_camera_set_integer(c.camera, "AcquisitionFrameCount", 4, &error);
  gvc_check(&error, "MultiFrame 4");
  gvc_start(&c);
  guint64 id[4];
  guint64 ts[4];
  for (int i = 0; i < 4; i++) {
    ArvBuffer *b = gvc_pop(&c, 3000);
    assert_non_null(b);
    id[i] = arv_buffer_get_frame_id(b);
    ts[i] = arv_buffer_get_timestamp(b);
  }
  gvc_stop(&c);
  gvc_close(&c); /* closes the log */
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  char line[256];
  assert_non_null(fgets(line, sizeof line, in));
  assert_string_equal(line,
                      "block_id,exposure_start_ns,exposure_end_ns,device_timestamp,x_um,y_um,"
                      "settled\n");
  for (int i = 0; i < 4; i++) {
    unsigned block;
    long long start, end;
    unsigned long long dev;
    double x, y;
    int settled;
    assert_non_null(fgets(line, sizeof line, in));
    assert_int_equal(sscanf(line, "%u,%lld,%lld,%llu,%lf,%lf,%d", &block, &start, &end, &dev, &x,
                            &y, &settled), 7);
    assert_int_equal(block, id[i]);
    assert_int_equal(dev, ts[i]);
    assert_int_equal(start, (long long)ts[i] - off);
    assert_int_equal(end - start, PV_NS_PER_MS);
    assert_true(x == 2000 && y == 1500 && settled == -1); /* no stage: unknown */
  }
  assert_null(fgets(line, sizeof line, in)); /* nothing else was sent */
  fclose(in);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(leader_delay_holds_every_frame_back),
      cmocka_unit_test(queue_sends_frames_in_bunches),
      cmocka_unit_test(truth_log_has_a_line_per_frame_sent),
  };
  return cmocka_run_group_tests(tests, scene_setup, scene_teardown);
}
