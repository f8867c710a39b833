/* The mvs camera driver: Hikvision (Hikrobot) GigE and USB3 cameras through
 * the vendor's MVS SDK, libMvCameraControl.so, loaded at run time
 * (mvs_load.c) and declared by our own ABI header (mvs_abi.h).
 *
 * States: CLOSED -> open (enumerate GigE + USB, pick by serial, IP or the
 * first, CreateHandle, OpenDevice, settings, PayloadSize) -> OPEN -> start
 * (StartGrabbing) -> GRABBING -> stop -> OPEN -> close (CloseDevice,
 * DestroyHandle) -> CLOSED. Every call comes from the worker's camera
 * thread; the SDK calls the exception callback on its own thread (an
 * atomic flag, read by the next grab).
 *
 * Frame path (grab): MV_CC_GetImageBuffer with the timeout (MV_E_NODATA ->
 * PV_ETIMEDOUT: no frame before the deadline), check and copy into the
 * pool frame, MV_CC_FreeImageBuffer on every path, so the SDK never runs
 * out of buffers because of us. Nothing is allocated per frame.
 *
 * Exposure time: software trigger -> the host time just before the
 * TriggerSoftware command of the oldest trigger not yet answered
 * (PV_FRAME_TIME_TRIGGER; a frame can only come from that trigger or a
 * later one, so the time errs early). Continuous -> the SDK's host
 * reception stamp minus exposure and a transfer allowance
 * (PV_FRAME_TIME_ESTIMATE), PV_FRAME_TIME_UNCERTAIN when the stamp is
 * missing or implausible, and for the frames that may have waited in the
 * SDK's queue across a detected wall-clock step.
 *
 * Every MVS error is logged with its name and hex code (mvs_errors.c) and
 * returned as its class.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mvs_internal.h"
#include "transfer.h"

#define TRIGGER_RING 64
#define POLL_MS 10 /* a grab this short is a poll: its MV_E_NODATA is no error */

typedef struct mvs_camera {
  pv_mvs_camera_params p;
  pv__mvs_api api;
  void *handle;                /* NULL when closed */
  int grabbing;
  int gige;
  atomic_int lost;             /* set by the exception callback */
  pv_camera_info info;
  uint32_t pixel_type;
  int64_t exposure_ns;         /* read at open */
  int64_t latency_ns;
  /* software trigger: host times before each TriggerSoftware */
  int64_t trigger_ns[TRIGGER_RING];
  uint64_t fired, answered;
  /* wall - monotonic at the last grab, and frames still suspect after a
   * wall-clock step */
  int64_t clock_offset;
  int suspect;
  int told_stamp;              /* warned once about an implausible stamp */
  uint64_t copied, damaged;    /* for get_stats */
  pv_stream_stats last;
  pv_mvs_device_list list;     /* enumeration result (2 KB) */
} mvs_camera;

static const char *dev_name(const mvs_camera *c) {
  return c->p.device[0] ? c->p.device : "(first camera)";
}

/* Logs "mvs DEVICE: WHAT: NAME 0xHEX (meaning)" and returns the class. */
static int mvs_fail(const mvs_camera *c, const char *what, int mv) {
  char buf[160];
  pv_warn("mvs %s: %s: %s", dev_name(c), what, pv__mvs_error_format(mv, buf, sizeof buf));
  return pv__mvs_error_class(mv);
}

/* The same into err (open), also logged. */
static int mvs_fail_err(const mvs_camera *c, const char *what, int mv, pv_error *err) {
  char buf[160];
  int cls = mvs_fail(c, what, mv);
  return pv_error_set(err, cls, "mvs %s: %s: %s", dev_name(c), what,
                      pv__mvs_error_format(mv, buf, sizeof buf));
}

static void on_exception(unsigned int msg_type, void *user) {
  mvs_camera *c = user;
  if (msg_type == PV_MVS_EXCEPTION_DEV_DISCONNECT) atomic_store(&c->lost, 1);
}

