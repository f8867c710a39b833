/* sim: the register map of probevision's GigE Vision device.
 *
 * Three regions: the GigE Vision bootstrap registers (0x0000-0x0fff:
 * identity strings, XML URL, capabilities, heartbeat, timestamp control and
 * latched value, control channel privilege, stream channel 0), our feature
 * registers (PV__GV_FEAT_BASE, the PV__GVF_* offsets the XML names) and the
 * XML itself (PV__GV_XML_BASE, read-only). Reads build the region's image
 * from the current state, so dynamic values (PayloadSize, the latched
 * timestamp, the privilege) are never stale. A write to the feature region
 * is applied to a copy of the settings, checked whole, and committed only if
 * every value is valid: a refused write changes nothing.
 *
 * Control: while a client holds the control channel privilege (CCP), writes
 * from anyone else are refused (ACCESS_DENIED); reads are always answered.
 * Releasing control, or losing it (heartbeat timeout, gv_device.c), stops
 * the acquisition and forgets the stream destination.
 *
 * Every function here is called with cam->lock held (by the GVCP thread, or
 * at start before any thread runs).
 */
#include <arpa/inet.h>
#include <math.h>
#include <string.h>

#include "gv_internal.h"

#define CAPABILITY ((1u << 31) | (1u << 30) | (1u << 2) | (1u << 1) | (1u << 0))
#define MODEL "PV-GigE-Sim"

static void put_double(uint8_t *p, double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  pv__gv_put32(p, (uint32_t)(u >> 32));
  pv__gv_put32(p + 4, (uint32_t)u);
}
static double get_double(const uint8_t *p) {
  uint64_t u = (uint64_t)pv__gv_get32(p) << 32 | pv__gv_get32(p + 4);
  double d;
  memcpy(&d, &u, 8);
  return d;
}

/* A NUL-terminated string in a field of `cap` bytes (cut to cap - 1). */
static void put_str(uint8_t *p, const char *str, size_t cap) {
  size_t n = strlen(str);
  if (n > cap - 1) n = cap - 1;
  memcpy(p, str, n);
  p[n] = 0;
}

uint64_t pv__gv_device_now(const pv_gv_camera *cam) {
  return (uint64_t)(pv_now_ns() + cam->clock_offset_ns);
}

uint32_t pv__gv_packet_size(const pv_gv_camera *cam) { return cam->scps & 0xffffu; }

void pv__gv_regs_init(pv_gv_camera *cam) {
  cam->set = (pv__gv_settings){
      .width = cam->sensor_w, .height = cam->sensor_h, .pixfmt = PV__GV_BAYER_BG8,
      .acq_mode = PV__GV_ACQ_CONTINUOUS, .acq_count = 1, .frame_rate_enable = 1,
      .frame_rate = 16.0, .exposure_us = 10000.0, .gain_db = 0.0};
  cam->heartbeat_ms = 3000;
  cam->scps = 1500;
  size_t xml_len;
  pv__gv_xml(&xml_len);
  pv_snprintf_c(cam->xml_url, sizeof cam->xml_url, "Local:probevision-sim.xml;%x;%x",
                PV__GV_XML_BASE, (unsigned)((xml_len + 3) / 4 * 4));
  uint64_t rng = (uint64_t)pv_wall_ns() ^ (uint64_t)(uintptr_t)cam;
  /* the device clock runs 1000 to 11000 s ahead of the host's monotonic
   * clock: never the host's time, whatever the host's uptime */
  cam->clock_offset_ns =
      PV_NS_PER_S * 1000 + (int64_t)(pv_rng_next(&rng) % (UINT64_C(10000) * PV_NS_PER_S));
}

