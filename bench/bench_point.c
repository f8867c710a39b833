/* bench_point: vision per point, the sequencer's own path against the
 * field system's, on the same frames in the same process.
 *
 * Frames: the demo station's simulated wafer (pv_wafer_params_default:
 * 10 x 8 dies, pitch 1000 x 900 um, 1.5 um per pixel) seen by a
 * 2448 x 2048 BayerBG8 camera, the chuck commanded to a die's mark and
 * landed a few to tens of um off (a fixed pseudo-random sequence).
 * (a) probevision: pv_vision_locate, the function the sequencer calls for
 *     every alignment frame (src/run/vision.c): the disc of the demo's
 *     automatic search radius (0.45 x 900 um = 405 um) around where the
 *     mark must be, only its pixels converted to luma
 *     (pv_matcher_find_frame), candidates, status. Its split: conversion
 *     (pv_matcher_find_frame with max_out 0 converts the same rectangle
 *     and searches nothing) and the rest (search, sub-pixel, decision).
 * (b) the field system: cvtColor(BayerBG2RGB), cvtColor(RGB2GRAY),
 *     matchTemplate(TM_CCOEFF_NORMED) over the whole frame, minMaxLoc,
 *     with OpenCV's default threading (only when built with OpenCV).
 * Per frame the median of --repeat runs of (a) and one run of (b) after a
 * warm-up; the table gives the medians over frames. agree: frames where
 * both found the same mark within 1 px: the field path's score map is
 * whole-frame, and with a dozen identical dies in view its global maximum
 * is usually another die's mark (counted and printed: "on the point's own
 * die"), so agreement compares its maximum within the sequencer's disc
 * (taken from the same map, untimed) with probevision's match.
 *
 * usage: bench_point [--frames N] [--repeat R] [--threads T (default: match.threads' default)] [--json]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/config.h"
#include "probevision/match.h"
#include "probevision/run.h"
#include "probevision/scene.h"
#ifdef PV_BENCH_OPENCV
#include "opencv_point.h"
#endif

#define W 2448
#define H 2048
#define FRAMES_MAX 200
#define REPEAT_MAX 64

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double ms_since(int64_t t0) { return (double)(pv_now_ns() - t0) / 1e6; }

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double uniform(double lo, double hi) { /* xorshift64 */
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return lo + (hi - lo) * (double)(rng >> 11) / 9007199254740992.0;
}

typedef struct opts {
  int frames, repeat, threads, json;
} opts;

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--frames N (1..%d)] [--repeat R (1..%d)] [--threads T] [--json]\n",
          argv0, FRAMES_MAX, REPEAT_MAX);
  exit(2);
}

static opts parse(int argc, char **argv) {
  pv_config def; /* the threads a run uses unless configured: match.threads' default */
  pv_config_default(&def);
  opts o = {25, 5, def.match_threads, 0};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) o.json = 1;
    else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) o.frames = atoi(argv[++i]);
    else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) o.repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) o.threads = atoi(argv[++i]);
    else usage(argv[0]);
  }
  if (o.frames < 1 || o.frames > FRAMES_MAX || o.repeat < 1 || o.repeat > REPEAT_MAX ||
      o.threads < 1 || o.threads > PV_MATCH_THREADS_MAX)
    usage(argv[0]);
  return o;
}

