/* tests/sim: helpers of the GigE Vision camera tests that go through Aravis's
 * client (test_gv_acquisition.c, test_gv_timestamps.c, test_gv_faults.c): a
 * camera on 127.0.0.1 (the tests run in a private network namespace, tests/netns-run)
 * over a scene and a truth source the test controls, and an Aravis client
 * with a small Mono8 region centred on the sensor (its view is centred on
 * the truth position). Static inline functions: each test includes it once. */
#ifndef PV_TESTS_SIM_GV_CLIENT_H
#define PV_TESTS_SIM_GV_CLIENT_H

#include <arv.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/scene.h"
#include "probevision/sim.h"

#define GVC_SENSOR_W 2448
#define GVC_SENSOR_H 2048
#define GVC_W 256
#define GVC_H 256
#define GVC_X ((GVC_SENSOR_W - GVC_W) / 2) /* region centre = sensor centre */
#define GVC_Y ((GVC_SENSOR_H - GVC_H) / 2)

typedef struct gv_client {
  pv_gv_camera *cam;
  ArvCamera *camera;
  ArvStream *stream;
} gv_client;

static inline void gvc_check(GError **error, const char *what) {
  if (*error) fail_msg("%s: %s", what, (*error)->message);
}

/* Starts the camera (faults and opts may be NULL) and opens a client on it
 * (region GVC_*, Mono8, exposure 1 ms). */
static inline void gvc_open_opts(gv_client *c, const pv_scene *scene, pv_truth_source truth,
                          const pv_sim_faults *faults, const pv_gv_camera_options *opts) {
  pv_error err = {{0}};
  memset(c, 0, sizeof *c);
  if (pv_gv_camera_start_opts("127.0.0.1", "PVTEST02", scene, truth, faults, opts, &c->cam,
                              &err) != PV_OK)
    fail_msg("pv_gv_camera_start: %s", err.msg);
  GError *error = NULL;
  c->camera = arv_camera_new("127.0.0.1", &error);
  gvc_check(&error, "arv_camera_new");
  arv_camera_set_pixel_format(c->camera, ARV_PIXEL_FORMAT_MONO_8, &error);
  gvc_check(&error, "PixelFormat");
  arv_camera_set_region(c->camera, GVC_X, GVC_Y, GVC_W, GVC_H, &error);
  gvc_check(&error, "region");
  arv_camera_set_exposure_time(c->camera, 1000, &error);
  gvc_check(&error, "ExposureTime");
}

static inline void gvc_open(gv_client *c, const pv_scene *scene, pv_truth_source truth) {
  gvc_open_opts(c, scene, truth, NULL, NULL);
}

/* A stream with 8 buffers (before each acquisition). */
static inline void gvc_stream(gv_client *c) {
  GError *error = NULL;
  if (c->stream) g_object_unref(c->stream);
  c->stream = arv_camera_create_stream(c->camera, NULL, NULL, &error);
  gvc_check(&error, "create_stream");
  size_t payload = arv_camera_get_payload(c->camera, &error);
  gvc_check(&error, "PayloadSize");
  for (int i = 0; i < 8; i++) arv_stream_push_buffer(c->stream, arv_buffer_new(payload, NULL));
}

static inline void gvc_start(gv_client *c) {
  GError *error = NULL;
  gvc_stream(c);
  arv_camera_start_acquisition(c->camera, &error);
  gvc_check(&error, "AcquisitionStart");
}

static inline void gvc_stop(gv_client *c) {
  arv_camera_stop_acquisition(c->camera, NULL);
}

/* The next complete frame within timeout_ms (the buffer goes back to the
 * stream; its data stays readable until the stream refills it), or NULL. */
static inline ArvBuffer *gvc_pop(gv_client *c, int timeout_ms) {
  int64_t end = pv_now_ns() + (int64_t)timeout_ms * PV_NS_PER_MS;
  for (;;) {
    int64_t left = end - pv_now_ns();
    if (left <= 0) return NULL;
    ArvBuffer *b = arv_stream_timeout_pop_buffer(c->stream, (guint64)(left / 1000));
    if (b == NULL) return NULL;
    arv_stream_push_buffer(c->stream, b);
    if (arv_buffer_get_status(b) == ARV_BUFFER_STATUS_SUCCESS) return b;
  }
}

static inline void gvc_close(gv_client *c) {
  if (c->stream) g_object_unref(c->stream);
  if (c->camera) g_object_unref(c->camera);
  pv_gv_camera_stop(c->cam);
  memset(c, 0, sizeof *c);
}

#endif
