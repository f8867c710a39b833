/* sim: probevision's own GigE Vision device, shared between its files:
 * gv_camera.c (start/stop, the object), gv_regs.c (the register map: the
 * bootstrap registers and the feature registers our GenICam XML describes),
 * gv_device.c (the GVCP thread), gv_stream.c (the streaming thread: the
 * sensor timeline, rendering, GVSP) and gv_xml.c (the XML).
 *
 * Threads: "gvcp" (answers GVCP, changes registers, queues software
 * triggers, resends packets) and "gvstream" (exposes, renders, sends).
 * Everything in pv_gv_camera below `lock` is guarded by it; the slots'
 * pixels are written by the stream thread only while the slot is
 * SLOT_RENDERING (no other thread reads them then) and read by either
 * thread while READY/SENDING/SENT (see gv_stream.c).
 *
 * Device clock: 1 GHz ticks, device = pv_now_ns() (CLOCK_MONOTONIC) +
 * clock_offset_ns, the offset drawn at random at start (and changed by
 * GevTimestampControlReset), so no client can pass by assuming host time. */
#ifndef PV_SIM_GV_INTERNAL_H
#define PV_SIM_GV_INTERNAL_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "probevision/sim.h"

#define PV__GV_PORT 3956

/* Big-endian fields of GVCP and GVSP packets and of the register image. */
static inline uint32_t pv__gv_get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void pv__gv_put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}
static inline void pv__gv_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}
#define PV__GV_TICK_HZ 1000000000u

/* Register map (device addresses). */
#define PV__GV_BOOT_SIZE 0x1000u      /* bootstrap registers */
#define PV__GV_FEAT_BASE 0x10000u     /* our feature registers */
#define PV__GV_FEAT_SIZE 0x100u
#define PV__GV_XML_BASE 0x100000u     /* the GenICam XML, read-only */

/* Feature register offsets from PV__GV_FEAT_BASE (4 bytes unless noted;
 * floats are 8-byte big-endian IEEE doubles). gv_xml.c names each. */
enum {
  PV__GVF_WIDTH = 0x00, PV__GVF_HEIGHT = 0x04, PV__GVF_OFFSET_X = 0x08,
  PV__GVF_OFFSET_Y = 0x0c, PV__GVF_SENSOR_W = 0x10, PV__GVF_SENSOR_H = 0x14,
  PV__GVF_WIDTH_MAX = 0x18, PV__GVF_HEIGHT_MAX = 0x1c, PV__GVF_PIXFMT = 0x20,
  PV__GVF_PAYLOAD = 0x24, PV__GVF_ACQ_MODE = 0x28, PV__GVF_ACQ_COUNT = 0x2c,
  PV__GVF_ACQ_START = 0x30, PV__GVF_ACQ_STOP = 0x34, PV__GVF_TRIG_SELECTOR = 0x38,
  PV__GVF_TRIG_MODE = 0x3c, PV__GVF_TRIG_SOURCE = 0x40, PV__GVF_TRIG_SOFTWARE = 0x44,
  PV__GVF_EXPOSURE_AUTO = 0x48, PV__GVF_TRIG_ACTIVATION = 0x4c,
  PV__GVF_FRAME_RATE = 0x50, /* double */
  PV__GVF_EXPOSURE = 0x58,   /* double, us */
  PV__GVF_GAIN = 0x60,       /* double, dB */
  PV__GVF_FRAME_RATE_ENABLE = 0x68,
  PV__GVF_END = 0x6c
};

enum { PV__GV_ACQ_CONTINUOUS = 0, PV__GV_ACQ_SINGLE = 1, PV__GV_ACQ_MULTI = 2 };

/* GenICam PFNC pixel formats served. */
#define PV__GV_MONO8 0x01080001u
#define PV__GV_BAYER_GR8 0x01080008u
#define PV__GV_BAYER_RG8 0x01080009u
#define PV__GV_BAYER_GB8 0x0108000au
#define PV__GV_BAYER_BG8 0x0108000bu

/* GVCP status codes (GigE Vision: 0x8000 | error). */
#define PV__GVCP_OK 0x0000
#define PV__GVCP_NOT_IMPLEMENTED 0x8001
#define PV__GVCP_INVALID_PARAMETER 0x8002
#define PV__GVCP_INVALID_ADDRESS 0x8003
#define PV__GVCP_WRITE_PROTECT 0x8004
#define PV__GVCP_BAD_ALIGNMENT 0x8005
#define PV__GVCP_ACCESS_DENIED 0x8006
#define PV__GVCP_BUSY 0x8007

#define PV__GV_MAX_TRIGGERS 64 /* software triggers waiting for the sensor */
#define PV__GV_MAX_QUEUE 8     /* largest queue:N fault */
#define PV__GV_PACKET_MAX 9000 /* largest GevSCPSPacketSize (IP datagram) */
#define PV__GV_OVERHEAD 36     /* IP 20 + UDP 8 + GVSP header 8 */
#define PV__GV_STALL_AFTER_S 3      /* stall:T starts this long after the first frame */
#define PV__GV_DISCONNECT_AFTER_S 4 /* disconnect:T likewise (after the stall if any) */