static uint32_t pixel_type_of(pv_pixfmt f) {
  switch (f) {
  case PV_PIXFMT_MONO8: return PV_MVS_PIXEL_MONO8;
  case PV_PIXFMT_BAYER_BG8: return PV_MVS_PIXEL_BAYER_BG8;
  case PV_PIXFMT_BAYER_GB8: return PV_MVS_PIXEL_BAYER_GB8;
  case PV_PIXFMT_BAYER_GR8: return PV_MVS_PIXEL_BAYER_GR8;
  case PV_PIXFMT_BAYER_RG8: return PV_MVS_PIXEL_BAYER_RG8;
  default: return 0;
  }
}

static void fixed_string(char *dst, size_t cap, const unsigned char *src, size_t n) {
  size_t len = 0;
  while (len < n && src[len]) len++;
  snprintf(dst, cap, "%.*s", (int)len, (const char *)src);
}

static void ip_string(uint32_t ip, char buf[16]) {
  snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255u, (ip >> 8) & 255u, ip & 255u);
}

/* Serial, model and address of one enumerated device. */
static void describe(const pv_mvs_device_info *d, char serial[65], char model[65],
                     char addr[16]) {
  addr[0] = '\0';
  if (d->tlayer_type == PV_MVS_GIGE_DEVICE) {
    fixed_string(serial, 65, d->special.gige.serial, sizeof d->special.gige.serial);
    fixed_string(model, 65, d->special.gige.model, sizeof d->special.gige.model);
    ip_string(d->special.gige.current_ip, addr);
  } else {
    fixed_string(serial, 65, d->special.usb3.serial, sizeof d->special.usb3.serial);
    fixed_string(model, 65, d->special.usb3.model, sizeof d->special.usb3.model);
  }
}

/* Enumerates GigE + USB devices and picks p.device (serial or IP) or the
 * first one. */
static int pick_device(mvs_camera *c, const pv_mvs_device_info **out, pv_error *err) {
  memset(&c->list, 0, sizeof c->list);
  int mv = c->api.enum_devices(PV_MVS_GIGE_DEVICE | PV_MVS_USB_DEVICE, &c->list);
  if (mv != PV_MVS_OK) return mvs_fail_err(c, "MV_CC_EnumDevices", mv, err);
  uint32_t n = c->list.count < PV_MVS_MAX_DEVICE_NUM ? c->list.count : PV_MVS_MAX_DEVICE_NUM;
  char seen[256] = "";
  for (uint32_t i = 0; i < n; i++) {
    const pv_mvs_device_info *d = c->list.info[i];
    if (d == NULL) continue;
    char serial[65], model[65], addr[16];
    describe(d, serial, model, addr);
    if (c->p.device[0] == '\0' || strcmp(c->p.device, serial) == 0 ||
        (addr[0] && strcmp(c->p.device, addr) == 0)) {
      snprintf(c->info.model, sizeof c->info.model, "%.24s %.22s%s%.15s", model, serial,
               addr[0] ? " " : "", addr);
      c->gige = d->tlayer_type == PV_MVS_GIGE_DEVICE;
      *out = d;
      return PV_OK;
    }
    size_t len = strlen(seen);
    snprintf(seen + len, sizeof seen - len, "%s%s%s%s%s", len ? ", " : "", serial,
             addr[0] ? " (" : "", addr, addr[0] ? ")" : "");
  }
  return pv_error_set(err, PV_EDISCONNECTED, "mvs %s: no such camera among the %u found%s%s",
                      dev_name(c), n, n ? ": " : "", seen);
}

/* Optional setting: a failure is logged, never fatal. */
static void optional(mvs_camera *c, const char *what, int mv) {
  if (mv != PV_MVS_OK) mvs_fail(c, what, mv);
}

static int64_t clamp64(int64_t v, const pv_mvs_int_value *r) {
  int64_t inc = r->inc > 0 ? r->inc : 1;
  if (v > r->max) v = r->max;
  v = r->min + (v - r->min) / inc * inc;
  return v < r->min ? r->min : v;
}

