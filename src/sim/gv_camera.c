/* sim: a GigE Vision camera on the network, built on Aravis's fake GigE
 * Vision camera (ArvGvFakeCamera), whose frames are the scene rendered at
 * the truth source's position at the moment each frame is filled.
 *
 * Threads. Aravis runs one thread per ArvGvFakeCamera: it answers GVCP
 * (control) packets and, while a client streams, calls our fill callback
 * once per frame and then sends the frame as GVSP packets. We add one
 * thread ("gvfaults") only for the disconnect fault. The callback never
 * blocks: GVCP stays answered during every camera fault except disconnect,
 * as on a real camera whose sensor stalls.
 *
 * Faults, decided inside the callback (so they apply to the frame about to
 * be sent) from a generator seeded by faults.seed:
 * - nodata:P and stall:T drop a whole frame by setting the fake camera's
 *   "gvsp-lost-ratio" property to 1 for that frame (leader, payload and
 *   trailer all lost: the client sees a missing frame id, or a pop timeout
 *   when several frames in a row are lost); stall drops every frame for T s,
 *   once, STALL_AFTER_S after the first frame;
 * - packet-loss:R sets "gvsp-lost-ratio" to R/1000 for the other frames.
 *   Which packets are lost is chosen by GLib's global generator inside
 *   Aravis, so only this fault is not repeatable from the seed;
 * - disconnect:T: the fault thread destroys the ArvGvFakeCamera
 *   DISCONNECT_AFTER_S after the first frame, or that long after the end
 *   of the stall if there is one (GVCP stops answering: the client loses
 *   control), and creates a new one T s later.
 *
 * Lifetime invariant: the callback's data is the pv_gv_camera itself, which
 * outlives every ArvGvFakeCamera. Before an ArvGvFakeCamera is released we
 * reset its fill pattern: arv_fake_camera_set_fill_pattern takes the mutex
 * Aravis holds around each callback, so once it returns no callback of ours
 * runs or will run on that camera; g_object_unref then joins its thread.
 * cam->gv is swapped under cam->lock; the callback reads it under the same
 * lock and uses it only while its own fill pattern is installed, i.e.
 * while the object is alive. Callback state (rng, frame counter, current
 * loss ratio) is touched by one Aravis thread at a time; successive threads
 * are ordered by the join above.
 */
#include <arpa/inet.h>
#include <arv.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probevision/sim.h"

#define STALL_AFTER_S 3      /* stall starts this long after the first frame */
#define DISCONNECT_AFTER_S 4 /* disconnect likewise */
#define SENSOR_PX 2048       /* ARV_FAKE_CAMERA_SENSOR_WIDTH/HEIGHT */
#define SERIAL_MAX 15  /* the bootstrap register holds 16 bytes with NUL */

struct pv_gv_camera {
  char address[64];
  char serial[32];
  const pv_scene *scene;
  pv_truth_source truth;
  pv_sim_faults faults;

  pthread_mutex_t lock; /* guards gv, stopping */
  pthread_cond_t wake;  /* signalled on stop */
  ArvGvFakeCamera *gv;  /* NULL while disconnected */
  bool stopping;
  pthread_t fault_thread;
  bool has_fault_thread;

  atomic_llong first_frame_ns; /* 0 until the first frame was filled */
  atomic_int format_warned;

  /* callback state (one Aravis thread at a time, see above) */
  uint64_t rng;
  uint64_t frame_seed;
  double loss_ratio; /* the value last set on the current gv */
  ArvGvFakeCamera *ratio_gv; /* the gv loss_ratio was set on */
  int64_t stall_until_ns;
  bool stall_done, stalling;
};