static void boot_image(const pv_gv_camera *cam, uint8_t *img) {
  memcpy(img, cam->boot_rw, PV__GV_BOOT_SIZE);
  uint32_t ip = ntohl(cam->addr.s_addr), mac = 0x5056u;
  for (const char *c = cam->serial; *c; c++) mac = mac * 31u + (uint8_t)*c;
  pv__gv_put32(img + 0x0000, 0x00010002u);       /* GigE Vision 1.2 */
  pv__gv_put32(img + 0x0004, 0x80000001u);       /* big-endian, UTF-8 */
  pv__gv_put32(img + 0x0008, 0x00000250u);       /* MAC 02:50:..., locally administered */
  pv__gv_put32(img + 0x000c, mac);
  pv__gv_put32(img + 0x0010, 0x80000007u);
  pv__gv_put32(img + 0x0014, 0x00000005u);
  pv__gv_put32(img + 0x0024, ip);
  pv__gv_put32(img + 0x0034, (ip >> 24) == 127 ? 0xff000000u : 0xffffff00u);
  pv__gv_put32(img + 0x0044, 0);
  memset(img + 0x0048, 0, 0xe8 - 0x48);
  put_str(img + 0x0048, "probevision", 32);
  put_str(img + 0x0068, MODEL, 32);
  put_str(img + 0x0088, "1.0", 32);
  put_str(img + 0x00a8, "simulated camera: true exposure timestamps", 48);
  put_str(img + 0x00d8, cam->serial, 16);
  memset(img + 0x0200, 0, 0x400);
  put_str(img + 0x0200, cam->xml_url, 512);
  pv__gv_put32(img + 0x0600, 1);
  pv__gv_put32(img + 0x0900, 0);
  pv__gv_put32(img + 0x0904, 1);
  pv__gv_put32(img + 0x0934, CAPABILITY);
  pv__gv_put32(img + 0x0938, cam->heartbeat_ms);
  pv__gv_put32(img + 0x093c, 0);
  pv__gv_put32(img + 0x0940, PV__GV_TICK_HZ);
  pv__gv_put32(img + 0x0944, 0);
  pv__gv_put32(img + 0x0948, (uint32_t)(cam->latched >> 32));
  pv__gv_put32(img + 0x094c, (uint32_t)cam->latched);
  pv__gv_put32(img + 0x0a00, cam->ccp);
  pv__gv_put32(img + 0x0d00, cam->scp_port);
  pv__gv_put32(img + 0x0d04, cam->scps);
  pv__gv_put32(img + 0x0d08, cam->scpd);
  pv__gv_put32(img + 0x0d18, cam->scda);
}

static void feat_image(const pv_gv_camera *cam, const pv__gv_settings *s, uint8_t *img) {
  memset(img, 0, PV__GV_FEAT_SIZE);
  pv__gv_put32(img + PV__GVF_WIDTH, s->width);
  pv__gv_put32(img + PV__GVF_HEIGHT, s->height);
  pv__gv_put32(img + PV__GVF_OFFSET_X, s->offset_x);
  pv__gv_put32(img + PV__GVF_OFFSET_Y, s->offset_y);
  pv__gv_put32(img + PV__GVF_SENSOR_W, cam->sensor_w);
  pv__gv_put32(img + PV__GVF_SENSOR_H, cam->sensor_h);
  pv__gv_put32(img + PV__GVF_WIDTH_MAX, cam->sensor_w);
  pv__gv_put32(img + PV__GVF_HEIGHT_MAX, cam->sensor_h);
  pv__gv_put32(img + PV__GVF_PIXFMT, s->pixfmt);
  pv__gv_put32(img + PV__GVF_PAYLOAD, s->width * s->height);
  pv__gv_put32(img + PV__GVF_ACQ_MODE, s->acq_mode);
  pv__gv_put32(img + PV__GVF_ACQ_COUNT, s->acq_count);
  pv__gv_put32(img + PV__GVF_TRIG_SELECTOR, s->trig_selector);
  pv__gv_put32(img + PV__GVF_TRIG_MODE, s->trig_mode);
  pv__gv_put32(img + PV__GVF_TRIG_SOURCE, s->trig_source);
  pv__gv_put32(img + PV__GVF_EXPOSURE_AUTO, s->exposure_auto);
  pv__gv_put32(img + PV__GVF_TRIG_ACTIVATION, s->trig_activation);
  pv__gv_put32(img + PV__GVF_FRAME_RATE_ENABLE, s->frame_rate_enable);
  put_double(img + PV__GVF_FRAME_RATE, s->frame_rate);
  put_double(img + PV__GVF_EXPOSURE, s->exposure_us);
  put_double(img + PV__GVF_GAIN, s->gain_db);
}

