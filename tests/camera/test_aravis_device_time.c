/* camera/aravis: device timestamps end to end. The aravis driver, under the
 * camera worker, against probevision's simulated GigE Vision camera (in
 * process, on 127.0.0.1 of a private network namespace: run through
 * tests/netns-run): the camera has a timestamp latch, so every frame's time
 * is DEVICE, and each frame's exposure_ns (the device timestamp mapped to
 * the host clock through bracketed latches) is never later than the true
 * exposure start the simulator logs for that block id, also when the
 * camera sends its leaders long after the exposure (leader-delay) and holds
 * frames back (queue), where the reception time says little. */
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
#include "probevision/scene.h"
#include "probevision/sim.h"

#define FRAMES 24
#define TRUTH_MAX 4096

static pv_scene *scene;
static double truth_x, truth_y;

static void fixed_position(void *ctx, int64_t t_ns, double *x, double *y) {
  (void)ctx;
  (void)t_ns;
  *x = truth_x;
  *y = truth_y;
}

typedef struct seen {
  uint64_t frame_id;
  int64_t exposure_ns;
  pv_frame_time time;
} seen;

/* exposure_start_ns of block `id` in the truth log; -1 when absent */
static int64_t truth_start(const char *path, uint64_t id) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  int64_t found = -1;
  assert_non_null(fgets(line, sizeof line, f)); /* header */
  assert_non_null(strstr(line, "block_id,exposure_start_ns"));
  while (fgets(line, sizeof line, f)) {
    unsigned long long bid = 0;
    long long start = 0;
    if (sscanf(line, "%llu,%lld,", &bid, &start) == 2 && bid == id) found = start;
  }
  fclose(f);
  return found;
}

/* Streams FRAMES frames through the aravis driver in continuous mode from a
 * simulated camera with `faults`, then checks them against the truth log. */
static void frames_are_never_late(const pv_sim_faults *faults) {
  char log[] = "/tmp/pv-aravis-truth-XXXXXX";
  int fd = mkstemp(log);
  assert_true(fd >= 0);
  close(fd);
  pv_gv_camera_options o = {.truth_log = log};
  pv_truth_source truth = {fixed_position, NULL};
  pv_gv_camera *gv = NULL;
  pv_error err = {{0}};
  int rc = PV_EBUSY;
  for (int i = 0; i < 50 && rc == PV_EBUSY; i++) { /* a previous camera may linger */
    rc = pv_gv_camera_start_opts("127.0.0.1", "PVTIME01", scene, truth, faults, &o, &gv, &err);
    if (rc == PV_EBUSY) pv_sleep_ns(200 * PV_NS_PER_MS);
  }
  if (rc != PV_OK) fail_msg("pv_gv_camera_start_opts: %s", err.msg);

  pv_aravis_camera_params ap;
  pv_aravis_camera_params_default(&ap);
  snprintf(ap.device, sizeof ap.device, "127.0.0.1");
  ap.width = ap.height = 512;
  ap.format = PV_PIXFMT_MONO8;
  ap.fps = 25;
  const pv_camera_driver *drv = NULL;
  void *self = NULL;
  assert_int_equal(pv_aravis_camera_new(&ap, &drv, &self, &err), PV_OK);
  pv_camera_params cp;
  pv_camera_params_default(&cp);
  cp.acquisition = PV_ACQUISITION_CONTINUOUS;
  cp.grab_timeout_ms = 2000;
  pv_camera *cam = NULL;
  if (pv_camera_create(drv, self, &cp, &cam, &err) != PV_OK) fail_msg("open: %s", err.msg);
  pv_camera_info info;
  pv_camera_get_info(cam, &info);
  assert_int_equal(info.acquisition, PV_ACQUISITION_CONTINUOUS);
  assert_int_equal(info.time, PV_FRAME_TIME_DEVICE);
  assert_true(info.can_trigger);

  seen s[FRAMES];
  int64_t last = 0;
  for (int i = 0; i < FRAMES; i++) {
    pv_lease l;
    assert_int_equal(pv_camera_frame_after(cam, last, 10000, &l), PV_OK);
    s[i] = (seen){l.frame->frame_id, l.frame->exposure_ns, l.frame->time};
    last = l.frame->exposure_ns;
    assert_int_equal(pv_lease_release(&l), PV_OK);
  }
  pv_camera_destroy(cam);
  pv_gv_camera_stop(gv); /* closes the truth log */

  for (int i = 0; i < FRAMES; i++) {
    assert_int_equal(s[i].time, PV_FRAME_TIME_DEVICE);
    int64_t t0 = truth_start(log, s[i].frame_id);
    if (t0 < 0) fail_msg("frame %llu is not in the truth log", (unsigned long long)s[i].frame_id);
    if (s[i].exposure_ns > t0)
      fail_msg("frame %llu: exposure_ns %lld is %lld ns later than the truth",
               (unsigned long long)s[i].frame_id, (long long)s[i].exposure_ns,
               (long long)(s[i].exposure_ns - t0));
    /* and not absurdly early: within the mapping's largest bound */
    assert_true(t0 - s[i].exposure_ns <= PV_NS_PER_S / 50);
  }
  unlink(log);
}

static void device_times_are_early_on_a_clean_link(void **state) {
  (void)state;
  pv_sim_faults f;
  memset(&f, 0, sizeof f);
  frames_are_never_late(&f);
}

static void device_times_are_early_with_late_leaders_and_queued_frames(void **state) {
  (void)state;
  pv_sim_faults f;
  memset(&f, 0, sizeof f);
  f.leader_delay_ms = 200; /* far beyond the readout + transfer model */
  f.queue_frames = 3;
  f.seed = 11;
  frames_are_never_late(&f);
}

static int setup(void **state) {
  (void)state;
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  if (pv_scene_create(&p, &scene) != PV_OK) return -1;
  pv_scene_die_mark(scene, 13, &truth_x, &truth_y);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  pv_scene_destroy(scene);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(device_times_are_early_on_a_clean_link),
      cmocka_unit_test(device_times_are_early_with_late_leaders_and_queued_frames),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