static int to_pixfmt(ArvPixelFormat f, pv_pixfmt *out) {
  switch (f) {
  case ARV_PIXEL_FORMAT_MONO_8: *out = PV_PIXFMT_MONO8; return 0;
  case ARV_PIXEL_FORMAT_BAYER_BG_8: *out = PV_PIXFMT_BAYER_BG8; return 0;
  case ARV_PIXEL_FORMAT_BAYER_GB_8: *out = PV_PIXFMT_BAYER_GB8; return 0;
  case ARV_PIXEL_FORMAT_BAYER_GR_8: *out = PV_PIXFMT_BAYER_GR8; return 0;
  case ARV_PIXEL_FORMAT_BAYER_RG_8: *out = PV_PIXFMT_BAYER_RG8; return 0;
  default: return -1;
  }
}

/* Decides whether this frame is dropped (nodata, stall). */
static bool drop_frame(pv_gv_camera *cam, int64_t now) {
  long long first = atomic_load(&cam->first_frame_ns);
  if (first == 0) atomic_store(&cam->first_frame_ns, first = now);
  if (cam->faults.stall_s > 0 && !cam->stall_done && now - first >= STALL_AFTER_S * PV_NS_PER_S) {
    cam->stall_done = cam->stalling = true;
    cam->stall_until_ns = now + (int64_t)(cam->faults.stall_s * 1e9);
    pv_warn("sim camera: fault stall: no frames for %.1f s", cam->faults.stall_s);
  }
  if (cam->stalling) {
    if (now < cam->stall_until_ns) return true;
    cam->stalling = false;
    pv_info("sim camera: stall over, frames flow again");
  }
  if (cam->faults.nodata > 0 && pv_rng_uniform(&cam->rng) < cam->faults.nodata) {
    pv_info("sim camera: fault nodata: frame %llu not sent",
            (unsigned long long)cam->frame_seed + 1);
    return true;
  }
  return false;
}

static void set_loss_ratio(pv_gv_camera *cam, double ratio) {
  pthread_mutex_lock(&cam->lock);
  ArvGvFakeCamera *gv = cam->gv; /* alive: our fill pattern is installed */
  if (gv != NULL && (gv != cam->ratio_gv || ratio != cam->loss_ratio)) {
    g_object_set(gv, "gvsp-lost-ratio", ratio, NULL);
    cam->ratio_gv = gv;
    cam->loss_ratio = ratio;
  }
  pthread_mutex_unlock(&cam->lock);
}