int pv__gv_read(pv_gv_camera *cam, uint32_t addr, uint32_t len, uint8_t *out) {
  if (addr % 4 != 0 || len % 4 != 0) return PV__GVCP_BAD_ALIGNMENT;
  uint64_t end = (uint64_t)addr + len;
  uint8_t img[PV__GV_BOOT_SIZE];
  if (end <= PV__GV_BOOT_SIZE) {
    boot_image(cam, img);
    memcpy(out, img + addr, len);
  } else if (addr >= PV__GV_FEAT_BASE && end <= PV__GV_FEAT_BASE + PV__GV_FEAT_SIZE) {
    feat_image(cam, &cam->set, img);
    memcpy(out, img + (addr - PV__GV_FEAT_BASE), len);
  } else if (addr >= PV__GV_XML_BASE) {
    size_t n;
    const char *xml = pv__gv_xml(&n);
    if (end > PV__GV_XML_BASE + (n + 3) / 4 * 4) return PV__GVCP_INVALID_ADDRESS;
    for (uint32_t i = 0; i < len; i++) {
      size_t at = addr - PV__GV_XML_BASE + i;
      out[i] = at < n ? (uint8_t)xml[at] : 0;
    }
  } else {
    return PV__GVCP_INVALID_ADDRESS;
  }
  return PV__GVCP_OK;
}

void pv__gv_acquisition_stop(pv_gv_camera *cam, const char *why) {
  if (cam->acquiring) pv_info("sim camera: acquisition stopped (%s)", why);
  cam->acquiring = false;
  cam->frames_left = 0;
  cam->trig_count = 0;
  pthread_cond_broadcast(&cam->wake);
}

static void acquisition_start(pv_gv_camera *cam) {
  const pv__gv_settings *s = &cam->set;
  cam->acquiring = true;
  cam->frames_left = s->acq_mode == PV__GV_ACQ_SINGLE  ? 1
                     : s->acq_mode == PV__GV_ACQ_MULTI ? (int64_t)s->acq_count
                                                       : -1;
  cam->trig_count = 0;
  cam->next_start_ns = pv_now_ns();
  cam->period_ns = 0;
  pv_info("sim camera: acquisition started: %s%s, %ux%u%+d%+d, %.3g fps, exposure %.0f us",
          s->acq_mode == PV__GV_ACQ_SINGLE ? "SingleFrame"
          : s->acq_mode == PV__GV_ACQ_MULTI ? "MultiFrame" : "Continuous",
          s->trig_mode ? " on software trigger" : "", s->width, s->height, (int)s->offset_x,
          (int)s->offset_y, s->frame_rate, s->exposure_us);
  pthread_cond_broadcast(&cam->wake);
}

static void software_trigger(pv_gv_camera *cam) {
  if (!cam->acquiring || !cam->set.trig_mode) {
    pv_debug("sim camera: TriggerSoftware ignored (%s)",
             cam->acquiring ? "TriggerMode is Off" : "not acquiring");
    return;
  }
  if (cam->trig_count == PV__GV_MAX_TRIGGERS) {
    pv_warn("sim camera: TriggerSoftware ignored: %d triggers already wait", PV__GV_MAX_TRIGGERS);
    return;
  }
  /* the exposure starts when the command is processed: now */
  cam->triggers[(cam->trig_head + cam->trig_count++) % PV__GV_MAX_TRIGGERS] = pv_now_ns();
  pthread_cond_broadcast(&cam->wake);
}

static bool valid_format(uint32_t f) {
  return f == PV__GV_MONO8 || f == PV__GV_BAYER_GR8 || f == PV__GV_BAYER_RG8 ||
         f == PV__GV_BAYER_GB8 || f == PV__GV_BAYER_BG8;
}

