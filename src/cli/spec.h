/* Driver specs of --camera and --stage, turned into configuration values:
 * camera "sim", "aravis" or "aravis:ID" (Aravis device id or IP address);
 * stage "sim" or "sentio:HOST:PORT". */
#ifndef PV_CLI_SPEC_H
#define PV_CLI_SPEC_H

/* Set *driver, and *device or *address (NULL when the spec names none; the
 * strings are static or point into spec). -1 when spec is not one of the
 * forms above. */
int pv_cli_camera_spec(const char *spec, const char **driver, const char **device);
int pv_cli_stage_spec(const char *spec, const char **driver, const char **address);

#endif
