#include <string.h>

#include "sim_station.h"

int sim_station_open(sim_station *s, int width, int height) {
  memset(s, 0, sizeof *s);
  s->width = width;
  s->height = height;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  int rc = pv_scene_create(&wp, &s->scene);
  if (rc < 0) return rc;
  pv_sim_stage_params sp;
  pv_sim_stage_params_default(&sp);
  sp.speed = 0;
  if ((rc = pv_sim_stage_create(&sp, &s->stage)) < 0) return rc;
  if ((rc = pv_stage_connect(s->stage, NULL)) < 0) return rc;
  pv_sim_camera_params cp;
  pv_sim_camera_params_default(&cp);
  cp.width = width;
  cp.height = height;
  cp.speed = 0;
  const pv_camera_driver *drv;
  void *self;
  if ((rc = pv_sim_camera_new(&cp, s->scene, pv_sim_stage_truth(s->stage), &drv, &self)) < 0)
    return rc;
  pv_camera_params p;
  pv_camera_params_default(&p);
  if ((rc = pv_camera_create(drv, self, &p, &s->camera, NULL)) < 0) return rc;
  if ((rc = pv_scene_template(s->scene, &s->templ)) < 0) return rc;
  pv_match_params mp;
  pv_match_params_default(&mp);
  return pv_matcher_create(width, height, &s->templ, &mp, &s->matcher);
}

void sim_station_close(sim_station *s) {
  pv_matcher_destroy(s->matcher);
  pv_camera_destroy(s->camera);
  pv_stage_destroy(s->stage);
  pv_image_free(&s->templ);
  pv_scene_destroy(s->scene);
  memset(s, 0, sizeof *s);
}

pv_die_grid sim_station_grid(const sim_station *s) {
  const pv_wafer_params *w = pv_scene_params(s->scene);
  return (pv_die_grid){w->cols, w->rows, w->pitch_x_um, w->pitch_y_um, w->mark_x_um,
                       w->mark_y_um};
}
