/* The aravis camera driver: any GenICam camera (GigE Vision, USB3 Vision)
 * through Aravis 0.8.
 *
 * States: CLOSED -> open -> OPEN (camera, stream and `buffers` Aravis
 * buffers of the payload, all pushed into the stream) -> start -> ACQUIRING
 * -> stop -> OPEN -> close -> CLOSED. open sets the acquisition mode
 * (camera.acquisition: continuous, or software = FrameStart triggered by
 * TriggerSoftware, which `trigger` fires), turns ExposureAuto off, and finds
 * the timestamp latch (aravis_setup.c). Every call comes from the worker's
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
#include <stdlib.h>
#include <string.h>

#include "aravis_driver.h"

static void on_control_lost(ArvDevice *device, gpointer data) {
  (void)device;
  aravis_camera *c = data;
  atomic_store(&c->control_lost, 1);
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
  if (c->stream == NULL) return pv__aravis_fail(c, &e, PV_EFATAL, "creating the stream", err);
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
  if (c->camera == NULL)
    return pv__aravis_fail(c, &e, PV_EDISCONNECTED, "cannot open the camera", err);
  c->device = arv_camera_get_device(c->camera);
  atomic_store(&c->control_lost, 0);
  c->lost_handler = g_signal_connect(c->device, "control-lost", G_CALLBACK(on_control_lost), c);
  int rc = pv__aravis_configure(c, want, err);
  if (rc == PV_OK) rc = create_stream(c, err);
  if (rc != PV_OK) {
    arv_close(c);
    return rc;
  }
  pv__aravis_find_latch(c);
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
  int64_t margin = pv__aravis_guard_margin(&c->guard), est = 0, dev = 0;
  pv_frame_time kind = PV_FRAME_TIME_UNCERTAIN;
  if (!doubtful) kind = pv__aravis_estimate(sys, wall, mono, c->exposure_ns, c->latency_ns, margin, &est);
  if (c->latch_cmd &&
      pv__aravis_clock_map(&c->clock, (int64_t)arv_buffer_get_timestamp(b), &dev) == PV_OK) {
    /* arrival minus exposure (the estimate without its latency allowance):
     * a camera that stamps its readout must not come out later than that */
    if (kind == PV_FRAME_TIME_ESTIMATE && est + c->latency_ns < dev) dev = est + c->latency_ns;
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
  if (c->latch_cmd && mono >= c->next_latch_ns) pv__aravis_latch_now(c);
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
