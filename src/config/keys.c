/* The configuration key table: the single source of every key's section,
 * name, type, default, range, hashing and documentation.
 *
 * Each row names its pv_config field by (section, key), so a row always
 * points at the field section_key; the row macro also checks at compile
 * time that the field's C type matches the row's type (a _Generic with no
 * default association fails to compile on a mismatch). Defaults are text
 * parsed by the same code as a file, so an invalid default is caught by the
 * tests like any bad input.
 *
 * A range that a consuming module also checks is that module's constant
 * (PV_SCENE_*, PV_MATCH_THREADS_MAX, PV_FRAME_POOL_MAX, PV_IMAGE_MAX_DIM),
 * so a value the configuration accepts is one the module accepts
 * (tests/config/test_ranges.c).
 */
#include <stdint.h>
#include <string.h>

#include "keys.h"
#include "probevision/frame.h"
#include "probevision/match.h"
#include "probevision/scene.h"

#define FIELD(sec, key) (((pv_config *)0)->sec##_##key)
#define ROW(sec, key, type, def, imin, imax, dmin, dmax, choices, flags, doc)  \
  {#sec, #key, type, offsetof(pv_config, sec##_##key),                        \
   sizeof FIELD(sec, key), def, imin, imax, dmin, dmax, choices, flags, doc}

#define STR(sec, key, def, choices, flags, doc)                                \
  ROW(sec, key, _Generic(&FIELD(sec, key)[0], char *: PV__KT_STR), def, 0, 0, \
      0, 0, choices, flags, doc)
#define INT(sec, key, def, lo, hi, flags, doc)                                 \
  ROW(sec, key,                                                               \
      _Generic(FIELD(sec, key), int: PV__KT_INT, int64_t: PV__KT_I64), #def,   \
      lo, hi, 0, 0, NULL, flags, doc)
#define DBL(sec, key, def, lo, hi, flags, doc)                                 \
  ROW(sec, key, _Generic(FIELD(sec, key), double: PV__KT_DBL), #def, 0, 0, lo, \
      hi, NULL, flags, doc)
#define BOOL(sec, key, def, flags, doc)                                        \
  ROW(sec, key, _Generic(FIELD(sec, key), bool: PV__KT_BOOL), #def, 0, 0, 0,   \
      0, NULL, flags, doc)
#define ENUM(sec, key, ctype, kt, def, flags, doc)                             \
  ROW(sec, key, _Generic(FIELD(sec, key), ctype: kt), #def, 0, 0, 0, 0, NULL,  \
      flags, doc)

#define V PV_KEY_VOLATILE

