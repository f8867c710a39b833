/* probevision: entry point and subcommand dispatch. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pv_version.h"
#include "probevision/config.h"
#include "probevision/core.h"

static const char usage[] =
    "usage: probevision COMMAND [OPTIONS]\n"
    "\n"
    "Vision-guided automated probing: step a probe station through device\n"
    "positions, align each by template matching, record every point.\n"
    "Every command defaults to the built-in simulated station.\n"
    "\n"
    "commands:\n"
    "  run        step through the targets, align each, record results\n"
    "  match      find a template in an image (PNG or PGM)\n"
    "  template   write the simulated die's alignment template\n"
    "  grab       acquisition check: grab N frames, print the camera counters\n"
    "  sim        serve a simulated station: GigE Vision camera and SENTIO stage\n"
    "  report     write a Markdown report (with SVG plot) of a run from the journal\n"
    "  help       this text; 'help config' lists every configuration key\n"
    "\n"
    "options: --help (also after a command), --version\n"
    "exit codes: 0 all points ok, 1 some points failed, 2 usage, configuration\n"
    "or input error, 3 camera or stage failure\n";

static int help(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "config") == 0) {
    pv_config_write_reference(stdout);
    return PV_EXIT_OK;
  }
  fputs(usage, stdout);
  return PV_EXIT_OK;
}

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    int (*fn)(int, char **);
  } commands[] = {
      {"run", pv_cli_run},
      {"match", pv_cli_match},
      {"template", pv_cli_template},
      {"grab", pv_cli_grab},
      {"sim", pv_cli_sim},
      {"report", pv_cli_report},
      {"help", help},
  };
  /* A closed pipe (`probevision run 2>&1 | head`) is an EPIPE to handle,
   * not a reason to die: the run goes on and records its points. Lines
   * still queued for the log are written at exit (an atexit handler of the
   * log writer, see pv_log_flush). */
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    fputs(usage, stderr);
    return PV_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) return help(1, argv);
  if (strcmp(argv[1], "--version") == 0) {
#ifdef PV_HAVE_ARAVIS
    printf("probevision %s\naravis: yes\n", PV_VERSION);
#else
    printf("probevision %s\naravis: no\n", PV_VERSION);
#endif
    return PV_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "probevision: unknown command '%s' (try 'probevision --help')\n", argv[1]);
  return PV_EXIT_USAGE;
}
