/* probevision run: step through the targets, align each by vision, record
 * every point in the journal.
 *
 * Order matters for "bad input loses nothing": every input (options,
 * configuration, targets, template) is read and checked before the journal
 * is opened, and the journal before any hardware moves. A resumed run must
 * match the recorded configuration and target list exactly.
 *
 * Targets come from a CSV file, the simulated wafer's dies, or the
 * station's own wafer map (`--targets sentio-map` or run.targets): then
 * the station steps the chuck die by die and the run follows its route.
 * probe.contact decides the probing cycle (contact around every
 * measurement, every XY move at separation); it is resolved against the
 * stage driver before the journal is touched, so "on" with a stage that
 * has no Z is refused as a configuration error.
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "probevision/config.h"
#include "probevision/monitor.h"
#include "probevision/run.h"
#include "progress.h"
#include "options.h"
#include "station.h"

typedef struct run_options {
  const char *config_path, *targets_path, *db_path;
  int resume;
  long long start_index; /* -1: from the first target */
  long points;           /* -1: all (built-in list: 50) */
  pv_sim_faults faults;  /* --fault, for the built-in simulated drivers */
  int map;               /* the targets are the station's wafer map */
  int contact;           /* probe.contact resolved: 1 on, 0 off */
  pv_map_start map_start; /* map runs: where to start (resume) */
} run_options;

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static const char usage[] =
    "usage: probevision run [--config FILE] [--targets FILE] [--db FILE] [--resume]\n"
    "                       [--start-index N] [--points N] [--speed X]\n"
    "                       [--camera SPEC] [--stage SPEC] [--set SECTION.KEY=VALUE]...\n"
    "                       [--fault SPEC]...\n"
    "  --config FILE     INI configuration ('probevision help config' lists the keys)\n"
    "  --targets FILE    CSV: index,x_um,y_um[,name] or index,x_mm,y_mm[,name];\n"
    "                    or sentio-map: step by the station's own wafer map;\n"
    "                    default: run.targets, else the simulated wafer's dies\n"
    "  --db FILE         results journal, SQLite (default results.db)\n"
    "  --resume          continue the last unfinished run of the journal\n"
    "  --start-index N   start at the target whose index is N\n"
    "  --points N        run N points (built-in list: default 50, revisits dies;\n"
    "                    sentio-map: at most N dies of the route)\n"
    "  --speed X         time scale of the simulated station (0: as fast as possible)\n"
    "  --camera SPEC     camera: sim (default), aravis (the first GenICam camera)\n"
    "                    or aravis:ID (Aravis device id or IP address), mvs or\n"
    "                    mvs:SERIAL|IP (Hikvision MVS SDK camera)\n"
    "  --stage SPEC      stage driver: sim, or sentio:HOST:PORT (a SENTIO station)\n"
    "  --fault SPEC      inject a fault into the built-in simulated camera/stage\n"
    "                    (repeatable): nodata:P, stall:T, packet-loss:R, disconnect:T,\n"
    "                    stage-timeout:P, stage-error:P, seed:N (P probability,\n"
    "                    T real seconds, R lost packets per thousand)\n";

static int usage_error(const char *fmt, const char *arg) {
  return pv_cli_usage_error("run", usage, fmt, arg);
}