static void fill(ArvBuffer *buffer, void *data, guint32 exposure_us, guint32 gain,
                 ArvPixelFormat format) {
  (void)exposure_us;
  (void)gain;
  (void)format; /* the buffer's own format is authoritative */
  pv_gv_camera *cam = data;
  if (buffer == NULL) return;
  int64_t now = pv_now_ns();
  if (strcmp(pv_thread_name(), "gvcamera") != 0) pv_thread_set_name("gvcamera");
  bool drop = drop_frame(cam, now);
  cam->frame_seed++;
  set_loss_ratio(cam, drop ? 1.0 : cam->faults.packet_loss / 1000.0);
  if (drop) return;

  int w = arv_buffer_get_image_width(buffer), h = arv_buffer_get_image_height(buffer);
  int x0 = arv_buffer_get_image_x(buffer), y0 = arv_buffer_get_image_y(buffer);
  ArvPixelFormat af = arv_buffer_get_image_pixel_format(buffer);
  /* Aravis 0.8 reports size 0 here: the payload is w * h * bytes/pixel. */
  uint8_t *out = (uint8_t *)arv_buffer_get_data(buffer, NULL);
  size_t bpp = (ARV_PIXEL_FORMAT_BIT_PER_PIXEL(af) + 7) / 8;
  if (out == NULL || w <= 0 || h <= 0) return;
  pv_pixfmt pf;
  if (to_pixfmt(af, &pf) != 0) {
    if (atomic_exchange(&cam->format_warned, 1) == 0)
      pv_warn("sim camera: pixel format 0x%08x is not rendered (Mono8 and 8-bit Bayer are): "
              "frames are plain grey", (unsigned)af);
    memset(out, 128, (size_t)w * (size_t)h * (bpp ? bpp : 1));
    return;
  }
  double x = 0, y = 0;
  if (cam->truth.position_at) cam->truth.position_at(cam->truth.ctx, now, &x, &y);
  /* The region is a window of the sensor: shift the view by its offset from
   * the sensor's centre. */
  double um = pv_scene_params(cam->scene)->um_per_px;
  x += (x0 + (w - 1) / 2.0 - (SENSOR_PX - 1) / 2.0) * um;
  y += (y0 + (h - 1) / 2.0 - (SENSOR_PX - 1) / 2.0) * um;
  int rc = pv_scene_render(cam->scene, x, y, cam->frame_seed, pf, out, w, h, w);
  if (rc < 0) {
    memset(out, 128, (size_t)w * (size_t)h);
    if (atomic_exchange(&cam->format_warned, 1) == 0)
      pv_warn("sim camera: cannot render a %dx%d frame: %s", w, h, pv_strerror(rc));
  }
  /* A real camera's picture is exposed just before it is read out and sent;
   * this one is "exposed" at `now` but leaves only after rendering (tens of
   * ms, more under a sanitizer). A client estimating the exposure from the
   * arrival time could then date a picture of the old position after the
   * stage settled. So a frame is sent only if the stage did not move while
   * it was rendered: every frame shows the position of its whole interval. */
  double x_end = 0, y_end = 0, x_start = 0, y_start = 0;
  if (cam->truth.position_at) {
    cam->truth.position_at(cam->truth.ctx, now, &x_start, &y_start);
    cam->truth.position_at(cam->truth.ctx, pv_now_ns(), &x_end, &y_end);
    if (x_end != x_start || y_end != y_start) {
      pv_debug("sim camera: frame %llu straddled a stage move: not sent",
               (unsigned long long)cam->frame_seed);
      set_loss_ratio(cam, 1.0);
    }
  }
}

/* 1 if another process (another fake camera) has address:3956. Aravis
 * binds it in a way that lets a second camera bind it too and then share
 * its packets, so we look first: a plain bind fails on a port in use.
 * Interface names (not IPv4 literals) are not probed. */
static int gvcp_port_taken(const char *address) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(3956)};
  if (inet_pton(AF_INET, address, &sa.sin_addr) != 1) return 0;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  int taken = bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno == EADDRINUSE;
  close(fd);
  return taken;
}

/* Creates and installs the Aravis camera. Caller must not hold cam->lock. */
static int open_gv(pv_gv_camera *cam, pv_error *err) {
  if (gvcp_port_taken(cam->address))
    return pv_error_set(err, PV_EBUSY,
                        "GigE Vision camera on %s: its GVCP port 3956 is in use (another "
                        "camera serves this address)", cam->address);
  ArvGvFakeCamera *gv = arv_gv_fake_camera_new_full(cam->address, cam->serial, NULL);
  if (gv == NULL || !arv_gv_fake_camera_is_running(gv)) {
    if (gv) g_object_unref(gv);
    return pv_error_set(err, PV_EIO,
                        "GigE Vision camera on '%s': Aravis cannot serve it there (not the "
                        "address or name of an interface that is up?)",
                        cam->address);
  }
  arv_fake_camera_set_fill_pattern(arv_gv_fake_camera_get_fake_camera(gv), fill, cam);
  pthread_mutex_lock(&cam->lock);
  cam->gv = gv;
  cam->ratio_gv = NULL; /* a new object may reuse the old one's address */
  pthread_mutex_unlock(&cam->lock);
  return PV_OK;
}

/* Uninstalls and releases the Aravis camera (see the lifetime invariant). */
static void close_gv(pv_gv_camera *cam) {
  pthread_mutex_lock(&cam->lock);
  ArvGvFakeCamera *gv = cam->gv;
  cam->gv = NULL;
  pthread_mutex_unlock(&cam->lock);
  if (gv == NULL) return;
  arv_fake_camera_set_fill_pattern(arv_gv_fake_camera_get_fake_camera(gv), NULL, NULL);
  g_object_unref(gv);
}

