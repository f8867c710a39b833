/* sim: the GVCP (control) side of probevision's GigE Vision device: one
 * thread, "gvcp", answering UDP on ADDR:3956.
 *
 * Commands: DISCOVERY (unicast on ADDR:3956, and broadcasts received on
 * 255.255.255.255:3956 when that socket could be bound; the ack, the first
 * 0xf8 bootstrap bytes, always leaves from ADDR:3956), READREG, WRITEREG,
 * READMEM, WRITEMEM (the register map, gv_regs.c), PACKETRESEND (from the
 * ring of recent frames, gv_stream.c). Anything else: NOT_IMPLEMENTED.
 *
 * Control and heartbeat: every command from the controlling client (the
 * address and port that took the privilege) is a heartbeat; when none came
 * for GevHeartbeatTimeout ms the client loses control and the acquisition
 * stops (a crashed client must not keep a camera streaming at it).
 *
 * Disconnect fault (disconnect:T): PV__GV_DISCONNECT_AFTER_S after the first
 * exposure (after the end of the stall, if stall:T is set too) the device
 * goes deaf and mute for T s (no GVCP answer, no GVSP packet), then comes
 * back as if power-cycled: no controller, not acquiring, default stream
 * channel. The decision is taken here, under cam->lock.
 *
 * Threads: this thread only; it takes cam->lock for every state change and
 * never blocks while holding it except to send a short burst of resent
 * packets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "gv_internal.h"

enum { DISCOVERY_CMD = 0x0002, PACKETRESEND_CMD = 0x0040, READREG_CMD = 0x0080,
       WRITEREG_CMD = 0x0082, READMEM_CMD = 0x0084, WRITEMEM_CMD = 0x0086 };


/* Sends an ack: header (status, ack command, length, id) + n data bytes. */
static void ack(pv_gv_camera *cam, const struct sockaddr_in *to, uint32_t status, uint32_t cmd,
                uint32_t id, const uint8_t *data, uint32_t n) {
  uint8_t out[8 + 600];
  pv__gv_put16(out, status);
  pv__gv_put16(out + 2, cmd + 1);
  pv__gv_put16(out + 4, n);
  pv__gv_put16(out + 6, id);
  if (n) memcpy(out + 8, data, n);
  sendto(cam->gvcp_fd, out, 8 + n, 0, (const struct sockaddr *)to, sizeof *to);
}

static void resend(pv_gv_camera *cam, const uint8_t *d, uint32_t n) {
  if (n < 12) return;
  uint16_t block = (uint16_t)(pv__gv_get32(d) & 0xffffu);
  uint32_t first = pv__gv_get32(d + 4) & 0xffffffu, last = pv__gv_get32(d + 8) & 0xffffffu;
  pthread_mutex_lock(&cam->lock);
  for (int i = 0; i < cam->nslots; i++) {
    pv__gv_slot *s = &cam->slots[i];
    if (s->block_id == block && (s->state == SLOT_SENDING || s->state == SLOT_SENT)) {
      pv_debug("sim camera: resend of block %u packets %u..%u", block, first, last);
      struct sockaddr_in dst = pv__gv_stream_dest(cam);
      if (cam->scp_port != 0 && !cam->gone)
        pv__gv_send_packets(cam, s, first, last, true, cam->gvcp_buf, &dst,
                            pv__gv_packet_size(cam));
      break;
    }
  }
  pthread_mutex_unlock(&cam->lock);
}

