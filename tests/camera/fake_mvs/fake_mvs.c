/* A fake libMvCameraControl.so for the tests (never installed): the MVS SDK
 * entry points the mvs driver uses (src/camera/mvs_abi.h), over one
 * simulated GigE camera that shows the simulated wafer (pv_scene_render of
 * the default configuration's wafer, centred on die 0's alignment mark, so
 * every target of a default run sees a mark where its own must be).
 *
 * Camera: continuous frames at AcquisitionFrameRate on the monotonic clock,
 * or, with TriggerMode On / TriggerSource Software, one frame per
 * TriggerSoftware, ready ExposureTime + 3 ms after it. nFrameNum counts
 * every frame the camera produced (1, 2, ...); nHostTimeStamp is the wall
 * clock (ms) when the frame was received; the device timestamp is the
 * exposure start in ns of the monotonic clock, also written into the
 * frame's first 8 bytes (int64, host order) so that tests can compare a
 * frame's exposure time with the truth.
 *
 * Environment:
 *   FAKE_MVS_FAULTS  comma-separated: nodata:N@K (GetImageBuffer calls K..K+N-1
 *                    wait their timeout and return MV_E_NODATA), lost@K or
 *                    lost:M@K (from call K the device is gone: calls return
 *                    MV_E_NETER, the exception callback fires; the next M
 *                    enumerations (default 2) do not list it and the first
 *                    OpenDevice after returns MV_E_ACCESS_DENIED),
 *                    incomplete@K (frame of call K lost packets),
 *                    slowfree:MS (each FreeImageBuffer sleeps MS ms)
 *   FAKE_MVS_SENSOR  WxH of the sensor (default 2592x2048)
 *   FAKE_MVS_NO_TRIGGER  1: the camera has no software trigger
 *   FAKE_MVS_REPORT  file rewritten at each DestroyHandle and at unload with
 *                    "gets=N frees=N bad_frees=N outstanding=N opens=N ..."
 * Buffer accounting: every buffer GetImageBuffer hands out must come back
 * once through FreeImageBuffer; a buffer still out at DestroyHandle or
 * unload, or freed twice, is printed on stderr as "fake_mvs: LEAK ..." /
 * "fake_mvs: BAD FREE ..." and counted in the report.
 * Not thread-safe: the driver calls from one thread (the camera worker).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mvs_abi.h"
#include "probevision/config.h"
#include "probevision/scene.h"
#include "probevision/sim.h"

#define EXPORT __attribute__((visibility("default")))
#define E_PARAMETER ((int)0x80000004u)
#define E_CALLORDER ((int)0x80000003u)
#define E_HANDLE ((int)0x80000000u)
#define E_NODE ((int)0x80000109u) /* MV_E_GC_NODE_NOT_FOUND */
#define E_NETER ((int)0x80000206u)
#define E_ACCESS_DENIED ((int)0x80000203u)
#define E_NOENOUGH_BUF ((int)0x8000000Au)
#define NODES_MAX 16
#define TRIGGERS_MAX 64

typedef struct node {
  uint8_t *data;
  int out; /* handed out, not yet freed */
} node;

