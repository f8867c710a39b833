/* Loading the MVS SDK at run time (dlopen), so that probevision builds and
 * runs without it: the places tried, in order, are camera.mvs_library,
 * $PV_MVS_LIBRARY, the MVS installer's folders, then the plain soname. A
 * failure names every place with the loader's reason and says what to
 * install. Also the host-clock exposure estimate of continuous frames
 * (pure arithmetic). See mvs_internal.h.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mvs_internal.h"

/* Appends "; WHERE: REASON" to the list of attempts. */
static void note(char *tried, size_t cap, const char *where, const char *why) {
  size_t n = strlen(tried);
  if (n + 1 >= cap) return;
  snprintf(tried + n, cap - n, "%s%s: %s", n ? "; " : "", where, why);
}

static void *try_open(const char *path, char *tried, size_t cap) {
  dlerror();
  void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL) {
    const char *e = dlerror();
    /* dlerror repeats the path first: keep only the reason */
    const char *colon = e ? strstr(e, ": ") : NULL;
    const char *why = colon ? colon + 2 : (e ? e : "cannot load");
    note(tried, cap, path, strstr(why, "No such file") ? "no such file" : why);
  }
  return dl;
}

#define REQUIRED(field, sym)                                                   \
  {offsetof(pv__mvs_api, field), sym, 1}
#define OPTIONAL(field, sym)                                                   \
  {offsetof(pv__mvs_api, field), sym, 0}

static const struct {
  size_t offset;
  const char *symbol;
  int required;
} symbols[] = {
    OPTIONAL(initialize, "MV_CC_Initialize"),
    OPTIONAL(finalize, "MV_CC_Finalize"),
    OPTIONAL(sdk_version, "MV_CC_GetSDKVersion"),
    REQUIRED(enum_devices, "MV_CC_EnumDevices"),
    REQUIRED(create_handle, "MV_CC_CreateHandle"),
    REQUIRED(destroy_handle, "MV_CC_DestroyHandle"),
    REQUIRED(open_device, "MV_CC_OpenDevice"),
    REQUIRED(close_device, "MV_CC_CloseDevice"),
    REQUIRED(start_grabbing, "MV_CC_StartGrabbing"),
    REQUIRED(stop_grabbing, "MV_CC_StopGrabbing"),
    REQUIRED(get_image_buffer, "MV_CC_GetImageBuffer"),
    REQUIRED(free_image_buffer, "MV_CC_FreeImageBuffer"),
    REQUIRED(set_enum, "MV_CC_SetEnumValue"),
    REQUIRED(set_enum_string, "MV_CC_SetEnumValueByString"),
    REQUIRED(get_int, "MV_CC_GetIntValueEx"),
    REQUIRED(set_int, "MV_CC_SetIntValueEx"),
    REQUIRED(get_float, "MV_CC_GetFloatValue"),
    REQUIRED(set_float, "MV_CC_SetFloatValue"),
    REQUIRED(set_bool, "MV_CC_SetBoolValue"),
    REQUIRED(command, "MV_CC_SetCommandValue"),
    OPTIONAL(optimal_packet_size, "MV_CC_GetOptimalPacketSize"),
    OPTIONAL(match_info, "MV_CC_GetAllMatchInfo"),
    OPTIONAL(set_image_node_num, "MV_CC_SetImageNodeNum"),
    OPTIONAL(register_exception, "MV_CC_RegisterExceptionCallBack"),
};

static int resolve(pv__mvs_api *api, pv_error *err) {
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
    void *f = dlsym(api->dl, symbols[i].symbol);
    if (f == NULL && symbols[i].required)
      return pv_error_set(err, PV_EUNSUPPORTED,
                          "mvs: %s has no entry point %s: not the MVS SDK's "
                          "libMvCameraControl.so, or too old a version (install MVS 3.x or "
                          "later from Hikvision/Hikrobot)",
                          api->path, symbols[i].symbol);
    /* the POSIX way from a data pointer to a function pointer */
    memcpy((char *)api + symbols[i].offset, &f, sizeof f);
  }
  return PV_OK;
}

int pv__mvs_load(const char *configured, pv__mvs_api *api, pv_error *err) {
  memset(api, 0, sizeof *api);
  static const char *const install[] = PV__MVS_INSTALL_PATHS;
  char tried[PV_ERROR_MSG_MAX];
  tried[0] = '\0';
  const char *env = getenv(PV__MVS_ENV);
  const char *candidates[8];
  int n = 0;
  if (configured && configured[0]) candidates[n++] = configured;
  else note(tried, sizeof tried, "camera.mvs_library", "not set");
  if (env && env[0]) candidates[n++] = env;
  else note(tried, sizeof tried, "$" PV__MVS_ENV, "not set");
  for (size_t i = 0; i < sizeof install / sizeof install[0]; i++) candidates[n++] = install[i];
  candidates[n++] = PV__MVS_SONAME;
  for (int i = 0; i < n && api->dl == NULL; i++) {
    api->dl = try_open(candidates[i], tried, sizeof tried);
    if (api->dl) snprintf(api->path, sizeof api->path, "%s", candidates[i]);
  }
  if (api->dl == NULL) {
    /* log lines are short: one line per place, then what to do */
    pv_error("mvs: cannot load " PV__MVS_SONAME " (the Hikvision MVS SDK); tried, in order:");
    for (const char *p = tried; *p;) {
      const char *end = strstr(p, "; ");
      int len = end ? (int)(end - p) : (int)strlen(p);
      pv_error("mvs:   %.*s", len, p);
      p += len + (end ? 2 : 0);
    }
    pv_error("mvs: install MVS (Machine Vision Software for Linux, from Hikrobot's site; it "
             "installs /opt/MVS), or set camera.mvs_library or $" PV__MVS_ENV);
    return pv_error_set(err, PV_ENOTFOUND,
                        "mvs: " PV__MVS_SONAME " (Hikvision MVS SDK) not found: install MVS "
                        "or set camera.mvs_library or $" PV__MVS_ENV "; tried %s",
                        tried);
  }
  int rc = resolve(api, err);
  if (rc == PV_OK && api->initialize) {
    int mv = api->initialize();
    if (mv != PV_MVS_OK) {
      char what[160];
      rc = pv_error_set(err, PV_EFATAL, "mvs: %s: MV_CC_Initialize failed: %s", api->path,
                        pv__mvs_error_format(mv, what, sizeof what));
      api->finalize = NULL; /* nothing to finalize */
    }
  }
  if (rc != PV_OK) pv__mvs_unload(api);
  return rc;
}

void pv__mvs_unload(pv__mvs_api *api) {
  if (api->dl == NULL) return;
  if (api->finalize) api->finalize();
  dlclose(api->dl);
  memset(api, 0, sizeof *api);
}

int64_t pv__mvs_exposure_estimate_ns(int64_t host_ts_ms, int64_t wall_now_ns,
                                     int64_t mono_now_ns, int64_t exposure_ns,
                                     int64_t latency_ns, int *certain) {
  int64_t host_ns = host_ts_ms * PV_NS_PER_MS;
  int64_t age = wall_now_ns - host_ns;
  *certain = host_ts_ms > 0 && age >= 0 && age <= PV__MVS_MAX_QUEUE_AGE_NS;
  if (!*certain) age = 0;
  return mono_now_ns - age - exposure_ns - latency_ns;
}
