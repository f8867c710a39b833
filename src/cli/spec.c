/* --camera and --stage specs. */
#include <string.h>

#include "spec.h"

/* "NAME" or "NAME:REST" for the listed name; -1 otherwise. */
static int split(const char *spec, const char *name, int rest_required, const char **driver,
                 const char **rest) {
  size_t n = strlen(name);
  if (strncmp(spec, name, n) != 0) return -1;
  if (spec[n] == '\0' && !rest_required) {
    *driver = name;
    *rest = NULL;
    return 0;
  }
  if (spec[n] != ':' || spec[n + 1] == '\0') return -1;
  *driver = name;
  *rest = spec + n + 1;
  return 0;
}

int pv_cli_camera_spec(const char *spec, const char **driver, const char **device) {
  if (strcmp(spec, "sim") == 0) {
    *driver = "sim";
    *device = NULL;
    return 0;
  }
  return split(spec, "aravis", 0, driver, device);
}

int pv_cli_stage_spec(const char *spec, const char **driver, const char **address) {
  if (strcmp(spec, "sim") == 0) {
    *driver = "sim";
    *address = NULL;
    return 0;
  }
  return split(spec, "sentio", 1, driver, address);
}