static struct {
  int init;
  /* faults */
  long nodata_at, nodata_n, lost_at, lost_enums, incomplete_at, slowfree_ms;
  /* device */
  int sensor_w, sensor_h, no_trigger;
  pv_mvs_device_info dev;
  int lost, hidden_enums, deny_open;
  /* one handle at a time */
  int handle_live, open, grabbing;
  pv_mvs_exception_cb cb;
  void *cb_user;
  int64_t width, height, offset_x, offset_y, packet_size;
  uint32_t pixel_type;
  int trigger_on, trigger_software, frame_rate_enable;
  double fps, exposure_us;
  unsigned int nodes_n;
  node nodes[NODES_MAX];
  uint8_t *image;        /* the rendered view at the current region */
  size_t image_size;
  int64_t start_ns;      /* StartGrabbing, for continuous frames */
  uint64_t next_frame;   /* continuous: index of the next frame to hand out */
  uint32_t frame_num;    /* frames produced */
  int64_t triggers[TRIGGERS_MAX];
  unsigned trig_head, trig_count;
  /* accounting */
  unsigned long long gets, frees, bad_frees, calls, nodata, lost_events, opens, fired,
      missing, leaked;
} g;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t) {
  struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

static void parse_faults(const char *s) {
  while (s && *s) {
    long a = 0, b = 0;
    if (sscanf(s, "nodata:%ld@%ld", &a, &b) == 2) g.nodata_n = a, g.nodata_at = b;
    else if (sscanf(s, "lost:%ld@%ld", &a, &b) == 2) g.lost_enums = a, g.lost_at = b;
    else if (sscanf(s, "lost@%ld", &b) == 1) g.lost_at = b;
    else if (sscanf(s, "incomplete@%ld", &b) == 1) g.incomplete_at = b;
    else if (sscanf(s, "slowfree:%ld", &a) == 1) g.slowfree_ms = a;
    else fprintf(stderr, "fake_mvs: unknown fault '%s'\n", s);
    s = strchr(s, ',');
    if (s) s++;
  }
}

static void init(void) {
  if (g.init) return;
  g.init = 1;
  g.lost_enums = 2;
  g.sensor_w = 2592;
  g.sensor_h = 2048;
  const char *sensor = getenv("FAKE_MVS_SENSOR");
  if (sensor) sscanf(sensor, "%dx%d", &g.sensor_w, &g.sensor_h);
  const char *nt = getenv("FAKE_MVS_NO_TRIGGER");
  g.no_trigger = nt && nt[0] == '1';
  parse_faults(getenv("FAKE_MVS_FAULTS"));
  g.dev.major_ver = 1;
  g.dev.tlayer_type = PV_MVS_GIGE_DEVICE;
  pv_mvs_gige_info *gi = &g.dev.special.gige;
  gi->current_ip = 0xC0A80A14u; /* 192.168.10.20 */
  memcpy(gi->manufacturer, "Hikrobot", 8);
  memcpy(gi->model, "MV-CA050-FAKE", 13);
  memcpy(gi->serial, "FAKE0001", 8);
  g.width = g.sensor_w;
  g.height = g.sensor_h;
  g.pixel_type = PV_MVS_PIXEL_BAYER_BG8;
  g.fps = 30;
  g.exposure_us = 5000;
  g.nodes_n = 4;
  g.packet_size = 1500;
}

static void report(void) {
  const char *path = getenv("FAKE_MVS_REPORT");
  if (path == NULL || path[0] == '\0') return;
  FILE *f = fopen(path, "w");
  if (f == NULL) return;
  fprintf(f, "gets=%llu frees=%llu bad_frees=%llu outstanding=%llu leaked=%llu opens=%llu "
          "calls=%llu nodata=%llu lost=%llu triggers=%llu missing=%llu\n",
          g.gets, g.frees, g.bad_frees, g.gets - g.frees, g.leaked, g.opens, g.calls, g.nodata,
          g.lost_events, g.fired, g.missing);
  fclose(f);
}

static void free_nodes(void) {
  for (unsigned i = 0; i < NODES_MAX; i++) {
    if (g.nodes[i].out) {
      fprintf(stderr, "fake_mvs: LEAK: image buffer %u was never freed\n", i);
      g.leaked++;
    }
    free(g.nodes[i].data);
    g.nodes[i].data = NULL;
    g.nodes[i].out = 0;
  }
  free(g.image);
  g.image = NULL;
}

__attribute__((destructor)) static void at_unload(void) {
  if (!g.init) return;
  free_nodes();
  report();
}

static int pixfmt_of(uint32_t t, pv_pixfmt *f) {
  switch (t) {
  case PV_MVS_PIXEL_MONO8: *f = PV_PIXFMT_MONO8; return 1;
  case PV_MVS_PIXEL_BAYER_BG8: *f = PV_PIXFMT_BAYER_BG8; return 1;
  case PV_MVS_PIXEL_BAYER_GB8: *f = PV_PIXFMT_BAYER_GB8; return 1;
  case PV_MVS_PIXEL_BAYER_GR8: *f = PV_PIXFMT_BAYER_GR8; return 1;
  case PV_MVS_PIXEL_BAYER_RG8: *f = PV_PIXFMT_BAYER_RG8; return 1;
  default: return 0;
  }
}

/* Renders the wafer view at die 0's mark for the current region. */
static int render(void) {
  size_t size = (size_t)g.width * (size_t)g.height;
  if (g.image && g.image_size == size) return 0;
  free(g.image);
  g.image = malloc(size);
  g.image_size = size;
  if (g.image == NULL) return -1;
  pv_config c;
  pv_config_default(&c);
  pv_wafer_params w;
  pv_sim_wafer_params(&c, &w);
  pv_scene *s = NULL;
  double x = 0, y = 0;
  pv_pixfmt f = PV_PIXFMT_MONO8;
  pixfmt_of(g.pixel_type, &f);
  if (pv_scene_create(&w, &s) != PV_OK) return -1;
  pv_scene_die_mark(s, 0, &x, &y);
  int rc = pv_scene_render(s, x, y, 1, f, g.image, (int)g.width, (int)g.height, (int)g.width);
  pv_scene_destroy(s);
  return rc == PV_OK ? 0 : -1;
}

static void become_lost(void) {
  if (g.lost) return;
  g.lost = 1;
  g.lost_events++;
  g.hidden_enums = (int)g.lost_enums;
  g.deny_open = 1;
  if (g.cb) g.cb(PV_MVS_EXCEPTION_DEV_DISCONNECT, g.cb_user);
}

static int check(void *h) {
  if (h != (void *)&g || !g.handle_live) return E_HANDLE;
  return g.lost ? E_NETER : PV_MVS_OK;
}

/* ---- entry points ------------------------------------------------------ */

EXPORT int MV_CC_Initialize(void) { init(); return PV_MVS_OK; }
EXPORT int MV_CC_Finalize(void) { return PV_MVS_OK; }
EXPORT unsigned int MV_CC_GetSDKVersion(void) { return 0x04040000u; }

EXPORT int MV_CC_EnumDevices(unsigned int layers, pv_mvs_device_list *list) {
  init();
  if (list == NULL) return E_PARAMETER;
  memset(list, 0, sizeof *list);
  if (g.hidden_enums > 0) {
    g.hidden_enums--;
    return PV_MVS_OK;
  }
  if (g.lost && !g.handle_live) g.lost = 0; /* back on the network */
  if (layers & PV_MVS_GIGE_DEVICE) list->info[list->count++] = &g.dev;
  return PV_MVS_OK;
}

EXPORT int MV_CC_CreateHandle(void **handle, const pv_mvs_device_info *info) {
  init();
  if (handle == NULL || info != &g.dev) return E_PARAMETER;
  if (g.handle_live) return E_ACCESS_DENIED;
  g.handle_live = 1;
  *handle = &g;
  return PV_MVS_OK;
}

EXPORT int MV_CC_DestroyHandle(void *h) {
  if (h != (void *)&g || !g.handle_live) return E_HANDLE;
  free_nodes();
  g.handle_live = g.open = g.grabbing = 0;
  g.cb = NULL;
  report();
  return PV_MVS_OK;
}

EXPORT int MV_CC_OpenDevice(void *h, unsigned int access, unsigned short key) {
  (void)access, (void)key;
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (g.deny_open) {
    g.deny_open = 0;
    return E_ACCESS_DENIED;
  }
  if (g.open) return E_CALLORDER;
  g.open = 1;
  g.opens++;
  return PV_MVS_OK;
}

EXPORT int MV_CC_CloseDevice(void *h) {
  if (h != (void *)&g || !g.handle_live) return E_HANDLE;
  g.open = g.grabbing = 0;
  return PV_MVS_OK;
}

EXPORT int MV_CC_RegisterExceptionCallBack(void *h, pv_mvs_exception_cb cb, void *user) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  g.cb = cb;
  g.cb_user = user;
  return PV_MVS_OK;
}