static int parse_long(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

/* Reads options and configuration into opt and c; exit code or -1 to go on. */
static int parse(int argc, char **argv, run_options *opt, pv_config *c) {
  static const struct option longopts[] = {
      {"config", required_argument, 0, 'c'}, {"targets", required_argument, 0, 't'},
      {"db", required_argument, 0, 'd'},     {"resume", no_argument, 0, 'r'},
      {"start-index", required_argument, 0, 'i'}, {"points", required_argument, 0, 'n'},
      {"speed", required_argument, 0, 's'},  {"camera", required_argument, 0, 'C'},
      {"stage", required_argument, 0, 'S'},  {"set", required_argument, 0, 'k'},
      {"fault", required_argument, 0, 'F'}, {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  pv_cli_config cc = {.cmd = "run"};
  *opt = (run_options){.db_path = "results.db", .start_index = -1, .points = -1};
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    long long v;
    switch (ch) {
      case 'c': cc.path = optarg; break;
      case 't': opt->targets_path = optarg; break;
      case 'd': opt->db_path = optarg; break;
      case 'r': opt->resume = 1; break;
      case 'i':
        if (parse_long(optarg, 0, INT64_MAX, &v) < 0)
          return usage_error("--start-index: '%s' is not a target index", optarg);
        opt->start_index = v;
        break;
      case 'n':
        if (parse_long(optarg, 1, 100000000, &v) < 0)
          return usage_error("--points: '%s' is not a number from 1 to 100000000", optarg);
        opt->points = (long)v;
        break;
      case 's':
        if (pv_cli_config_add(&cc, "--speed", "sim.speed", optarg) < 0) return PV_EXIT_USAGE;
        break;
      case 'k':
        if (pv_cli_config_add_set(&cc, optarg) < 0) return PV_EXIT_USAGE;
        break;
      case 'C':
        if (pv_cli_config_add_camera(&cc, optarg) < 0) return PV_EXIT_USAGE;
        break;
      case 'S':
        if (pv_cli_config_add_stage(&cc, optarg) < 0) return PV_EXIT_USAGE;
        break;
      case 'F': {
        pv_error e;
        if (pv_sim_fault_parse(optarg, &opt->faults, &e) < 0)
          return usage_error("--fault: %s", e.msg);
        break;
      }
      case 'h': fputs(usage, stdout); return PV_EXIT_OK;
      case ':': return usage_error("%s needs a value", argv[optind - 1]);
      default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
  opt->config_path = cc.path;
  int rc = pv_cli_config_build(&cc, c);
  if (rc >= 0) return rc;
  if (opt->targets_path == NULL && c->run_targets[0] != '\0') opt->targets_path = c->run_targets;
  if (opt->targets_path != NULL && strcmp(opt->targets_path, PV_TARGETS_SENTIO_MAP) == 0) {
    opt->map = 1;
    if (opt->start_index >= 0)
      return usage_error("--start-index: %s runs follow the station's route from its first "
                         "die (use --resume to continue one)", PV_TARGETS_SENTIO_MAP);
  }
  return -1;
}

/* probe.contact and the targets' source against what the stage can do,
 * before anything is written: exit code, or -1 to go on. */
static int check_stage(const pv_config *c, run_options *opt) {
  int has_z = 0, has_map = 0;
  pv_error err;
  char where[PV_CONFIG_PATH_CAP + 16];
  if (pv_station_stage_caps(c, &has_z, &has_map, &err) < 0) {
    fprintf(stderr, "probevision run: %s\n", err.msg);
    return PV_EXIT_USAGE;
  }
  if (strcmp(c->probe_contact, "on") == 0 && !has_z) {
    pv_config_origin(c, "probe.contact", where, sizeof where);
    fprintf(stderr, "probevision run: %s: probe.contact = on, but the '%s' stage has no Z "
            "(contact and separation): set probe.contact = off for a vision-only run\n",
            where, c->stage_driver);
    return PV_EXIT_USAGE;
  }
  opt->contact = strcmp(c->probe_contact, "on") == 0 ||
                 (strcmp(c->probe_contact, "auto") == 0 && has_z);
  if (opt->map && !has_map) {
    fprintf(stderr, "probevision run: --targets %s: the '%s' stage cannot step a wafer map "
            "(use --stage sentio:HOST:PORT, or a targets file)\n", PV_TARGETS_SENTIO_MAP,
            c->stage_driver);
    return PV_EXIT_USAGE;
  }
  pv_info("probe: contact %s (probe.contact = %s, the '%s' stage %s Z)",
          opt->contact ? "on: contact for each measurement, XY moves at separation"
                       : "off: vision only, Z untouched",
          c->probe_contact, c->stage_driver, has_z ? "has" : "has no");
  return -1;
}

/* The simulated wafer's die grid: where the demo target list goes. */
static pv_die_grid demo_grid(const pv_scene *scene) {
  const pv_wafer_params *w = pv_scene_params(scene);
  return (pv_die_grid){w->cols, w->rows, w->pitch_x_um, w->pitch_y_um, w->mark_x_um,
                       w->mark_y_um};
}

/* Loads or generates the target list and applies --start-index/--points:
 * sets *first and *count (positions in the list). */
static int load_targets(const run_options *opt, const pv_station *st, pv_targets *t,
                        int *first, int *count) {
  pv_error err;
  *first = 0;
  if (opt->map) { /* the station's route: no list */
    *count = opt->points > 0 ? (int)opt->points : 0;
    return -1;
  }
  if (opt->targets_path) {
    if (pv_targets_load(opt->targets_path, t, &err) < 0) {
      fprintf(stderr, "probevision run: %s\n", err.msg);
      return PV_EXIT_USAGE;
    }
  } else {
    pv_die_grid g = demo_grid(st->scene);
    if (pv_targets_generate(&g, opt->points > 0 ? (int)opt->points : 50, t) < 0) {
      fprintf(stderr, "probevision run: cannot build the demo target list\n");
      return PV_EXIT_USAGE;
    }
  }
  *first = 0;
  if (opt->start_index >= 0) {
    while (*first < t->count && t->items[*first].index != opt->start_index) (*first)++;
    if (*first == t->count) {
      fprintf(stderr, "probevision run: --start-index %lld: no target has that index\n",
              opt->start_index);
      return PV_EXIT_USAGE;
    }
  }
  *count = t->count - *first;
  if (opt->points > 0 && opt->points < *count) *count = (int)opt->points;
  return -1;
}

/* A map run resumes after its last recorded die (none: from the first). */
static int resume_map(run_options *opt, pv_journal *j, int64_t run_id) {
  pv_error err;
  pv_map_die die;
  int has_die = 0;
  int64_t idx = 0;
  int rc = pv_journal_last_point(j, run_id, &idx, &has_die, &die, &err);
  if (rc == PV_ENOTFOUND) {
    pv_info("resuming run %lld of %s: no die recorded yet, from the route's first",
            (long long)run_id, opt->db_path);
    return -1;
  }
  if (rc < 0) {
    fprintf(stderr, "probevision run: %s\n", err.msg);
    return PV_EXIT_USAGE;
  }
  if (!has_die) {
    fprintf(stderr, "probevision run: --resume: run %lld's last point (idx %lld) has no die "
            "(die_col, die_row): not a %s run\n", (long long)run_id, (long long)idx,
            PV_TARGETS_SENTIO_MAP);
    return PV_EXIT_USAGE;
  }
  opt->map_start = (pv_map_start){1, idx, die.col, die.row, die.site};
  pv_info("resuming run %lld of %s: %lld points recorded, the last at die col %d row %d "
          "site %d", (long long)run_id, opt->db_path, (long long)idx + 1, die.col, die.row,
          die.site);
  return -1;
}

/* Opens the journal and starts or resumes the run. recorded[] flags the
 * positions already done. */
static int open_run(run_options *opt, const pv_config *c, const pv_targets *t,
                    pv_journal **j, int64_t *run_id, unsigned char *recorded) {
  pv_error err;
  char chash[PV_HASH_HEX], thash[PV_HASH_HEX];
  pv_hash_hex(pv_config_hash(c), chash);
  pv_hash_hex(opt->map ? pv_targets_map_hash() : pv_targets_hash(t), thash);
  if (pv_journal_open(opt->db_path, j, &err) < 0) {
    fprintf(stderr, "probevision run: %s\n", err.msg);
    return PV_EXIT_USAGE;
  }
  if (opt->resume) {
    char rc_hash[PV_HASH_HEX], rt_hash[PV_HASH_HEX];
    int rc = pv_journal_last_unfinished(*j, run_id, rc_hash, rt_hash, &err);
    if (rc == PV_ENOTFOUND) {
      fprintf(stderr, "probevision run: --resume: %s holds no unfinished run\n", opt->db_path);
      return PV_EXIT_USAGE;
    }
    if (rc < 0) goto db_error;
    if (strcmp(rc_hash, chash) != 0) {
      fprintf(stderr,
              "probevision run: --resume: the configuration differs from the one run %lld "
              "was recorded with (config hash %s, now %s); refusing to mix results\n",
              (long long)*run_id, rc_hash, chash);
      return PV_EXIT_USAGE;
    }
    if (strcmp(rt_hash, thash) != 0) {
      fprintf(stderr,
              "probevision run: --resume: the target list differs from the one run %lld "
              "was recorded with (targets hash %s, now %s); refusing to mix results\n",
              (long long)*run_id, rt_hash, thash);
      return PV_EXIT_USAGE;
    }
    if (opt->map) return resume_map(opt, *j, *run_id);
    rc = pv_journal_recorded(*j, *run_id, t, recorded, &err);
    if (rc < 0) goto db_error;
    pv_info("resuming run %lld of %s: %d of %d targets already recorded", (long long)*run_id,
            opt->db_path, rc, t->count);
    return -1;
  }
  static char dump[PV_CONFIG_DUMP_CAP];
  pv_config_dump(c, 0, dump, sizeof dump);
  if (pv_journal_begin_run(*j, chash, thash, dump, run_id, &err) < 0) goto db_error;
  if (t->count > 0) memset(recorded, 0, (size_t)t->count);
  return -1;
db_error:
  fprintf(stderr, "probevision run: %s\n", err.msg);
  return PV_EXIT_USAGE;
}

typedef struct run_state {
  pv_camera *camera;
  pv_progress bar;
  int done, failed, total;
} run_state;

/* Monitor thread: counters for the periodic line. */
static void fill_sample(void *ctx, pv_monitor_sample *s) {
  run_state *rs = ctx;
  pv_camera_counters cc;
  pv_camera_get_counters(rs->camera, &cc);
  s->frames = cc.frames;
  s->dropped = cc.dropped;
  s->camera_errors = cc.timeouts + cc.incomplete + cc.disconnected + cc.fatal;
  s->fps = cc.fps;
  s->point = __atomic_load_n(&rs->done, __ATOMIC_RELAXED);
  s->points = rs->total;
}

static void on_point(void *ctx, int done, int total, const pv_point_result *last) {
  run_state *rs = ctx;
  (void)total;
  if (last->status != PV_POINT_OK) rs->failed++;
  __atomic_store_n(&rs->done, done, __ATOMIC_RELAXED);
  pv_progress_update(&rs->bar, done, rs->failed);
}

static void print_summary(const pv_run_summary *s, int64_t run_id, const char *db) {
  printf("run %lld: %d points in %.1f s, %d frames matched\n", (long long)run_id, s->done,
         s->elapsed_s, s->frames);
  printf("  status:");
  for (int i = 0; i < PV_POINT_STATUS_COUNT; i++)
    if (s->counts[i] > 0) printf(" %s %d", pv_point_status_name((pv_point_status)i), s->counts[i]);
  printf("\n");
  if (!isnan(s->residual_max_um))
    printf("  residual: mean %.2f um, max %.2f um\n", s->residual_mean_um, s->residual_max_um);
  if (!isnan(s->truth_max_um))
    printf("  true position error (simulated stage): mean %.2f um, max %.2f um\n",
           s->truth_mean_um, s->truth_max_um);
  if (!isnan(s->search_radius_um)) printf("  search radius: %.1f um\n", s->search_radius_um);
  printf("  results: %s\n", db);
}

/* The probing cycle and the route, after the summary; st: the stage, for
 * the simulated stage's interlock count. */
static void print_cycle(const pv_run_summary *s, const run_options *opt, pv_stage *st) {
  printf("  probe contact: %s\n", opt->contact ? "on (contact for each measurement, XY "
         "moves at separation)" : "off (vision only)");
  if (pv_stage_has_z(st) && strcmp(pv_stage_driver_name(st), "sim") == 0)
    printf("  XY moves refused in contact (simulated stage): %llu\n",
           (unsigned long long)pv_sim_stage_xy_in_contact(st));
  if (opt->map)
    printf("  wafer map: %s\n", s->end_of_route ? "route finished (end of route)"
                                                 : "route not finished");
}

static void sequencer_params(const pv_config *c, pv_sequencer_params *p) {
  pv_sequencer_params_default(p);
  p->tolerance_um = c->align_tolerance_um;
  p->max_iterations = c->align_max_iterations;
  p->match_every = c->align_match_every;
  p->min_score = c->align_min_score;
  p->search_radius_um = c->align_search_radius_um;
  p->ambiguity_margin = c->align_ambiguity_margin;
  if (strcmp(c->camera_driver, "sim") == 0) /* the built-in wafer's dies */
    p->pitch_hint_um = fmin(c->sim_pitch_x_um, c->sim_pitch_y_um);
  p->frame_timeout_ms = c->align_frame_timeout_ms;
  p->frame_retries = c->align_frame_retries;
  p->um_per_px = c->camera_um_per_px;
  p->flip_x = c->camera_flip_x;
  p->flip_y = c->camera_flip_y;
  p->swap_xy = c->camera_swap_xy;
  p->stage_retries = c->stage_retries;
  _Static_assert(sizeof p->measure_command == sizeof c->measure_command,
                 "measure.command capacities differ");
  memcpy(p->measure_command, c->measure_command, sizeof p->measure_command);
  p->measure_timeout_s = c->measure_timeout_s;
}

int pv_cli_run(int argc, char **argv) {
  run_options opt;
  static pv_config c;
  int code = parse(argc, argv, &opt, &c);
  if (code >= 0) return code;
  pv_log_set_level(c.monitor_log_level);

  pv_station st;
  pv_targets targets = {0};
  pv_journal *journal = NULL;
  pv_sequencer *seq = NULL;
  pv_monitor *mon = NULL;
  unsigned char *recorded = NULL;
  int64_t run_id = 0;
  pv_error err;
  int first = 0, count = 0;

  if (pv_station_prepare(&st, &c, &err) < 0) {
    fprintf(stderr, "probevision run: %s\n", err.msg);
    code = PV_EXIT_USAGE;
    goto out;
  }
  if ((code = check_stage(&c, &opt)) >= 0) goto out;
  if ((code = load_targets(&opt, &st, &targets, &first, &count)) >= 0) goto out;
  recorded = calloc((size_t)(targets.count > 0 ? targets.count : 1), 1);
  if (recorded == NULL) {
    code = PV_EXIT_HARDWARE;
    goto out;
  }
  if ((code = open_run(&opt, &c, &targets, &journal, &run_id, recorded)) >= 0) goto out;

  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  if (opt.map)
    pv_info("run %lld: the station's wafer map (%s; %s), camera %s, stage %s, journal %s",
            (long long)run_id, PV_TARGETS_SENTIO_MAP,
            count > 0 ? "a limited number of dies (--points)" : "number of dies not known "
            "beforehand", c.camera_driver, c.stage_driver, opt.db_path);
  else
    pv_info("run %lld: %d targets from %s, camera %s, stage %s, journal %s", (long long)run_id,
            count, opt.targets_path ? opt.targets_path : "the simulated wafer", c.camera_driver,
            c.stage_driver, opt.db_path);
  st.faults = opt.faults;
  if (pv_station_open(&st, &c, &err) < 0) {
    pv_error("hardware: %s", err.msg);
    pv_incident_write_report(c.monitor_incident_dir, NULL, "hardware", err.msg, pv_now_ns(),
                             pv_wall_ns(), NULL, 0, NULL);
    code = PV_EXIT_HARDWARE;
    goto out;
  }
  pv_sequencer_params sp;
  sequencer_params(&c, &sp);
  sp.contact = opt.contact;
  pv_sequencer_io io = {.cam = st.camera, .stage = st.stage, .matcher = st.matcher,
                        .journal = journal, .run_id = run_id};
  if (pv_sequencer_create(&sp, &io, st.info.width, st.info.height, &seq) < 0) {
    pv_error("cannot allocate the sequencer for %dx%d frames", st.info.width, st.info.height);
    code = PV_EXIT_HARDWARE;
    goto out;
  }
  run_state rs = {.camera = st.camera, .total = count};
  if (pv_monitor_start(c.monitor_interval_s, fill_sample, &rs, &mon) < 0)
    pv_warn("monitor thread not started");
  else if (pv_monitor_enable_incidents(mon, c.monitor_incident_dir) < 0)
    pv_warn("incident reports disabled");
  pv_thread_set_name("stepper");
  pv_progress_begin(&rs.bar, count);
  pv_run_summary sum;
  int rc = opt.map ? pv_sequencer_run_map(seq, &opt.map_start, count, on_point, &rs,
                                           &stop_requested, &sum)
                   : pv_sequencer_run(seq, &targets, recorded, first, count, on_point, &rs,
                                      &stop_requested, &sum);
  pv_progress_end(&rs.bar);
  if (rc == PV_EINVAL && sum.error[0] != '\0') {
    pv_monitor_stop(mon);
    mon = NULL;
    pv_log_flush();
    fprintf(stderr, "probevision run: configuration cannot align: %s\n", sum.error);
    if (pv_journal_finish_run(journal, run_id, PV_RUN_ABORTED, &err) < 0) pv_error("%s", err.msg);
    code = PV_EXIT_USAGE;
    goto out;
  }
  if (rc == PV_ESTAGE || rc == PV_EUNSUPPORTED) { /* incident raised by the sequencer */
    pv_monitor_stop(mon);
    mon = NULL;
    pv_error("run %lld stopped after %d points: %s; continue it with --resume once the "
             "stage is fixed", (long long)run_id, sum.done, sum.error);
    print_summary(&sum, run_id, opt.db_path);
    print_cycle(&sum, &opt, st.stage);
    code = PV_EXIT_HARDWARE;
    goto out;
  }
  if (rc < 0) /* queued now, written by pv_monitor_stop below */
    pv_incident_raise("journal-write", "run %lld stopped after %d points: %s: %s",
                      (long long)run_id, sum.done, opt.db_path, pv_strerror(rc));
  pv_monitor_stop(mon);
  mon = NULL;
  if (rc < 0) {
    pv_error("run %lld stopped: journal write failed: %s", (long long)run_id, pv_strerror(rc));
    code = PV_EXIT_HARDWARE;
    goto out;
  }
  int failed = sum.done - sum.counts[PV_POINT_OK];
  if (!sum.stopped) {
    if (pv_journal_finish_run(journal, run_id, PV_RUN_FINISHED, &err) < 0) {
      pv_error("%s", err.msg);
      pv_incident_write_report(c.monitor_incident_dir, NULL, "journal-write", err.msg,
                               pv_now_ns(), pv_wall_ns(), NULL, 0, NULL);
      code = PV_EXIT_HARDWARE;
      goto out;
    }
  } else {
    pv_warn("run %lld interrupted after %d points; continue it with --resume", (long long)run_id,
            sum.done);
  }
  print_summary(&sum, run_id, opt.db_path);
  print_cycle(&sum, &opt, st.stage);
  code = failed > 0 ? PV_EXIT_FAILED : PV_EXIT_OK;
  if (sum.stopped) code = PV_EXIT_FAILED;
out:
  pv_monitor_stop(mon);
  pv_sequencer_destroy(seq);
  pv_station_close(&st);
  pv_journal_close(journal);
  pv_targets_free(&targets);
  free(recorded);
  return code;
}
