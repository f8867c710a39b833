/* Internal to src/camera: the parts of the mvs driver (Hikvision MVS SDK)
 * that unit tests check without a camera: the error table (mvs_errors.c),
 * the library loader (mvs_load.c) and the exposure-time estimate. The ABI
 * declarations are in mvs_abi.h. Every function here is thread-safe unless
 * stated otherwise.
 */
#ifndef PROBEVISION_CAMERA_MVS_INTERNAL_H
#define PROBEVISION_CAMERA_MVS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mvs_abi.h"
#include "probevision/camera.h"

/* ---- types ------------------------------------------------------------ */

/* The SDK's entry points, resolved from one dlopen'ed library. The
 * optional ones (SDK-version dependent) may be NULL. */
typedef struct pv__mvs_api {
  void *dl;                       /* dlopen handle (owned) */
  char path[1024];                /* what was loaded */
  pv_mvs_initialize_fn initialize;        /* optional */
  pv_mvs_finalize_fn finalize;            /* optional */
  pv_mvs_sdk_version_fn sdk_version;      /* optional */
  pv_mvs_enum_devices_fn enum_devices;
  pv_mvs_create_handle_fn create_handle;
  pv_mvs_handle_fn destroy_handle;
  pv_mvs_open_device_fn open_device;
  pv_mvs_handle_fn close_device;
  pv_mvs_handle_fn start_grabbing;
  pv_mvs_handle_fn stop_grabbing;
  pv_mvs_get_image_fn get_image_buffer;
  pv_mvs_free_image_fn free_image_buffer;
  pv_mvs_set_enum_fn set_enum;
  pv_mvs_set_enum_str_fn set_enum_string;
  pv_mvs_get_int_fn get_int;
  pv_mvs_set_int_fn set_int;
  pv_mvs_get_float_fn get_float;
  pv_mvs_set_float_fn set_float;
  pv_mvs_set_bool_fn set_bool;
  pv_mvs_command_fn command;
  pv_mvs_packet_size_fn optimal_packet_size;   /* optional */
  pv_mvs_match_info_fn match_info;             /* optional */
  pv_mvs_set_node_num_fn set_image_node_num;   /* optional */
  pv_mvs_exception_cb_fn register_exception;   /* optional */
} pv__mvs_api;

/* ---- functions -------------------------------------------------------- */

/* The error table. name: "MV_E_NODATA", or NULL for a code not in the
 * table ("MV_OK" for 0); text: the meaning in words; class: the pv_status
 * the driver gives the code (PV_EFATAL for unknown codes); format: "NAME
 * 0xHEX (meaning)" into buf, "unknown MVS error 0x8000ABCD (...)" for
 * unknown codes; returns buf. count / code_at: iterate over the table. */
const char *pv__mvs_error_name(int code);
const char *pv__mvs_error_text(int code);
int pv__mvs_error_class(int code);
const char *pv__mvs_error_format(int code, char *buf, size_t cap);
size_t pv__mvs_error_count(void);
int pv__mvs_error_code_at(size_t i);

/* Loads libMvCameraControl.so: `configured` (camera.mvs_library; may be
 * NULL or ""), then $PV_MVS_LIBRARY, then PV__MVS_INSTALL_PATHS, then the
 * plain soname (the loader's search path). Resolves every entry point; on
 * failure nothing stays loaded and err lists every place tried with the
 * loader's reason, and what to install. PV_OK, PV_ENOTFOUND (no library),
 * PV_EUNSUPPORTED (a library without a needed entry point). Calls
 * MV_CC_Initialize when the SDK has it. Not thread-safe for one api. */
int pv__mvs_load(const char *configured, pv__mvs_api *api, pv_error *err);
/* MV_CC_Finalize when present, dlclose, zero the table. Accepts a zeroed
 * table. */
void pv__mvs_unload(pv__mvs_api *api);

/* Exposure start on the monotonic clock of a continuous frame from the
 * SDK's host reception stamp host_ts_ms (wall clock, ms, truncated so it
 * errs early), moved to the monotonic clock with a pair of readings taken
 * together (wall_now_ns, mono_now_ns), minus the exposure and the
 * readout/transfer allowance. *certain is 0 (the result must not be used
 * for alignment) when there is no stamp, when it lies in the future of
 * wall_now (the clock stepped back since) or more than
 * PV__MVS_MAX_QUEUE_AGE_NS in the past. */
int64_t pv__mvs_exposure_estimate_ns(int64_t host_ts_ms, int64_t wall_now_ns,
                                     int64_t mono_now_ns, int64_t exposure_ns,
                                     int64_t latency_ns, int *certain);

/* ---- constants -------------------------------------------------------- */

#define PV__MVS_SONAME "libMvCameraControl.so"
/* The MVS installer's library folders (x86-64, then aarch64). */
#define PV__MVS_INSTALL_PATHS                                                   \
  { "/opt/MVS/lib/64/" PV__MVS_SONAME, "/opt/MVS/lib/aarch64/" PV__MVS_SONAME }
#define PV__MVS_ENV "PV_MVS_LIBRARY"
/* A reception stamp older than this is not believed (clock stepped). */
#define PV__MVS_MAX_QUEUE_AGE_NS (30 * PV_NS_PER_S)

#endif