/* Region: the requested size clamped to the camera's bounds, centred
 * (offsets even, keeping the Bayer phase) or at (0, 0). */
static int set_region(mvs_camera *c, pv_error *err) {
  pv_mvs_int_value w, h, ox, oy;
  optional(c, "setting OffsetX 0", c->api.set_int(c->handle, "OffsetX", 0));
  optional(c, "setting OffsetY 0", c->api.set_int(c->handle, "OffsetY", 0));
  int mv = c->api.get_int(c->handle, "Width", &w);
  if (mv == PV_MVS_OK) mv = c->api.get_int(c->handle, "Height", &h);
  if (mv != PV_MVS_OK) return mvs_fail_err(c, "reading Width/Height", mv, err);
  int64_t ww = clamp64(c->p.width > 0 ? c->p.width : w.cur, &w);
  int64_t hh = clamp64(c->p.height > 0 ? c->p.height : h.cur, &h);
  mv = c->api.set_int(c->handle, "Width", ww);
  if (mv == PV_MVS_OK) mv = c->api.set_int(c->handle, "Height", hh);
  if (mv != PV_MVS_OK) return mvs_fail_err(c, "setting Width/Height", mv, err);
  if (c->p.centre && c->api.get_int(c->handle, "OffsetX", &ox) == PV_MVS_OK &&
      c->api.get_int(c->handle, "OffsetY", &oy) == PV_MVS_OK) {
    optional(c, "setting OffsetX", c->api.set_int(c->handle, "OffsetX",
                                                  clamp64(((w.max - ww) / 2) & ~1, &ox)));
    optional(c, "setting OffsetY", c->api.set_int(c->handle, "OffsetY",
                                                  clamp64(((h.max - hh) / 2) & ~1, &oy)));
  }
  mv = c->api.get_int(c->handle, "Width", &w);
  if (mv == PV_MVS_OK) mv = c->api.get_int(c->handle, "Height", &h);
  if (mv != PV_MVS_OK) return mvs_fail_err(c, "reading the region back", mv, err);
  if ((c->p.width > 0 && w.cur != c->p.width) || (c->p.height > 0 && h.cur != c->p.height))
    pv_warn("mvs %s: region %dx%d requested, camera uses %" PRId64 "x%" PRId64, dev_name(c),
            c->p.width, c->p.height, w.cur, h.cur);
  c->info.width = (int)w.cur;
  c->info.height = (int)h.cur;
  return PV_OK;
}

/* Frame rate, exposure, packet size, buffers: optional features. */
static void set_acquisition(mvs_camera *c) {
  optional(c, "AcquisitionMode Continuous",
           c->api.set_enum_string(c->handle, "AcquisitionMode", "Continuous"));
  pv_mvs_float_value f;
  if (c->p.fps > 0) {
    optional(c, "AcquisitionFrameRateEnable",
             c->api.set_bool(c->handle, "AcquisitionFrameRateEnable", 1));
    optional(c, "AcquisitionFrameRate",
             c->api.set_float(c->handle, "AcquisitionFrameRate", (float)c->p.fps));
  }
  c->info.fps = c->api.get_float(c->handle, "AcquisitionFrameRate", &f) == PV_MVS_OK ? f.cur : 0;
  optional(c, "ExposureAuto Off", c->api.set_enum_string(c->handle, "ExposureAuto", "Off"));
  if (c->p.exposure_us > 0)
    optional(c, "ExposureTime",
             c->api.set_float(c->handle, "ExposureTime", (float)c->p.exposure_us));
  int mv = c->api.get_float(c->handle, "ExposureTime", &f);
  if (mv != PV_MVS_OK) optional(c, "reading ExposureTime", mv);
  c->exposure_ns = mv == PV_MVS_OK && f.cur > 0 ? (int64_t)((double)f.cur * 1e3) : 0;
  if (c->gige) {
    int size = c->p.packet_size;
    if (size == 0 && c->api.optimal_packet_size) {
      size = c->api.optimal_packet_size(c->handle);
      if (size < 0) optional(c, "MV_CC_GetOptimalPacketSize", size);
    }
    if (size > 0)
      optional(c, "GevSCPSPacketSize", c->api.set_int(c->handle, "GevSCPSPacketSize", size));
  }
  if (c->api.set_image_node_num)
    optional(c, "MV_CC_SetImageNodeNum",
             c->api.set_image_node_num(c->handle, (unsigned int)c->p.nodes));
}

