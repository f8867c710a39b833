/* Command-line configuration shared by the subcommands (see options.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"

static int fail(const pv_cli_config *cc, const char *what, const char *arg) {
  fprintf(stderr, "probevision %s: ", cc->cmd);
  fprintf(stderr, what, arg);
  fputc('\n', stderr);
  return -1;
}

int pv_cli_config_add(pv_cli_config *cc, const char *opt, const char *key, const char *val) {
  if (cc->n == PV_CLI_OVERRIDES_MAX) return fail(cc, "too many overrides (at %s)", opt);
  cc->opt[cc->n] = opt;
  cc->key[cc->n] = key;
  cc->val[cc->n] = val;
  cc->n++;
  return 0;
}

int pv_cli_config_add_set(pv_cli_config *cc, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  if (eq == NULL || eq == assignment || (size_t)(eq - assignment) >= sizeof cc->keybuf[0])
    return fail(cc, "--set: '%s' is not SECTION.KEY=VALUE", assignment);
  if (cc->n == PV_CLI_OVERRIDES_MAX) return fail(cc, "too many overrides (at %s)", assignment);
  char *key = cc->keybuf[cc->n];
  snprintf(key, sizeof cc->keybuf[0], "%.*s", (int)(eq - assignment), assignment);
  return pv_cli_config_add(cc, "--set", key, eq + 1);
}

/* "NAME", or "NAME:REST" with a non-empty REST: the driver key gets NAME and
 * where_key gets REST. */
static int add_spec(pv_cli_config *cc, const char *opt, const char *spec, const char *name,
                    int rest_required, const char *driver_key, const char *where_key) {
  size_t n = strlen(name);
  if (strncmp(spec, name, n) != 0) return 1;
  if (spec[n] == '\0' && !rest_required) return pv_cli_config_add(cc, opt, driver_key, name);
  if (spec[n] != ':' || spec[n + 1] == '\0') return 1;
  if (pv_cli_config_add(cc, opt, driver_key, name) < 0) return -1;
  return pv_cli_config_add(cc, opt, where_key, spec + n + 1);
}

int pv_cli_config_add_camera(pv_cli_config *cc, const char *spec) {
  int rc = strcmp(spec, "sim") == 0 ? pv_cli_config_add(cc, "--camera", "camera.driver", "sim")
                                    : add_spec(cc, "--camera", spec, "aravis", 0,
                                               "camera.driver", "camera.device");
  if (rc > 0) rc = add_spec(cc, "--camera", spec, "mvs", 0, "camera.driver", "camera.device");
  return rc > 0 ? fail(cc, "--camera: '%s' is not sim, aravis, aravis:ID, mvs or "
                       "mvs:SERIAL|IP", spec) : rc;
}

int pv_cli_config_add_stage(pv_cli_config *cc, const char *spec) {
  int rc = strcmp(spec, "sim") == 0 ? pv_cli_config_add(cc, "--stage", "stage.driver", "sim")
                                    : add_spec(cc, "--stage", spec, "sentio", 1,
                                               "stage.driver", "stage.address");
  return rc > 0 ? fail(cc, "--stage: '%s' is not sim or sentio:HOST:PORT", spec) : rc;
}

int pv_cli_config_build(const pv_cli_config *cc, pv_config *c) {
  pv_error err;
  pv_config_default(c);
  if (cc->path && pv_config_load(c, cc->path, &err) < 0) {
    fprintf(stderr, "probevision %s: %s\n", cc->cmd, err.msg);
    return PV_EXIT_USAGE;
  }
  for (int i = 0; i < cc->n; i++) {
    if (pv_config_set(c, cc->key[i], cc->val[i], &err) < 0) {
      fprintf(stderr, "probevision %s: %s '%s=%s': %s\n", cc->cmd, cc->opt[i], cc->key[i],
              cc->val[i], err.msg);
      return PV_EXIT_USAGE;
    }
  }
  if (pv_config_check(c, &err) < 0) {
    fprintf(stderr, "probevision %s: %s\n", cc->cmd, err.msg);
    return PV_EXIT_USAGE;
  }
  return -1;
}

int pv_cli_usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg) {
  fprintf(stderr, "probevision %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n%s", usage);
  return PV_EXIT_USAGE;
}
