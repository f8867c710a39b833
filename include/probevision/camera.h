/* probevision camera: the camera driver interface, the acquisition worker
 * that is the only caller of a driver, and the aravis driver (the
 * simulated camera is part of the simulator: probevision/sim.h).
 *
 * One thread, named "camera", owns the driver: it opens it, allocates the
 * frame pool from the payload size the driver reports, grabs continuously
 * into pool frames and publishes the good ones (in software trigger mode:
 * fires one trigger per reader's request and publishes the frame that
 * answers it). Every grab result is
 * classified (ok / timeout / incomplete / disconnected / fatal) and counted.
 * Consecutive failures escalate: retry, then restart the stream after
 * `retries_before_restart` timeouts, then close and reopen the driver after
 * `restarts_before_reopen` restarts, with exponential backoff between
 * reopen attempts. Every escalation is logged with the thread list.
 */
#ifndef PROBEVISION_CAMERA_H
#define PROBEVISION_CAMERA_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"
#include "probevision/frame.h"
#include "probevision/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* How frames are acquired (camera.acquisition).
 * CONTINUOUS: the camera streams at its frame rate; a reader takes the
 *   newest frame whose exposure provably began after a given time.
 * SOFTWARE: TriggerMode=On, TriggerSource=Software; nothing is streamed
 *   until a reader asks for a frame, then the camera thread fires one
 *   trigger and hands out the frame that trigger produced (by frame id).
 * AUTO (asked for only): SOFTWARE when the camera can be triggered by
 *   software, else CONTINUOUS. */
#define PV_ACQUISITION_MAP(XX)                                                 \
  XX(AUTO, "auto")                                                             \
  XX(CONTINUOUS, "continuous")                                                 \
  XX(SOFTWARE, "software")

typedef enum pv_acquisition {
#define XX(name, word) PV_ACQUISITION_##name,
  PV_ACQUISITION_MAP(XX)
#undef XX
  PV_ACQUISITION_COUNT
} pv_acquisition;

typedef struct pv_camera_info {
  int width, height;
  pv_pixfmt format;
  size_t payload;   /* bytes one frame needs */
  double fps;       /* nominal frame rate (0: as fast as possible) */
  char model[64];
  /* The driver's clock, for messages and reports: 0 for a real camera
   * (grab timeouts are real time); 1 when timeouts run on a simulated
   * clock at time_scale x real time (1 real time, 0.1 ten times faster,
   * 0 as fast as possible). */
  int simulated_clock;
  double time_scale;
  /* In to open: the mode asked for (pv_camera_params.acquisition; AUTO
   * lets the driver choose). Out: the mode in effect (never AUTO). */
  pv_acquisition acquisition;
  int can_trigger;      /* out: the driver and camera have a software
                           trigger (drv->trigger works) */
  pv_frame_time time;   /* out: how the exposure of continuous frames is
                           known (DEVICE, ESTIMATE, TRUTH, ...) */
} pv_camera_info;

/* Driver-side stream statistics (zeros where a driver has none). */
typedef struct pv_stream_stats {
  uint64_t completed, failures, underruns, missing_frames, resent_packets;
} pv_stream_stats;

/* A camera driver: a table of functions over a driver object `self`.
 * All are called from the camera thread only, except create/destroy of the
 * driver object itself. Results are pv_status; grab's result is one of
 * PV_OK, PV_ETIMEDOUT (no frame before the timeout), PV_EINCOMPLETE,
 * PV_EDISCONNECTED, PV_EFATAL. */
typedef struct pv_camera_driver {
  const char *name;
  int (*open)(void *self, pv_camera_info *info, pv_error *err);
  int (*start)(void *self);
  /* Waits for the next frame and copies it into `into` (capacity bytes at
   * into->data); sets width, height, stride, format, size, exposure_ns and
   * the truth fields. Must not allocate. */
  int (*grab)(void *self, pv_frame *into, int timeout_ms);
  int (*stop)(void *self);
  /* Software trigger mode only: fires one trigger now; the frame it
   * produces is returned by a later grab, with its frame_id. PV_OK, or a
   * grab-class error (PV_EDISCONNECTED, PV_EFATAL, PV_ETIMEDOUT when the
   * camera did not take the command). NULL when the driver cannot. */
  int (*trigger)(void *self);
  void (*close)(void *self);
  void (*get_stats)(void *self, pv_stream_stats *out); /* may be NULL */
  void (*destroy)(void *self); /* frees the driver object */
} pv_camera_driver;