/* TriggerMode/TriggerSource for the mode asked for; sets info.acquisition
 * and can_trigger. */
static int set_trigger(mvs_camera *c, pv_acquisition asked, pv_error *err) {
  int mv = c->api.set_enum_string(c->handle, "TriggerMode", "On");
  if (mv == PV_MVS_OK) mv = c->api.set_enum_string(c->handle, "TriggerSource", "Software");
  c->info.can_trigger = mv == PV_MVS_OK;
  if (asked == PV_ACQUISITION_SOFTWARE && !c->info.can_trigger)
    return mvs_fail_err(c, "camera.acquisition = software: TriggerMode On / TriggerSource "
                        "Software", mv, err);
  if (asked == PV_ACQUISITION_CONTINUOUS || !c->info.can_trigger) {
    mv = c->api.set_enum_string(c->handle, "TriggerMode", "Off");
    if (mv != PV_MVS_OK) return mvs_fail_err(c, "TriggerMode Off", mv, err);
    c->info.acquisition = PV_ACQUISITION_CONTINUOUS;
  } else {
    c->info.acquisition = PV_ACQUISITION_SOFTWARE;
  }
  return PV_OK;
}

static void mvs_close(void *self);

static int configure(mvs_camera *c, pv_acquisition asked, pv_error *err) {
  int mv = c->api.set_enum(c->handle, "PixelFormat", c->pixel_type);
  if (mv != PV_MVS_OK) return mvs_fail_err(c, "setting PixelFormat", mv, err);
  int rc = set_region(c, err);
  if (rc != PV_OK) return rc;
  set_acquisition(c);
  rc = set_trigger(c, asked, err);
  if (rc != PV_OK) return rc;
  pv_mvs_int_value payload;
  mv = c->api.get_int(c->handle, "PayloadSize", &payload);
  if (mv != PV_MVS_OK) return mvs_fail_err(c, "reading PayloadSize", mv, err);
  size_t need = (size_t)c->info.width * (size_t)c->info.height;
  c->info.payload = payload.cur > 0 ? (size_t)payload.cur : 0;
  if (c->info.payload < need) c->info.payload = need; /* we copy w x h bytes */
  return PV_OK;
}

static int mvs_open(void *self, pv_camera_info *info, pv_error *err) {
  mvs_camera *c = self;
  pv_acquisition asked = info->acquisition;
  mvs_close(c);
  memset(&c->info, 0, sizeof c->info);
  atomic_store(&c->lost, 0);
  const pv_mvs_device_info *dev = NULL;
  int rc = pick_device(c, &dev, err);
  if (rc != PV_OK) return rc;
  int mv = c->api.create_handle(&c->handle, dev);
  if (mv != PV_MVS_OK) {
    c->handle = NULL;
    return mvs_fail_err(c, "MV_CC_CreateHandle", mv, err);
  }
  mv = c->api.open_device(c->handle, PV_MVS_ACCESS_EXCLUSIVE, 0);
  if (mv != PV_MVS_OK) {
    rc = mvs_fail_err(c, "MV_CC_OpenDevice", mv, err);
    c->api.destroy_handle(c->handle);
    c->handle = NULL;
    return rc;
  }
  if (c->api.register_exception)
    optional(c, "MV_CC_RegisterExceptionCallBack",
             c->api.register_exception(c->handle, on_exception, c));
  rc = configure(c, asked, err);
  if (rc != PV_OK) {
    mvs_close(c);
    return rc;
  }
  c->info.format = c->p.format;
  c->info.time = PV_FRAME_TIME_ESTIMATE;
  c->latency_ns = c->p.latency_us >= 0
                      ? (int64_t)c->p.latency_us * 1000
                      : pv__transfer_allowance_ns(c->info.payload);
  *info = c->info;
  pv_info("mvs: opened %s%s%s through %s: %dx%d %s, payload %zu bytes, %.1f fps, exposure "
          "%.0f us, acquisition %s", c->info.model, c->p.device[0] ? " for camera.device " : "",
          c->p.device, c->api.path, c->info.width,
          c->info.height, pv_pixfmt_name(c->info.format), c->info.payload, c->info.fps,
          (double)c->exposure_ns / 1e3, pv_acquisition_name(c->info.acquisition));
  return PV_OK;
}

