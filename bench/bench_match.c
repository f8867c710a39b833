/* bench_match: times pv_matcher_find against OpenCV's
 * cv::matchTemplate(TM_CCOEFF_NORMED) + minMaxLoc on the same images, in the
 * same process, one thread each, and prints a Markdown table:
 *   case | ours ms | ours, all ms | OpenCV ms | ratio | same peak | score diff
 * "ours" asks for the best match only (max_results 1), the question
 * matchTemplate + minMaxLoc answers; "all" asks for every instance scoring
 * >= 0.5 (max_results 16). Times are medians over repeats. "same peak": OpenCV's best placement and
 * ours agree within 1 px ("tie" if they differ but the exact NCC at both is
 * equal within 1e-4, i.e. two equally good instances). score diff: our score
 * minus OpenCV's maximum.
 *
 * Scenes: "wafer" frames rendered by the scene module (several dies in view;
 * the template is a crop around a die mark of another noisy render), and
 * "natural" frames (multi-octave value noise with a few hard-edged shapes,
 * the template a noisy, gain-changed crop of the frame at a random place).
 * Frames 1224x1024, 2448x2048, 5472x3648; templates 24, 32, 48, 64, 128,
 * 192 and 256 px.
 *
 * Then, when the real-photograph corpus is present (scripts/fetch-photos;
 * tests/match/photo_corpus.h), its scenes (every photograph x every
 * template size, as in tests/match/test_global_max.c): how often our best
 * match is OpenCV's argmax (within 1 px, or a tie within 1e-4), and the
 * median time of each. Without OpenCV the exact FFT reference stands in.
 *
 * usage: bench_match [--quick] [--repeat R] [--only TEXT] [--no-opencv]
 *   --quick      only the 2448x2048 frames, fewer repeats
 *   --repeat R   R timed calls of pv_matcher_find per case (median)
 *   --only TEXT  only the cases whose name contains TEXT ("natural 1224")
 *   --no-opencv  time our matcher only
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/match.h"
#include "probevision/scene.h"
#ifdef PV_BENCH_OPENCV
#include "bench_opencv.h"
#endif
#include "../tests/match/photo_corpus.h"

static uint64_t rng = 88172645463325252ull;
static double urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}
static uint8_t clamp8(double v) {
  return v < 0 ? 0 : (v > 255 ? 255 : (uint8_t)lround(v));
}

/* Natural-looking scene: value noise summed over octaves (cell 512 .. 2 px,
 * amplitude ~ cell^0.7), a few dozen filled discs and rectangles, sensor
 * noise. */
