/* probevision sim: the station simulator on the network. One process serves
 * a GigE Vision camera (probevision's own device, src/sim/gv_*.c, rendering
 * the simulated wafer at the simulated stage's true position at each
 * exposure start) and a SENTIO server for that stage on a TCP port (MPI's
 * remote commands, its wafer map over the configuration's die grid), with
 * optional faults, until SIGINT or SIGTERM.
 *
 * Signals: SIGINT and SIGTERM are blocked before any thread starts (so every
 * thread inherits the mask) and the main thread
 * waits for them with sigwait; it then stops the camera and the server. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "probevision/config.h"
#include "probevision/sim.h"
#include "station.h"

#define MAX_FAULTS 32

static const char usage[] =
    "usage: probevision sim [--address ADDR] [--stage-port PORT] [--serial NAME]\n"
    "                       [--fault SPEC]... [--config FILE] [--speed X]\n"
    "                       [--truth-log FILE]\n"
    "  --address ADDR     interface address of both servers (default 127.0.0.1); the\n"
    "                     camera answers GVCP on ADDR:3956, so one simulator per address\n"
    "  --stage-port PORT  TCP port of the SENTIO server (default 35555; 0: any free)\n"
    "  --serial NAME      the camera's serial number, at most 15 characters\n"
    "                     (default PV-SIM-01)\n"
    "  --fault SPEC       inject a fault (repeatable):\n"
    "                       nodata:P         a whole frame not sent, probability P\n"
    "                       stall:T          no frames for T s, once, 3 s after the first\n"
    "                       packet-loss:R    R of every 1000 GVSP packets lost\n"
    "                       disconnect:T     camera gone for T s, once, 4 s after the first\n"
    "                                        frame (or after the end of the stall)\n"
    "                       leader-delay:MS  each frame's leader leaves MS ms after its\n"
    "                                        exposure ended (a readout longer than any model)\n"
    "                       queue:N          the camera holds N frames (1..8) and sends them\n"
    "                                        together: arrival times say little of exposure\n"
    "                       stage-timeout:P  a move reply delayed past the client's timeout\n"
    "                       stage-error:P    a move answered with an error\n"
    "                       seed:N           seed of the fault choices (default sim.seed)\n"
    "                     P in [0,1], T in (0,3600] seconds, R in [0,1000], MS in (0,10000]\n"
    "  --config FILE      INI configuration: the [sim] wafer and [stage] keys apply\n"
    "                     (the [sim] die grid is also the SENTIO server's wafer map)\n"
    "  --speed X          time scale of the simulated stage (sim.speed)\n"
    "  --truth-log FILE   one CSV line per frame the camera sent (header first):\n"
    "                     block_id,exposure_start_ns,exposure_end_ns (monotonic clock),\n"
    "                     device_timestamp (1 GHz ticks),x_um,y_um (stage at exposure\n"
    "                     start),settled (1: stage settled during the whole exposure)\n"
    "Runs until SIGINT or SIGTERM, then stops both servers and exits 0.\n"
    "SENTIO server: MPI's remote commands as SENTIO 24.0 answers them (move_chuck_xy with\n"
    "references M H C Z U R, Z, map stepping, start_initialization, several clients).\n"
    "GigE Vision camera: available (probevision's own device, no Aravis needed)\n"
    "The camera: 2448 x 2048 sensor, Mono8 and 8-bit Bayer, AcquisitionMode Continuous,\n"
    "SingleFrame, MultiFrame, TriggerMode/TriggerSource=Software, ExposureTime, frame\n"
    "timestamps of the exposure start on a 1 GHz device clock (GevTimestampControlLatch).\n";

static int usage_error(const char *fmt, const char *arg) {
  return pv_cli_usage_error("sim", usage, fmt, arg);
}

typedef struct sim_options {
  const char *address, *serial, *truth_log;
  int port;
  pv_sim_faults faults;
  int seed_given;
  const char *fault_spec[MAX_FAULTS]; /* as given, for the start-up lines */
  int nfaults;
} sim_options;

