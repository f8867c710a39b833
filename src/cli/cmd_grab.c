/* probevision grab: an acquisition check for any camera driver.
 *
 * Starts the camera worker, then waits frame after frame (each newer than
 * the last one leased) until the worker has seen N grab results (good,
 * timeout, incomplete, disconnected, fatal, dropped), and prints the
 * worker's counters. Every leased frame is checked: its size must match the
 * opened camera's (and, with --verify diagonal, its content must be the
 * Aravis fake camera's diagonal ramp, so a torn or partly stale image is
 * caught). The wait is bounded: an overall deadline of N grab timeouts plus
 * a margin, and a stall limit when the worker reports nothing for a long
 * time (reconnect attempts included); either ends the check with exit 3.
 *
 * In software trigger mode each wait is one request (pv_camera_frame_after):
 * the worker fires one trigger per frame wanted, again after a lost one,
 * and the wait lasts long enough for the escalation (retries) not to be
 * cut short, so no request is left to be fired for nobody. --fault injects
 * faults into the built-in simulated camera (the specs of `probevision sim
 * --fault`); the output names the mode in effect and every class counted.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "probevision/config.h"
#include "probevision/monitor.h"
#include "progress.h"
#include "station.h"

#define GRAB_MARGIN_NS (30 * PV_NS_PER_S)
#define GRAB_WAIT_MS 200

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static const char usage[] =
    "usage: probevision grab [--camera SPEC] [--frames N] [--config FILE] [--json]\n"
    "                        [--set SECTION.KEY=VALUE]... [--verify diagonal]\n"
    "                        [--fault SPEC]...\n"
    "  --camera SPEC     sim (built-in simulated camera), aravis (first GenICam camera\n"
    "                    found) or aravis:ID (Aravis device id or IP address), mvs or\n"
    "                    mvs:SERIAL|IP (Hikvision MVS SDK: first camera, or by serial\n"
    "                    number or IP address)\n"
    "  --frames N        grab results to wait for (default 100)\n"
    "  --config FILE     INI configuration ([camera] keys: size, format, buffers, ...)\n"
    "  --json            print the counters as one JSON object\n"
    "  --set K=V         configuration override\n"
    "  --verify diagonal check each frame's content against the diagonal ramp of\n"
    "                    Aravis's fake camera (arv-fake-gv-camera-0.8, Mono8)\n"
    "  --fault SPEC      inject a fault into the built-in simulated camera (--camera\n"
    "                    sim): nodata:P, stall:T, packet-loss:R, disconnect:T, seed:N\n"
    "                    (as probevision sim --fault); repeatable\n"
    "exit codes: 0 done, 1 no complete frame or a bad frame handed out, 2 usage,\n"
    "3 camera failure (cannot open, or no grab results before the deadline)\n";

typedef struct grab_options {
  long frames;
  int json, verify_diagonal;
  int nfaults;         /* --fault given */
  pv_sim_faults faults;
} grab_options;

static int usage_error(const char *fmt, const char *arg) {
  return pv_cli_usage_error("grab", usage, fmt, arg);
}