static void handle(pv_gv_camera *cam, const uint8_t *p, size_t len, const struct sockaddr_in *peer) {
  if (len < 8 || p[0] != 0x42) return;
  uint32_t flags = p[1], cmd = (uint32_t)p[2] << 8 | p[3], n = (uint32_t)p[4] << 8 | p[5];
  uint32_t id = (uint32_t)p[6] << 8 | p[7];
  const uint8_t *d = p + 8;
  if (n > len - 8) n = (uint32_t)(len - 8);
  bool want_ack = (flags & 1u) != 0;
  uint8_t data[600];
  uint32_t status = PV__GVCP_OK, out_n = 0;
  if (cmd == PACKETRESEND_CMD) {
    resend(cam, d, n);
    return;
  }
  pthread_mutex_lock(&cam->lock);
  if (cam->ccp != 0 && peer->sin_addr.s_addr == cam->controller.sin_addr.s_addr &&
      peer->sin_port == cam->controller.sin_port)
    cam->last_heard_ns = pv_now_ns();
  switch (cmd) {
  case DISCOVERY_CMD:
    pv__gv_read(cam, 0, 0xf8, data);
    out_n = 0xf8;
    want_ack = true;
    break;
  case READREG_CMD:
    for (uint32_t i = 0; i + 4 <= n && i < 512 && status == PV__GVCP_OK; i += 4) {
      status = pv__gv_read(cam, pv__gv_get32(d + i), 4, data + i);
      if (status == PV__GVCP_OK) out_n = i + 4;
    }
    break;
  case WRITEREG_CMD: {
    uint32_t done = 0;
    for (uint32_t i = 0; i + 8 <= n && status == PV__GVCP_OK; i += 8) {
      status = pv__gv_write(cam, pv__gv_get32(d + i), 4, d + i + 4, peer);
      if (status == PV__GVCP_OK) done++;
    }
    pv__gv_put32(data, done);
    out_n = 4;
    break;
  }
  case READMEM_CMD: {
    uint32_t addr = n >= 8 ? pv__gv_get32(d) : 0, size = n >= 8 ? pv__gv_get32(d + 4) & 0xffffu : 0;
    if (n < 8 || size > 536) {
      status = PV__GVCP_INVALID_PARAMETER;
      break;
    }
    pv__gv_put32(data, addr);
    status = pv__gv_read(cam, addr, size, data + 4);
    out_n = status == PV__GVCP_OK ? 4 + size : 0;
    break;
  }
  case WRITEMEM_CMD: {
    uint32_t addr = n >= 4 ? pv__gv_get32(d) : 0, size = n >= 4 ? n - 4 : 0;
    status = n >= 8 ? pv__gv_write(cam, addr, size, d + 4, peer) : PV__GVCP_INVALID_PARAMETER;
    pv__gv_put32(data, status == PV__GVCP_OK ? size : 0);
    out_n = 4;
    break;
  }
  default: status = PV__GVCP_NOT_IMPLEMENTED; break;
  }
  pthread_mutex_unlock(&cam->lock);
  if (status != PV__GVCP_OK)
    pv_debug("sim camera: GVCP command 0x%04x from %s refused: status 0x%04x", cmd,
             inet_ntoa(peer->sin_addr), status);
  if (want_ack) ack(cam, peer, status, cmd, id, data, status == PV__GVCP_OK ? out_n : 0);
}

/* Heartbeat and disconnect fault; cam->lock held. */
static void housekeeping(pv_gv_camera *cam, int64_t now, int64_t *disc_at, int64_t *back_at) {
  if (cam->ccp != 0 && now - cam->last_heard_ns > (int64_t)cam->heartbeat_ms * PV_NS_PER_MS) {
    pv_warn("sim camera: no heartbeat from %s:%u for %u ms: control lost",
            inet_ntoa(cam->controller.sin_addr), (unsigned)ntohs(cam->controller.sin_port),
            cam->heartbeat_ms);
    cam->ccp = 0;
    pv__gv_acquisition_stop(cam, "control lost");
    cam->scp_port = 0;
  }
  if (cam->faults.disconnect_s <= 0) return;
  long long first = atomic_load(&cam->first_frame_ns);
  if (*disc_at == 0 && first != 0) {
    *disc_at = first + PV__GV_DISCONNECT_AFTER_S * PV_NS_PER_S;
    if (cam->faults.stall_s > 0) *disc_at += (int64_t)((PV__GV_STALL_AFTER_S + cam->faults.stall_s) * 1e9);
  }
  if (*disc_at > 0 && !cam->gone && *back_at == 0 && now >= *disc_at) {
    pv_warn("sim camera: fault disconnect: camera on %s gone for %.1f s", cam->address,
            cam->faults.disconnect_s);
    cam->gone = true;
    *back_at = now + (int64_t)(cam->faults.disconnect_s * 1e9);
    pv__gv_acquisition_stop(cam, "disconnect fault");
  } else if (cam->gone && now >= *back_at) {
    cam->gone = false;
    cam->ccp = 0;
    cam->scp_port = 0;
    cam->scps = 1500;
    cam->heartbeat_ms = 3000;
    pv_info("sim camera: back on %s after the disconnect fault", cam->address);
    pthread_cond_broadcast(&cam->wake);
  }
}

void *pv__gv_gvcp_main(void *arg) {
  pv_gv_camera *cam = arg;
  pv_thread_set_name("gvcp");
  int64_t disc_at = 0, back_at = 0;
  uint8_t pkt[1024];
  for (;;) {
    struct pollfd fds[2] = {{.fd = cam->gvcp_fd, .events = POLLIN},
                            {.fd = cam->bcast_fd, .events = POLLIN}};
    int nfds = cam->bcast_fd >= 0 ? 2 : 1;
    int r = poll(fds, (nfds_t)nfds, 50);
    pthread_mutex_lock(&cam->lock);
    bool stop = cam->stopping;
    housekeeping(cam, pv_now_ns(), &disc_at, &back_at);
    bool gone = cam->gone;
    pthread_mutex_unlock(&cam->lock);
    if (stop) break;
    if (r <= 0) continue;
    for (int i = 0; i < nfds; i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      struct sockaddr_in peer;
      socklen_t plen = sizeof peer;
      ssize_t n = recvfrom(fds[i].fd, pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
      if (n <= 0 || gone) continue;
      /* broadcasts are only for discovery */
      if (i == 1 && (n < 4 || pkt[2] != 0 || pkt[3] != DISCOVERY_CMD)) continue;
      handle(cam, pkt, (size_t)n, &peer);
    }
  }
  return NULL;
}