static int mvs_start(void *self) {
  mvs_camera *c = self;
  if (c->handle == NULL) return PV_EFATAL;
  int mv = c->api.start_grabbing(c->handle);
  if (mv != PV_MVS_OK) return mvs_fail(c, "MV_CC_StartGrabbing", mv);
  c->grabbing = 1;
  c->answered = c->fired; /* triggers of an earlier stream answer nothing */
  c->clock_offset = pv_wall_ns() - pv_now_ns();
  c->suspect = 0;
  return PV_OK;
}

static int mvs_stop(void *self) {
  mvs_camera *c = self;
  if (c->handle == NULL || !c->grabbing) return PV_OK;
  c->grabbing = 0;
  int mv = c->api.stop_grabbing(c->handle);
  return mv == PV_MVS_OK ? PV_OK : mvs_fail(c, "MV_CC_StopGrabbing", mv);
}

static int mvs_trigger(void *self) {
  mvs_camera *c = self;
  if (c->handle == NULL || !c->grabbing || c->info.acquisition != PV_ACQUISITION_SOFTWARE)
    return PV_EFATAL;
  if (atomic_load(&c->lost)) return PV_EDISCONNECTED;
  int64_t t = pv_now_ns();
  int mv = c->api.command(c->handle, "TriggerSoftware");
  if (mv != PV_MVS_OK) {
    int cls = mvs_fail(c, "TriggerSoftware", mv);
    return cls == PV_EDISCONNECTED || cls == PV_ETIMEDOUT ? cls : PV_EFATAL;
  }
  c->trigger_ns[c->fired % TRIGGER_RING] = t;
  c->fired++;
  return PV_OK;
}

/* exposure_ns and time of a good frame (see the file comment). */
static void stamp(mvs_camera *c, const pv_mvs_frame_info *fi, pv_frame *into) {
  int64_t mono = pv_now_ns(), wall = pv_wall_ns();
  int64_t offset = wall - mono;
  int64_t step = offset - c->clock_offset;
  if (step > PV_NS_PER_MS || step < -PV_NS_PER_MS) {
    pv_warn("mvs %s: the wall clock stepped by %.1f ms: the next %d frames have no safe "
            "exposure time", dev_name(c), (double)step / 1e6, c->p.nodes + 1);
    c->suspect = c->p.nodes + 1; /* every frame that may have been queued */
  }
  c->clock_offset = offset;
  if (c->info.acquisition == PV_ACQUISITION_SOFTWARE) {
    if (c->answered < c->fired && c->fired - c->answered <= TRIGGER_RING) {
      into->exposure_ns = c->trigger_ns[c->answered % TRIGGER_RING];
      into->time = PV_FRAME_TIME_TRIGGER;
    } else {
      into->exposure_ns = mono;
      into->time = PV_FRAME_TIME_UNCERTAIN;
    }
    if (c->answered < c->fired) c->answered++;
    return;
  }
  int64_t exposure = c->exposure_ns;
  if (fi->exposure_time > 0 && (int64_t)(fi->exposure_time * 1e3f) > exposure)
    exposure = (int64_t)(fi->exposure_time * 1e3f);
  int certain;
  into->exposure_ns = pv__mvs_exposure_estimate_ns(fi->host_ts, wall, mono, exposure,
                                                   c->latency_ns, &certain);
  into->time = certain && c->suspect == 0 ? PV_FRAME_TIME_ESTIMATE : PV_FRAME_TIME_UNCERTAIN;
  if (!certain && !c->told_stamp) {
    c->told_stamp = 1;
    pv_warn("mvs %s: frame %u: the SDK's reception stamp (nHostTimeStamp %lld ms) is not a "
            "recent wall-clock time: such frames are not used for alignment (camera.acquisition"
            " = software does not need it)", dev_name(c), fi->frame_num, (long long)fi->host_ts);
  }
  if (c->suspect > 0) c->suspect--;
}