/* Options into opt and the configuration into c; exit code or -1 to go on. */
static int parse(int argc, char **argv, sim_options *opt, pv_config *c) {
  static const struct option longopts[] = {
      {"address", required_argument, 0, 'a'}, {"stage-port", required_argument, 0, 'p'},
      {"serial", required_argument, 0, 's'},  {"fault", required_argument, 0, 'f'},
      {"config", required_argument, 0, 'c'},  {"speed", required_argument, 0, 'x'},
      {"truth-log", required_argument, 0, 't'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  memset(opt, 0, sizeof *opt);
  pv_cli_config cc = {.cmd = "sim"};
  opt->address = "127.0.0.1";
  opt->serial = "PV-SIM-01";
  opt->port = PV_SENTIO_DEFAULT_PORT;
  optind = 1;
  opterr = 0;
  int ch;
  pv_error err;
  while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    switch (ch) {
      case 'a': opt->address = optarg; break;
      case 's':
        if (optarg[0] == '\0' || strlen(optarg) > 15)
          return usage_error("--serial '%s': want 1 to 15 characters", optarg);
        opt->serial = optarg;
        break;
      case 'p': {
        char *end;
        errno = 0;
        long v = strtol(optarg, &end, 10);
        if (end == optarg || *end != '\0' || errno != 0 || v < 0 || v > 65535)
          return usage_error("--stage-port '%s': want a port number from 0 to 65535", optarg);
        opt->port = (int)v;
        break;
      }
      case 'f':
        if (pv_sim_fault_parse(optarg, &opt->faults, &err) < 0) {
          fprintf(stderr, "probevision sim: --fault: %s\n", err.msg);
          return PV_EXIT_USAGE;
        }
        if (strncmp(optarg, "seed:", 5) == 0) opt->seed_given = 1;
        if (opt->nfaults == MAX_FAULTS) return usage_error("too many --fault options (%s)", optarg);
        opt->fault_spec[opt->nfaults++] = optarg;
        break;
      case 'c': cc.path = optarg; break;
      case 't': opt->truth_log = optarg; break;
      case 'x':
        if (pv_cli_config_add(&cc, "--speed", "sim.speed", optarg) < 0) return PV_EXIT_USAGE;
        break;
      case 'h': fputs(usage, stdout); return PV_EXIT_OK;
      case ':': return usage_error("%s needs a value", argv[optind - 1]);
      default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
  int code = pv_cli_config_build(&cc, c);
  if (code >= 0) return code;
  if (!opt->seed_given) opt->faults.seed = (uint64_t)c->sim_seed;
  return -1;
}

int pv_cli_sim(int argc, char **argv) {
  static pv_config c;
  sim_options opt;
  int code = parse(argc, argv, &opt, &c);
  if (code >= 0) return code;
  pv_log_set_level(c.monitor_log_level);

  sigset_t stop_set;
  sigemptyset(&stop_set);
  sigaddset(&stop_set, SIGINT);
  sigaddset(&stop_set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_set, NULL);

  pv_station st;
  pv_sentio_server *srv = NULL;
  pv_gv_camera *cam = NULL;
  pv_error err = {{0}};
  code = PV_EXIT_HARDWARE;
  if (pv_station_open_sim_parts(&st, &c, &err) < 0) {
    pv_error("sim: %s", err.msg);
    goto out;
  }
  pv_sentio_server_params sp; /* the map: the configuration's simulated wafer */
  pv_sentio_server_params_default(&sp);
  sp.faults = opt.faults;
  pv_sim_wafer_params(&c, &sp.wafer);
  sp.init_ms *= c.sim_speed; /* start_initialization: 1.5 s at speed 1 */
  if (pv_sentio_server_start_params(st.stage, opt.address, opt.port, &sp, &srv, &err) < 0) {
    pv_error("sim: SENTIO server on %s:%d: %s", opt.address, opt.port, err.msg);
    goto out;
  }
  pv_gv_camera_options gopt = {.truth_log = opt.truth_log, .stage = st.stage};
  if (pv_gv_camera_start_opts(opt.address, opt.serial, st.scene, pv_sim_stage_truth(st.stage),
                              &opt.faults, &gopt, &cam, &err) < 0) {
    pv_error("sim: %s", err.msg);
    goto out;
  }
  pv_info("sim: serving camera '%s' on %s:3956 (GigE Vision) and SENTIO on %s:%d, %d fault(s)",
          opt.serial, opt.address, opt.address, pv_sentio_server_port(srv), opt.nfaults);
  for (int i = 0; i < opt.nfaults; i++) pv_info("sim: fault %s armed", opt.fault_spec[i]);
  int sig = 0;
  while (sigwait(&stop_set, &sig) != 0) {
  }
  pv_info("sim: %s received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
  uint64_t refused = pv_sim_stage_xy_in_contact(st.stage);
  pv_log(refused ? PV_LOG_WARN : PV_LOG_INFO,
         "sim: %llu XY moves refused in contact (the chuck's interlock)",
         (unsigned long long)refused);
  code = PV_EXIT_OK;
out:
  pv_gv_camera_stop(cam);
  pv_sentio_server_stop(srv);
  pv_station_close(&st);
  return code;
}