static int parse(int argc, char **argv, grab_options *opt, pv_config *c) {
  static const struct option longopts[] = {
      {"camera", required_argument, 0, 'C'}, {"frames", required_argument, 0, 'n'},
      {"config", required_argument, 0, 'c'}, {"json", no_argument, 0, 'j'},
      {"set", required_argument, 0, 'k'},    {"verify", required_argument, 0, 'v'},
      {"fault", required_argument, 0, 'F'},  {"help", no_argument, 0, 'h'},
      {0, 0, 0, 0}};
  pv_cli_config cc = {.cmd = "grab"};
  *opt = (grab_options){.frames = 100};
  optind = 1;
  opterr = 0;
  int ch;
  while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    char *end;
    switch (ch) {
      case 'C':
        if (pv_cli_config_add_camera(&cc, optarg) < 0) return PV_EXIT_USAGE;
        break;
      case 'n':
        opt->frames = strtol(optarg, &end, 10);
        if (end == optarg || *end != '\0' || opt->frames < 1 || opt->frames > 100000000)
          return usage_error("--frames: '%s' is not a number from 1 to 100000000", optarg);
        break;
      case 'c': cc.path = optarg; break;
      case 'j': opt->json = 1; break;
      case 'k':
        if (pv_cli_config_add_set(&cc, optarg) < 0) return PV_EXIT_USAGE;
        break;
      case 'v':
        if (strcmp(optarg, "diagonal") != 0)
          return usage_error("--verify: '%s' is not 'diagonal'", optarg);
        opt->verify_diagonal = 1;
        break;
      case 'F': {
        pv_error e;
        if (pv_sim_fault_parse(optarg, &opt->faults, &e) < 0)
          return usage_error("--fault: %s", e.msg);
        opt->nfaults++;
        break;
      }
      case 'h': fputs(usage, stdout); return PV_EXIT_OK;
      case ':': return usage_error("%s needs a value", argv[optind - 1]);
      default: return usage_error("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
  return pv_cli_config_build(&cc, c);
}

/* 1 when the frame is the Aravis fake camera's ramp at its default gain and
 * exposure: pixel (x, y) = (x + y + frame id) mod 255. Row 0 must count up
 * by one (mod 255) and every row must be the row above shifted by one, so a
 * stale or torn part breaks the check at its border. */
static int diagonal_ok(const pv_frame *f) {
  for (int x = 1; x < f->width; x++)
    if (f->data[x] != (f->data[x - 1] + 1) % 255) return 0;
  for (int y = 1; y < f->height; y++) {
    const uint8_t *row = f->data + (size_t)y * (size_t)f->stride;
    const uint8_t *above = row - f->stride;
    if (memcmp(row, above + 1, (size_t)f->width - 1) != 0) return 0;
  }
  return 1;
}

typedef struct grab_result {
  pv_camera_counters cc;
  uint64_t leased, bad_frames;
  double seconds;
  int deadline_hit;
} grab_result;

/* wait_ms: one wait for a frame (software mode: one request, see the file
 * comment). */
static void wait_frames(pv_camera *cam, const pv_camera_info *info, const grab_options *opt,
                        int timeout_ms, int wait_ms, int stall_ms, grab_result *r) {
  int64_t t0 = pv_now_ns(), last_exposure = INT64_MIN;
  int64_t deadline = t0 + (int64_t)opt->frames * timeout_ms * PV_NS_PER_MS + GRAB_MARGIN_NS;
  uint64_t seen = 0, next_log = (uint64_t)opt->frames / 10;
  int64_t last_progress = t0;
  pv_progress bar;
  pv_progress_begin(&bar, (int)opt->frames);
  for (;;) {
    pv_camera_get_counters(cam, &r->cc);
    int64_t now = pv_now_ns();
    if (r->cc.frames != seen) {
      seen = r->cc.frames;
      last_progress = now;
      uint64_t bad = r->cc.frames - r->cc.ok;
      pv_progress_update(&bar, seen < (uint64_t)opt->frames ? (int)seen : (int)opt->frames,
                         bad < seen ? (int)bad : (int)seen);
      if (seen >= next_log && seen < (uint64_t)opt->frames) {
        pv_info("grab: %llu/%ld frames seen", (unsigned long long)seen, opt->frames);
        next_log = seen + (uint64_t)opt->frames / 10;
      }
    }
    if (seen >= (uint64_t)opt->frames || stop_requested) break;
    if (now > deadline || now - last_progress > (int64_t)stall_ms * PV_NS_PER_MS) {
      r->deadline_hit = 1;
      break;
    }
    pv_lease lease;
    if (pv_camera_frame_after(cam, last_exposure, wait_ms, &lease) != PV_OK) continue;
    const pv_frame *f = lease.frame;
    r->leased++;
    last_exposure = f->exposure_ns;
    size_t need = (size_t)info->width * (size_t)info->height;
    int good = f->width == info->width && f->height == info->height && f->size == need &&
               f->format == info->format;
    if (good && opt->verify_diagonal) good = diagonal_ok(f);
    if (!good) {
      r->bad_frames++;
      pv_error("grab: frame %llu handed out bad: %dx%d, %zu bytes%s",
               (unsigned long long)f->seq, f->width, f->height, f->size,
               opt->verify_diagonal ? ", or content not the diagonal ramp" : "");
    }
    pv_lease_release(&lease);
  }
  pv_progress_end(&bar);
  r->seconds = (double)(pv_now_ns() - t0) / 1e9;
}

static void print_result(const grab_result *r, const pv_camera_info *info, long frames,
                         int json) {
  uint64_t rss = 0;
  pv_mem_usage(&rss, NULL, NULL);
  const pv_camera_counters *c = &r->cc;
  double fps = r->seconds > 0 ? (double)c->ok / r->seconds : 0;
  double rss_mb = (double)rss / (1024.0 * 1024.0);
  if (json) { /* '.' in numbers whatever LC_NUMERIC says */
    pv_c_locale_scope c_numbers = pv_c_locale_begin();
    printf("{\"frames\":%llu,\"complete\":%llu,\"incomplete\":%llu,\"timeouts\":%llu,"
           "\"fps\":%.2f,\"rss_mb\":%.2f,\"disconnected\":%llu,\"fatal\":%llu,"
           "\"dropped\":%llu,\"restarts\":%llu,\"reopens\":%llu,\"leased\":%llu,"
           "\"bad_frames\":%llu,\"requested\":%ld,\"seconds\":%.2f,\"width\":%d,"
           "\"height\":%d,\"stream_completed\":%llu,\"stream_failures\":%llu,"
           "\"stream_underruns\":%llu,\"missing_frames\":%llu,\"resent_packets\":%llu,"
           "\"acquisition\":\"%s\",\"triggers\":%llu,\"lost_triggers\":%llu,\"stale\":%llu,"
           "\"uncertain\":%llu}\n",
           (unsigned long long)c->frames, (unsigned long long)c->ok,
           (unsigned long long)c->incomplete, (unsigned long long)c->timeouts, fps, rss_mb,
           (unsigned long long)c->disconnected, (unsigned long long)c->fatal,
           (unsigned long long)c->dropped, (unsigned long long)c->restarts,
           (unsigned long long)c->reopens, (unsigned long long)r->leased,
           (unsigned long long)r->bad_frames, frames, r->seconds, info->width, info->height,
           (unsigned long long)c->stream.completed, (unsigned long long)c->stream.failures,
           (unsigned long long)c->stream.underruns, (unsigned long long)c->stream.missing_frames,
           (unsigned long long)c->stream.resent_packets, pv_acquisition_name(info->acquisition),
           (unsigned long long)c->triggers, (unsigned long long)c->lost_triggers,
           (unsigned long long)c->stale, (unsigned long long)c->uncertain);
    pv_c_locale_end(c_numbers);
    return;
  }
  printf("grab: %s, %dx%d %s, %s acquisition\n", info->model, info->width, info->height,
         pv_pixfmt_name(info->format), pv_acquisition_name(info->acquisition));
  printf("  frames %llu in %.1f s: complete %llu, incomplete %llu, timeouts %llu, "
         "disconnected %llu, fatal %llu, dropped %llu\n",
         (unsigned long long)c->frames, r->seconds, (unsigned long long)c->ok,
         (unsigned long long)c->incomplete, (unsigned long long)c->timeouts,
         (unsigned long long)c->disconnected, (unsigned long long)c->fatal,
         (unsigned long long)c->dropped);
  printf("  triggers %llu, lost triggers %llu, stale %llu, uncertain %llu\n",
         (unsigned long long)c->triggers, (unsigned long long)c->lost_triggers,
         (unsigned long long)c->stale, (unsigned long long)c->uncertain);
  printf("  %.1f complete frames/s, restarts %llu, reopens %llu, leased %llu (bad %llu), "
         "RSS %.1f MB\n", fps, (unsigned long long)c->restarts, (unsigned long long)c->reopens,
         (unsigned long long)r->leased, (unsigned long long)r->bad_frames, rss_mb);
  printf("  stream: completed %llu, failures %llu, underruns %llu, missing frames %llu, "
         "resent packets %llu\n", (unsigned long long)c->stream.completed,
         (unsigned long long)c->stream.failures, (unsigned long long)c->stream.underruns,
         (unsigned long long)c->stream.missing_frames,
         (unsigned long long)c->stream.resent_packets);
}

int pv_cli_grab(int argc, char **argv) {
  grab_options opt;
  static pv_config c;
  int code = parse(argc, argv, &opt, &c);
  if (code >= 0) return code;
  pv_log_set_level(c.monitor_log_level);
  if (opt.nfaults > 0 && strcmp(c.camera_driver, "sim") != 0)
    return usage_error("--fault applies to the built-in simulated camera (--camera sim), "
                       "not to camera.driver '%s'", c.camera_driver);
  if (opt.faults.stage_timeout > 0 || opt.faults.stage_error > 0)
    return usage_error("--fault %s: grab has no stage; its faults are nodata, stall, "
                       "packet-loss, disconnect and seed",
                       opt.faults.stage_timeout > 0 ? "stage-timeout" : "stage-error");
  pv_station st;
  pv_error err;
  if (pv_station_prepare(&st, &c, &err) < 0) {
    fprintf(stderr, "probevision grab: %s\n", err.msg);
    pv_station_close(&st);
    return PV_EXIT_USAGE;
  }
  st.faults = opt.faults;
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (pv_station_open_camera_only(&st, &c, &err) < 0) {
    pv_error("grab: camera %s: %s", c.camera_driver, err.msg);
    pv_station_close(&st);
    return PV_EXIT_HARDWARE;
  }
  /* Stall limit: the worker reports a result at least every grab timeout
   * while streaming; reconnecting can take a few backoff rounds. */
  int stall_ms = 2 * c.camera_timeout_ms * (c.camera_retries_before_restart + 1) +
                 4 * c.camera_reopen_backoff_max_ms + 20000;
  /* software mode: a wait covers the retries of lost triggers up to a
   * stream restart, so a request is not abandoned while being served */
  int wait_ms = st.info.acquisition == PV_ACQUISITION_SOFTWARE
                    ? c.camera_timeout_ms * (c.camera_retries_before_restart + 1) + GRAB_WAIT_MS
                    : GRAB_WAIT_MS;
  grab_result r = {0};
  wait_frames(st.camera, &st.info, &opt, c.camera_timeout_ms, wait_ms, stall_ms, &r);
  print_result(&r, &st.info, opt.frames, opt.json);
  if (r.deadline_hit)
    pv_error("grab: the camera delivered only %llu of %ld frames before the deadline",
             (unsigned long long)r.cc.frames, opt.frames);
  pv_station_close(&st);
  if (r.deadline_hit) return PV_EXIT_HARDWARE;
  if (stop_requested || r.bad_frames > 0 || r.cc.ok == 0) return PV_EXIT_FAILED;
  return PV_EXIT_OK;
}