/* Checks and copies one frame the SDK handed out. */
static int copy_frame(mvs_camera *c, const pv_mvs_frame_out *fo, pv_frame *into) {
  const pv_mvs_frame_info *fi = &fo->info;
  if (fi->width != c->info.width || fi->height != c->info.height ||
      fi->pixel_type != c->pixel_type) {
    pv_warn("mvs %s: frame %u is %ux%u pixel type 0x%08X, expected %dx%d 0x%08X: reopening",
            dev_name(c), fi->frame_num, fi->width, fi->height, fi->pixel_type, c->info.width,
            c->info.height, c->pixel_type);
    return PV_EFATAL; /* the camera changed behind our back */
  }
  size_t need = (size_t)c->info.width * (size_t)c->info.height;
  if (fo->buf == NULL || fi->frame_len < need || fi->lost_packet > 0) return PV_EINCOMPLETE;
  if (need > into->capacity) return PV_EFATAL;
  memcpy(into->data, fo->buf, need);
  into->width = c->info.width;
  into->height = c->info.height;
  into->stride = c->info.width;
  into->format = c->info.format;
  into->size = need;
  into->frame_id = fi->frame_num;
  into->trigger = 0;
  into->has_truth = 0;
  into->truth_x_um = into->truth_y_um = 0;
  stamp(c, fi, into);
  return PV_OK;
}

static int mvs_grab(void *self, pv_frame *into, int timeout_ms) {
  mvs_camera *c = self;
  if (c->handle == NULL || !c->grabbing) return PV_EFATAL;
  if (atomic_load(&c->lost)) return PV_EDISCONNECTED;
  pv_mvs_frame_out fo;
  memset(&fo, 0, sizeof fo);
  int mv = c->api.get_image_buffer(c->handle, &fo, timeout_ms > 0 ? (unsigned)timeout_ms : 0u);
  if (mv == PV_MVS_E_NODATA && timeout_ms <= POLL_MS) {
    pv_debug("mvs %s: MV_CC_GetImageBuffer: MV_E_NODATA 0x80000007 (poll, %d ms)", dev_name(c),
             timeout_ms);
    return PV_ETIMEDOUT; /* a poll that found nothing (the worker's drain) */
  }
  if (mv != PV_MVS_OK) {
    int cls = mvs_fail(c, "MV_CC_GetImageBuffer", mv);
    if (atomic_load(&c->lost)) return PV_EDISCONNECTED;
    return cls == PV_EUNSUPPORTED ? PV_EFATAL : cls;
  }
  int rc = copy_frame(c, &fo, into);
  if (rc == PV_OK) c->copied++;
  else if (rc == PV_EINCOMPLETE) c->damaged++;
  mv = c->api.free_image_buffer(c->handle, &fo);
  if (mv != PV_MVS_OK) {
    int cls = mvs_fail(c, "MV_CC_FreeImageBuffer", mv);
    if (cls == PV_EDISCONNECTED) rc = cls;
  }
  return rc;
}