typedef struct pv_camera_params {
  int buffers;                /* frames in the pool (default 4) */
  int grab_timeout_ms;        /* per grab (default 1000) */
  int retries_before_restart; /* consecutive timeouts (default 3) */
  int restarts_before_reopen; /* consecutive restarts (default 2) */
  int reopen_backoff_ms;      /* first backoff, doubles (default 200) */
  int reopen_backoff_max_ms;  /* (default 5000) */
  pv_acquisition acquisition; /* default AUTO */
} pv_camera_params;

typedef struct pv_camera_counters {
  uint64_t frames;       /* grab results seen (every class) */
  uint64_t ok;           /* good frames published */
  uint64_t timeouts, incomplete, disconnected, fatal;
  uint64_t dropped;      /* good frames dropped: no free pool frame */
  uint64_t restarts, reopens;
  uint64_t triggers;     /* software triggers fired */
  uint64_t lost_triggers; /* triggers that produced no frame in time */
  uint64_t stale;        /* frames discarded: they answered no trigger of
                            the current request (late, or left over) */
  uint64_t uncertain;    /* frames whose exposure time had no safe bound */
  double fps;            /* published frames per second, recent */
  pv_stream_stats stream;
  int connected;         /* 1 while the driver is open and streaming */
} pv_camera_counters;

typedef struct pv_camera pv_camera;

/* GenICam camera through Aravis 0.8 (GigE Vision, USB3 Vision). */
typedef struct pv_aravis_camera_params {
  char device[256];   /* Aravis device id or IP address; "" = first found */
  int width, height;  /* region; 0 = the camera's current one; clamped to
                         the sensor */
  int centre;         /* 1: region centred on the sensor; 0: at (0, 0) */
  pv_pixfmt format;   /* default BAYER_BG8 */
  double fps;         /* AcquisitionFrameRate when the camera has it;
                         0 = leave the camera's */
  double exposure_us; /* 0 = leave the camera's */
  double gain;        /* < 0 = leave the camera's (default -1) */
  int packet_size;    /* GigE: 0 = automatic negotiation, else bytes */
  int buffers;        /* Aravis buffers, allocated at open (default 4) */
  int latency_us;     /* sensor readout + transfer time subtracted from the
                         reception time (besides the exposure time) to
                         estimate the exposure start; -1 = estimate from
                         the payload at GigE wire speed + 2 ms (default) */
} pv_aravis_camera_params;

/* Hikvision (Hikrobot) GigE and USB3 cameras through the vendor's MVS SDK,
 * libMvCameraControl.so, loaded at run time (see pv_mvs_camera_new). */
typedef struct pv_mvs_camera_params {
  char device[256];   /* serial number or IP address; "" = first found */
  char library[1024]; /* path of libMvCameraControl.so; "" = $PV_MVS_LIBRARY,
                         then /opt/MVS/lib/64, /opt/MVS/lib/aarch64, then
                         the loader's search path */
  int width, height;  /* region; 0 = the camera's current one; clamped */
  int centre;         /* 1: region centred on the sensor; 0: at (0, 0) */
  pv_pixfmt format;   /* default BAYER_BG8 */
  double fps;         /* AcquisitionFrameRate; 0 = leave the camera's */
  double exposure_us; /* ExposureTime; 0 = leave the camera's (auto
                         exposure is turned off either way) */
  int packet_size;    /* GigE: 0 = the SDK's optimal size, else bytes */
  int nodes;          /* SDK image buffers (MV_CC_SetImageNodeNum, default 4) */
  int latency_us;     /* readout + transfer allowance of the host-clock
                         exposure estimate; -1 = from the payload at GigE
                         wire speed + 2 ms (default) */
} pv_mvs_camera_params;

