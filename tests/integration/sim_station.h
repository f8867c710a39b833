/* Test fixture: the real simulated station (scene, sim stage, sim camera,
 * camera worker, matcher) at a chosen frame size, speed 0. */
#ifndef PV_TEST_SIM_STATION_H
#define PV_TEST_SIM_STATION_H

#include "probevision/camera.h"
#include "probevision/match.h"
#include "probevision/run.h"
#include "probevision/scene.h"
#include "probevision/sim.h"
#include "probevision/stage.h"

typedef struct sim_station {
  pv_scene *scene;
  pv_stage *stage;
  pv_camera *camera;
  pv_image templ;
  pv_matcher *matcher;
  int width, height;
} sim_station;

/* Returns 0 or a negative status. */
int sim_station_open(sim_station *s, int width, int height);
void sim_station_close(sim_station *s);
/* The scene's die grid (for pv_targets_generate). */
pv_die_grid sim_station_grid(const sim_station *s);

#endif
