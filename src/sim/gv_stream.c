/* sim: the sensor and GVSP side of probevision's GigE Vision device: one
 * thread, "gvstream".
 *
 * Timeline. The sensor exposes one frame at a time, from t0 to
 * t1 = t0 + ExposureTime. Continuous: t0 at AcquisitionStart, then every
 * max(1/AcquisitionFrameRate, ExposureTime) exactly (a start more than a
 * period past, because rendering or sending took longer, moves to now). SingleFrame / MultiFrame: the same for 1 /
 * AcquisitionFrameCount frames, then the acquisition ends by itself.
 * TriggerMode=On: one exposure per TriggerSoftware, starting when the GVCP
 * thread processed the command (or when the previous exposure ended, if
 * later); no trigger, no frame. The truth position is read at t0; the frame
 * is rendered after t1 (readout) at that position, into a slot of the ring,
 * and its leader carries the device time of t0 (a frame of the very same view
 * as the last rendered one is copied from it: the same picture, faster).
 * Nothing is dropped because
 * the stage moved: the timestamp says when the picture was taken.
 *
 * Slots: FREE -> RENDERING (this thread writes the pixels, nobody reads)
 * -> READY (waiting for send_at: t1 + leader-delay, and for the queue fault)
 * -> SENDING -> SENT (kept for PACKETRESEND until reused, oldest first).
 * State changes happen under cam->lock; the GVCP thread resends only from
 * SENDING/SENT slots, under the lock, so a slot is never rewritten while it
 * is read.
 *
 * Faults (decided here at the exposure's end, from cam->stream_rng, seeded
 * by faults.seed): nodata:P (a frame exposed but not sent: its block id is
 * skipped), stall:T (no frame sent for T s, once, PV__GV_STALL_AFTER_S after
 * the first), packet-loss:R (each packet's first sending lost with
 * probability R/1000; resends are not lost), leader-delay:MS (send_at =
 * t1 + MS), queue:N (READY frames are held until N are, then all leave
 * together; a stopped acquisition flushes them).
 *
 * Truth log: one line per frame sent, written by this thread after the
 * frame's trailer, flushed per line.
 */
#include <arpa/inet.h>
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "gv_internal.h"

#define PACE_BYTES (32 * 1024) /* pause briefly after each burst this big */
#define PACE_NS 50000


static int to_pixfmt(uint32_t f, pv_pixfmt *out) {
  switch (f) {
  case PV__GV_MONO8: *out = PV_PIXFMT_MONO8; return 0;
  case PV__GV_BAYER_BG8: *out = PV_PIXFMT_BAYER_BG8; return 0;
  case PV__GV_BAYER_GB8: *out = PV_PIXFMT_BAYER_GB8; return 0;
  case PV__GV_BAYER_GR8: *out = PV_PIXFMT_BAYER_GR8; return 0;
  case PV__GV_BAYER_RG8: *out = PV_PIXFMT_BAYER_RG8; return 0;
  default: return -1;
  }
}

void pv__gv_send_packets(pv_gv_camera *cam, const pv__gv_slot *s, uint32_t first, uint32_t last,
                         bool resend, uint8_t *buf, const struct sockaddr_in *dst,
                         uint32_t packet_size) {
  size_t per = packet_size - PV__GV_OVERHEAD, bytes = (size_t)s->width * s->height;
  uint32_t ndata = (uint32_t)((bytes + per - 1) / per), trailer = ndata + 1;
  double loss = resend ? 0 : cam->faults.packet_loss / 1000.0;
  size_t burst = 0;
  if (last > trailer) last = trailer;
  for (uint32_t id = first; id <= last; id++) {
    size_t n = 8;
    uint32_t format;
    pv__gv_put16(buf, 0);
    pv__gv_put16(buf + 2, s->block_id);
    if (id == 0) {
      format = 1; /* leader: image payload, the exposure start's device time */
      uint8_t *d = buf + 8;
      pv__gv_put16(d, 0);
      pv__gv_put16(d + 2, 0x0001);
      pv__gv_put32(d + 4, (uint32_t)(s->timestamp >> 32));
      pv__gv_put32(d + 8, (uint32_t)s->timestamp);
      pv__gv_put32(d + 12, s->pixfmt);
      pv__gv_put32(d + 16, s->width);
      pv__gv_put32(d + 20, s->height);
      pv__gv_put32(d + 24, s->offset_x);
      pv__gv_put32(d + 28, s->offset_y);
      pv__gv_put32(d + 32, 0);
      n += 36;
    } else if (id == trailer) {
      format = 2;
      pv__gv_put32(buf + 8, 0x0001);
      pv__gv_put32(buf + 12, s->height);
      n += 8;
    } else {
      format = 3;
      size_t off = (size_t)(id - 1) * per, len = bytes - off < per ? bytes - off : per;
      memcpy(buf + 8, s->data + off, len);
      n += len;
    }
    pv__gv_put32(buf + 4, format << 24 | id);
    if (loss > 0 && pv_rng_uniform(&cam->stream_rng) < loss) continue;
    sendto(cam->stream_fd, buf, n, 0, (const struct sockaddr *)dst, sizeof *dst);
    if ((burst += n) >= PACE_BYTES && !resend) { /* let the receiver drain its socket */
      burst = 0;
      struct timespec ts = {0, PACE_NS};
      nanosleep(&ts, NULL);
    }
  }
}

