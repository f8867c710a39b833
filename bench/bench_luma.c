/* bench_luma: Bayer (and Mono8) -> luma against OpenCV.
 *
 * On simulated wafer frames (the scene module rendering the default wafer
 * in each format) of 1224 x 1024, 2448 x 2048 and 5472 x 3648, times
 * pv_frame_to_luma with each kernel (scalar, SSE2, AVX2, AVX-512BW: forced through the
 * internal hook), pv_frame_to_luma_bin2 (best kernel), and, when OpenCV is
 * built in, cv::cvtColor(COLOR_Bayer..2GRAY) on the same buffer with one
 * thread and with OpenCV's default thread count. Every method runs once per
 * round, in turn, so all see the same machine state (OpenCV's default
 * threading is timed in a second phase: changing its thread count per call
 * would rebuild its pool inside the timings); the table gives the median
 * over the rounds and the ratios OpenCV (1 thread) / ours (full
 * size, and binned). Mono8 rows time OpenCV's BayerBG2GRAY on the Mono8
 * buffer (the reference cost of a conversion). "differ" counts interior
 * pixels (1 px border excluded) where our luma and OpenCV's differ by more
 * than 1, and "max diff" the largest difference there: informative only,
 * OpenCV's bilinear rounds its own way.
 *
 * usage: bench_luma [--repeat R] [--size WxH] [--json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayer_internal.h"
#include "probevision/image.h"
#include "probevision/scene.h"

#ifdef PV_BENCH_OPENCV
int pv_bench_cv_luma_init(char *version, int n);
void pv_bench_cv_threads(int n);
void pv_bench_cv_luma(const uint8_t *src, int w, int h, int stride, int order,
                      uint8_t *dst, int dstride);
#endif

enum { M_SCALAR, M_SSE2, M_AVX2, M_AVX512, M_BIN2, M_CV1, M_CVN, M_COUNT };
static const char *method_names[M_COUNT] = {"scalar", "sse2", "avx2", "avx512",
                                            "bin2", "opencv1", "opencvn"};

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], cmp_d);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int have_cv = 0, cv_threads = 1;

/* One timed call of method m; returns ms, or -1 when m is not available. */
static double run_method(int m, const uint8_t *raw, int w, int h, pv_pixfmt fmt,
                         pv_image *out, pv_image *bin) {
  int order = fmt == PV_PIXFMT_MONO8 ? 0 : (int)fmt - (int)PV_PIXFMT_BAYER_BG8;
  int64_t t0;
  switch (m) {
  case M_SCALAR: case M_SSE2: case M_AVX2: case M_AVX512:
    if ((int)pv__luma_kernel_set((pv__luma_kernel)m) != m) return -1;
    t0 = pv_now_ns();
    if (pv_frame_to_luma(raw, w, h, w, fmt, out) != PV_OK) exit(1);
    break;
  case M_BIN2:
    pv__luma_kernel_set(PV__LUMA_KERNELS);
    t0 = pv_now_ns();
    if (pv_frame_to_luma_bin2(raw, w, h, w, fmt, bin) != PV_OK) exit(1);
    break;
  default:
#ifdef PV_BENCH_OPENCV
    if (!have_cv) return -1;
    t0 = pv_now_ns();
    pv_bench_cv_luma(raw, w, h, w, order, out->data, out->stride);
    break;
#else
    (void)order;
    return -1;
#endif
  }
  return (double)(pv_now_ns() - t0) / 1e6;
}

