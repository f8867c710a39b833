/* Builds the station from the configuration: scene, drivers, matcher. */
#include <string.h>

#include "station.h"

static void wafer_params(const pv_config *c, pv_wafer_params *w) {
  pv_wafer_params_default(w);
  w->cols = c->sim_cols;
  w->rows = c->sim_rows;
  w->pitch_x_um = c->sim_pitch_x_um;
  w->pitch_y_um = c->sim_pitch_y_um;
  w->mark_x_um = c->sim_mark_x_um;
  w->mark_y_um = c->sim_mark_y_um;
  w->um_per_px = c->camera_um_per_px;
  w->noise = c->sim_noise;
  w->gradient = c->sim_gradient;
  w->blur_px = c->sim_blur_px;
  w->seed = (uint64_t)c->sim_seed;
}

int pv_station_prepare(pv_station *st, const pv_config *c, pv_error *err) {
  memset(st, 0, sizeof *st);
  char where[PV_CONFIG_PATH_CAP + 16];
  if (strcmp(c->camera_driver, "sim") != 0) {
    pv_config_origin(c, "camera.driver", where, sizeof where);
    return pv_error_set(err, PV_EUNSUPPORTED,
                        "%s: camera.driver '%s': this build has only the 'sim' camera", where,
                        c->camera_driver);
  }
  if (strcmp(c->stage_driver, "sim") != 0) {
    pv_config_origin(c, "stage.driver", where, sizeof where);
    return pv_error_set(err, PV_EUNSUPPORTED,
                        "%s: stage.driver '%s': this build has only the 'sim' stage", where,
                        c->stage_driver);
  }
  pv_wafer_params w;
  wafer_params(c, &w);
  int rc = pv_scene_create(&w, &st->scene);
  if (rc < 0) return pv_error_set(err, rc, "cannot build the simulated wafer: %s", pv_strerror(rc));
  if (c->match_template[0] != '\0') {
    pv_error e;
    rc = pv_image_read(c->match_template, &st->templ, &e);
    if (rc < 0) {
      pv_config_origin(c, "match.template", where, sizeof where);
      return pv_error_set(err, rc, "%s: match.template: %s", where, e.msg);
    }
  } else {
    rc = pv_scene_template(st->scene, &st->templ);
    if (rc < 0) return pv_error_set(err, rc, "cannot render the die template: %s", pv_strerror(rc));
  }
  return PV_OK;
}

static int open_stage(pv_station *st, const pv_config *c, pv_error *err) {
  pv_sim_stage_params p;
  pv_sim_stage_params_default(&p);
  p.speed_um_s = c->stage_speed_um_s;
  p.settle_ms = c->stage_settle_ms;
  p.error_frac = c->sim_landing_error_frac;
  p.error_um = c->sim_landing_error_um;
  p.backlash_um = c->sim_backlash_um;
  p.speed = c->sim_speed;
  p.fault_error = c->sim_fault_stage_error;
  p.seed = (uint64_t)c->sim_seed + 1000;
  int rc = pv_sim_stage_create(&p, &st->stage);
  if (rc < 0) return pv_error_set(err, rc, "simulated stage: %s", pv_strerror(rc));
  return pv_stage_connect(st->stage, err);
}

static int open_camera(pv_station *st, const pv_config *c, pv_error *err) {
  pv_sim_camera_params sp;
  pv_sim_camera_params_default(&sp);
  sp.width = c->camera_width;
  sp.height = c->camera_height;
  sp.format = c->camera_pixel_format;
  sp.fps = c->camera_fps;
  sp.speed = c->sim_speed;
  sp.fault_nodata = c->sim_fault_nodata;
  sp.fault_incomplete = c->sim_fault_incomplete;
  sp.seed = (uint64_t)c->sim_seed + 2000;
  const pv_camera_driver *drv;
  void *self;
  int rc = pv_sim_camera_new(&sp, st->scene, pv_sim_stage_truth(st->stage), &drv, &self);
  if (rc < 0) return pv_error_set(err, rc, "simulated camera: %s", pv_strerror(rc));
  pv_camera_params cp;
  pv_camera_params_default(&cp);
  cp.buffers = c->camera_buffers;
  cp.grab_timeout_ms = c->camera_timeout_ms;
  cp.retries_before_restart = c->camera_retries_before_restart;
  cp.restarts_before_reopen = c->camera_restarts_before_reopen;
  cp.reopen_backoff_ms = c->camera_reopen_backoff_ms;
  cp.reopen_backoff_max_ms = c->camera_reopen_backoff_max_ms;
  rc = pv_camera_create(drv, self, &cp, &st->camera, err);
  if (rc < 0) return rc;
  pv_camera_get_info(st->camera, &st->info);
  return PV_OK;
}

int pv_station_open(pv_station *st, const pv_config *c, pv_error *err) {
  int rc = open_stage(st, c, err);
  if (rc < 0) return rc;
  rc = open_camera(st, c, err);
  if (rc < 0) return rc;
  pv_match_params mp;
  pv_match_params_default(&mp);
  mp.threshold = c->match_threshold;
  mp.max_results = c->match_max_results;
  mp.overlap = c->match_overlap;
  mp.threads = c->match_threads;
  rc = pv_matcher_create(st->info.width, st->info.height, &st->templ, &mp, &st->matcher);
  if (rc < 0)
    return pv_error_set(err, rc, "matcher for %dx%d frames and a %dx%d template: %s",
                        st->info.width, st->info.height, st->templ.width, st->templ.height,
                        pv_strerror(rc));
  return PV_OK;
}

void pv_station_close(pv_station *st) {
  pv_matcher_destroy(st->matcher);
  pv_camera_destroy(st->camera);
  pv_stage_destroy(st->stage);
  pv_image_free(&st->templ);
  pv_scene_destroy(st->scene);
  memset(st, 0, sizeof *st);
}
