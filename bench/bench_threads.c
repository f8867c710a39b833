/* bench_threads: match.threads on whole 2448 x 2048 wafer frames. For each
 * template size, matchers with 1 and N threads (default 2) search the same
 * frames in the same process; the table gives median milliseconds of the
 * pyramid (pv__pyramid_build), the top level's scan (pv__scan_top, pyramid
 * already built) and the whole pv_matcher_find (best match and up to 16),
 * and the ratio 1 thread / N threads, and checks that the answers are the
 * same bytes. The two matchers run alternately, call by call, so that a
 * machine busy with other work slows both alike.
 *
 * usage: bench_threads [--threads N] [--repeat R] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match_internal.h"
#include "probevision/scene.h"

#define W 2448
#define H 2048
#define FRAMES 3

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { PYR, SCAN, BEST, ALL, NSTEP };

/* Median ms of each step over rep rounds of every frame, for the matchers
 * with 1 thread (k = 0) and N (k = 1) alternately, so that both see the
 * same load of the machine. */
static void time_steps(pv_matcher *m1[2], pv_matcher *m16[2], pv_image *fr,
                       int rep, double ms[2][NSTEP], pv_match best[2][FRAMES],
                       pv_match all[2][16 * FRAMES], int nall[2][FRAMES]) {
  double *t[2];
  t[0] = malloc(sizeof(double) * (size_t)rep * FRAMES);
  t[1] = malloc(sizeof(double) * (size_t)rep * FRAMES);
  for (int s = 0; s < NSTEP; s++) {
    int n = 0;
    for (int r = 0; r < rep; r++)
      for (int f = 0; f < FRAMES; f++, n++)
        for (int k = 0; k < 2; k++) {
          if (s == SCAN) pv__pyramid_build(m1[k], &fr[f]); /* untimed */
          double t0 = now_ms();
          if (s == PYR) pv__pyramid_build(m1[k], &fr[f]);
          if (s == SCAN) pv__scan_top(m1[k], &fr[f]);
          if (s == BEST) pv_matcher_find(m1[k], &fr[f], &best[k][f], 1);
          if (s == ALL)
            nall[k][f] = pv_matcher_find(m16[k], &fr[f], all[k] + 16 * f, 16);
          t[k][n] = now_ms() - t0;
        }
    ms[0][s] = median(t[0], n);
    ms[1][s] = median(t[1], n);
  }
  free(t[0]);
  free(t[1]);
}

static pv_matcher *make(const pv_image *t, int threads, int max) {
  pv_match_params p;
  pv_match_params_default(&p);
  p.threads = threads;
  p.max_results = max;
  pv_matcher *m = NULL;
  if (pv_matcher_create(W, H, t, &p, &m) != PV_OK) {
    fprintf(stderr, "bench_threads: pv_matcher_create failed\n");
    exit(1);
  }
  return m;
}

int main(int argc, char **argv) {
  int threads = 2, rep = 7, json = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
      rep = atoi(argv[++i]);
    else if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else {
      fprintf(stderr, "usage: %s [--threads N] [--repeat R] [--json]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1 || threads > PV_MATCH_THREADS_MAX || rep < 1) return 2;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  pv_scene *s = NULL;
  if (pv_scene_create(&wp, &s) != PV_OK) return 1;
  pv_image fr[FRAMES], src = {W, H, W, malloc((size_t)W * H)};
  double mx, my;
  for (int f = 0; f < FRAMES; f++) {
    fr[f] = (pv_image){W, H, W, malloc((size_t)W * H)};
    pv_scene_die_mark(s, 11 + 7 * f, &mx, &my);
    pv_scene_render(s, mx + 37.0 * f, my - 23.0 * f, (uint64_t)f + 1,
                    PV_PIXFMT_MONO8, fr[f].data, W, H, W);
  }
  pv_scene_die_mark(s, 3, &mx, &my);
  pv_scene_render(s, mx, my, 99, PV_PIXFMT_MONO8, src.data, W, H, W);
  if (!json) {
    printf("match.threads on %d wafer frames %dx%d, median ms, 1 thread vs %d "
           "(ratio = 1 thread / %d)\n\n", FRAMES, W, H, threads, threads);
    printf("| template | top | pyramid 1 | pyramid %d | scan 1 | scan %d | find 1 "
           "| find %d | ratio | find all 1 | find all %d | ratio | same |\n",
           threads, threads, threads, threads);
    printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n");
  } else
    printf("[");
  static const int sides[] = {24, 32, 48, 64, 128, 192, 256};
  for (int i = 0; i < 7; i++) {
    int side = sides[i];
    pv_image t = {side, side, W,
                  src.data + (size_t)((H - side) / 2) * W + (W - side) / 2};
    double ms[2][NSTEP];
    pv_match best[2][FRAMES], all[2][16 * FRAMES];
    int nall[2][FRAMES];
    memset(best, 0, sizeof best);
    memset(all, 0, sizeof all);
    pv_matcher *m1[2] = {make(&t, 1, 1), make(&t, threads, 1)};
    pv_matcher *m16[2] = {make(&t, 1, 16), make(&t, threads, 16)};
    int top = m1[0]->top;
    time_steps(m1, m16, fr, rep, ms, best, all, nall);
    for (int k = 0; k < 2; k++) {
      pv_matcher_destroy(m1[k]);
      pv_matcher_destroy(m16[k]);
    }
    int same = memcmp(best[0], best[1], sizeof best[0]) == 0 &&
               memcmp(all[0], all[1], sizeof all[0]) == 0 &&
               memcmp(nall[0], nall[1], sizeof nall[0]) == 0;
    if (json)
      printf("%s{\"template\":%d,\"top\":%d,\"find_1_ms\":%.3f,\"find_n_ms\":%.3f,"
             "\"find_all_1_ms\":%.3f,\"find_all_n_ms\":%.3f,\"threads\":%d,"
             "\"same\":%s}", i ? "," : "", side, top, ms[0][BEST], ms[1][BEST],
             ms[0][ALL], ms[1][ALL], threads, same ? "true" : "false");
    else
      printf("| %d px | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | "
             "%.2f | %.2f | %.2f | %s |\n", side, top, ms[0][PYR], ms[1][PYR],
             ms[0][SCAN], ms[1][SCAN], ms[0][BEST], ms[1][BEST],
             ms[0][BEST] / ms[1][BEST], ms[0][ALL], ms[1][ALL],
             ms[0][ALL] / ms[1][ALL], same ? "yes" : "NO");
    fflush(stdout);
  }
  if (json) printf("]\n");
  for (int f = 0; f < FRAMES; f++) free(fr[f].data);
  free(src.data);
  pv_scene_destroy(s);
  return 0;
}
