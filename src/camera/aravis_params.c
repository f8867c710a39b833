/* Defaults of the aravis driver's parameters (every build), and the driver
 * constructor of a build without Aravis, which refuses with
 * PV_EUNSUPPORTED. With Aravis the constructor is in aravis_camera.c. */
#include <string.h>

#include "probevision/camera.h"

void pv_aravis_camera_params_default(pv_aravis_camera_params *p) {
  memset(p, 0, sizeof *p);
  p->centre = 1;
  p->format = PV_PIXFMT_BAYER_BG8;
  p->gain = -1;
  p->buffers = 4;
  p->latency_us = -1;
}

#ifndef PV_HAVE_ARAVIS
int pv_aravis_camera_new(const pv_aravis_camera_params *p, const pv_camera_driver **drv,
                         void **self, pv_error *err) {
  (void)p;
  *drv = NULL;
  *self = NULL;
  return pv_error_set(err, PV_EUNSUPPORTED,
                      "camera driver 'aravis': probevision was built without Aravis "
                      "(install libaravis-dev and rebuild)");
}
#endif