EXPORT int MV_CC_SetImageNodeNum(void *h, unsigned int n) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (n < 1 || g.grabbing) return E_PARAMETER;
  g.nodes_n = n > NODES_MAX ? NODES_MAX : n;
  return PV_MVS_OK;
}

EXPORT int MV_CC_StartGrabbing(void *h) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (!g.open || g.grabbing) return E_CALLORDER;
  if (render() != 0) return (int)0x80000006u; /* MV_E_RESOURCE */
  for (unsigned i = 0; i < g.nodes_n; i++) {
    if (g.nodes[i].out) continue; /* still held by the caller */
    free(g.nodes[i].data);
    g.nodes[i].data = malloc(g.image_size);
    if (g.nodes[i].data == NULL) return (int)0x80000006u;
  }
  g.grabbing = 1;
  g.start_ns = mono_ns();
  g.next_frame = 0;
  g.trig_count = 0;
  return PV_MVS_OK;
}

EXPORT int MV_CC_StopGrabbing(void *h) {
  if (h != (void *)&g || !g.handle_live) return E_HANDLE;
  if (!g.grabbing) return E_CALLORDER;
  g.grabbing = 0;
  return g.lost ? E_NETER : PV_MVS_OK;
}

/* ---- features ---------------------------------------------------------- */

