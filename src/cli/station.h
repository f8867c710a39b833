/* The station: camera, stage, scene and matcher built from a configuration.
 * Drivers: "sim" (the built-in simulated station); camera "aravis" (GenICam
 * cameras) when built with Aravis; prepare refuses others. */
#ifndef PV_CLI_STATION_H
#define PV_CLI_STATION_H

#include "probevision/camera.h"
#include "probevision/config.h"
#include "probevision/match.h"
#include "probevision/scene.h"
#include "probevision/sim.h"
#include "probevision/stage.h"

typedef struct pv_station {
  pv_scene *scene;     /* the simulated wafer (sim drivers, built-in template) */
  pv_stage *stage;
  pv_camera *camera;
  pv_camera_info info;
  pv_image templ;      /* alignment template */
  pv_matcher *matcher;
  /* Faults the built-in simulated camera and stage inject (`probevision run
   * --fault SPEC`): zeroed by pv_station_prepare, set before
   * pv_station_open. A nonzero fault replaces the matching sim.fault_*
   * key; a nonzero seed replaces sim.seed for their random choices. Other
   * drivers ignore them. */
  pv_sim_faults faults;
} pv_station;

/* Scene and template only (no hardware): needed before the journal is
 * touched, so that bad input is reported before anything is written.
 * PV_EPARSE / PV_EIO: input error (message in err). */
int pv_station_prepare(pv_station *st, const pv_config *c, pv_error *err);
/* What the configured stage driver can do, known without connecting (the
 * driver object is created and destroyed): Z (contact/separation) and
 * wafer-map stepping. Call after pv_station_prepare. Errors: as creating
 * the stage. */
int pv_station_stage_caps(const pv_config *c, int *has_z, int *has_map, pv_error *err);
/* Connects the stage and starts the camera, then creates the matcher for the
 * camera's frame size. Errors here are hardware failures. */
int pv_station_open(pv_station *st, const pv_config *c, pv_error *err);
/* Starts only the camera (after prepare): for an acquisition check without
 * a stage. The simulated camera then renders the wafer at (0, 0) and its
 * frames carry no truth. Errors are hardware failures. */
int pv_station_open_camera_only(pv_station *st, const pv_config *c, pv_error *err);
/* Stops everything (accepts a partly opened station). */
void pv_station_close(pv_station *st);
/* The simulated wafer (st->scene) and a connected simulated stage
 * (st->stage) of the configuration's [sim] and [stage] keys, nothing else:
 * what `probevision sim` serves. Close with pv_station_close. */
int pv_station_open_sim_parts(pv_station *st, const pv_config *c, pv_error *err);

#endif