/* The exposure in progress (stream thread only). */
typedef struct exposure {
  bool on;
  int64_t t0, t1;
  uint64_t timestamp;
  double x, y;
  pv__gv_settings set;
} exposure;

typedef struct stream_state {
  exposure e;
  int64_t last_t1;
  bool releasing;     /* queue fault: READY frames leave */
  int64_t stall_from, stall_to;
  bool stall_logged, stall_over_logged;
  uint64_t render_seed;
  /* the last rendering: a frame of the same view is copied from its slot
   * (which only this thread writes) while that slot still holds it */
  const pv__gv_slot *last_slot;
  uint64_t last_seq;
  double last_cx, last_cy;
} stream_state;

static void begin_exposure(pv_gv_camera *cam, stream_state *st, int64_t t0) {
  exposure *e = &st->e;
  e->on = true;
  e->set = cam->set;
  e->t0 = t0;
  e->t1 = t0 + (int64_t)(e->set.exposure_us * 1e3);
  e->timestamp = (uint64_t)(t0 + cam->clock_offset_ns);
  e->x = e->y = 0;
  if (cam->truth.position_at) cam->truth.position_at(cam->truth.ctx, t0, &e->x, &e->y);
  long long zero = 0;
  if (atomic_compare_exchange_strong(&cam->first_frame_ns, &zero, t0) && cam->faults.stall_s > 0) {
    st->stall_from = t0 + PV__GV_STALL_AFTER_S * PV_NS_PER_S;
    st->stall_to = st->stall_from + (int64_t)(cam->faults.stall_s * 1e9);
  }
  double rate = e->set.frame_rate_enable ? e->set.frame_rate : 200.0;
  int64_t period = (int64_t)(1e9 / rate), busy = e->t1 - t0;
  cam->period_ns = period > busy ? period : busy;
  cam->next_start_ns = t0 + cam->period_ns;
  if (cam->frames_left > 0 && --cam->frames_left == 0) {
    cam->acquiring = false; /* SingleFrame / MultiFrame: done after this exposure */
    pv_info("sim camera: acquisition complete (%s)",
            e->set.acq_mode == PV__GV_ACQ_SINGLE ? "SingleFrame" : "MultiFrame");
  }
}

/* A slot for a new frame: a FREE one, else the oldest SENT; NULL if none. */
static pv__gv_slot *claim_slot(pv_gv_camera *cam) {
  pv__gv_slot *best = NULL;
  for (int i = 0; i < cam->nslots; i++) {
    pv__gv_slot *s = &cam->slots[i];
    if (s->state == SLOT_FREE) return s;
    if (s->state == SLOT_SENT && (best == NULL || s->seq < best->seq)) best = s;
  }
  return best;
}

