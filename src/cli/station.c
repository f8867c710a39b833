/* Builds the station from the configuration: scene, drivers, matcher. */
#include <stdio.h>
#include <string.h>

#include "station.h"

/* The simulated wafer of the configuration into st->scene. The key table's
 * ranges are the scene's own (PV_SCENE_*), so this fails only for a
 * configuration whose cross-key rules were not checked; the message then
 * names the wafer parameter, its value and the range. */
static int create_scene(pv_station *st, const pv_config *c, pv_error *err) {
  pv_wafer_params w;
  pv_sim_wafer_params(c, &w);
  pv_error e;
  int rc = pv_wafer_params_check(&w, &e);
  if (rc < 0)
    return pv_error_set(err, rc, "cannot build the simulated wafer: %s (keys sim.*, camera.um_per_px)",
                        e.msg);
  rc = pv_scene_create(&w, &st->scene);
  if (rc < 0) return pv_error_set(err, rc, "cannot build the simulated wafer: %s", pv_strerror(rc));
  return PV_OK;
}

/* Camera drivers of this build. */
#ifdef PV_HAVE_ARAVIS
static const char camera_drivers_built[] = "the 'sim', 'aravis' and 'mvs' cameras";
#else
static const char camera_drivers_built[] = "the 'sim' and 'mvs' cameras (built without Aravis)";
#endif

static int camera_driver_known(const char *name) {
#ifdef PV_HAVE_ARAVIS
  if (strcmp(name, "aravis") == 0) return 1;
#endif
  return strcmp(name, "sim") == 0 || strcmp(name, "mvs") == 0;
}