EXPORT int MV_CC_SetEnumValue(void *h, const char *key, unsigned int v) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (strcmp(key, "PixelFormat") == 0) {
    pv_pixfmt f;
    if (!pixfmt_of(v, &f) || g.grabbing) return E_PARAMETER;
    g.pixel_type = v;
    return PV_MVS_OK;
  }
  return E_NODE;
}

EXPORT int MV_CC_SetEnumValueByString(void *h, const char *key, const char *v) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (strcmp(key, "TriggerMode") == 0) {
    if (g.no_trigger && strcmp(v, "On") == 0) return E_PARAMETER;
    g.trigger_on = strcmp(v, "On") == 0;
    return PV_MVS_OK;
  }
  if (strcmp(key, "TriggerSource") == 0) {
    if (g.no_trigger) return E_NODE;
    g.trigger_software = strcmp(v, "Software") == 0;
    return PV_MVS_OK;
  }
  if (strcmp(key, "ExposureAuto") == 0 || strcmp(key, "AcquisitionMode") == 0)
    return PV_MVS_OK;
  return E_NODE;
}

static int64_t *int_feature(const char *key) {
  if (strcmp(key, "Width") == 0) return &g.width;
  if (strcmp(key, "Height") == 0) return &g.height;
  if (strcmp(key, "OffsetX") == 0) return &g.offset_x;
  if (strcmp(key, "OffsetY") == 0) return &g.offset_y;
  if (strcmp(key, "GevSCPSPacketSize") == 0) return &g.packet_size;
  return NULL;
}

EXPORT int MV_CC_GetIntValueEx(void *h, const char *key, pv_mvs_int_value *out) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  memset(out, 0, sizeof *out);
  out->inc = 1;
  if (strcmp(key, "PayloadSize") == 0) {
    out->cur = out->max = g.width * g.height;
    return PV_MVS_OK;
  }
  int64_t *v = int_feature(key);
  if (v == NULL) return E_NODE;
  out->cur = *v;
  if (v == &g.width) out->min = 16, out->max = g.sensor_w - g.offset_x, out->inc = 8;
  else if (v == &g.height) out->min = 16, out->max = g.sensor_h - g.offset_y, out->inc = 2;
  else if (v == &g.offset_x) out->max = g.sensor_w - g.width, out->inc = 8;
  else if (v == &g.offset_y) out->max = g.sensor_h - g.height, out->inc = 2;
  else out->min = 576, out->max = 9000, out->inc = 4;
  return PV_MVS_OK;
}