/* Applies bytes [off, off+len) of the feature region. */
static int write_features(pv_gv_camera *cam, uint32_t off, uint32_t len, const uint8_t *in) {
  uint8_t img[PV__GV_FEAT_SIZE];
  feat_image(cam, &cam->set, img);
  uint8_t old[PV__GV_FEAT_SIZE];
  memcpy(old, img, sizeof old);
  memcpy(img + off, in, len);
  for (uint32_t o = PV__GVF_SENSOR_W; o <= PV__GVF_WIDTH_MAX + 4; o += 4)
    if (off < o + 4 && off + len > o && memcmp(img + o, old + o, 4) != 0)
      return PV__GVCP_WRITE_PROTECT;
  if (off < PV__GVF_PAYLOAD + 4 && off + len > PV__GVF_PAYLOAD) return PV__GVCP_WRITE_PROTECT;
  pv__gv_settings s = cam->set;
  s.width = pv__gv_get32(img + PV__GVF_WIDTH), s.height = pv__gv_get32(img + PV__GVF_HEIGHT);
  s.offset_x = pv__gv_get32(img + PV__GVF_OFFSET_X), s.offset_y = pv__gv_get32(img + PV__GVF_OFFSET_Y);
  s.pixfmt = pv__gv_get32(img + PV__GVF_PIXFMT);
  s.acq_mode = pv__gv_get32(img + PV__GVF_ACQ_MODE), s.acq_count = pv__gv_get32(img + PV__GVF_ACQ_COUNT);
  s.trig_selector = pv__gv_get32(img + PV__GVF_TRIG_SELECTOR);
  s.trig_mode = pv__gv_get32(img + PV__GVF_TRIG_MODE);
  s.trig_source = pv__gv_get32(img + PV__GVF_TRIG_SOURCE);
  s.exposure_auto = pv__gv_get32(img + PV__GVF_EXPOSURE_AUTO);
  s.trig_activation = pv__gv_get32(img + PV__GVF_TRIG_ACTIVATION);
  s.frame_rate_enable = pv__gv_get32(img + PV__GVF_FRAME_RATE_ENABLE);
  s.frame_rate = get_double(img + PV__GVF_FRAME_RATE);
  s.exposure_us = get_double(img + PV__GVF_EXPOSURE);
  s.gain_db = get_double(img + PV__GVF_GAIN);
  bool ok = s.width >= 16 && s.height >= 16 && s.offset_x <= cam->sensor_w &&
            s.offset_y <= cam->sensor_h && s.width <= cam->sensor_w - s.offset_x &&
            s.height <= cam->sensor_h - s.offset_y && valid_format(s.pixfmt) && s.acq_mode <= 2 &&
            s.acq_count >= 1 && s.acq_count <= 65535 && s.trig_selector == 0 &&
            s.trig_mode <= 1 && s.trig_source == 0 && s.trig_activation == 0 &&
            (s.exposure_auto == 0 || s.exposure_auto == 2) && s.frame_rate_enable <= 1 &&
            s.frame_rate >= 0.1 && s.frame_rate <= 200 && s.exposure_us >= 10 &&
            s.exposure_us <= 1e6 && s.gain_db >= 0 && s.gain_db <= 24;
  if (!ok) return PV__GVCP_INVALID_PARAMETER;
  bool geometry = s.width != cam->set.width || s.height != cam->set.height ||
                  s.offset_x != cam->set.offset_x || s.offset_y != cam->set.offset_y ||
                  s.pixfmt != cam->set.pixfmt;
  if (geometry && cam->acquiring) return PV__GVCP_ACCESS_DENIED; /* locked while streaming */
  cam->set = s;
  uint32_t end = off + len;
  if (off <= PV__GVF_ACQ_STOP && end > PV__GVF_ACQ_STOP && pv__gv_get32(img + PV__GVF_ACQ_STOP) == 1)
    pv__gv_acquisition_stop(cam, "AcquisitionStop");
  if (off <= PV__GVF_ACQ_START && end > PV__GVF_ACQ_START && pv__gv_get32(img + PV__GVF_ACQ_START) == 1)
    acquisition_start(cam);
  if (off <= PV__GVF_TRIG_SOFTWARE && end > PV__GVF_TRIG_SOFTWARE &&
      pv__gv_get32(img + PV__GVF_TRIG_SOFTWARE) == 1)
    software_trigger(cam);
  pthread_cond_broadcast(&cam->wake); /* rate or exposure may have changed */
  return PV__GVCP_OK;
}