int pv_station_prepare(pv_station *st, const pv_config *c, pv_error *err) {
  memset(st, 0, sizeof *st);
  char where[PV_CONFIG_PATH_CAP + 16];
  if (!camera_driver_known(c->camera_driver)) {
    pv_config_origin(c, "camera.driver", where, sizeof where);
    return pv_error_set(err, PV_EUNSUPPORTED, "%s: camera.driver '%s': this build has %s", where,
                        c->camera_driver, camera_drivers_built);
  }
  if (strcmp(c->stage_driver, "sim") != 0 && strcmp(c->stage_driver, "sentio") != 0) {
    pv_config_origin(c, "stage.driver", where, sizeof where);
    return pv_error_set(err, PV_EUNSUPPORTED,
                        "%s: stage.driver '%s': the stages are 'sim' and 'sentio'", where,
                        c->stage_driver);
  }
  if (strcmp(c->stage_driver, "sentio") == 0) {
    pv_sentio_stage_params sp;
    pv_error e;
    pv_config_origin(c, "stage.address", where, sizeof where);
    if (c->stage_address[0] == '\0')
      return pv_error_set(err, PV_EPARSE, "%s: stage.address: the sentio stage needs HOST:PORT",
                          where);
    if (pv_sentio_parse_address(c->stage_address, &sp, &e) < 0)
      return pv_error_set(err, PV_EPARSE, "%s: stage.address: %s", where, e.msg);
  }
  int rc = create_scene(st, c, err);
  if (rc < 0) return rc;
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

/* The sentio stage at stage.address (checked by pv_station_prepare). The
 * sequencer retries a failed move stage.retries times, for every stage
 * driver alike (to the absolute target, so a relative move that timed out
 * after the chuck moved is not applied twice); the driver itself makes one
 * attempt per call, so the two never multiply. */
static int open_sentio_stage(pv_station *st, const pv_config *c, pv_error *err) {
  pv_sentio_stage_params sp;
  pv_sentio_stage_params_default(&sp);
  int rc = pv_sentio_parse_address(c->stage_address, &sp, err);
  if (rc < 0) return rc;
  sp.timeout_ms = c->stage_timeout_ms;
  sp.connect_timeout_ms = c->stage_timeout_ms < 3000 ? c->stage_timeout_ms : 3000;
  sp.retries = 0;
  sp.settle_ms = c->stage_settle_ms;
  sp.reconnect_ms = c->stage_reconnect_ms;
  rc = pv_sentio_stage_create(&sp, &st->stage, err);
  if (rc < 0) return rc;
  return pv_stage_connect(st->stage, err);
}

static int open_stage(pv_station *st, const pv_config *c, pv_error *err) {
  if (strcmp(c->stage_driver, "sentio") == 0) return open_sentio_stage(st, c, err);
  pv_sim_stage_params p;
  pv_sim_stage_params_default(&p);
  p.speed_um_s = c->stage_speed_um_s;
  p.settle_ms = c->stage_settle_ms;
  p.error_frac = c->sim_landing_error_frac;
  p.error_um = c->sim_landing_error_um;
  p.backlash_um = c->sim_backlash_um;
  p.speed = c->sim_speed;
  p.fault_error = st->faults.stage_error > 0 ? st->faults.stage_error : c->sim_fault_stage_error;
  p.fault_timeout = st->faults.stage_timeout;
  p.timeout_ms = c->stage_timeout_ms;
  p.seed = (st->faults.seed ? st->faults.seed : (uint64_t)c->sim_seed) + 1000;
  int rc = pv_sim_stage_create(&p, &st->stage);
  if (rc < 0) return pv_error_set(err, rc, "simulated stage: %s", pv_strerror(rc));
  return pv_stage_connect(st->stage, err);
}

int pv_station_stage_caps(const pv_config *c, int *has_z, int *has_map, pv_error *err) {
  pv_stage *stage = NULL;
  int rc;
  if (strcmp(c->stage_driver, "sentio") == 0) {
    pv_sentio_stage_params sp;
    pv_sentio_stage_params_default(&sp);
    rc = pv_sentio_parse_address(c->stage_address, &sp, err);
    if (rc == 0) rc = pv_sentio_stage_create(&sp, &stage, err); /* does not connect */
  } else {
    pv_sim_stage_params p;
    pv_sim_stage_params_default(&p);
    rc = pv_sim_stage_create(&p, &stage);
    if (rc < 0) pv_error_set(err, rc, "simulated stage: %s", pv_strerror(rc));
  }
  if (rc < 0) return rc;
  *has_z = pv_stage_has_z(stage);
  *has_map = pv_stage_has_map(stage);
  pv_stage_destroy(stage);
  return PV_OK;
}

/* The aravis driver object for camera.device and the region and format. */
static int new_aravis_camera(const pv_config *c, const pv_camera_driver **drv, void **self,
                             pv_error *err) {
  pv_aravis_camera_params ap;
  pv_aravis_camera_params_default(&ap);
  snprintf(ap.device, sizeof ap.device, "%s", c->camera_device);
  ap.width = c->camera_width;
  ap.height = c->camera_height;
  ap.format = c->camera_pixel_format;
  ap.fps = c->camera_fps;
  ap.buffers = c->camera_buffers;
  ap.exposure_us = c->camera_exposure_us;
  return pv_aravis_camera_new(&ap, drv, self, err);
}

/* The mvs driver object (Hikvision MVS SDK, loaded now from
 * camera.mvs_library, $PV_MVS_LIBRARY or the MVS install paths) for
 * camera.device (serial number or IP address) and the region and format. */
static int new_mvs_camera(const pv_config *c, const pv_camera_driver **drv, void **self,
                          pv_error *err) {
  pv_mvs_camera_params mp;
  pv_mvs_camera_params_default(&mp);
  snprintf(mp.device, sizeof mp.device, "%s", c->camera_device);
  snprintf(mp.library, sizeof mp.library, "%s", c->camera_mvs_library);
  mp.width = c->camera_width;
  mp.height = c->camera_height;
  mp.format = c->camera_pixel_format;
  mp.fps = c->camera_fps;
  mp.exposure_us = c->camera_exposure_us;
  return pv_mvs_camera_new(&mp, drv, self, err);
}

/* The simulated camera driver object, rendering the scene at the simulated
 * stage's true position (at (0, 0) without a stage). */
static int new_sim_camera(const pv_station *st, const pv_config *c,
                          const pv_camera_driver **drv, void **self, pv_error *err) {
  pv_sim_camera_params sp;
  pv_sim_camera_params_default(&sp);
  sp.width = c->camera_width;
  sp.height = c->camera_height;
  sp.format = c->camera_pixel_format;
  sp.fps = c->camera_fps;
  sp.speed = c->sim_speed;
  sp.fault_nodata = st->faults.nodata > 0 ? st->faults.nodata : c->sim_fault_nodata;
  sp.fault_incomplete = c->sim_fault_incomplete;
  sp.packet_loss = st->faults.packet_loss;
  sp.stall_s = st->faults.stall_s;
  sp.disconnect_s = st->faults.disconnect_s;
  sp.seed = (st->faults.seed ? st->faults.seed : (uint64_t)c->sim_seed) + 2000;
  pv_truth_source truth = {0};
  if (st->stage) truth = pv_sim_stage_truth(st->stage);
  int rc = pv_sim_camera_new(&sp, st->scene, truth, drv, self);
  if (rc < 0) return pv_error_set(err, rc, "simulated camera: %s", pv_strerror(rc));
  return PV_OK;
}

static int open_camera(pv_station *st, const pv_config *c, pv_error *err) {
  const pv_camera_driver *drv;
  void *self;
  int rc = strcmp(c->camera_driver, "aravis") == 0 ? new_aravis_camera(c, &drv, &self, err)
           : strcmp(c->camera_driver, "mvs") == 0  ? new_mvs_camera(c, &drv, &self, err)
                                                   : new_sim_camera(st, c, &drv, &self, err);
  if (rc < 0) return rc;
  pv_camera_params cp;
  pv_camera_params_default(&cp);
  cp.buffers = c->camera_buffers;
  cp.grab_timeout_ms = c->camera_timeout_ms;
  cp.retries_before_restart = c->camera_retries_before_restart;
  cp.restarts_before_reopen = c->camera_restarts_before_reopen;
  cp.reopen_backoff_ms = c->camera_reopen_backoff_ms;
  cp.reopen_backoff_max_ms = c->camera_reopen_backoff_max_ms;
  if (pv_acquisition_parse(c->camera_acquisition, &cp.acquisition) != PV_OK) {
    if (drv->destroy) drv->destroy(self);
    return pv_error_set(err, PV_EINVAL, "camera.acquisition: '%s' is not auto, continuous or "
                        "software", c->camera_acquisition);
  }
  rc = pv_camera_create(drv, self, &cp, &st->camera, err);
  if (rc < 0) return rc;
  pv_camera_get_info(st->camera, &st->info);
  return PV_OK;
}

int pv_station_open_camera_only(pv_station *st, const pv_config *c, pv_error *err) {
  return open_camera(st, c, err);
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
  if (st->info.width < st->templ.width || st->info.height < st->templ.height)
    return pv_error_set(err, PV_EINVAL,
                        "the camera's %dx%d frames (camera.width x camera.height) are smaller "
                        "than the %dx%d template (match.template, or the simulated die's)",
                        st->info.width, st->info.height, st->templ.width, st->templ.height);
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

int pv_station_open_sim_parts(pv_station *st, const pv_config *c, pv_error *err) {
  memset(st, 0, sizeof *st);
  int rc = create_scene(st, c, err);
  if (rc < 0) return rc;
  return open_stage(st, c, err);
}
