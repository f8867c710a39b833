/* probevision config: the station configuration, read from INI files and
 * command-line overrides ("section.key=value").
 *
 * One table of key descriptors inside src/config gives every key's section,
 * name, type, default, range and meaning; defaults, parsing, validation, the
 * canonical dump, the hash and the reference documentation all come from it.
 * A pv_config is a plain value: copy it freely; functions taking a const
 * pv_config * are thread-safe, the others need exclusive access to *c.
 */
#ifndef PROBEVISION_CONFIG_H
#define PROBEVISION_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probevision/core.h"
#include "probevision/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* Capacities of the string fields (including the terminating NUL). */
#define PV_CONFIG_NAME_CAP 32   /* driver names */
#define PV_CONFIG_ID_CAP 256    /* device ids, addresses */
#define PV_CONFIG_PATH_CAP 1024 /* paths, shell commands */
#define PV_CONFIG_KEYS_MAX 128  /* keys in the table, at most */
#define PV_CONFIG_FROM_OVERRIDE (-1)

/* Field section_key holds key `key` of section [section]. See
 * pv_config_write_reference() (or `probevision help config`) for meanings,
 * units and ranges. */
typedef struct pv_config {
  /* [camera] */
  char camera_driver[PV_CONFIG_NAME_CAP];
  char camera_device[PV_CONFIG_ID_CAP];
  int camera_width, camera_height;
  pv_pixfmt camera_pixel_format;
  double camera_fps;
  char camera_acquisition[PV_CONFIG_NAME_CAP];
  double camera_exposure_us;
  char camera_mvs_library[PV_CONFIG_PATH_CAP];
  int camera_buffers;
  double camera_um_per_px;
  bool camera_flip_x, camera_flip_y, camera_swap_xy;
  int camera_timeout_ms;
  int camera_retries_before_restart;
  int camera_restarts_before_reopen;
  int camera_reopen_backoff_ms;
  int camera_reopen_backoff_max_ms;
  /* [stage] */
  char stage_driver[PV_CONFIG_NAME_CAP];
  char stage_address[PV_CONFIG_ID_CAP];
  double stage_speed_um_s;
  int stage_settle_ms, stage_timeout_ms, stage_retries, stage_reconnect_ms;
  /* [align] */
  double align_tolerance_um;
  int align_max_iterations, align_match_every;
  double align_min_score;
  double align_search_radius_um; /* 0: auto */
  double align_ambiguity_margin;
  int align_frame_timeout_ms, align_frame_retries;
  /* [match] */
  char match_template[PV_CONFIG_PATH_CAP];
  double match_threshold;
  int match_max_results;
  double match_overlap;
  int match_threads;
  /* [measure] */
  char measure_command[PV_CONFIG_PATH_CAP];
  double measure_timeout_s;
  /* [probe] */
  char probe_contact[PV_CONFIG_NAME_CAP]; /* auto, on, off */
  /* [run] (volatile: not part of the hash; the target list has its own) */
  char run_targets[PV_CONFIG_PATH_CAP];   /* "", a CSV path, or sentio-map */
  /* [monitor] (volatile: not part of the hash) */
  double monitor_interval_s;
  char monitor_incident_dir[PV_CONFIG_PATH_CAP];
  pv_log_level monitor_log_level;
  /* [sim] */
  double sim_speed; /* volatile */
  int64_t sim_seed;
  int sim_cols, sim_rows;
  double sim_pitch_x_um, sim_pitch_y_um, sim_mark_x_um, sim_mark_y_um;
  double sim_noise, sim_gradient, sim_blur_px;
  double sim_landing_error_frac, sim_landing_error_um, sim_backlash_um;
  double sim_fault_nodata, sim_fault_incomplete, sim_fault_stage_error;

  /* Where each value came from, by key (table order): origin_line[k] is the
   * line of origin_file that set it, PV_CONFIG_FROM_OVERRIDE for a
   * command-line override, 0 for the default. Read it through
   * pv_config_origin(); not part of the dump or the hash. */
  char origin_file[PV_CONFIG_PATH_CAP];
  int origin_line[PV_CONFIG_KEYS_MAX];
} pv_config;

/* ---- functions -------------------------------------------------------- */

/* Sets every key to its default. Never fails. */
void pv_config_default(pv_config *c);

/* Applies the INI file at path on top of *c (keys not in the file keep
 * their values). The file holds `[section]` lines, `key = value` lines,
 * blank lines and whole-line comments starting with ';' or '#'. Strings may
 * be wrapped in double quotes (needed to keep outer spaces). Any unknown
 * section or key, duplicate key, bad or out-of-range value, other line, or
 * binary data gives PV_EPARSE with "FILE:LINE: ..." naming the key and what
 * is allowed; an unreadable file gives PV_EIO naming the path. Ends with
 * pv_config_check(). On error *c is left unchanged. Allocates only
 * temporarily; not thread-safe for the same c. */
int pv_config_load(pv_config *c, const char *path, pv_error *err);

/* Sets one key from text, e.g. ("sim.speed", "0"), with the same
 * validation as a file line (PV_EPARSE naming the key and range; PV_EPARSE
 * for an unknown key). Does not run the cross-key checks: call
 * pv_config_check() after the last override. On error *c is unchanged. */
int pv_config_set(pv_config *c, const char *section_dot_key, const char *value,
                  pv_error *err);

/* Cross-key rules (sim.mark_x_um <= sim.pitch_x_um, ...). PV_EPARSE with a
 * message naming both keys when one fails. Thread-safe. */
int pv_config_check(const pv_config *c, pv_error *err);

/* Writes the canonical INI text of every key (hashed_only: only the keys
 * that are part of the hash) into buf, NUL-terminated. Returns its length,
 * or PV_ERANGE when cap is too small (PV_CONFIG_DUMP_CAP always suffices).
 * Loading the text back gives an equal configuration. Thread-safe. */
int pv_config_dump(const pv_config *c, int hashed_only, char *buf, size_t cap);

/* FNV-1a 64 over pv_config_dump(c, 1, ...): identifies the configuration
 * a run was recorded with; volatile keys (sim.speed, [monitor]) do not
 * count. Thread-safe. */
uint64_t pv_config_hash(const pv_config *c);

/* Where the value of key ("section.key") came from, for error messages:
 * "FILE:LINE", "command line" or "default". Returns the length written, or
 * PV_EINVAL for an unknown key. Thread-safe. */
int pv_config_origin(const pv_config *c, const char *section_dot_key,
                     char *buf, size_t cap);

/* Writes the Markdown reference table (key | default | range | meaning) of
 * every key to out. Thread-safe (for distinct streams). */
void pv_config_write_reference(FILE *out);

/* ---- constants -------------------------------------------------------- */

#define PV_CONFIG_DUMP_CAP 16384    /* bytes enough for any pv_config_dump */
#define PV_CONFIG_LINE_MAX 4096     /* longest accepted line of a file */
#define PV_CONFIG_FILE_MAX (1 << 20) /* largest accepted file, bytes */

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_CONFIG_H */