/* Waits until `deadline` (monotonic ns); false when stopping. */
static bool wait_until(pv_gv_camera *cam, int64_t deadline) {
  pthread_mutex_lock(&cam->lock);
  while (!cam->stopping && pv_now_ns() < deadline) {
    int64_t left = deadline - pv_now_ns();
    if (left > 100 * PV_NS_PER_MS) left = 100 * PV_NS_PER_MS;
    int64_t wall = pv_wall_ns() + left; /* the condition uses CLOCK_REALTIME */
    struct timespec ts = {.tv_sec = wall / PV_NS_PER_S, .tv_nsec = wall % PV_NS_PER_S};
    pthread_cond_timedwait(&cam->wake, &cam->lock, &ts);
  }
  bool go_on = !cam->stopping;
  pthread_mutex_unlock(&cam->lock);
  return go_on;
}

static void *fault_main(void *arg) {
  pv_gv_camera *cam = arg;
  pv_thread_set_name("gvfaults");
  long long first;
  while ((first = atomic_load(&cam->first_frame_ns)) == 0)
    if (!wait_until(cam, pv_now_ns() + 100 * PV_NS_PER_MS)) return NULL;
  int64_t at = first + DISCONNECT_AFTER_S * PV_NS_PER_S;
  if (cam->faults.stall_s > 0) /* after the stall, so that each is seen alone */
    at += (STALL_AFTER_S + cam->faults.stall_s) * 1e9;
  if (!wait_until(cam, at)) return NULL;
  pv_warn("sim camera: fault disconnect: camera on %s gone for %.1f s", cam->address,
          cam->faults.disconnect_s);
  close_gv(cam);
  if (!wait_until(cam, pv_now_ns() + (int64_t)(cam->faults.disconnect_s * 1e9))) return NULL;
  for (;;) { /* the port may take a moment to be free again */
    pv_error e;
    if (open_gv(cam, &e) == PV_OK) break;
    if (!wait_until(cam, pv_now_ns() + 200 * PV_NS_PER_MS)) return NULL;
  }
  pv_info("sim camera: back on %s after the disconnect fault", cam->address);
  return NULL;
}

int pv_gv_camera_start(const char *address, const char *serial, const pv_scene *scene,
                       pv_truth_source truth, const pv_sim_faults *faults, pv_gv_camera **out,
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
  pv_gv_camera *cam = calloc(1, sizeof *cam);
  if (cam == NULL) return pv_error_set(err, PV_ENOMEM, "GigE Vision camera: out of memory");
  strcpy(cam->address, address);
  strcpy(cam->serial, serial);
  cam->scene = scene;
  cam->truth = truth;
  if (faults) cam->faults = *faults;
  cam->rng = cam->faults.seed ^ 0x6776u;
  pthread_mutex_init(&cam->lock, NULL);
  pthread_cond_init(&cam->wake, NULL);
  int rc = open_gv(cam, err);
  if (rc == PV_OK && cam->faults.disconnect_s > 0) {
    if (pthread_create(&cam->fault_thread, NULL, fault_main, cam) != 0)
      rc = pv_error_set(err, PV_ENOMEM, "GigE Vision camera: cannot start the fault thread");
    else
      cam->has_fault_thread = true;
  }
  if (rc < 0) {
    pv_gv_camera_stop(cam);
    return rc;
  }
  *out = cam;
  return PV_OK;
}

void pv_gv_camera_stop(pv_gv_camera *cam) {
  if (cam == NULL) return;
  pthread_mutex_lock(&cam->lock);
  cam->stopping = true;
  pthread_cond_broadcast(&cam->wake);
  pthread_mutex_unlock(&cam->lock);
  if (cam->has_fault_thread) pthread_join(cam->fault_thread, NULL);
  close_gv(cam);
  pthread_cond_destroy(&cam->wake);
  pthread_mutex_destroy(&cam->lock);
  free(cam);
}