static bool dropped(pv_gv_camera *cam, stream_state *st, int64_t t0, uint16_t block) {
  if (st->stall_to > 0 && t0 >= st->stall_from && t0 < st->stall_to) {
    if (!st->stall_logged)
      pv_warn("sim camera: fault stall: no frames for %.1f s", cam->faults.stall_s);
    st->stall_logged = true;
    return true;
  }
  if (st->stall_logged && !st->stall_over_logged && t0 >= st->stall_to) {
    st->stall_over_logged = true;
    pv_info("sim camera: stall over, frames flow again");
  }
  if (cam->faults.nodata > 0 && pv_rng_uniform(&cam->stream_rng) < cam->faults.nodata) {
    pv_info("sim camera: fault nodata: frame %u not sent", block);
    return true;
  }
  return false;
}

/* The exposure ended: read out (render) into a slot. Called and returns with
 * cam->lock held; renders without it. */
static void end_exposure(pv_gv_camera *cam, stream_state *st) {
  exposure e = st->e;
  st->e.on = false;
  st->last_t1 = e.t1;
  uint16_t block = cam->next_block;
  cam->next_block = (uint16_t)(block == 0xffff ? 1 : block + 1);
  if (cam->gone || dropped(cam, st, e.t0, block)) return;
  pv__gv_slot *s = claim_slot(cam);
  if (s == NULL) {
    pv_warn("sim camera: frame %u lost: every buffer of the camera is waiting to be sent", block);
    return;
  }
  *s = (pv__gv_slot){.data = s->data, .state = SLOT_RENDERING, .block_id = block,
                     .width = e.set.width, .height = e.set.height, .offset_x = e.set.offset_x,
                     .offset_y = e.set.offset_y, .pixfmt = e.set.pixfmt,
                     .timestamp = e.timestamp, .t0_ns = e.t0, .t1_ns = e.t1,
                     .send_at_ns = e.t1 + (int64_t)(cam->faults.leader_delay_ms * 1e6),
                     .x_um = e.x, .y_um = e.y, .settled = -1, .seq = ++cam->seq};
  pthread_mutex_unlock(&cam->lock);
  int w = (int)s->width, h = (int)s->height;
  double um = pv_scene_params(cam->scene)->um_per_px;
  /* the region is a window of the sensor: its centre is off the sensor's */
  double cx = e.x + (s->offset_x + (w - 1) / 2.0 - (cam->sensor_w - 1) / 2.0) * um;
  double cy = e.y + (s->offset_y + (h - 1) / 2.0 - (cam->sensor_h - 1) / 2.0) * um;
  pv_pixfmt pf = PV_PIXFMT_MONO8;
  to_pixfmt(s->pixfmt, &pf);
  const pv__gv_slot *prev = st->last_slot;
  int rc = PV_OK;
  if (prev && prev != s && prev->seq == st->last_seq && prev->width == s->width &&
      prev->height == s->height && prev->pixfmt == s->pixfmt && st->last_cx == cx &&
      st->last_cy == cy) {
    memcpy(s->data, prev->data, (size_t)w * (size_t)h); /* the same view: no re-render */
  } else {
    rc = pv_scene_render(cam->scene, cx, cy, ++st->render_seed, pf, s->data, w, h, w);
    st->last_slot = s, st->last_seq = s->seq, st->last_cx = cx, st->last_cy = cy;
  }
  if (rc < 0) {
    memset(s->data, 128, (size_t)w * (size_t)h);
    pv_warn("sim camera: cannot render a %dx%d frame: %s", w, h, pv_strerror(rc));
  }
  int settled = cam->stage ? pv_sim_stage_settled_during(cam->stage, e.t0, e.t1) : -1;
  pthread_mutex_lock(&cam->lock);
  s->settled = settled;
  s->state = SLOT_READY;
}

static int count_state(const pv_gv_camera *cam, enum pv__gv_slot_state state) {
  int n = 0;
  for (int i = 0; i < cam->nslots; i++) n += cam->slots[i].state == state;
  return n;
}

/* The READY slot to send next (oldest), or NULL; *when is its send time
 * (INT64_MAX when none may leave yet). */
