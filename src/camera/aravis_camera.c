/* The aravis camera driver: any GenICam camera (GigE Vision, USB3 Vision)
 * through Aravis 0.8.
 *
 * States: CLOSED -> open -> OPEN (camera, stream and `buffers` Aravis
 * buffers of the payload, all pushed into the stream) -> start -> ACQUIRING
 * -> stop -> OPEN -> close -> CLOSED. Every call comes from the worker's
 * camera thread; Aravis receives frames on its own stream thread and, for
 * GigE, watches the control channel on its heartbeat thread.
 *
 * Frame path (grab): pop a filled buffer (timeout -> PV_ETIMEDOUT), map its
 * status (aravis_convert.c: only SUCCESS is a good frame), copy the image
 * into the pool frame, push the buffer back: every buffer popped is pushed
 * back on every path, so the stream never runs dry because of us. Nothing
 * is allocated per frame: the buffers are made once per open, the exposure
 * time is read once at open (GenICam feature reads may allocate and talk to
 * the camera, so none happens per frame), the statistics info ids are
 * looked up at open.
 *
 * Control loss: the device's "control-lost" signal (emitted on an Aravis
 * thread) sets an atomic flag; the next grab returns PV_EDISCONNECTED and the
 * worker closes and reopens with backoff. A pop timeout is only ever a
 * timeout (no data), never an overflow; stream underruns (a frame arrived
 * but no buffer was free) are counted by Aravis and reported in the stats.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aravis_internal.h"

typedef struct aravis_camera {
  pv_aravis_camera_params p;
  ArvCamera *camera;
  ArvDevice *device;          /* borrowed from camera */
  ArvStream *stream;          /* owns the buffers */
  gulong lost_handler;
  atomic_int control_lost;    /* set by the "control-lost" handler */
  int acquiring;
  pv_camera_info info;
  int64_t exposure_ns;        /* read at open */
  int64_t latency_ns;         /* readout + transfer allowance */
  int info_missing_frames;    /* stream info ids, -1 when absent */
  int info_resent_packets;
} aravis_camera;

static void on_control_lost(ArvDevice *device, gpointer data) {
  (void)device;
  aravis_camera *c = data;
  atomic_store(&c->control_lost, 1);
}

/* Takes a GError: fills err with "aravis DEVICE: what: message", frees it. */
static int fail(aravis_camera *c, GError **e, int status, const char *what,
                pv_error *err) {
  const char *dev = c->p.device[0] ? c->p.device : "(first camera)";
  int rc = pv_error_set(err, status, "aravis %s: %s: %s", dev, what,
                        *e ? (*e)->message : "failed");
  g_clear_error(e);
  return rc;
}

