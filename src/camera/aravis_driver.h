/* Internal to the aravis driver (aravis_camera.c: the driver entries and
 * the frame path; aravis_setup.c: configuring the camera at open and the
 * timestamp latch): the driver object, owned by the camera thread (every
 * field is touched from it only, except control_lost, set by Aravis's
 * "control-lost" signal on another thread). Only built with Aravis. */
#ifndef PROBEVISION_CAMERA_ARAVIS_DRIVER_H
#define PROBEVISION_CAMERA_ARAVIS_DRIVER_H

#include <stdatomic.h>

#include "aravis_internal.h"

typedef struct aravis_camera {
  pv_aravis_camera_params p;
  ArvCamera *camera;
  ArvDevice *device;          /* borrowed from camera */
  ArvStream *stream;          /* owns the buffers */
  gulong lost_handler;
  atomic_int control_lost;    /* set by the "control-lost" handler */
  int acquiring;
  pv_camera_info info;
  int64_t exposure_ns;        /* read at open: the exposure time, or its
                                 bound when the camera does not say */
  int64_t latency_ns;         /* readout + transfer allowance */
  int info_missing_frames;    /* stream info ids, -1 when absent */
  int info_resent_packets;
  /* device timestamps (GigE: in Aravis's ns; USB3: ns) */
  const char *latch_cmd;      /* NULL: the camera cannot latch */
  const char *latch_value;
  guint64 tick_hz;            /* device ticks per second of latch values */
  int64_t next_latch_ns;      /* monotonic: latch again after */
  int latch_warned;
  pv__aravis_clock clock;
  pv__aravis_guard guard;     /* reception times that cannot be trusted */
  int in_flight;              /* frames not yet popped, at the last pop */
} aravis_camera;

/* Fills err with "aravis DEVICE: what: MESSAGE" from *e (then cleared) and
 * returns status. Camera thread. */
int pv__aravis_fail(aravis_camera *c, GError **e, int status, const char *what, pv_error *err);

/* Configures the opened camera (c->camera, c->device set): pixel format,
 * region, acquisition mode, gain, frame rate, packet size, exposure (auto
 * off), trigger mode for `want` (camera.acquisition), payload, model name,
 * latency allowance; fills c->info but time. PV_OK or the error (err says
 * what). Camera thread. */
int pv__aravis_configure(aravis_camera *c, pv_acquisition want, pv_error *err);

/* Finds the camera's timestamp latch and tick frequency and latches twice
 * (c->latch_cmd stays NULL when device timestamps cannot be used); then
 * pv__aravis_latch_now every PV__ARAVIS_LATCH_PERIOD_NS. Camera thread. */
void pv__aravis_find_latch(aravis_camera *c);
void pv__aravis_latch_now(aravis_camera *c);

#endif
