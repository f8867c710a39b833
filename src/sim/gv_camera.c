/* sim: a GigE Vision camera on the network, probevision's own device (no
 * Aravis inside): GVCP on ADDR:3956 (gv_device.c), the register map and our
 * GenICam XML (gv_regs.c, gv_xml.c), a sensor timeline that renders the
 * scene at the truth source's position at each exposure start and streams
 * GVSP with the true device timestamp (gv_stream.c). This file makes and
 * destroys it.
 *
 * Lifetime: start binds the sockets (a second camera on the same address
 * fails with PV_EBUSY: a plain bind of ADDR:3956), allocates the ring of
 * frames (max(4, queue:N + 4) sensor-sized slots) and starts the threads
 * "gvcp" and "gvstream"; stop sets `stopping`, wakes and joins both (each
 * sees it within 100 ms), then frees. All of the camera's state is guarded
 * by cam->lock (gv_internal.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gv_internal.h"

#define SERIAL_MAX 15 /* the bootstrap register holds 16 bytes with NUL */
#define DEFAULT_SENSOR_W 2448
#define DEFAULT_SENSOR_H 2048

static int udp_socket(uint32_t addr_be, int port, bool reuse) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = addr_be};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static int open_sockets(pv_gv_camera *cam, pv_error *err) {
  cam->gvcp_fd = udp_socket(cam->addr.s_addr, PV__GV_PORT, false);
  if (cam->gvcp_fd < 0) {
    if (errno == EADDRINUSE)
      return pv_error_set(err, PV_EBUSY,
                          "GigE Vision camera on %s: its GVCP port 3956 is in use (another "
                          "camera serves this address)", cam->address);
    return pv_error_set(err, PV_EIO,
                        "GigE Vision camera on '%s': cannot bind UDP port 3956 there: %s (not "
                        "the address of an interface that is up?)", cam->address, strerror(errno));
  }
  cam->bcast_fd = udp_socket(htonl(INADDR_BROADCAST), PV__GV_PORT, true); /* -1: unicast only */
  cam->stream_fd = udp_socket(cam->addr.s_addr, 0, false);
  if (cam->stream_fd < 0)
    return pv_error_set(err, PV_EIO, "GigE Vision camera on %s: no stream socket: %s",
                        cam->address, strerror(errno));
  int size = 4 << 20;
  setsockopt(cam->stream_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  return PV_OK;
}

static int open_truth_log(pv_gv_camera *cam, const char *path, pv_error *err) {
  cam->truth_log = fopen(path, "w");
  if (cam->truth_log == NULL)
    return pv_error_set(err, PV_EIO, "GigE Vision camera: --truth-log %s: cannot create: %s",
                        path, strerror(errno));
  fputs("block_id,exposure_start_ns,exposure_end_ns,device_timestamp,x_um,y_um,settled\n",
        cam->truth_log);
  fflush(cam->truth_log);
  return PV_OK;
}

static int make(pv_gv_camera *cam, const pv_gv_camera_options *o, pv_error *err) {
  int rc = open_sockets(cam, err);
  if (rc < 0) return rc;
  if (o && o->truth_log && (rc = open_truth_log(cam, o->truth_log, err)) < 0) return rc;
  cam->nslots = 4 + (int)cam->faults.queue_frames;
  cam->slot_bytes = (size_t)cam->sensor_w * cam->sensor_h;
  cam->slots = calloc((size_t)cam->nslots, sizeof *cam->slots);
  if (cam->slots == NULL) return pv_error_set(err, PV_ENOMEM, "GigE Vision camera: out of memory");
  for (int i = 0; i < cam->nslots; i++)
    if ((cam->slots[i].data = malloc(cam->slot_bytes)) == NULL)
      return pv_error_set(err, PV_ENOMEM, "GigE Vision camera: out of memory for %d frames",
                          cam->nslots);
  pv__gv_regs_init(cam);
  if (pthread_create(&cam->gvcp_thread, NULL, pv__gv_gvcp_main, cam) != 0)
    return pv_error_set(err, PV_ENOMEM, "GigE Vision camera: cannot start its GVCP thread");
  cam->has_gvcp_thread = true;
  if (pthread_create(&cam->stream_thread, NULL, pv__gv_stream_main, cam) != 0)
    return pv_error_set(err, PV_ENOMEM, "GigE Vision camera: cannot start its stream thread");
  cam->has_stream_thread = true;
  return PV_OK;
}

int pv_gv_camera_start_opts(const char *address, const char *serial, const pv_scene *scene,
                            pv_truth_source truth, const pv_sim_faults *faults,
                            const pv_gv_camera_options *opts, pv_gv_camera **out,
                            pv_error *err) {
  if (out) *out = NULL;
  if (address == NULL || scene == NULL || out == NULL)
    return pv_error_set(err, PV_EINVAL, "GigE Vision camera: missing address or scene");
  if (serial == NULL || serial[0] == '\0') serial = "PV-SIM-01";
  if (strlen(address) >= sizeof ((pv_gv_camera *)0)->address)
    return pv_error_set(err, PV_EINVAL, "GigE Vision camera: address '%s' too long", address);
  if (strlen(serial) > SERIAL_MAX)
    return pv_error_set(err, PV_EINVAL,
                        "GigE Vision camera: serial '%s' longer than %d characters", serial,
                        SERIAL_MAX);
  int sw = opts && opts->sensor_width ? opts->sensor_width : DEFAULT_SENSOR_W;
  int sh = opts && opts->sensor_height ? opts->sensor_height : DEFAULT_SENSOR_H;
  if (sw < 64 || sh < 64 || sw > 16384 || sh > 16384 || sw % 4 != 0 || sh % 2 != 0)
    return pv_error_set(err, PV_EINVAL,
                        "GigE Vision camera: sensor %dx%d: want 64..16384 pixels, width a "
                        "multiple of 4, height even", sw, sh);
  if (faults && (faults->queue_frames < 0 || faults->queue_frames > PV__GV_MAX_QUEUE))
    return pv_error_set(err, PV_EINVAL, "GigE Vision camera: queue:%g: want 1..%d frames",
                        faults->queue_frames, PV__GV_MAX_QUEUE);
  pv_gv_camera *cam = calloc(1, sizeof *cam);
  if (cam == NULL) return pv_error_set(err, PV_ENOMEM, "GigE Vision camera: out of memory");
  strcpy(cam->address, address);
  strcpy(cam->serial, serial);
  cam->gvcp_fd = cam->bcast_fd = cam->stream_fd = -1;
  cam->scene = scene;
  cam->truth = truth;
  cam->stage = opts ? opts->stage : NULL;
  cam->sensor_w = (uint32_t)sw;
  cam->sensor_h = (uint32_t)sh;
  if (faults) cam->faults = *faults;
  cam->stream_rng = cam->faults.seed ^ 0x6776u;
  cam->next_block = 1;
  pthread_mutex_init(&cam->lock, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cam->wake, &ca);
  pthread_condattr_destroy(&ca);
  int rc;
  if (inet_pton(AF_INET, address, &cam->addr) != 1)
    rc = pv_error_set(err, PV_EINVAL,
                      "GigE Vision camera: '%s' is not an IPv4 address (e.g. 127.0.0.1)", address);
  else
    rc = make(cam, opts, err);
  if (rc < 0) {
    pv_gv_camera_stop(cam);
    return rc;
  }
  *out = cam;
  return PV_OK;
}

int pv_gv_camera_start(const char *address, const char *serial, const pv_scene *scene,
                       pv_truth_source truth, const pv_sim_faults *faults, pv_gv_camera **out,
                       pv_error *err) {
  return pv_gv_camera_start_opts(address, serial, scene, truth, faults, NULL, out, err);
}

int64_t pv_gv_camera_clock_offset_ns(pv_gv_camera *cam) {
  pthread_mutex_lock(&cam->lock);
  int64_t off = cam->clock_offset_ns;
  pthread_mutex_unlock(&cam->lock);
  return off;
}

void pv_gv_camera_stop(pv_gv_camera *cam) {
  if (cam == NULL) return;
  pthread_mutex_lock(&cam->lock);
  cam->stopping = true;
  pthread_cond_broadcast(&cam->wake);
  pthread_mutex_unlock(&cam->lock);
  if (cam->has_gvcp_thread) pthread_join(cam->gvcp_thread, NULL);
  if (cam->has_stream_thread) pthread_join(cam->stream_thread, NULL);
  if (cam->gvcp_fd >= 0) close(cam->gvcp_fd);
  if (cam->bcast_fd >= 0) close(cam->bcast_fd);
  if (cam->stream_fd >= 0) close(cam->stream_fd);
  if (cam->truth_log) fclose(cam->truth_log);
  for (int i = 0; cam->slots && i < cam->nslots; i++) free(cam->slots[i].data);
  free(cam->slots);
  pthread_cond_destroy(&cam->wake);
  pthread_mutex_destroy(&cam->lock);
  free(cam);
}