int main(int argc, char **argv) {
  opts o = parse(argc, argv);
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  pv_scene *scene = NULL;
  pv_image templ = {0}, luma = {0};
  pv_matcher *m = NULL;
  pv_match_params mp;
  pv_match_params_default(&mp);
  mp.threads = o.threads;
  uint8_t *raw = malloc((size_t)W * H);
  if (raw == NULL || pv_scene_create(&wp, &scene) != PV_OK ||
      pv_scene_template(scene, &templ) != PV_OK || pv_image_alloc(&luma, W, H) != PV_OK ||
      pv_matcher_create(W, H, &templ, &mp, &m) != PV_OK) {
    fprintf(stderr, "bench_point: cannot set up\n");
    return 1;
  }
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  sp.um_per_px = wp.um_per_px;
  double radius_um = 0.45 * fmin(wp.pitch_x_um, wp.pitch_y_um); /* the demo's auto radius */
  double rad_px = radius_um / sp.um_per_px, cx = (W - 1) / 2.0, cy = (H - 1) / 2.0;
  pv_match_region disc = {cx - rad_px, cy - rad_px, cx + rad_px, cy + rad_px, 1, 0};
  char cv_version[32] = "";
  int cv_threads = 0;
#ifdef PV_BENCH_OPENCV
  cv_threads = pv_point_opencv_init(cv_version, sizeof cv_version);
#endif
  static double t_pv[FRAMES_MAX], t_conv[FRAMES_MAX], t_rest[FRAMES_MAX], t_whole[FRAMES_MAX],
      t_cv[FRAMES_MAX];
  int agree = 0, own = 0, cv_own = 0, dies = pv_scene_die_count(scene);
  for (int f = 0; f < o.frames; f++) {
    double tx, ty;
    int die = (f * 7 + 3) % dies;
    pv_scene_die_mark(scene, die, &tx, &ty);
    double ex = uniform(-40, 40), ey = uniform(-40, 40); /* landing error, um */
    pv_scene_render(scene, tx + ex, ty + ey, (uint64_t)f + 1, PV_PIXFMT_BAYER_BG8, raw, W, H, W);
    pv_frame fr;
    memset(&fr, 0, sizeof fr);
    fr.width = W, fr.height = H, fr.stride = W, fr.format = PV_PIXFMT_BAYER_BG8;
    fr.data = raw, fr.size = fr.capacity = (size_t)W * H;
    double rep[REPEAT_MAX], conv[REPEAT_MAX], whole[REPEAT_MAX];
    pv_vision_result v;
    pv_vision_locate(&sp, m, &fr, radius_um, 0, 0, &v); /* warm-up */
    for (int r = 0; r < o.repeat; r++) {
      int64_t t0 = pv_now_ns();
      pv_vision_locate(&sp, m, &fr, radius_um, 0, 0, &v);
      rep[r] = ms_since(t0);
      t0 = pv_now_ns();
      pv_matcher_find_frame(m, raw, W, H, W, PV_PIXFMT_BAYER_BG8, &disc, NULL, 0);
      conv[r] = ms_since(t0);
      t0 = pv_now_ns();
      pv_frame_to_luma(raw, W, H, W, PV_PIXFMT_BAYER_BG8, &luma);
      whole[r] = ms_since(t0);
    }
    t_pv[f] = median(rep, o.repeat);
    t_conv[f] = median(conv, o.repeat);
    t_rest[f] = t_pv[f] - t_conv[f];
    t_whole[f] = median(whole, o.repeat);
    /* ok, and the offset is the true one: target - landed */
    own += v.status == PV_POINT_OK && hypot(v.dx_um + ex, v.dy_um + ey) < 1.0;
#ifdef PV_BENCH_OPENCV
    int u, vv, du, dv;
    double s, ds;
    if (f == 0) pv_point_opencv_run(raw, W, H, W, templ.data, templ.width, templ.height,
                                    templ.stride, &u, &vv, &s); /* warm-up */
    int64_t t0 = pv_now_ns();
    pv_point_opencv_run(raw, W, H, W, templ.data, templ.width, templ.height, templ.stride, &u,
                        &vv, &s);
    t_cv[f] = ms_since(t0);
    double hw = (templ.width - 1) / 2.0, hh = (templ.height - 1) / 2.0;
    cv_own += hypot(u + hw - (cx - ex / sp.um_per_px), vv + hh - (cy - ey / sp.um_per_px)) <= 1.5;
    pv_point_opencv_best_in(cx, cy, rad_px, &du, &dv, &ds);
    agree += fabs(du + hw - v.x_px) <= 1.0 && fabs(dv + hh - v.y_px) <= 1.0;
#endif
  }
  double pv_ms = median(t_pv, o.frames), conv_ms = median(t_conv, o.frames);
  double rest_ms = median(t_rest, o.frames), whole_ms = median(t_whole, o.frames);
  double cv_ms = cv_threads > 0 ? median(t_cv, o.frames) : NAN;
  if (o.json) {
    printf("{\"pv_ms\":%.3f,\"opencv_ms\":%.3f,\"ratio\":%.1f,\"agree\":%d,\"frames\":%d}\n",
           pv_ms, cv_threads > 0 ? cv_ms : 0.0, cv_threads > 0 ? cv_ms / pv_ms : 0.0,
           cv_threads > 0 ? agree : 0, o.frames);
    return 0;
  }
  printf("Vision per point, %dx%d BayerBG8, %d px template, %d frames (landed up to 40 um off "
         "in x and y), per-frame medians of %d runs; probevision: pv_vision_locate (the "
         "sequencer's step), search radius %.0f um, match.threads %d\n\n",
         W, H, templ.width, o.frames, o.repeat, radius_um, o.threads);
  if (cv_threads > 0)
    printf("| path | median ms | ratio | agree |\n|---|---:|---:|---:|\n"
           "| field system (OpenCV %s, %d threads: BayerBG2RGB, RGB2GRAY, matchTemplate, "
           "minMaxLoc) | %.2f | 1 | |\n| probevision (sequencer's per-frame vision) | %.2f | "
           "%.0fx | %d/%d |\n\n",
           cv_version, cv_threads, cv_ms, pv_ms, cv_ms / pv_ms, agree, o.frames);
  else
    printf("| path | median ms |\n|---|---:|\n| probevision (sequencer's per-frame vision) | "
           "%.2f |\n\n(built without OpenCV: no field-system column)\n\n", pv_ms);
  printf("probevision's split: luma of the disc's rectangle %.2f ms + search and decision "
         "%.2f ms (the whole frame's luma would be %.2f ms)\n", conv_ms, rest_ms, whole_ms);
  printf("probevision ok on its own die with the true offset (< 1 um): %d/%d\n", own, o.frames);
  if (cv_threads > 0)
    printf("agree: the field path's best within the same disc (same score map) and "
           "probevision's match within 1 px; its whole-frame maximum is on the point's own "
           "die in %d/%d frames\n", cv_own, o.frames);
  free(raw);
  pv_matcher_destroy(m);
  pv_image_free(&luma);
  pv_image_free(&templ);
  pv_scene_destroy(scene);
  return 0;
}
