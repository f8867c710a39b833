/* camera/aravis: a wall-clock step never makes a reception-based frame time
 * late. The aravis driver (no worker: its entries called directly, as the
 * camera thread does) against Aravis's own fake GigE Vision camera, in this
 * process on 127.0.0.1 of a private network namespace (run through
 * tests/netns-run). That camera has no timestamp latch, so frame times are
 * estimated from Aravis's reception stamps (wall clock). This executable
 * interposes clock_gettime and gettimeofday (exported: GLib, Aravis and
 * probevision all see them) to step CLOCK_REALTIME of every thread but the
 * fake camera's at will; the monotonic clock is untouched. The fake camera's fill callback records when each
 * frame was made (pv_now_ns, the earliest its exposure could begin after).
 *
 * The danger: frames received before a backward step and popped after it
 * (they waited in Aravis's output queue) look younger than they are. Such
 * frames must come out UNCERTAIN; every other frame's exposure_ns must be
 * no later than its making.
 *
 * The estimate's model: the leader reaches Aravis's reception stamp within
 * the exposure plus camera.latency_us after the exposure began. Here the
 * camera is a thread of this process on a 2-core machine that runs other
 * test suites at the same time (ASan, TSan builds): a starved sender or
 * receiver thread can stamp a frame 15 ms after it was made. The test
 * therefore declares what a user of such a camera declares, a latency of
 * LOOPBACK_LATENCY_US, far below the steps it checks (150 ms, 1 h, 5 s). A
 * late frame is recorded and the test fails after the camera and driver
 * are closed (a failure in the middle would leave the fake camera holding
 * port 3956 for the next case). */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <cmocka.h>

#include <arv.h>

#include "probevision/camera.h"

/* ---- the stepped wall clock ------------------------------------------- */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
static _Atomic(clock_gettime_fn) real_clock_gettime;
static atomic_llong wall_offset_ns;
/* Set on the fake camera's thread (it fills the frames and answers GVCP):
 * the camera is another machine, whose clock the step does not move (its
 * heartbeat check runs on the wall clock). */
static _Thread_local int camera_thread;

int clock_gettime(clockid_t id, struct timespec *ts) {
  clock_gettime_fn f = atomic_load(&real_clock_gettime);
  if (f == NULL) {
    f = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    atomic_store(&real_clock_gettime, f);
  }
  int rc = f(id, ts);
  if (rc != 0 || (id != CLOCK_REALTIME && id != CLOCK_REALTIME_COARSE) || camera_thread) return rc;
  long long t = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + atomic_load(&wall_offset_ns);
  ts->tv_sec = (time_t)(t / 1000000000LL);
  ts->tv_nsec = (long)(t % 1000000000LL);
  return 0;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  (void)tz;
  struct timespec ts;
  int rc = clock_gettime(CLOCK_REALTIME, &ts);
  if (rc == 0) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return rc;
}

/* ---- the fake camera and when it made each frame ------------------------ */

#define LOOPBACK_LATENCY_US 40000

#define MADE_RING 65536 /* by 16-bit GigE block id */
static atomic_llong made_ns[MADE_RING];

static void fill(ArvBuffer *buffer, void *data, guint32 exposure_us, guint32 gain,
                 ArvPixelFormat format) {
  (void)data;
  (void)exposure_us;
  (void)gain;
  (void)format;
  camera_thread = 1;
  atomic_store(&made_ns[arv_buffer_get_frame_id(buffer) % MADE_RING], pv_now_ns());
}

static ArvGvFakeCamera *start_fake(void) {
  ArvGvFakeCamera *gv = NULL;
  for (int i = 0; i < 50 && gv == NULL; i++) { /* a previous camera may linger */
    gv = arv_gv_fake_camera_new_full("127.0.0.1", "PVWALL01", NULL);
    if (gv && !arv_gv_fake_camera_is_running(gv)) {
      g_object_unref(gv);
      gv = NULL;
      pv_sleep_ns(200 * PV_NS_PER_MS);
    }
  }
  assert_non_null(gv);
  arv_fake_camera_set_fill_pattern(arv_gv_fake_camera_get_fake_camera(gv), fill, NULL);
  return gv;
}

typedef struct grabbed {
  uint64_t frame_id;
  int64_t exposure_ns;
  pv_frame_time time;
} grabbed;

static int grab(const pv_camera_driver *drv, void *self, pv_frame *f, grabbed *out) {
  int rc = drv->grab(self, f, 2000);
  if (rc == PV_OK) *out = (grabbed){f->frame_id, f->exposure_ns, f->time};
  return rc;
}

