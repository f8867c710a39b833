/* The aravis driver at open: configuring the camera (pixel format, region,
 * acquisition mode and trigger, frame rate, exposure with ExposureAuto off,
 * packet size) and the device clock's timestamp latch, bracketed by host
 * clock readings (aravis_clock.c maps device times with them). Every
 * function runs on the camera thread; optional settings that fail are
 * logged, never fatal. */
#include <string.h>

#include "aravis_driver.h"

/* Takes a GError: fills err with "aravis DEVICE: what: message", frees it. */
int pv__aravis_fail(aravis_camera *c, GError **e, int status, const char *what, pv_error *err) {
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
  if (e) return pv__aravis_fail(c, &e, PV_EFATAL, "reading the sensor size", err);
  arv_camera_get_region(c->camera, &x, &y, &w, &h, &e);
  if (e) return pv__aravis_fail(c, &e, PV_EFATAL, "reading the region", err);
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
  if (e) return pv__aravis_fail(c, &e, PV_EUNSUPPORTED, "setting the region", err);
  arv_camera_get_region(c->camera, &x, &y, &w, &h, &e);
  if (e) return pv__aravis_fail(c, &e, PV_EFATAL, "reading the region back", err);
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
    if (e) return pv__aravis_fail(c, &e, PV_EUNSUPPORTED, "TriggerMode=On", err);
    arv_device_set_string_feature_value(c->device, "TriggerSource", "Software", &e);
    if (e) return pv__aravis_fail(c, &e, PV_EUNSUPPORTED, "TriggerSource=Software", err);
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
void pv__aravis_latch_now(aravis_camera *c) {
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
void pv__aravis_find_latch(aravis_camera *c) {
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
  pv__aravis_latch_now(c);
  pv__aravis_latch_now(c); /* two latches: a first rate */
  if (c->clock.n == 0) c->latch_cmd = c->latch_value = NULL;
}

static void model_name(aravis_camera *c) {
  const char *v = arv_camera_get_vendor_name(c->camera, NULL);
  const char *m = arv_camera_get_model_name(c->camera, NULL);
  const char *s = arv_camera_get_device_serial_number(c->camera, NULL);
  snprintf(c->info.model, sizeof c->info.model, "%s %s %s", v ? v : "?", m ? m : "?",
           s ? s : "?");
}

int pv__aravis_configure(aravis_camera *c, pv_acquisition want, pv_error *err) {
  GError *e = NULL;
  arv_camera_set_pixel_format(c->camera, pv__aravis_pixfmt_to_arv(c->p.format), &e);
  if (e) return pv__aravis_fail(c, &e, PV_EUNSUPPORTED, "setting PixelFormat", err);
  int rc = set_region(c, err);
  if (rc != PV_OK) return rc;
  set_acquisition(c);
  set_exposure(c);
  rc = set_trigger_mode(c, want, err);
  if (rc != PV_OK) return rc;
  c->info.format = c->p.format;
  c->info.payload = arv_camera_get_payload(c->camera, &e);
  if (e) return pv__aravis_fail(c, &e, PV_EFATAL, "reading the payload size", err);
  if (c->info.payload < (size_t)c->info.width * (size_t)c->info.height)
    return pv_error_set(err, PV_EFATAL, "aravis %s: payload %zu bytes is less than %dx%d",
                        c->p.device, c->info.payload, c->info.width, c->info.height);
  model_name(c);
  c->latency_ns = c->p.latency_us >= 0 ? (int64_t)c->p.latency_us * 1000
                                       : pv__transfer_allowance_ns(c->info.payload);
  return PV_OK;
}
