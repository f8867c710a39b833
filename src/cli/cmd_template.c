/* probevision template: write the simulated die's alignment template (the
 * mark region of the default simulated wafer) as PNG or PGM. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "probevision/image.h"
#include "probevision/scene.h"

static const char usage[] =
    "usage: probevision template --out FILE [--seed N]\n"
    "  --out FILE   where to write the template; .png or .pgm\n"
    "  --seed N     wafer texture seed of the simulated station (default 1)\n"
    "Writes the 128x128 luma view of the simulated die's alignment mark, the\n"
    "template the simulated station is aligned with.\n";

static int usage_error(const char *fmt, const char *arg) {
  return pv_cli_usage_error("template", usage, fmt, arg);
}

int pv_cli_template(int argc, char **argv) {
  static const struct option longopts[] = {{"out", required_argument, 0, 'o'},
                                           {"seed", required_argument, 0, 's'},
                                           {"help", no_argument, 0, 'h'},
                                           {0, 0, 0, 0}};
  const char *out = NULL;
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  int c;
  optind = 0; /* glibc: full re-initialisation */
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
    switch (c) {
    case 'o':
      out = optarg;
      break;
    case 's': {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(optarg, &end, 10);
      if (end == optarg || *end != '\0' || errno != 0 || optarg[0] == '-')
        return usage_error("--seed wants a non-negative integer, not '%s'",
                           optarg);
      p.seed = v;
      break;
    }
    case 'h':
      fputs(usage, stdout);
      return PV_EXIT_OK;
    default:
      return usage_error("unknown or incomplete option '%s'",
                         argv[optind - 1]);
    }
  }
  if (optind < argc)
    return usage_error("unexpected argument '%s'", argv[optind]);
  if (out == NULL) return usage_error("%s", "--out FILE is required");
  size_t n = strlen(out);
  if (n < 5 || (strcasecmp(out + n - 4, ".png") != 0 &&
                strcasecmp(out + n - 4, ".pgm") != 0))
    return usage_error("--out '%s' must end in .png or .pgm", out);

  pv_scene *s = NULL;
  int rc = pv_scene_create(&p, &s);
  if (rc != PV_OK) {
    fprintf(stderr, "probevision template: cannot build the scene: %s\n",
            pv_strerror(rc));
    return PV_EXIT_FAILED;
  }
  pv_image t = {0};
  pv_error err = {{0}};
  rc = pv_scene_template(s, &t);
  if (rc == PV_OK) rc = pv_image_write(out, &t, &err);
  else snprintf(err.msg, sizeof err.msg, "template: %s", pv_strerror(rc));
  pv_image_free(&t);
  pv_scene_destroy(s);
  if (rc != PV_OK) {
    fprintf(stderr, "probevision template: %s\n", err.msg);
    return PV_EXIT_USAGE;
  }
  return PV_EXIT_OK;
}