static void mvs_get_stats(void *self, pv_stream_stats *out) {
  mvs_camera *c = self;
  if (c->handle == NULL) { /* keep the last values while closed */
    *out = c->last;
    return;
  }
  c->last.completed = c->copied;
  c->last.failures = c->damaged;
  if (c->api.match_info && c->gige) {
    pv_mvs_net_detect nd;
    memset(&nd, 0, sizeof nd);
    pv_mvs_match_info mi = {PV_MVS_MATCH_TYPE_NET_DETECT, &nd, sizeof nd};
    if (c->api.match_info(c->handle, &mi) == PV_MVS_OK) {
      c->last.missing_frames = nd.lost_frames;
      c->last.resent_packets = nd.resent_packets > 0 ? (uint64_t)nd.resent_packets : 0;
    }
  }
  *out = c->last;
}

static void mvs_close(void *self) {
  mvs_camera *c = self;
  if (c->handle == NULL) return;
  mvs_stop(c);
  int mv = c->api.close_device(c->handle);
  if (mv != PV_MVS_OK) mvs_fail(c, "MV_CC_CloseDevice", mv);
  mv = c->api.destroy_handle(c->handle);
  if (mv != PV_MVS_OK) mvs_fail(c, "MV_CC_DestroyHandle", mv);
  c->handle = NULL;
}

static void mvs_destroy(void *self) {
  mvs_camera *c = self;
  if (c == NULL) return;
  mvs_close(c);
  pv__mvs_unload(&c->api);
  free(c);
}

static const pv_camera_driver mvs_driver = {
    .name = "mvs",
    .open = mvs_open,
    .start = mvs_start,
    .grab = mvs_grab,
    .stop = mvs_stop,
    .trigger = mvs_trigger,
    .close = mvs_close,
    .get_stats = mvs_get_stats,
    .destroy = mvs_destroy,
};

void pv_mvs_camera_params_default(pv_mvs_camera_params *p) {
  memset(p, 0, sizeof *p);
  p->centre = 1;
  p->format = PV_PIXFMT_BAYER_BG8;
  p->nodes = 4;
  p->latency_us = -1;
}

int pv_mvs_camera_new(const pv_mvs_camera_params *p, const pv_camera_driver **drv, void **self,
                      pv_error *err) {
  *drv = NULL;
  *self = NULL;
  pv_mvs_camera_params def;
  if (p == NULL) {
    pv_mvs_camera_params_default(&def);
    p = &def;
  }
  if (memchr(p->device, '\0', sizeof p->device) == NULL ||
      memchr(p->library, '\0', sizeof p->library) == NULL)
    return pv_error_set(err, PV_EINVAL, "mvs: device or library path is not terminated");
  if (p->width < 0 || p->height < 0 || p->width > PV_IMAGE_MAX_DIM ||
      p->height > PV_IMAGE_MAX_DIM)
    return pv_error_set(err, PV_EINVAL, "mvs: region %dx%d out of range", p->width, p->height);
  if (pixel_type_of(p->format) == 0)
    return pv_error_set(err, PV_EINVAL, "mvs: pixel format %s not supported",
                        pv_pixfmt_name(p->format));
  if (p->nodes < 1 || p->nodes > 1024 || p->fps < 0 || p->exposure_us < 0 ||
      p->packet_size < 0)
    return pv_error_set(err, PV_EINVAL,
                        "mvs: bad nodes (%d), fps (%g), exposure_us (%g) or packet size (%d)",
                        p->nodes, p->fps, p->exposure_us, p->packet_size);
  mvs_camera *c = calloc(1, sizeof *c);
  if (c == NULL) return pv_error_set(err, PV_ENOMEM, "mvs: out of memory");
  c->p = *p;
  c->pixel_type = pixel_type_of(p->format);
  int rc = pv__mvs_load(p->library, &c->api, err);
  if (rc != PV_OK) {
    free(c);
    return rc;
  }
  pv_info("mvs: loaded %s", c->api.path);
  *drv = &mvs_driver;
  *self = c;
  return PV_OK;
}