static void run_case(const pv_scene *s, int w, int h, pv_pixfmt fmt, int repeat, int json) {
  uint8_t *raw = malloc((size_t)w * h);
  pv_image ours, cv, bin;
  if (raw == NULL || pv_image_alloc(&ours, w, h) != PV_OK ||
      pv_image_alloc(&cv, w, h) != PV_OK || pv_image_alloc(&bin, w / 2, h / 2) != PV_OK) {
    fprintf(stderr, "bench_luma: out of memory at %dx%d\n", w, h);
    exit(1);
  }
  double mx, my;
  pv_scene_die_mark(s, 12, &mx, &my);
  pv_scene_render(s, mx + 180.0, my - 95.0, 7, fmt, raw, w, h, w);
  double *t = malloc(sizeof(double) * (size_t)repeat * M_COUNT), med[M_COUNT];
  /* OpenCV's thread count changes once per phase, not per call (its pool
   * would be rebuilt inside the timings): phase 1 interleaves our methods
   * with OpenCV on 1 thread, phase 2 times OpenCV's default threading */
  for (int phase = 0; phase < 2; phase++) {
#ifdef PV_BENCH_OPENCV
    if (have_cv) pv_bench_cv_threads(phase == 0 ? 1 : 0);
#endif
    for (int r = 0; r < repeat; r++)
      for (int m = 0; m < M_COUNT; m++)
        if ((m == M_CVN) == (phase == 1))
          t[m * repeat + r] = run_method(m, raw, w, h, fmt, m >= M_CV1 ? &cv : &ours, &bin);
  }
#ifdef PV_BENCH_OPENCV
  if (have_cv) pv_bench_cv_threads(1);
#endif
  for (int m = 0; m < M_COUNT; m++)
    med[m] = t[m * repeat] < 0 ? -1 : median(t + m * repeat, repeat);
  /* agreement: ours (best kernel) against OpenCV (1 thread) */
  long differ = -1;
  int maxd = -1;
  if (have_cv && fmt != PV_PIXFMT_MONO8) {
    run_method(M_CV1, raw, w, h, fmt, &cv, &bin);
    pv__luma_kernel_set(PV__LUMA_KERNELS);
    pv_frame_to_luma(raw, w, h, w, fmt, &ours);
    differ = 0;
    maxd = 0;
    for (int y = 1; y < h - 1; y++)
      for (int x = 1; x < w - 1; x++) {
        int d = abs(ours.data[(size_t)y * w + x] - cv.data[(size_t)y * w + x]);
        if (d > 1) differ++;
        if (d > maxd) maxd = d;
      }
  }
  pv__luma_kernel best = pv__luma_kernel_set(PV__LUMA_KERNELS);
  double ours_ms = med[best], ratio = med[M_CV1] > 0 ? med[M_CV1] / ours_ms : -1;
  double ratio_bin = med[M_CV1] > 0 ? med[M_CV1] / med[M_BIN2] : -1;
  if (json) {
    printf("{\"w\":%d,\"h\":%d,\"format\":\"%s\",\"kernel\":\"%s\"", w, h,
           pv_pixfmt_name(fmt), pv__luma_kernel_name(best));
    for (int m = 0; m < M_COUNT; m++)
      if (med[m] >= 0) printf(",\"%s_ms\":%.4f", method_names[m], med[m]);
    if (have_cv)
      printf(",\"opencv_threads\":%d,\"ratio\":%.3f,\"ratio_bin2\":%.3f", cv_threads,
             ratio, ratio_bin);
    if (differ >= 0) printf(",\"differ\":%ld,\"max_diff\":%d", differ, maxd);
    printf(",\"repeat\":%d}\n", repeat);
  } else {
    printf("| %dx%d | %s |", w, h, pv_pixfmt_name(fmt));
    for (int m = 0; m < M_COUNT; m++)
      med[m] >= 0 ? printf(" %.3f |", med[m]) : printf(" - |");
    if (have_cv) printf(" %.2fx | %.2fx |", ratio, ratio_bin);
    else printf(" - | - |");
    if (differ >= 0) printf(" %ld (%.3f%%) | %d |\n", differ,
                            100.0 * differ / ((double)(w - 2) * (h - 2)), maxd);
    else printf(" - | - |\n");
  }
  fflush(stdout);
  free(t);
  free(raw);
  pv_image_free(&ours);
  pv_image_free(&cv);
  pv_image_free(&bin);
}

int main(int argc, char **argv) {
  int repeat = 31, json = 0, only_w = 0, only_h = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc &&
             sscanf(argv[i + 1], "%dx%d", &only_w, &only_h) == 2) i++;
    else {
      fprintf(stderr, "usage: %s [--repeat R] [--size WxH] [--json]\n", argv[0]);
      return 2;
    }
  }
  if (repeat < 1 || repeat > 1000) repeat = 31;
  char ver[64] = "none";
#ifdef PV_BENCH_OPENCV
  cv_threads = pv_bench_cv_luma_init(ver, (int)sizeof ver);
  have_cv = 1;
#endif
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  pv_scene *s = NULL;
  if (pv_scene_create(&wp, &s) != PV_OK) return 1;
  if (!json) {
    printf("Bayer -> luma: probevision kernels vs OpenCV %s cvtColor(Bayer..2GRAY), "
           "same buffer, same process; median ms of %d rounds; best kernel here: %s; "
           "OpenCV default threads: %d\n\n",
           ver, repeat, pv__luma_kernel_name(pv__luma_kernel_set(PV__LUMA_KERNELS)),
           cv_threads);
    printf("| frame | format | scalar ms | sse2 ms | avx2 ms | avx512 ms | bin2 ms | OpenCV 1T ms "
           "| OpenCV %dT ms | OpenCV 1T / ours | OpenCV 1T / bin2 | differ > 1 | max diff |\n",
           cv_threads);
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  }
  static const int sizes[3][2] = {{1224, 1024}, {2448, 2048}, {5472, 3648}};
  for (int i = 0; i < 3; i++) {
    if (only_w && (sizes[i][0] != only_w || sizes[i][1] != only_h)) continue;
    for (int f = 0; f < PV_PIXFMT_COUNT; f++)
      run_case(s, sizes[i][0], sizes[i][1], (pv_pixfmt)f, repeat, json);
  }
  pv_scene_destroy(s);
  return 0;
}