/* What the client configured (guarded by lock). */
typedef struct pv__gv_settings {
  uint32_t width, height, offset_x, offset_y, pixfmt;
  uint32_t acq_mode, acq_count, trig_selector, trig_mode, trig_source;
  uint32_t trig_activation, exposure_auto, frame_rate_enable;
  double frame_rate, exposure_us, gain_db;
} pv__gv_settings;

enum pv__gv_slot_state { SLOT_FREE, SLOT_RENDERING, SLOT_READY, SLOT_SENDING, SLOT_SENT };

/* One frame of the ring of recent frames (for the queue fault and resends). */
typedef struct pv__gv_slot {
  uint8_t *data;
  enum pv__gv_slot_state state;
  uint16_t block_id;
  uint32_t width, height, offset_x, offset_y, pixfmt;
  uint64_t timestamp;        /* device ticks at the exposure start */
  int64_t t0_ns, t1_ns;      /* exposure start and end, pv_now_ns */
  int64_t send_at_ns;        /* the leader leaves then, not before */
  double x_um, y_um;         /* truth at t0 */
  int settled;               /* 1 settled the whole exposure, 0 not, -1 unknown */
  uint64_t seq;              /* order of exposure */
} pv__gv_slot;

struct pv_gv_camera {
  char address[64];
  char serial[32];
  struct in_addr addr;
  const pv_scene *scene;
  pv_truth_source truth;
  pv_stage *stage; /* for the truth log's `settled` (NULL: unknown) */
  pv_sim_faults faults;
  FILE *truth_log; /* written by the stream thread only */
  uint32_t sensor_w, sensor_h;
  char xml_url[128];

  int gvcp_fd, bcast_fd, stream_fd;
  pthread_t gvcp_thread, stream_thread;
  bool has_gvcp_thread, has_stream_thread;
  uint8_t gvcp_buf[PV__GV_PACKET_MAX + 64];   /* gvcp thread only */
  uint8_t stream_buf[PV__GV_PACKET_MAX + 64]; /* stream thread only */
  uint64_t stream_rng;                        /* stream thread only */

  pthread_mutex_t lock;
  pthread_cond_t wake; /* stream thread waits on it */
  bool stopping;
  int64_t clock_offset_ns;
  pv__gv_settings set;
  uint8_t boot_rw[PV__GV_BOOT_SIZE]; /* writable bootstrap words we keep */
  uint32_t ccp;
  struct sockaddr_in controller;
  int64_t last_heard_ns;
  uint32_t heartbeat_ms, scp_port, scps, scpd, scda;
  uint64_t latched;
  bool gone;                  /* disconnect fault: deaf and mute */
  bool acquiring;
  int64_t frames_left;        /* -1: unlimited */
  int64_t next_start_ns;      /* continuous: the next exposure start */
  int64_t period_ns;          /* continuous: its frame period */
  int64_t triggers[PV__GV_MAX_TRIGGERS];
  int trig_head, trig_count;
  pv__gv_slot *slots;
  int nslots;
  size_t slot_bytes;
  uint64_t seq;
  uint16_t next_block;
  atomic_llong first_frame_ns; /* 0 until the first exposure */
};

/* gv_xml.c: the XML text and its length (with its NUL). */
const char *pv__gv_xml(size_t *len);

/* gv_regs.c; the caller holds cam->lock. `peer` is the requester. Status
 * PV__GVCP_*; reads fill `out` (len bytes, a multiple of 4). */
void pv__gv_regs_init(pv_gv_camera *cam);
int pv__gv_read(pv_gv_camera *cam, uint32_t addr, uint32_t len, uint8_t *out);
int pv__gv_write(pv_gv_camera *cam, uint32_t addr, uint32_t len, const uint8_t *in,
                 const struct sockaddr_in *peer);
uint64_t pv__gv_device_now(const pv_gv_camera *cam); /* ticks */
void pv__gv_acquisition_stop(pv_gv_camera *cam, const char *why);
uint32_t pv__gv_packet_size(const pv_gv_camera *cam); /* whole IP datagram */
/* Where the stream goes (SCDA:SCP port, the host application set them);
 * read under cam->lock. */
struct sockaddr_in pv__gv_stream_dest(const pv_gv_camera *cam);

/* gv_device.c: the GVCP thread. */
void *pv__gv_gvcp_main(void *arg);

/* gv_stream.c: the stream thread, and the packets of one frame (first..last
 * packet ids, leader 0, trailer n+1) to the stream destination. Thread-safe
 * on a slot that is READY, SENDING or SENT; buf is the calling thread's. */
void *pv__gv_stream_main(void *arg);
void pv__gv_send_packets(pv_gv_camera *cam, const pv__gv_slot *s, uint32_t first,
                         uint32_t last, bool resend, uint8_t *buf,
                         const struct sockaddr_in *dst, uint32_t packet_size);

#endif /* PV_SIM_GV_INTERNAL_H */