const pv__config_key pv__config_keys[] = {
    STR(camera, driver, "sim", "sim, aravis, mvs", 0, "camera driver"),
    STR(camera, device, "", NULL, 0, "driver-specific device id (empty: the first found)"),
    INT(camera, width, 2448, 16, PV_IMAGE_MAX_DIM, 0, "image width, pixels"),
    INT(camera, height, 2048, 16, PV_IMAGE_MAX_DIM, 0, "image height, pixels"),
    ENUM(camera, pixel_format, pv_pixfmt, PV__KT_PIXFMT, BayerBG8, 0, "pixel format (GenICam name)"),
    DBL(camera, fps, 16, 0, 1000, 0, "frame rate, frames/s (0: as fast as possible)"),
    STR(camera, acquisition, "auto", "auto, continuous, software", 0, "software: a trigger per frame after each settle; continuous: streaming; auto: software when the camera has TriggerSoftware"),
    DBL(camera, exposure_us, 0, 0, 10000000, 0, "exposure time, us (0: leave the camera's); auto exposure is turned off"),
    STR(camera, mvs_library, "", NULL, 0, "path of libMvCameraControl.so for the mvs driver (empty: $PV_MVS_LIBRARY, then the MVS install paths)"),
    INT(camera, buffers, 4, 2, PV_FRAME_POOL_MAX, 0, "frames in the fixed frame pool"),
    DBL(camera, um_per_px, 1.5, PV_SCENE_UM_PER_PX_MIN, PV_SCENE_UM_PER_PX_MAX, 0, "calibration: stage micrometres per image pixel"),
    BOOL(camera, flip_x, false, 0, "image x runs against stage x"),
    BOOL(camera, flip_y, false, 0, "image y runs against stage y"),
    BOOL(camera, swap_xy, false, 0, "image axes are swapped relative to stage axes"),
    INT(camera, timeout_ms, 1000, 1, 600000, 0, "grab timeout, ms"),
    INT(camera, retries_before_restart, 3, 1, 1000, 0, "failed grabs in a row before the stream is restarted"),
    INT(camera, restarts_before_reopen, 2, 1, 1000, 0, "stream restarts in a row before the camera is reopened"),
    INT(camera, reopen_backoff_ms, 200, 1, 600000, 0, "first wait before reopening, ms (doubles each attempt)"),
    INT(camera, reopen_backoff_max_ms, 5000, 1, 3600000, 0, "longest wait between reopen attempts, ms"),

    STR(stage, driver, "sim", "sim, sentio", 0, "stage driver"),
    STR(stage, address, "", NULL, 0, "driver-specific address, e.g. host:port for sentio"),
    DBL(stage, speed_um_s, 50000, 1, 1e7, 0, "stage speed, um/s"),
    INT(stage, settle_ms, 30, 0, 60000, 0, "wait after a move before the stage counts as settled, ms"),
    INT(stage, timeout_ms, 10000, 1, 600000, 0, "stage command timeout, ms"),
    INT(stage, retries, 2, 0, 10, 0, "retries of a failed stage command"),
    INT(stage, reconnect_ms, 10000, 0, 600000, 0, "how long a lost station connection is reopened with backoff before a command fails, ms (sentio)"),

    DBL(align, tolerance_um, 2.0, 0.01, 10000, 0, "alignment done when the offset is within this, um"),
    INT(align, max_iterations, 3, 1, 100, 0, "correction moves per point at most"),
    INT(align, match_every, 1, 1, 1000000, 0, "align at every n-th point (1: every point)"),
    DBL(align, min_score, 0.6, 0, 1, 0, "lowest NCC score accepted as the device"),
    ROW(align, search_radius_um, _Generic(FIELD(align, search_radius_um), double: PV__KT_DBL),
        "auto", 0, 0, 0.1, 1e6, NULL, PV_KEY_AUTO,
        "only a match within this distance of where the die's mark must be is used, um "
        "(auto: 0.45 x the smallest spacing of marks or targets)"),
    DBL(align, ambiguity_margin, 0.1, 0, 1, 0,
        "two candidates within the search radius scoring within this of each other: ambiguous"),
    INT(align, frame_timeout_ms, 3000, 1, 600000, 0, "wait for a frame exposed after settling, ms"),
    INT(align, frame_retries, 2, 0, 100, 0, "retries of that wait before the point fails"),

    STR(match, template, "", NULL, 0, "template image, PNG or PGM (empty: the simulated die's template)"),
    DBL(match, threshold, 0.5, 0, 1, 0, "lowest NCC score of a match candidate"),
    INT(match, max_results, 16, 1, 1000, 0, "most matches returned per image"),
    DBL(match, overlap, 0.25, 0, 1, 0, "largest overlap (fraction of the template) between two matches"),
    INT(match, threads, 2, 1, PV_MATCH_THREADS_MAX, V, "threads of the matcher (the caller and threads - 1 workers started once): the same answer for any count"),

    STR(measure, command, "", NULL, 0, "shell command run at each point (empty: none)"),
    DBL(measure, timeout_s, 30, 0.1, 86400, 0, "measurement command timeout, s"),

    STR(probe, contact, "auto", "auto, on, off", 0, "the probing cycle: on: contact for the measurement, separation for every XY move (the stage must have Z); off: vision only, Z untouched; auto: on when the stage has Z"),

    STR(run, targets, "", NULL, V, "targets when --targets is not given: a CSV file, sentio-map (step by the station's wafer map), or empty (the simulated wafer's dies)"),

    DBL(monitor, interval_s, 5, 0.1, 3600, V, "period of the monitor log line, s"),
    STR(monitor, incident_dir, ".", NULL, V, "directory for incident reports"),
    ENUM(monitor, log_level, pv_log_level, PV__KT_LOGLEVEL, info, V, "lowest level of log lines printed"),

    DBL(sim, speed, 1, 0, 1000, V, "time scale of every simulated duration (0: as fast as possible)"),
    INT(sim, seed, 1, 0, INT64_MAX, 0, "random seed of the simulated station"),
    INT(sim, cols, 10, 1, PV_SCENE_DIES_MAX, 0, "simulated wafer: dies per row"),
    INT(sim, rows, 8, 1, PV_SCENE_DIES_MAX, 0, "simulated wafer: dies per column"),
    DBL(sim, pitch_x_um, 1000, PV_SCENE_PITCH_MIN_UM, PV_SCENE_PITCH_MAX_UM, 0, "die pitch in x, um"),
    DBL(sim, pitch_y_um, 900, PV_SCENE_PITCH_MIN_UM, PV_SCENE_PITCH_MAX_UM, 0, "die pitch in y, um"),
    DBL(sim, mark_x_um, 250, 0, PV_SCENE_PITCH_MAX_UM, 0, "alignment mark centre from the die corner in x, um (<= pitch_x_um)"),
    DBL(sim, mark_y_um, 220, 0, PV_SCENE_PITCH_MAX_UM, 0, "alignment mark centre from the die corner in y, um (<= pitch_y_um)"),
    DBL(sim, noise, 3, 0, PV_SCENE_NOISE_MAX, 0, "sensor noise, grey levels (standard deviation)"),
    DBL(sim, gradient, 0.25, 0, 1, 0, "illumination fall-off across the image (fraction)"),
    DBL(sim, blur_px, 0.8, 0, PV_SCENE_BLUR_MAX_PX, 0, "optical blur, pixels (Gaussian sigma)"),
    DBL(sim, landing_error_frac, 0.01, 0, 1, 0, "stage landing error, fraction of the move length"),
    DBL(sim, landing_error_um, 0.3, 0, 1000, 0, "stage landing error, constant part, um"),
    DBL(sim, backlash_um, 0.5, 0, 1000, 0, "stage backlash on direction reversal, um"),
    DBL(sim, fault_nodata, 0, 0, 1, 0, "probability that a grab times out with no data"),
    DBL(sim, fault_incomplete, 0, 0, 1, 0, "probability that a frame arrives incomplete"),
    DBL(sim, fault_stage_error, 0, 0, 1, 0, "probability that a stage command fails"),
};

const int pv__config_key_count =
    (int)(sizeof pv__config_keys / sizeof pv__config_keys[0]);
_Static_assert(sizeof pv__config_keys / sizeof pv__config_keys[0] <= PV_CONFIG_KEYS_MAX,
               "raise PV_CONFIG_KEYS_MAX");

const pv__config_rule pv__config_rules[] = {
    {"sim.mark_x_um", "sim.pitch_x_um"},
    {"sim.mark_y_um", "sim.pitch_y_um"},
    {"camera.reopen_backoff_ms", "camera.reopen_backoff_max_ms"},
};

const int pv__config_rule_count =
    (int)(sizeof pv__config_rules / sizeof pv__config_rules[0]);

int pv__config_find(const char *section, size_t section_len, const char *name) {
  for (int i = 0; i < pv__config_key_count; i++) {
    const pv__config_key *k = &pv__config_keys[i];
    if (strlen(k->section) == section_len &&
        memcmp(k->section, section, section_len) == 0 &&
        strcmp(k->name, name) == 0)
      return i;
  }
  return -1;
}

int pv__config_has_section(const char *section) {
  for (int i = 0; i < pv__config_key_count; i++)
    if (strcmp(pv__config_keys[i].section, section) == 0) return 1;
  return 0;
}
