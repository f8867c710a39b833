/* tests/sim: the group fixture of the GigE Vision camera tests: the default
 * simulated wafer as `scene`, created once per test program, and the log
 * level set to warnings. Static: each test includes it once. */
#ifndef PV_TESTS_SIM_SCENE_FIXTURE_H
#define PV_TESTS_SIM_SCENE_FIXTURE_H

#include "probevision/scene.h"

static pv_scene *scene;

static int scene_setup(void **state) {
  (void)state;
  pv_log_set_level(PV_LOG_WARN);
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  return pv_scene_create(&p, &scene) == PV_OK ? 0 : -1;
}

static int scene_teardown(void **state) {
  (void)state;
  pv_scene_destroy(scene);
  return 0;
}

#endif
