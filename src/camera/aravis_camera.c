/* The aravis camera driver: any GenICam camera (GigE Vision, USB3 Vision)
 * through Aravis 0.8.
 *
 * States: CLOSED -> open -> OPEN (camera, stream and `buffers` Aravis
 * buffers of the payload, all pushed into the stream) -> start -> ACQUIRING
 * -> stop -> OPEN -> close -> CLOSED. open sets the acquisition mode
 * (camera.acquisition: continuous, or software = FrameStart triggered by
 * TriggerSoftware, which `trigger` fires), turns ExposureAuto off, and finds
 * the timestamp latch. Every call comes from the worker's
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
 * looked up at open; only the clock latch, every 10 s, talks to the camera.
 *
 * Frame times (frame_time): with a latch, the device timestamp mapped to
 * the monotonic clock (aravis_clock.c), PV_FRAME_TIME_DEVICE; else the
 * reception-based estimate (aravis_convert.c), PV_FRAME_TIME_ESTIMATE, or
 * PV_FRAME_TIME_UNCERTAIN for every frame that was queued or in flight when
 * the wall clock stepped or packets were resent or lost. In software mode
 * the worker marks frames PV_FRAME_TIME_TRIGGER and matches them to its
 * triggers by frame_id (the GigE block id).
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
  int64_t exposure_ns;        /* read at open: the exposure time, or its
                                 bound when the camera does not say */
  int64_t latency_ns;         /* readout + transfer allowance */
  int info_missing_frames;    /* stream info ids, -1 when absent */
  int info_resent_packets;
  /* device timestamps (GigE: in Aravis's ns; USB3: ns) */
  const char *latch_cmd;      /* NULL: the camera cannot latch */
  const char *latch_value;
  guint64 tick_hz;            /* device ticks per second of latch values */
  int64_t next_latch_ns;      /* monotonic: latch again after */
  int latch_warned;
  pv__aravis_clock clock;
  pv__aravis_guard guard;     /* reception times that cannot be trusted */
  int in_flight;              /* frames not yet popped, at the last pop */
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