EXPORT int MV_CC_SetIntValueEx(void *h, const char *key, int64_t value) {
  pv_mvs_int_value r;
  int rc = MV_CC_GetIntValueEx(h, key, &r);
  if (rc != PV_MVS_OK) return rc;
  if (g.grabbing && key[0] != 'G') return E_CALLORDER; /* region locked */
  if (value < r.min || value > r.max || (value - r.min) % r.inc) return (int)0x80000102u;
  *int_feature(key) = value;
  return PV_MVS_OK;
}

EXPORT int MV_CC_GetFloatValue(void *h, const char *key, pv_mvs_float_value *out) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  memset(out, 0, sizeof *out);
  if (strcmp(key, "AcquisitionFrameRate") == 0) *out = (pv_mvs_float_value){(float)g.fps, 200, 0.1f, {0}};
  else if (strcmp(key, "ExposureTime") == 0) *out = (pv_mvs_float_value){(float)g.exposure_us, 1e6f, 20, {0}};
  else return E_NODE;
  return PV_MVS_OK;
}

EXPORT int MV_CC_SetFloatValue(void *h, const char *key, float v) {
  pv_mvs_float_value r;
  int rc = MV_CC_GetFloatValue(h, key, &r);
  if (rc != PV_MVS_OK) return rc;
  if (v < r.min || v > r.max) return (int)0x80000102u;
  if (key[0] == 'A') g.fps = v;
  else g.exposure_us = v;
  return PV_MVS_OK;
}

EXPORT int MV_CC_SetBoolValue(void *h, const char *key, char v) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (strcmp(key, "AcquisitionFrameRateEnable") != 0) return E_NODE;
  g.frame_rate_enable = v != 0;
  return PV_MVS_OK;
}

EXPORT int MV_CC_SetCommandValue(void *h, const char *key) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (strcmp(key, "TriggerSoftware") != 0 || g.no_trigger) return E_NODE;
  if (!g.grabbing || !g.trigger_on || !g.trigger_software) return E_CALLORDER;
  if (g.trig_count < TRIGGERS_MAX) {
    g.triggers[(g.trig_head + g.trig_count) % TRIGGERS_MAX] = mono_ns();
    g.trig_count++;
  }
  g.fired++;
  return PV_MVS_OK;
}

EXPORT int MV_CC_GetOptimalPacketSize(void *h) {
  int rc = check(h);
  return rc != PV_MVS_OK ? rc : 8164;
}

EXPORT int MV_CC_GetAllMatchInfo(void *h, pv_mvs_match_info *mi) {
  int rc = check(h);
  if (rc != PV_MVS_OK) return rc;
  if (mi == NULL || mi->type != PV_MVS_MATCH_TYPE_NET_DETECT ||
      mi->info_size < sizeof(pv_mvs_net_detect))
    return E_PARAMETER;
  pv_mvs_net_detect *nd = mi->info;
  memset(nd, 0, sizeof *nd);
  nd->lost_frames = (uint32_t)g.missing;
  nd->received_frames = (uint32_t)g.gets;
  return PV_MVS_OK;
}

/* ---- frames ------------------------------------------------------------ */

/* The exposure start of the next frame, or -1 when none is due before
 * `deadline` (waits until the frame is ready or the deadline). */