/* Frames that are not UNCERTAIN were not exposed before they were made;
 * returns 1 (and says which) for one that was. */
static int late(const grabbed *g) {
  int64_t made = atomic_load(&made_ns[g->frame_id % MADE_RING]);
  if (g->time == PV_FRAME_TIME_UNCERTAIN || made == 0) return 0;
  if (g->exposure_ns <= made) return 0;
  print_error("frame %llu (%s): exposure_ns is %lld us after the frame was made\n",
              (unsigned long long)g->frame_id, pv_frame_time_name(g->time),
              (long long)(g->exposure_ns - made) / 1000);
  return 1;
}

/* Streams, lets frames pile up in Aravis's output queue, steps the wall
 * clock by `step_ns`, then pops them all. */
static void queued_frames_across_a_step(int64_t step_ns, int expect_uncertain) {
  atomic_store(&wall_offset_ns, 0); /* no camera yet: nobody sees this */
  ArvGvFakeCamera *gv = start_fake();
  pv_aravis_camera_params ap;
  pv_aravis_camera_params_default(&ap);
  snprintf(ap.device, sizeof ap.device, "127.0.0.1");
  ap.width = ap.height = 256;
  ap.format = PV_PIXFMT_MONO8;
  ap.fps = 25;
  ap.buffers = 12;
  ap.latency_us = LOOPBACK_LATENCY_US;
  const pv_camera_driver *drv = NULL;
  void *self = NULL;
  pv_error err = {{0}};
  assert_int_equal(pv_aravis_camera_new(&ap, &drv, &self, &err), PV_OK);
  pv_camera_info info = {.acquisition = PV_ACQUISITION_CONTINUOUS};
  if (drv->open(self, &info, &err) != PV_OK) {
    drv->destroy(self);
    g_object_unref(gv); /* before failing: the next case needs the port */
    fail_msg("open: %s", err.msg);
  }
  assert_int_equal(info.time, PV_FRAME_TIME_ESTIMATE); /* no latch on this camera */
  pv_frame f = {0};
  f.capacity = info.payload;
  f.data = malloc(f.capacity);
  assert_non_null(f.data);
  assert_int_equal(drv->start(self), PV_OK);

  grabbed g;
  int n_late = 0, first_estimates = 0, grabs = 0;
  for (int i = 0; i < 5; i++) { /* popped at once: estimates, early */
    if (grab(drv, self, &f, &g) != PV_OK) continue;
    grabs++;
    first_estimates += g.time == PV_FRAME_TIME_ESTIMATE;
    n_late += late(&g);
  }
  pv_sleep_ns(300 * PV_NS_PER_MS); /* ~7 frames wait in the output queue */
  atomic_fetch_add(&wall_offset_ns, step_ns);
  int uncertain = 0, estimate_after = 0;
  for (int i = 0; i < 20; i++) {
    if (grab(drv, self, &f, &g) != PV_OK) continue;
    grabs++;
    n_late += late(&g);
    if (g.time == PV_FRAME_TIME_UNCERTAIN) uncertain++;
    else if (uncertain > 0 || !expect_uncertain) estimate_after++;
  }

  drv->stop(self);
  drv->close(self);
  drv->destroy(self);
  free(f.data);
  arv_fake_camera_set_fill_pattern(arv_gv_fake_camera_get_fake_camera(gv), NULL, NULL);
  g_object_unref(gv);

  assert_int_equal(grabs, 25);
  assert_int_equal(first_estimates, 5);
  assert_int_equal(n_late, 0);
  if (expect_uncertain) assert_true(uncertain >= 1);
  assert_true(uncertain <= ap.buffers + 3); /* only the frames at risk */
  assert_true(estimate_after >= 5);         /* the stream is usable again */
}

static void backward_step_makes_queued_frames_uncertain(void **state) {
  (void)state;
  queued_frames_across_a_step(-150 * PV_NS_PER_MS, 1);
}

static void large_backward_step_makes_queued_frames_uncertain(void **state) {
  (void)state;
  queued_frames_across_a_step(-3600 * PV_NS_PER_S, 1);
}

static void forward_step_keeps_frames_early(void **state) {
  (void)state;
  queued_frames_across_a_step(5 * PV_NS_PER_S, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(backward_step_makes_queued_frames_uncertain),
      cmocka_unit_test(large_backward_step_makes_queued_frames_uncertain),
      cmocka_unit_test(forward_step_keeps_frames_early),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
