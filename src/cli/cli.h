/* The probevision program: one function per subcommand (cmd_*.c).
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns the process exit code below. */
#ifndef PV_CLI_H
#define PV_CLI_H

/* Exit codes, documented in the README. */
enum {
  PV_EXIT_OK = 0,       /* every point ok / command succeeded */
  PV_EXIT_FAILED = 1,   /* finished, but some points failed */
  PV_EXIT_USAGE = 2,    /* usage, configuration or input error */
  PV_EXIT_HARDWARE = 3  /* camera or stage failure */
};

/* Prints "probevision CMD: " + fmt (with arg) and the usage text to stderr;
 * returns PV_EXIT_USAGE. */
int pv_cli_usage_error(const char *cmd, const char *usage, const char *fmt, const char *arg);

int pv_cli_run(int argc, char **argv);
int pv_cli_match(int argc, char **argv);
int pv_cli_template(int argc, char **argv);
int pv_cli_grab(int argc, char **argv);
int pv_cli_sim(int argc, char **argv);
int pv_cli_report(int argc, char **argv);

#endif