static void natural(pv_image *im) {
  int w = im->width, h = im->height;
  float *acc = calloc((size_t)w * h, sizeof(float));
  for (int cell = 512; cell >= 2; cell /= 2) {
    int gw = w / cell + 2, gh = h / cell + 2;
    float *g = malloc((size_t)gw * gh * sizeof(float));
    for (int i = 0; i < gw * gh; i++) g[i] = (float)(urand() - 0.5);
    float amp = (float)pow(cell, 0.7);
    for (int y = 0; y < h; y++) {
      int gy = y / cell;
      float fy = (float)(y % cell) / cell;
      fy = fy * fy * (3 - 2 * fy);
      for (int x = 0; x < w; x++) {
        int gx = x / cell;
        float fx = (float)(x % cell) / cell;
        fx = fx * fx * (3 - 2 * fx);
        const float *r0 = g + (size_t)gy * gw + gx, *r1 = r0 + gw;
        float a = r0[0] + fx * (r0[1] - r0[0]), b = r1[0] + fx * (r1[1] - r1[0]);
        acc[(size_t)y * w + x] += amp * (a + fy * (b - a));
      }
    }
    free(g);
  }
  int shapes = (int)((double)w * h / 60000);
  for (int k = 0; k < shapes; k++) {
    double cx = urand() * w, cy = urand() * h, r = 5 + urand() * 60;
    double val = (urand() - 0.5) * 120;
    int disc = urand() < 0.5;
    for (int y = (int)fmax(0, cy - r); y < (int)fmin(h, cy + r); y++)
      for (int x = (int)fmax(0, cx - r); x < (int)fmin(w, cx + r); x++)
        if (!disc || (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r)
          acc[(size_t)y * w + x] = (float)val;
  }
  float lo = 1e30f, hi = -1e30f;
  for (size_t i = 0; i < (size_t)w * h; i++) {
    lo = fminf(lo, acc[i]);
    hi = fmaxf(hi, acc[i]);
  }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      im->data[(size_t)y * im->stride + x] =
          clamp8(20 + 215 * (acc[(size_t)y * w + x] - lo) / (hi - lo) +
                 (urand() - 0.5) * 8);
  free(acc);
}

/* Template of side s: a crop of im at (u, v) with gain, offset and noise. */
static void crop(const pv_image *im, int u, int v, pv_image *t) {
  for (int y = 0; y < t->height; y++)
    for (int x = 0; x < t->width; x++)
      t->data[(size_t)y * t->stride + x] = clamp8(
          0.9 * im->data[(size_t)(v + y) * im->stride + u + x] + 10 +
          (urand() - 0.5) * 12);
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct bench_opts {
  int quick, repeat, opencv;
  const char *only; /* run only cases whose name contains this */
} bench_opts;

/* Median ms of pv_matcher_find with up to max_results matches (threshold
 * 0.5); the last call's matches in out, their number in *n. */
static double time_ours(const pv_image *im, const pv_image *t, int max_results,
                        int rep, pv_match *out, int *n) {
  pv_match_params p;
  pv_match_params_default(&p);
  p.max_results = max_results;
  pv_matcher *m = NULL;
  double ms[64];
  *n = 0;
  if (pv_matcher_create(im->width, im->height, t, &p, &m) != PV_OK) return NAN;
  if (rep > 64) rep = 64;
  for (int r = 0; r < rep; r++) {
    int64_t t0 = pv_now_ns();
    *n = pv_matcher_find(m, im, out, max_results);
    ms[r] = (double)(pv_now_ns() - t0) / 1e6;
  }
  pv_matcher_destroy(m);
  return median(ms, rep);
}

/* Times both matchers on one (image, template) pair; prints a table row. */
static void run_case(const char *name, const pv_image *im, const pv_image *t,
                     const bench_opts *o) {
  if (o->only && strstr(name, o->only) == NULL) return;
  int big = im->width * im->height > 8000000;
  int rep = o->repeat > 0 ? o->repeat : (o->quick ? 7 : (big ? 9 : 21));
  int rep_cv = big ? 3 : 5; /* OpenCV once varies up to 2x on a shared machine */
  pv_match out[16];
  int n = 0;
  double ours = time_ours(im, t, 1, rep, out, &n);   /* the best match */
  pv_match all[16];
  int n_all = 0;
  double ours16 = time_ours(im, t, 16, rep, all, &n_all); /* every instance */
  int ou = n > 0 ? (int)lround(out[0].x - (t->width - 1) / 2.0) : -1;
  int ov = n > 0 ? (int)lround(out[0].y - (t->height - 1) / 2.0) : -1;
  double os = n > 0 ? out[0].score : -2;
  if (!o->opencv) {
    printf("| %s | %.2f | %.2f (%d) | - | - | - | - |\n", name, ours, ours16,
           n_all);
    fflush(stdout);
    return;
  }
#ifdef PV_BENCH_OPENCV
  int cu = 0, cv = 0;
  double cs = 0, ms[8];
  for (int r = 0; r < rep_cv; r++) {
    int64_t t0 = pv_now_ns();
    pv_bench_opencv_match(im->data, im->width, im->height, im->stride, t->data,
                          t->width, t->height, t->stride, &cu, &cv, &cs);
    ms[r] = (double)(pv_now_ns() - t0) / 1e6;
  }
  double theirs = median(ms, rep_cv);
  const char *same = "no";
  if (abs(cu - ou) <= 1 && abs(cv - ov) <= 1)
    same = "yes";
  else if (n > 0 && fabs(pv_ncc_at(im, t, cu, cv) - pv_ncc_at(im, t, ou, ov)) < 1e-4)
    same = "tie";
  printf("| %s | %.2f | %.2f (%d) | %.1f | %.0fx | %s | %+.5f |\n", name, ours,
         ours16, n_all, theirs, theirs / ours, same, os - cs);
#endif
  fflush(stdout);
}

static void wafer_cases(int w, int h, const int *sizes, int ns,
                        const bench_opts *o) {
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  wp.cols = 30;
  wp.rows = 30;
  pv_scene *s = NULL;
  if (pv_scene_create(&wp, &s) != PV_OK) return;
  double mx, my;
  pv_scene_die_mark(s, 12 * 30 + 12, &mx, &my);
  pv_image ref, im;
  pv_image_alloc(&ref, 640, 640);
  pv_image_alloc(&im, w, h);
  pv_scene_render(s, mx, my, 7, PV_PIXFMT_MONO8, ref.data, 640, 640, 640);
  /* the view: a fractional offset from the mark, several dies in view */
  pv_scene_render(s, mx + 123.37, my - 71.81, 9, PV_PIXFMT_MONO8, im.data, w,
                  h, w);
  for (int k = 0; k < ns; k++) {
    int sz = sizes[k];
    pv_image t;
    pv_image_alloc(&t, sz, sz);
    int u = (640 - sz) / 2;
    for (int y = 0; y < sz; y++)
      memcpy(t.data + (size_t)y * sz, ref.data + (size_t)(u + y) * 640 + u,
             (size_t)sz);
    char name[64];
    snprintf(name, sizeof name, "wafer %dx%d, %d px", w, h, sz);
    run_case(name, &im, &t, o);
    pv_image_free(&t);
  }
  pv_image_free(&im);
  pv_image_free(&ref);
  pv_scene_destroy(s);
}

static void natural_cases(int w, int h, const int *sizes, int ns,
                          const bench_opts *o) {
  pv_image im;
  pv_image_alloc(&im, w, h);
  natural(&im);
  for (int k = 0; k < ns; k++) {
    int sz = sizes[k];
    pv_image t;
    pv_image_alloc(&t, sz, sz);
    crop(&im, (int)(urand() * (w - sz)), (int)(urand() * (h - sz)), &t);
    char name[64];
    snprintf(name, sizeof name, "natural %dx%d, %d px", w, h, sz);
    run_case(name, &im, &t, o);
    pv_image_free(&t);
  }
  pv_image_free(&im);
}

/* The photo-scene section (see the top); silent when --only is given. */
static void photo_section(const bench_opts *o) {
  if (o->only) return;
  int total = 0, agree = 0, ns = 0;
  double ours[PC_NPHOTOS * PC_NSIZES], theirs[PC_NPHOTOS * PC_NSIZES];
  for (int pi = 0; pi < PC_NPHOTOS; pi++) {
    pv_image photo;
    char msg[1400];
    if (pc_load(pi, &photo, msg, sizeof msg) != PV_OK) {
      printf("\nphoto scenes: skipped (%s)\n", msg);
      return;
    }
    for (int si = 0; si < PC_NSIZES; si++) {
      int size = pc_sizes[si];
      int w = 640 + 180 * ((pi + si) % 3), h = (pi + si) % 2 ? 512 : 480;
      int tw = size, th = pi % 4 == 3 ? size * 3 / 4 : size;
      pc_scene sc;
      pc_make(&photo, w, h, tw, th, (uint64_t)(pi * 100 + si + 1), &sc);
      pv_match out[1];
      int n = 0;
      ours[ns] = time_ours(&sc.img, &sc.templ, 1, o->quick ? 3 : 5, out, &n);
      int ru = -1, rv = -1;
      int64_t t0 = pv_now_ns();
#ifdef PV_BENCH_OPENCV
      double cs;
      if (o->opencv)
        pv_bench_opencv_match(sc.img.data, w, h, w, sc.templ.data, tw, th, tw,
                              &ru, &rv, &cs);
#endif
      if (ru < 0) {
        double *all = pc_scores(&sc.img, &sc.templ);
        pc_argmax(all, &sc.img, &sc.templ, NULL, &ru, &rv);
        free(all);
      }
      theirs[ns++] = (double)(pv_now_ns() - t0) / 1e6;
      total++;
      if (n > 0) {
        int fu = (int)lround(out[0].x - (tw - 1) / 2.0);
        int fv = (int)lround(out[0].y - (th - 1) / 2.0);
        if (pc_agrees(&sc.img, &sc.templ, fu, fv, ru, rv))
          agree++;
        else
          printf("photo scene %s %dx%d: ours (%d,%d), argmax (%d,%d)\n",
                 pc_photos[pi], tw, th, fu, fv, ru, rv);
      }
      pc_free(&sc);
    }
    free(photo.data);
  }
  double mo = median(ours, ns), mt = median(theirs, ns);
  const char *ref = o->opencv ? "OpenCV" : "the exact reference";
  printf("\nphoto scenes (%d photographs x %d template sizes, 640x480 .. "
         "1000x512): %d of %d agree with %s's argmax; median ms ours %.2f, "
         "%s %.1f\n",
         PC_NPHOTOS, PC_NSIZES, agree, total, ref, mo, ref, mt);
}

int main(int argc, char **argv) {
  bench_opts o = {0, 0, 0, NULL};
  int no_cv = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      o.quick = 1;
    else if (strcmp(argv[i], "--no-opencv") == 0)
      no_cv = 1;
    else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
      o.repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
      o.only = argv[++i];
    else {
      fprintf(stderr, "usage: %s [--quick] [--repeat R] [--only TEXT] [--no-opencv]\n",
              argv[0]);
      return 2;
    }
  }
  char cvver[32] = "not built";
#ifdef PV_BENCH_OPENCV
  if (!no_cv) o.opencv = pv_bench_opencv_init(cvver, sizeof cvver);
#endif
  (void)no_cv;
  printf("ours: pv_matcher_find, 1 thread, threshold 0.5, best match "
         "(max_results 1);\n\"all\": every instance (max_results 16), how many "
         "found in brackets.\nOpenCV %s: matchTemplate TM_CCOEFF_NORMED + "
         "minMaxLoc, 1 thread. Median ms; ratio = OpenCV / ours.\n\n",
         o.opencv ? cvver : "(not used)");
  printf("| case | ours ms | ours, all ms (found) | OpenCV ms | ratio | "
         "same peak | score diff |\n");
  printf("|---|---:|---:|---:|---:|:---:|---:|\n");
  static const int all[] = {24, 32, 48, 64, 128, 192, 256};
  static const int frames[3][2] = {{1224, 1024}, {2448, 2048}, {5472, 3648}};
  for (int f = 0; f < 3; f++) {
    if (o.quick && f != 1) continue;
    wafer_cases(frames[f][0], frames[f][1], all, 7, &o);
    natural_cases(frames[f][0], frames[f][1], all, 7, &o);
  }
  photo_section(&o);
  return 0;
}