/* ---- functions -------------------------------------------------------- */

void pv_camera_params_default(pv_camera_params *p);

/* Starts the camera thread over driver `drv` with driver object `self`
 * (ownership of self passes to the camera: destroyed by pv_camera_destroy
 * through drv->destroy, also on failure). Returns once the first open has
 * succeeded (the pool is then allocated and streaming has started) or
 * failed (the error, with err filled). */
int pv_camera_create(const pv_camera_driver *drv, void *self,
                     const pv_camera_params *params, pv_camera **out,
                     pv_error *err);

/* Leases a frame whose exposure provably began after after_ns (monotonic),
 * waiting up to timeout_ms: the frame to align on after a settle.
 * CONTINUOUS: the newest frame exposed strictly after after_ns (frames of
 *   uncertain time are never handed out).
 * SOFTWARE: asks the camera thread for a new trigger, fired after this call
 *   began (hence after after_ns when after_ns is not in the future), and
 *   leases the frame that trigger produced; frames of earlier triggers are
 *   never handed out. A frame not exposed after after_ns (after_ns in the
 *   future) is released and another trigger asked for, within timeout_ms.
 *   Lost triggers are retried by the camera thread meanwhile.
 * PV_ETIMEDOUT if none came in time, PV_ECANCELED when the camera is being
 * destroyed. Thread-safe: any number of reader threads. */
int pv_camera_frame_after(pv_camera *cam, int64_t after_ns, int timeout_ms,
                          pv_lease *out);

/* "auto", "continuous", "software"; "?" out of range. Thread-safe. */
const char *pv_acquisition_name(pv_acquisition a);
/* Parses one of those words into *out: PV_OK or PV_EPARSE. */
int pv_acquisition_parse(const char *word, pv_acquisition *out);

/* The camera info from the last open. Thread-safe. */
void pv_camera_get_info(pv_camera *cam, pv_camera_info *out);
/* A consistent copy of the counters. Thread-safe. */
void pv_camera_get_counters(pv_camera *cam, pv_camera_counters *out);

/* Statistics of the camera's frame pool (leases held, drops). Thread-safe. */
void pv_camera_get_pool_stats(pv_camera *cam, pv_frame_pool_stats *out);

/* Stops the thread, closes and destroys the driver, frees the pool. No lease
 * may be outstanding; threads blocked in pv_camera_frame_after return
 * PV_ECANCELED (destroy waits until they have left). Accepts NULL. */
void pv_camera_destroy(pv_camera *cam);

/* The aravis driver (GenICam cameras through Aravis). Returns the driver
 * table and a new driver object (owned by the caller until handed to
 * pv_camera_create). The camera is only contacted at open, on the camera
 * thread. PV_EINVAL for bad parameters (err names the field);
 * PV_EUNSUPPORTED when probevision was built without Aravis. */
void pv_aravis_camera_params_default(pv_aravis_camera_params *p);
int pv_aravis_camera_new(const pv_aravis_camera_params *p,
                         const pv_camera_driver **drv, void **self,
                         pv_error *err);

/* The mvs driver (Hikvision MVS SDK). Loads libMvCameraControl.so now
 * (camera.mvs_library / p->library, $PV_MVS_LIBRARY, the MVS install
 * folders, the plain soname; the library is unloaded by drv->destroy) and
 * returns the driver table and a new driver object (owned by the caller
 * until handed to pv_camera_create). The camera is only contacted at open,
 * on the camera thread. PV_EINVAL for bad parameters (err names the
 * field); PV_ENOTFOUND when the library is nowhere (err lists every place
 * tried and what to install); PV_EUNSUPPORTED for a library without the
 * needed entry points. Not thread-safe against itself (dlopen of one
 * library). */
void pv_mvs_camera_params_default(pv_mvs_camera_params *p);
int pv_mvs_camera_new(const pv_mvs_camera_params *p, const pv_camera_driver **drv,
                      void **self, pv_error *err);

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_CAMERA_H */