/* Optional settings: a failure is logged, never fatal. */
static void warn_clear(aravis_camera *c, GError **e, const char *what) {
  if (*e == NULL) return;
  pv_warn("aravis %s: %s: %s", c->p.device, what, (*e)->message);
  g_clear_error(e);
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Region: requested size clamped to the sensor and the camera's bounds,
 * centred (offsets even, keeping the Bayer phase) or at (0, 0). */
static int set_region(aravis_camera *c, pv_error *err) {
  GError *e = NULL;
  int sw = 0, sh = 0, x, y, w, h;
  arv_camera_get_sensor_size(c->camera, &sw, &sh, &e);
  if (e) return fail(c, &e, PV_EFATAL, "reading the sensor size", err);
  arv_camera_get_region(c->camera, &x, &y, &w, &h, &e);
  if (e) return fail(c, &e, PV_EFATAL, "reading the region", err);
  if (c->p.width > 0) w = c->p.width;
  if (c->p.height > 0) h = c->p.height;
  int wmin = 1, wmax = sw, hmin = 1, hmax = sh;
  arv_camera_get_width_bounds(c->camera, &wmin, &wmax, &e);
  warn_clear(c, &e, "width bounds");
  arv_camera_get_height_bounds(c->camera, &hmin, &hmax, &e);
  warn_clear(c, &e, "height bounds");
  w = clamp_int(w, wmin, sw > 0 && sw < wmax ? sw : wmax);
  h = clamp_int(h, hmin, sh > 0 && sh < hmax ? sh : hmax);
  x = y = 0;
  gboolean offsets = arv_camera_is_region_offset_available(c->camera, &e);
  warn_clear(c, &e, "region offsets");
  if (offsets && c->p.centre && sw > w && sh > h) {
    x = ((sw - w) / 2) & ~1;
    y = ((sh - h) / 2) & ~1;
  }
  if (offsets) arv_camera_set_region(c->camera, x, y, w, h, &e);
  else arv_camera_set_region(c->camera, -1, -1, w, h, &e);
  if (e) return fail(c, &e, PV_EUNSUPPORTED, "setting the region", err);
  arv_camera_get_region(c->camera, &x, &y, &w, &h, &e);
  if (e) return fail(c, &e, PV_EFATAL, "reading the region back", err);
  if ((c->p.width > 0 && w != c->p.width) || (c->p.height > 0 && h != c->p.height))
    pv_warn("aravis %s: region %dx%d requested, camera uses %dx%d at (%d, %d)",
            c->p.device, c->p.width, c->p.height, w, h, x, y);
  c->info.width = w;
  c->info.height = h;
  return PV_OK;
}

/* Exposure, gain, frame rate, packet size: optional features. */
static void set_acquisition(aravis_camera *c) {
  GError *e = NULL;
  arv_camera_set_acquisition_mode(c->camera, ARV_ACQUISITION_MODE_CONTINUOUS, &e);
  warn_clear(c, &e, "continuous acquisition mode");
  c->exposure_ns = 0;
  if (arv_camera_is_exposure_time_available(c->camera, NULL)) {
    if (c->p.exposure_us > 0) {
      arv_camera_set_exposure_time(c->camera, c->p.exposure_us, &e);
      warn_clear(c, &e, "exposure time");
    }
    double us = arv_camera_get_exposure_time(c->camera, &e);
    warn_clear(c, &e, "reading the exposure time");
    c->exposure_ns = us > 0 ? (int64_t)(us * 1e3) : 0;
  }
  if (c->p.gain >= 0 && arv_camera_is_gain_available(c->camera, NULL)) {
    arv_camera_set_gain(c->camera, c->p.gain, &e);
    warn_clear(c, &e, "gain");
  }
  c->info.fps = 0;
  if (arv_camera_is_frame_rate_available(c->camera, NULL)) {
    if (c->p.fps > 0) {
      double lo = 0, hi = 0;
      arv_camera_get_frame_rate_bounds(c->camera, &lo, &hi, &e);
      warn_clear(c, &e, "frame rate bounds");
      double fps = c->p.fps;
      if (hi > lo) fps = fps < lo ? lo : fps > hi ? hi : fps;
      arv_camera_set_frame_rate(c->camera, fps, &e);
      warn_clear(c, &e, "frame rate");
    }
    c->info.fps = arv_camera_get_frame_rate(c->camera, &e);
    warn_clear(c, &e, "reading the frame rate");
  }
  if (arv_camera_is_gv_device(c->camera)) {
    if (c->p.packet_size > 0) arv_camera_gv_set_packet_size(c->camera, c->p.packet_size, &e);
    else arv_camera_gv_auto_packet_size(c->camera, &e);
    warn_clear(c, &e, "packet size");
  }
}

static void model_name(aravis_camera *c) {
  const char *v = arv_camera_get_vendor_name(c->camera, NULL);
  const char *m = arv_camera_get_model_name(c->camera, NULL);
  const char *s = arv_camera_get_device_serial_number(c->camera, NULL);
  snprintf(c->info.model, sizeof c->info.model, "%s %s %s", v ? v : "?", m ? m : "?",
           s ? s : "?");
}

static int find_info(ArvStream *s, const char *name) {
  guint n = arv_stream_get_n_infos(s);
  for (guint i = 0; i < n; i++) {
    const char *iname = arv_stream_get_info_name(s, i);
    if (iname && strcmp(iname, name) == 0 && arv_stream_get_info_type(s, i) == G_TYPE_UINT64)
      return (int)i;
  }
  return -1;
}

static void arv_close(void *self);

static int create_stream(aravis_camera *c, pv_error *err) {
  GError *e = NULL;
  c->stream = arv_camera_create_stream(c->camera, NULL, NULL, &e);
  if (c->stream == NULL) return fail(c, &e, PV_EFATAL, "creating the stream", err);
  for (int i = 0; i < c->p.buffers; i++) {
    ArvBuffer *b = arv_buffer_new_allocate(c->info.payload);
    if (b == NULL)
      return pv_error_set(err, PV_ENOMEM, "aravis %s: cannot allocate %d buffers of %zu bytes",
                          c->p.device, c->p.buffers, c->info.payload);
    arv_stream_push_buffer(c->stream, b); /* the stream owns it now */
  }
  c->info_missing_frames = find_info(c->stream, "n_missing_frames");
  c->info_resent_packets = find_info(c->stream, "n_resent_packets");
  return PV_OK;
}

static int arv_open(void *self, pv_camera_info *info, pv_error *err) {
  aravis_camera *c = self;
  arv_close(c);
  memset(&c->info, 0, sizeof c->info);
  GError *e = NULL;
  c->camera = arv_camera_new(c->p.device[0] ? c->p.device : NULL, &e);
  if (c->camera == NULL) return fail(c, &e, PV_EDISCONNECTED, "cannot open the camera", err);
  c->device = arv_camera_get_device(c->camera);
  atomic_store(&c->control_lost, 0);
  c->lost_handler = g_signal_connect(c->device, "control-lost", G_CALLBACK(on_control_lost), c);
  int rc = PV_OK;
  arv_camera_set_pixel_format(c->camera, pv__aravis_pixfmt_to_arv(c->p.format), &e);
  if (e) rc = fail(c, &e, PV_EUNSUPPORTED, "setting PixelFormat", err);
  if (rc == PV_OK) rc = set_region(c, err);
  if (rc == PV_OK) {
    set_acquisition(c);
    c->info.format = c->p.format;
    c->info.payload = arv_camera_get_payload(c->camera, &e);
    if (e) rc = fail(c, &e, PV_EFATAL, "reading the payload size", err);
    else if (c->info.payload < (size_t)c->info.width * (size_t)c->info.height)
      rc = pv_error_set(err, PV_EFATAL, "aravis %s: payload %zu bytes is less than %dx%d",
                        c->p.device, c->info.payload, c->info.width, c->info.height);
  }
  if (rc == PV_OK) {
    model_name(c);
    c->latency_ns = c->p.latency_us >= 0 ? (int64_t)c->p.latency_us * 1000
                                         : pv__aravis_latency_ns(c->info.payload);
    rc = create_stream(c, err);
  }
  if (rc != PV_OK) {
    arv_close(c);
    return rc;
  }
  c->info.acquisition = PV_ACQUISITION_CONTINUOUS;
  c->info.time = PV_FRAME_TIME_ESTIMATE;
  *info = c->info;
  pv_info("aravis: opened %s (%s): %dx%d %s, payload %zu bytes, %.1f fps, exposure %.0f us",
          c->info.model, c->p.device[0] ? c->p.device : "first found", c->info.width,
          c->info.height, pv_pixfmt_name(c->info.format), c->info.payload, c->info.fps,
          (double)c->exposure_ns / 1e3);
  return PV_OK;
}

static int arv_start(void *self) {
  aravis_camera *c = self;
  if (c->camera == NULL) return PV_EFATAL;
  /* frames left from before a stop go back to the input queue */
  for (ArvBuffer *b; (b = arv_stream_try_pop_buffer(c->stream)) != NULL;)
    arv_stream_push_buffer(c->stream, b);
  GError *e = NULL;
  arv_camera_start_acquisition(c->camera, &e);
  if (e) {
    pv_warn("aravis %s: start acquisition: %s", c->p.device, e->message);
    g_clear_error(&e);
    return PV_EDISCONNECTED;
  }
  c->acquiring = 1;
  return PV_OK;
}

static int arv_stop(void *self) {
  aravis_camera *c = self;
  if (c->camera == NULL || !c->acquiring) return PV_OK;
  c->acquiring = 0;
  if (atomic_load(&c->control_lost)) return PV_EDISCONNECTED; /* nobody to tell */
  GError *e = NULL;
  arv_camera_stop_acquisition(c->camera, &e);
  if (e) {
    pv_warn("aravis %s: stop acquisition: %s", c->p.device, e->message);
    g_clear_error(&e);
    return PV_EDISCONNECTED;
  }
  return PV_OK;
}

/* Copies a SUCCESS buffer into the pool frame. */
static int copy_frame(aravis_camera *c, ArvBuffer *b, pv_frame *into) {
  ArvBufferPayloadType pt = arv_buffer_get_payload_type(b);
  if (pt != ARV_BUFFER_PAYLOAD_TYPE_IMAGE && pt != ARV_BUFFER_PAYLOAD_TYPE_EXTENDED_CHUNK_DATA)
    return PV_EINCOMPLETE;
  int w = arv_buffer_get_image_width(b), h = arv_buffer_get_image_height(b);
  int fmt = pv__aravis_pixfmt_from_arv(arv_buffer_get_image_pixel_format(b));
  if (w != c->info.width || h != c->info.height || fmt != (int)c->info.format)
    return PV_EFATAL; /* the camera changed behind our back: reopen */
  size_t size = 0;
  const void *data = arv_buffer_get_image_data(b, &size);
  size_t need = (size_t)w * (size_t)h;
  if (data == NULL || size < need) return PV_EINCOMPLETE;
  if (need > into->capacity) return PV_EFATAL;
  memcpy(into->data, data, need);
  into->width = w;
  into->height = h;
  into->stride = w;
  into->format = (pv_pixfmt)fmt;
  into->size = need;
  into->exposure_ns = pv__aravis_exposure_start_ns(arv_buffer_get_system_timestamp(b),
                                                   pv_wall_ns(), pv_now_ns(), c->exposure_ns,
                                                   c->latency_ns);
  into->time = PV_FRAME_TIME_ESTIMATE;
  into->frame_id = arv_buffer_get_frame_id(b);
  into->trigger = 0;
  into->has_truth = 0;
  into->truth_x_um = into->truth_y_um = 0;
  return PV_OK;
}

static int arv_grab(void *self, pv_frame *into, int timeout_ms) {
  aravis_camera *c = self;
  if (c->stream == NULL || !c->acquiring) return PV_EFATAL;
  if (atomic_load(&c->control_lost)) return PV_EDISCONNECTED;
  ArvBuffer *b = arv_stream_timeout_pop_buffer(c->stream, (guint64)timeout_ms * 1000);
  if (b == NULL) return atomic_load(&c->control_lost) ? PV_EDISCONNECTED : PV_ETIMEDOUT;
  int rc = pv__aravis_status(arv_buffer_get_status(b));
  if (rc == PV_OK) rc = copy_frame(c, b, into);
  arv_stream_push_buffer(c->stream, b);
  return rc;
}

static void arv_get_stats(void *self, pv_stream_stats *out) {
  aravis_camera *c = self;
  if (c->stream == NULL) return; /* keep the last values while closed */
  guint64 completed = 0, failures = 0, underruns = 0;
  arv_stream_get_statistics(c->stream, &completed, &failures, &underruns);
  out->completed = completed;
  out->failures = failures;
  out->underruns = underruns;
  if (c->info_missing_frames >= 0)
    out->missing_frames = arv_stream_get_info_uint64(c->stream, (guint)c->info_missing_frames);
  if (c->info_resent_packets >= 0)
    out->resent_packets = arv_stream_get_info_uint64(c->stream, (guint)c->info_resent_packets);
  else if (ARV_IS_GV_STREAM(c->stream)) {
    guint64 resent = 0, missing = 0;
    arv_gv_stream_get_statistics(ARV_GV_STREAM(c->stream), &resent, &missing);
    out->resent_packets = resent;
  }
}

static void arv_close(void *self) {
  aravis_camera *c = self;
  if (c->acquiring) arv_stop(c);
  if (c->stream) g_object_unref(c->stream); /* stops its thread, frees the buffers */
  c->stream = NULL;
  if (c->device && c->lost_handler) g_signal_handler_disconnect(c->device, c->lost_handler);
  c->lost_handler = 0;
  c->device = NULL;
  if (c->camera) g_object_unref(c->camera);
  c->camera = NULL;
}

static void arv_destroy(void *self) {
  if (self == NULL) return;
  arv_close(self);
  free(self);
}

static const pv_camera_driver aravis_driver = {
    .name = "aravis",
    .open = arv_open,
    .start = arv_start,
    .grab = arv_grab,
    .stop = arv_stop,
    .close = arv_close,
    .get_stats = arv_get_stats,
    .destroy = arv_destroy,
};

int pv_aravis_camera_new(const pv_aravis_camera_params *p, const pv_camera_driver **drv,
                         void **self, pv_error *err) {
  *drv = NULL;
  *self = NULL;
  pv_aravis_camera_params def;
  if (p == NULL) {
    pv_aravis_camera_params_default(&def);
    p = &def;
  }
  if (memchr(p->device, '\0', sizeof p->device) == NULL)
    return pv_error_set(err, PV_EINVAL, "aravis: device id is not terminated");
  if (p->width < 0 || p->height < 0 || p->width > PV_IMAGE_MAX_DIM ||
      p->height > PV_IMAGE_MAX_DIM)
    return pv_error_set(err, PV_EINVAL, "aravis: region %dx%d out of range", p->width,
                        p->height);
  if (pv__aravis_pixfmt_to_arv(p->format) == 0)
    return pv_error_set(err, PV_EINVAL, "aravis: pixel format %d not supported", (int)p->format);
  if (p->buffers < 1 || p->buffers > 1024 || p->fps < 0 || p->packet_size < 0)
    return pv_error_set(err, PV_EINVAL, "aravis: bad buffers (%d), fps (%g) or packet size (%d)",
                        p->buffers, p->fps, p->packet_size);
  aravis_camera *c = calloc(1, sizeof *c);
  if (c == NULL) return pv_error_set(err, PV_ENOMEM, "aravis: out of memory");
  c->p = *p;
  c->info_missing_frames = c->info_resent_packets = -1;
  *drv = &aravis_driver;
  *self = c;
  return PV_OK;
}