static bool same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b) {
  return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void fire_test_packet(pv_gv_camera *cam, uint32_t size) {
  if (cam->scp_port == 0 || size < 28 || size > PV__GV_PACKET_MAX) return;
  struct sockaddr_in dst = pv__gv_stream_dest(cam);
  memset(cam->gvcp_buf, 0, size - 28);
  sendto(cam->stream_fd, cam->gvcp_buf, size - 28, 0, (struct sockaddr *)&dst, sizeof dst);
}

static int write_boot_word(pv_gv_camera *cam, uint32_t a, uint32_t v,
                           const struct sockaddr_in *peer) {
  switch (a) {
  case 0x0a00:
    if (v & 3u) {
      if (cam->ccp == 0) pv_info("sim camera: control taken by %s:%u", inet_ntoa(peer->sin_addr),
                                 (unsigned)ntohs(peer->sin_port));
      cam->ccp = v & 3u;
      cam->controller = *peer;
      cam->last_heard_ns = pv_now_ns();
    } else if (cam->ccp != 0) {
      pv_info("sim camera: control released");
      cam->ccp = 0;
      pv__gv_acquisition_stop(cam, "control released");
      cam->scp_port = 0;
    }
    return PV__GVCP_OK;
  case 0x0938:
    if (v < 500) return PV__GVCP_INVALID_PARAMETER;
    cam->heartbeat_ms = v;
    return PV__GVCP_OK;
  case 0x0944:
    if (v & 1u) cam->clock_offset_ns = -pv_now_ns(); /* reset: the device clock restarts at 0 */
    if (v & 2u) cam->latched = pv__gv_device_now(cam);
    return PV__GVCP_OK;
  case 0x0d00: cam->scp_port = v & 0xffffu; pthread_cond_broadcast(&cam->wake); return PV__GVCP_OK;
  case 0x0d04: {
    uint32_t size = v & 0xffffu;
    if (size < 576 || size > PV__GV_PACKET_MAX) return PV__GVCP_INVALID_PARAMETER;
    cam->scps = (v & 0x7fff0000u & ~(1u << 31)) | size;
    if (v & (1u << 31)) fire_test_packet(cam, size);
    return PV__GVCP_OK;
  }
  case 0x0d08: cam->scpd = v; return PV__GVCP_OK;
  case 0x0d18: cam->scda = v; return PV__GVCP_OK;
  default:
    if (a < 0x00e8 || (a >= 0x0200 && a < 0x0a00)) return PV__GVCP_WRITE_PROTECT;
    pv__gv_put32(cam->boot_rw + a, v); /* user name, message channel...: kept, not used */
    return PV__GVCP_OK;
  }
}

int pv__gv_write(pv_gv_camera *cam, uint32_t addr, uint32_t len, const uint8_t *in,
                 const struct sockaddr_in *peer) {
  if (addr % 4 != 0 || len % 4 != 0) return PV__GVCP_BAD_ALIGNMENT;
  bool is_controller = cam->ccp != 0 && same_peer(peer, &cam->controller);
  if (cam->ccp != 0 && !is_controller) return PV__GVCP_ACCESS_DENIED;
  uint64_t end = (uint64_t)addr + len;
  if (end <= PV__GV_BOOT_SIZE) {
    for (uint32_t i = 0; i < len; i += 4) {
      int st = write_boot_word(cam, addr + i, pv__gv_get32(in + i), peer);
      if (st != PV__GVCP_OK) return st;
    }
    return PV__GVCP_OK;
  }
  if (addr >= PV__GV_FEAT_BASE && end <= PV__GV_FEAT_BASE + PV__GVF_END)
    return write_features(cam, addr - PV__GV_FEAT_BASE, len, in);
  if (addr >= PV__GV_XML_BASE) return PV__GVCP_WRITE_PROTECT;
  return PV__GVCP_INVALID_ADDRESS;
}