static int64_t next_frame(int64_t deadline) {
  int64_t exposure = (int64_t)(g.exposure_us * 1e3), ready;
  if (g.trigger_on) {
    if (g.trig_count == 0) {
      sleep_until(deadline);
      return -1;
    }
    int64_t t = g.triggers[g.trig_head];
    ready = t + exposure + 3000000;
    if (ready > deadline) {
      sleep_until(deadline);
      return -1;
    }
    sleep_until(ready);
    g.trig_head = (g.trig_head + 1) % TRIGGERS_MAX;
    g.trig_count--;
    return t;
  }
  int64_t period = (int64_t)(1e9 / (g.fps > 0 ? g.fps : 30));
  int64_t now = mono_ns();
  uint64_t due = (uint64_t)((now - g.start_ns) / period);
  if (due > g.next_frame + g.nodes_n) { /* the queue overflowed: oldest lost */
    g.missing += due - g.nodes_n - g.next_frame;
    g.next_frame = due - g.nodes_n;
  }
  int64_t start = g.start_ns + (int64_t)g.next_frame * period;
  ready = start + exposure + 3000000;
  if (ready > deadline) {
    sleep_until(deadline);
    return -1;
  }
  sleep_until(ready);
  g.next_frame++;
  return start;
}

EXPORT int MV_CC_GetImageBuffer(void *h, pv_mvs_frame_out *fo, unsigned int timeout_ms) {
  if (h != (void *)&g || !g.handle_live) return E_HANDLE;
  g.calls++;
  if (g.lost_at > 0 && (long)g.calls == g.lost_at) become_lost();
  if (g.lost) return E_NETER;
  if (!g.grabbing) return E_CALLORDER;
  if (fo == NULL) return E_PARAMETER;
  int64_t deadline = mono_ns() + (int64_t)timeout_ms * 1000000;
  if (g.nodata_n > 0 && (long)g.calls >= g.nodata_at && (long)g.calls < g.nodata_at + g.nodata_n) {
    sleep_until(deadline);
    g.nodata++;
    return PV_MVS_E_NODATA;
  }
  unsigned i = 0;
  while (i < g.nodes_n && g.nodes[i].out) i++;
  if (i == g.nodes_n) { /* every buffer held by the caller: nothing to fill */
    sleep_until(deadline);
    g.nodata++;
    return PV_MVS_E_NODATA;
  }
  int64_t start = next_frame(deadline);
  if (start < 0) {
    g.nodata++;
    return PV_MVS_E_NODATA;
  }
  memcpy(g.nodes[i].data, g.image, g.image_size);
  if (g.image_size >= 8) memcpy(g.nodes[i].data, &start, 8); /* the truth, for tests */
  g.nodes[i].out = 1;
  g.gets++;
  memset(fo, 0, sizeof *fo);
  fo->buf = g.nodes[i].data;
  pv_mvs_frame_info *fi = &fo->info;
  fi->width = (uint16_t)g.width;
  fi->height = (uint16_t)g.height;
  fi->pixel_type = g.pixel_type;
  fi->frame_num = ++g.frame_num;
  fi->dev_ts_high = (uint32_t)((uint64_t)start >> 32);
  fi->dev_ts_low = (uint32_t)start;
  fi->host_ts = (wall_ns() - (mono_ns() - start - (int64_t)(g.exposure_us * 1e3))) / 1000000;
  fi->frame_len = (uint32_t)g.image_size;
  fi->exposure_time = (float)g.exposure_us;
  fi->trigger_index = (uint32_t)g.fired;
  fi->lost_packet = g.incomplete_at > 0 && (long)g.calls == g.incomplete_at ? 3 : 0;
  return PV_MVS_OK;
}

EXPORT int MV_CC_FreeImageBuffer(void *h, pv_mvs_frame_out *fo) {
  if (h != (void *)&g || !g.handle_live) return E_HANDLE;
  if (g.slowfree_ms > 0) sleep_until(mono_ns() + g.slowfree_ms * 1000000);
  for (unsigned i = 0; i < NODES_MAX; i++) {
    if (fo && fo->buf && fo->buf == g.nodes[i].data && g.nodes[i].out) {
      g.nodes[i].out = 0;
      g.frees++;
      return PV_MVS_OK;
    }
  }
  g.bad_frees++;
  fprintf(stderr, "fake_mvs: BAD FREE: %p was not handed out (or freed twice)\n",
          fo ? (void *)fo->buf : NULL);
  return E_PARAMETER;
}