static pv__gv_slot *next_ready(pv_gv_camera *cam, stream_state *st, int64_t *when) {
  *when = INT64_MAX;
  int ready = count_state(cam, SLOT_READY);
  if (ready == 0) {
    st->releasing = false;
    return NULL;
  }
  int q = (int)cam->faults.queue_frames;
  if (q > 0 && !st->releasing) {
    if (ready >= q || (!cam->acquiring && !st->e.on)) {
      st->releasing = true;
      pv_debug("sim camera: fault queue: %d frames leave together", ready);
    } else {
      return NULL;
    }
  }
  pv__gv_slot *best = NULL;
  for (int i = 0; i < cam->nslots; i++) {
    pv__gv_slot *s = &cam->slots[i];
    if (s->state == SLOT_READY && (best == NULL || s->seq < best->seq)) best = s;
  }
  *when = best->send_at_ns;
  return best;
}

static void log_truth(pv_gv_camera *cam, const pv__gv_slot *s) {
  if (cam->truth_log == NULL) return;
  pv_fprintf_c(cam->truth_log, "%u,%lld,%lld,%llu,%.4f,%.4f,%d\n", s->block_id,
               (long long)s->t0_ns, (long long)s->t1_ns, (unsigned long long)s->timestamp,
               s->x_um, s->y_um, s->settled);
  fflush(cam->truth_log);
}

struct sockaddr_in pv__gv_stream_dest(const pv_gv_camera *cam) {
  return (struct sockaddr_in){.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)cam->scp_port),
                              .sin_addr.s_addr = htonl(cam->scda)};
}

/* Sends slot s (SENDING). Called and returns with cam->lock held. */
static void send_frame(pv_gv_camera *cam, pv__gv_slot *s) {
  struct sockaddr_in dst = pv__gv_stream_dest(cam);
  uint32_t psize = pv__gv_packet_size(cam);
  bool can = cam->scp_port != 0 && !cam->gone;
  pthread_mutex_unlock(&cam->lock);
  if (can) {
    pv__gv_send_packets(cam, s, 0, UINT32_MAX, false, cam->stream_buf, &dst, psize);
    log_truth(cam, s);
  }
  pthread_mutex_lock(&cam->lock);
  s->state = SLOT_SENT;
}

static void wait_until(pv_gv_camera *cam, int64_t until) {
  int64_t left = until - pv_now_ns();
  if (left <= 0) return;
  if (left > 100 * PV_NS_PER_MS) left = 100 * PV_NS_PER_MS;
  int64_t at = pv_now_ns() + left; /* the condition uses CLOCK_MONOTONIC */
  struct timespec ts = {.tv_sec = at / PV_NS_PER_S, .tv_nsec = at % PV_NS_PER_S};
  pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
}

void *pv__gv_stream_main(void *arg) {
  pv_gv_camera *cam = arg;
  pv_thread_set_name("gvstream");
  stream_state st = {0};
  pthread_mutex_lock(&cam->lock);
  while (!cam->stopping) {
    int64_t now = pv_now_ns(), send_at;
    pv__gv_slot *s = next_ready(cam, &st, &send_at);
    if (s != NULL && send_at <= now) {
      s->state = SLOT_SENDING;
      send_frame(cam, s);
      continue;
    }
    if (st.e.on && now >= st.e.t1) {
      end_exposure(cam, &st);
      continue;
    }
    bool may_expose = !st.e.on && cam->acquiring && !cam->gone && cam->frames_left != 0;
    if (may_expose && cam->set.trig_mode && cam->trig_count > 0) {
      int64_t t0 = cam->triggers[cam->trig_head];
      cam->trig_head = (cam->trig_head + 1) % PV__GV_MAX_TRIGGERS;
      cam->trig_count--;
      begin_exposure(cam, &st, t0 > st.last_t1 ? t0 : st.last_t1);
      continue;
    }
    if (may_expose && !cam->set.trig_mode && now >= cam->next_start_ns) {
      /* on the schedule, unless more than a period late (then from now) */
      int64_t sched = cam->next_start_ns, late = now - sched;
      begin_exposure(cam, &st, late < cam->period_ns ? sched : now);
      continue;
    }
    int64_t until = now + 100 * PV_NS_PER_MS;
    if (send_at < until) until = send_at;
    if (st.e.on && st.e.t1 < until) until = st.e.t1;
    if (may_expose && !cam->set.trig_mode && cam->next_start_ns < until) until = cam->next_start_ns;
    wait_until(cam, until);
  }
  pthread_mutex_unlock(&cam->lock);
  return NULL;
}
