/* The configuration of a subcommand, from its command line: the defaults,
 * then --config FILE, then the overrides in the order given, whatever their
 * place on the line. Overrides come from --set SECTION.KEY=VALUE and from
 * shorthand options: --speed X (sim.speed), --camera SPEC, --stage SPEC.
 * Driver specs: camera "sim", "aravis" or "aravis:ID" (Aravis device id or
 * IP address); stage "sim" or "sentio:HOST:PORT". */
#ifndef PV_CLI_OPTIONS_H
#define PV_CLI_OPTIONS_H

#include "probevision/config.h"

#define PV_CLI_OVERRIDES_MAX 64

typedef struct pv_cli_config {
  const char *cmd;  /* subcommand, for messages: "probevision CMD: ..." */
  const char *path; /* --config FILE, or NULL */
  int n;
  const char *opt[PV_CLI_OVERRIDES_MAX]; /* the option that gave it */
  const char *key[PV_CLI_OVERRIDES_MAX];
  const char *val[PV_CLI_OVERRIDES_MAX]; /* point into argv */
  char keybuf[PV_CLI_OVERRIDES_MAX][64];
} pv_cli_config;

/* Each adds overrides for one option; on bad input or too many overrides
 * it prints "probevision CMD: ..." and returns -1. */
int pv_cli_config_add(pv_cli_config *cc, const char *opt, const char *key, const char *val);
int pv_cli_config_add_set(pv_cli_config *cc, const char *assignment);
int pv_cli_config_add_camera(pv_cli_config *cc, const char *spec);
int pv_cli_config_add_stage(pv_cli_config *cc, const char *spec);

/* Builds *c. On error prints "probevision CMD: FILE:LINE: ..." or
 * "probevision CMD: --OPT 'VALUE': ..." and returns PV_EXIT_USAGE; -1 on
 * success (the convention of the subcommands' parse functions). */
int pv_cli_config_build(const pv_cli_config *cc, pv_config *c);

#endif
