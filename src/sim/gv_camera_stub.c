/* sim: the GigE Vision camera in a build without Aravis: unsupported. */
#include <stddef.h>

#include "probevision/sim.h"

int pv_gv_camera_start(const char *address, const char *serial, const pv_scene *scene,
                       pv_truth_source truth, const pv_sim_faults *faults, pv_gv_camera **out,
                       pv_error *err) {
  (void)address;
  (void)serial;
  (void)scene;
  (void)truth;
  (void)faults;
  if (out) *out = NULL;
  return pv_error_set(err, PV_EUNSUPPORTED,
                      "GigE Vision camera: this build has no Aravis (install libaravis-dev "
                      "and reconfigure)");
}

void pv_gv_camera_stop(pv_gv_camera *cam) { (void)cam; }