/* Acquisition mode, gain, frame rate, packet size: optional features. */
static void set_acquisition(aravis_camera *c) {
  GError *e = NULL;
  arv_camera_set_acquisition_mode(c->camera, ARV_ACQUISITION_MODE_CONTINUOUS, &e);
  warn_clear(c, &e, "continuous acquisition mode");
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

/* Exposure: ExposureAuto off (a time that changes behind our back would
 * make the estimate late), camera.exposure_us when > 0, then the time read
 * back. Without ExposureTime, or with auto exposure still on, the frame
 * period (1 s at an unknown frame rate) bounds the exposure. After
 * set_acquisition (needs info.fps). */
static void set_exposure(aravis_camera *c) {
  GError *e = NULL;
  int auto_on = 0;
  int64_t period = c->info.fps > 0 ? (int64_t)(1e9 / c->info.fps) : PV_NS_PER_S;
  if (arv_camera_is_exposure_auto_available(c->camera, NULL)) {
    arv_camera_set_exposure_time_auto(c->camera, ARV_AUTO_OFF, &e);
    if (e) {
      pv_warn("aravis %s: cannot turn ExposureAuto off (%s): exposure bounded by the frame "
              "period, %.0f us", c->p.device, e->message, (double)period / 1e3);
      g_clear_error(&e);
      auto_on = 1;
    }
  }
  if (!arv_camera_is_exposure_time_available(c->camera, NULL)) {
    c->exposure_ns = period;
    pv_warn("aravis %s: the camera has no ExposureTime: exposure bounded by the frame period, "
            "%.0f us%s", c->p.device, (double)period / 1e3,
            c->info.fps > 0 ? "" : " (frame rate unknown: 1 s)");
    return;
  }
  if (c->p.exposure_us > 0) {
    arv_camera_set_exposure_time(c->camera, c->p.exposure_us, &e);
    warn_clear(c, &e, "exposure time");
  }
  double us = arv_camera_get_exposure_time(c->camera, &e);
  warn_clear(c, &e, "reading the exposure time");
  c->exposure_ns = us > 0 ? (int64_t)(us * 1e3) : period;
  if (us <= 0)
    pv_warn("aravis %s: exposure time unreadable: bounded by the frame period, %.0f us",
            c->p.device, (double)period / 1e3);
  if (auto_on && c->exposure_ns < period) c->exposure_ns = period;
}

static gboolean has_feature(aravis_camera *c, const char *name) {
  GError *e = NULL;
  gboolean yes = arv_camera_is_feature_available(c->camera, name, &e);
  g_clear_error(&e);
  return yes;
}

/* camera.acquisition: SOFTWARE (FrameStart trigger from software), or
 * CONTINUOUS (every trigger off); AUTO picks SOFTWARE when the camera has
 * TriggerSoftware. Fills info.acquisition and info.can_trigger. */
static int set_trigger_mode(aravis_camera *c, pv_acquisition want, pv_error *err) {
  GError *e = NULL;
  gboolean sw = arv_camera_is_software_trigger_supported(c->camera, &e);
  g_clear_error(&e);
  c->info.can_trigger = sw ? 1 : 0;
  if (want == PV_ACQUISITION_AUTO) want = sw ? PV_ACQUISITION_SOFTWARE : PV_ACQUISITION_CONTINUOUS;
  if (want == PV_ACQUISITION_SOFTWARE && !sw)
    return pv_error_set(err, PV_EUNSUPPORTED,
                        "aravis %s: camera.acquisition = software, but the camera has no "
                        "TriggerSoftware (set camera.acquisition = continuous or auto)",
                        c->p.device);
  if (has_feature(c, "TriggerMode")) {
    arv_camera_clear_triggers(c->camera, &e); /* TriggerMode=Off for every selector */
    warn_clear(c, &e, "turning the triggers off");
  }
  if (want == PV_ACQUISITION_SOFTWARE) {
    if (has_feature(c, "TriggerSelector")) {
      arv_device_set_string_feature_value(c->device, "TriggerSelector", "FrameStart", &e);
      warn_clear(c, &e, "TriggerSelector=FrameStart");
    }
    arv_device_set_string_feature_value(c->device, "TriggerMode", "On", &e);
    if (e) return fail(c, &e, PV_EUNSUPPORTED, "TriggerMode=On", err);
    arv_device_set_string_feature_value(c->device, "TriggerSource", "Software", &e);
    if (e) return fail(c, &e, PV_EUNSUPPORTED, "TriggerSource=Software", err);
  }
  c->info.acquisition = want;
  return PV_OK;
}

/* Device ticks -> ns, as Aravis converts a GigE leader's timestamp. */
static int64_t ticks_to_ns(guint64 t, guint64 hz) {
  if (hz == PV_NS_PER_S) return (int64_t)t;
  return (int64_t)((t / hz) * (guint64)PV_NS_PER_S + (t % hz) * (guint64)PV_NS_PER_S / hz);
}

/* One latch of the device clock, bracketed by two host readings; logged
 * once when it fails (the mapping then degrades to the estimate). */
static void latch_clock(aravis_camera *c) {
  GError *e = NULL;
  int64_t before = pv_now_ns();
  arv_device_execute_command(c->device, c->latch_cmd, &e);
  int64_t after = pv_now_ns();
  c->next_latch_ns = after + PV__ARAVIS_LATCH_PERIOD_NS;
  gint64 v = 0;
  if (e == NULL) v = arv_device_get_integer_feature_value(c->device, c->latch_value, &e);
  if (e || v <= 0) {
    if (!c->latch_warned)
      pv_warn("aravis %s: timestamp latch (%s) failed: %s", c->p.device, c->latch_cmd,
              e ? e->message : "no value");
    c->latch_warned = 1;
    g_clear_error(&e);
    return;
  }
  if (pv__aravis_clock_add(&c->clock, ticks_to_ns((guint64)v, c->tick_hz), before, after) == 1)
    pv_warn("aravis %s: the device clock jumped (reset?): its mapping restarts from this latch",
            c->p.device);
}

/* Device timestamps usable: a latch (GigE Vision GevTimestampControlLatch +
 * GevTimestampValue, or SFNC TimestampLatch + TimestampLatchValue) and the
 * tick frequency Aravis converts leader timestamps with (GigE:
 * GevTimestampTickFrequency; USB3 Vision timestamps are ns). First latch. */
static void find_latch(aravis_camera *c) {
  c->latch_cmd = c->latch_value = NULL;
  c->latch_warned = 0;
  pv__aravis_clock_reset(&c->clock);
  if (has_feature(c, "GevTimestampControlLatch") && has_feature(c, "GevTimestampValue")) {
    c->latch_cmd = "GevTimestampControlLatch";
    c->latch_value = "GevTimestampValue";
  } else if (has_feature(c, "TimestampLatch") && has_feature(c, "TimestampLatchValue")) {
    c->latch_cmd = "TimestampLatch";
    c->latch_value = "TimestampLatchValue";
  } else {
    return;
  }
  c->tick_hz = PV_NS_PER_S;
  if (arv_camera_is_gv_device(c->camera)) {
    GError *e = NULL;
    c->tick_hz = arv_gv_device_get_timestamp_tick_frequency(ARV_GV_DEVICE(c->device), &e);
    g_clear_error(&e);
  }
  if (c->tick_hz == 0) {
    c->latch_cmd = c->latch_value = NULL;
    return;
  }
  latch_clock(c);
  latch_clock(c); /* two latches: a first rate */
  if (c->clock.n == 0) c->latch_cmd = c->latch_value = NULL;
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
  pv_acquisition want = info->acquisition;
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
    set_exposure(c);
    rc = set_trigger_mode(c, want, err);
  }
  if (rc == PV_OK) {
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
  find_latch(c);
  pv__aravis_guard_reset(&c->guard);
  c->info.time = c->latch_cmd ? PV_FRAME_TIME_DEVICE : PV_FRAME_TIME_ESTIMATE;
  *info = c->info;
  pv_info("aravis: opened %s (%s): %dx%d %s, payload %zu bytes, %.1f fps, exposure %.0f us",
          c->info.model, c->p.device[0] ? c->p.device : "first found", c->info.width,
          c->info.height, pv_pixfmt_name(c->info.format), c->info.payload, c->info.fps,
          (double)c->exposure_ns / 1e3);
  pv_info("aravis: %s acquisition, frame times %s%s%s", pv_acquisition_name(c->info.acquisition),
          c->latch_cmd ? "from device timestamps (" : "estimated from reception",
          c->latch_cmd ? c->latch_cmd : "", c->latch_cmd ? ")" : "");
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

/* The frame's exposure start and how it is known. Device timestamps are
 * assumed to mark the exposure start (the GenICam/SFNC convention for a
 * frame's Timestamp; nothing is subtracted); as the leader cannot leave the
 * camera before the exposure ended, reception - exposure is an upper bound
 * too, and the earlier of the two is used while the reception time is
 * trusted (a camera that stamps its readout instead is still safe then).
 * Without device timestamps: the estimate, or UNCERTAIN when the guard
 * distrusts the reception time. */
static void frame_time(aravis_camera *c, ArvBuffer *b, pv_frame *into, int64_t wall,
                       int64_t mono, int doubtful) {
  uint64_t sys = arv_buffer_get_system_timestamp(b);
  int64_t margin = pv__aravis_guard_margin(&c->guard), est = 0, recv = 0, dev = 0;
  pv_frame_time kind = PV_FRAME_TIME_UNCERTAIN;
  if (!doubtful) kind = pv__aravis_estimate(sys, wall, mono, c->exposure_ns, c->latency_ns, margin, &est);
  if (c->latch_cmd &&
      pv__aravis_clock_map(&c->clock, (int64_t)arv_buffer_get_timestamp(b), &dev) == PV_OK) {
    if (kind == PV_FRAME_TIME_ESTIMATE &&
        pv__aravis_estimate(sys, wall, mono, c->exposure_ns, 0, margin, &recv) ==
            PV_FRAME_TIME_ESTIMATE && recv < dev)
      dev = recv;
    into->exposure_ns = dev;
    into->time = PV_FRAME_TIME_DEVICE;
    return;
  }
  if (kind == PV_FRAME_TIME_UNCERTAIN) {
    /* a guess for logs only: the pool never leases it to a time waiter */
    est = mono - c->exposure_ns - c->latency_ns;
    if (!doubtful) pv__aravis_guard_mark(&c->guard, c->in_flight); /* stamp from the future */
  }
  into->exposure_ns = est;
  into->time = kind;
}

/* Copies a SUCCESS buffer into the pool frame. */
static int copy_frame(aravis_camera *c, ArvBuffer *b, pv_frame *into, int64_t wall, int64_t mono,
                      int doubtful) {
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
  frame_time(c, b, into, wall, mono, doubtful);
  into->frame_id = arv_buffer_get_frame_id(b);
  into->trigger = 0;
  into->has_truth = 0;
  into->truth_x_um = into->truth_y_um = 0;
  return PV_OK;
}

/* Resent packets + missing frames so far (a resent leader is stamped late). */
static uint64_t loss_count(aravis_camera *c) {
  pv_stream_stats st = {0};
  if (c->info_missing_frames >= 0)
    st.missing_frames = arv_stream_get_info_uint64(c->stream, (guint)c->info_missing_frames);
  if (c->info_resent_packets >= 0)
    st.resent_packets = arv_stream_get_info_uint64(c->stream, (guint)c->info_resent_packets);
  else if (ARV_IS_GV_STREAM(c->stream)) {
    guint64 resent = 0, missing = 0;
    arv_gv_stream_get_statistics(ARV_GV_STREAM(c->stream), &resent, &missing);
    st.resent_packets = resent;
  }
  return st.missing_frames + st.resent_packets;
}

/* Pop, then (wall, mono) read together and the guard told about this frame
 * (clock steps and losses since the last one), then the copy. The clock is
 * latched again every PV__ARAVIS_LATCH_PERIOD_NS, after the buffer went back. */
static int arv_grab(void *self, pv_frame *into, int timeout_ms) {
  aravis_camera *c = self;
  if (c->stream == NULL || !c->acquiring) return PV_EFATAL;
  if (atomic_load(&c->control_lost)) return PV_EDISCONNECTED;
  ArvBuffer *b = arv_stream_timeout_pop_buffer(c->stream, (guint64)timeout_ms * 1000);
  if (b == NULL) return atomic_load(&c->control_lost) ? PV_EDISCONNECTED : PV_ETIMEDOUT;
  int64_t wall = pv_wall_ns(), mono = pv_now_ns();
  gint n_in = 0, n_out = 0;
  arv_stream_get_n_buffers(c->stream, &n_in, &n_out);
  c->in_flight = c->p.buffers - n_in - 1; /* output queue + being filled */
  int doubtful = pv__aravis_guard_frame(&c->guard, wall, mono, c->in_flight, loss_count(c));
  int rc = pv__aravis_status(arv_buffer_get_status(b));
  if (rc == PV_OK) rc = copy_frame(c, b, into, wall, mono, doubtful);
  arv_stream_push_buffer(c->stream, b);
  if (c->latch_cmd && mono >= c->next_latch_ns) latch_clock(c);
  return rc;
}

/* Software trigger: TriggerSoftware, one frame later out of grab. */
static int arv_trigger(void *self) {
  aravis_camera *c = self;
  if (c->camera == NULL || !c->acquiring) return PV_EFATAL;
  if (atomic_load(&c->control_lost)) return PV_EDISCONNECTED;
  GError *e = NULL;
  arv_camera_software_trigger(c->camera, &e);
  if (e == NULL) return PV_OK;
  int rc = atomic_load(&c->control_lost) ? PV_EDISCONNECTED
                                         : pv__aravis_command_status(e->domain, e->code);
  pv_warn("aravis %s: TriggerSoftware: %s (%s)", c->p.device, e->message, pv_status_name(rc));
  g_clear_error(&e);
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
    .trigger = arv_trigger,
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
