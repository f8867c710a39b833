/* match: match.threads. The worker pool runs every task exactly once; the
 * pyramid built in bands is the same bits as the one built in one pass;
 * pv_matcher_find and pv_matcher_find_in give memcmp-identical results
 * (same matches, same doubles, same order) for threads 1, 2, 3, 4 and 7,
 * on wafer frames and noise scenes (with exact copies of the template, so
 * equal scores and their tie-breaking are exercised), templates 16..256 px,
 * whole frames, rectangles and ellipses, both kernel sets; creating and
 * destroying matchers leaves no thread behind (/proc/self/task); threads
 * outside 1..PV_MATCH_THREADS_MAX is PV_EINVAL.
 * With --quick (sanitizer builds) fewer scenes. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "match_fixtures.h"
#include "match_internal.h"
#include "probevision/scene.h"

static int quick;
static const int thread_counts[] = {2, 3, 4, 7};
#define NTC ((int)(sizeof thread_counts / sizeof thread_counts[0]))
#define MAXM 64

static int count_tasks(void) {
  DIR *d = opendir("/proc/self/task");
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static pv_matcher *make(int w, int h, const pv_image *t, int threads,
                        double threshold) {
  pv_match_params p;
  pv_match_params_default(&p);
  p.threads = threads;
  p.threshold = threshold;
  p.max_results = MAXM;
  pv_matcher *m = NULL;
  assert_int_equal(pv_matcher_create(w, h, t, &p, &m), PV_OK);
  return m;
}

/* Uniform noise box-blurred with radius r (0: raw), in place. */
static void noise_scene(pv_image *im, int r) {
  int w = im->width, h = im->height;
  for (int i = 0; i < w * h; i++) im->data[i] = (uint8_t)fx_int(0, 255);
  if (r == 0) return;
  int *acc = calloc((size_t)w * h, sizeof(int));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int s = 0, n = 0;
      for (int k = -r; k <= r; k++)
        if (x + k >= 0 && x + k < w) s += im->data[y * w + x + k], n++;
      acc[y * w + x] = s / n;
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int s = 0, n = 0;
      for (int k = -r; k <= r; k++)
        if (y + k >= 0 && y + k < h) s += acc[(y + k) * w + x], n++;
      im->data[y * w + x] = (uint8_t)(s / n);
    }
  free(acc);
}

/* Every search of im with t for each thread count equals threads = 1's,
 * byte for byte: the whole image, a rectangle, an ellipse, and the whole
 * image's best with its rivals within 0.1. */
static void check_scene(const pv_image *im, const pv_image *t, double thr) {
  pv_match ref[4][MAXM], got[MAXM];
  int nref[4];
  double cx = fx_rand() * im->width, cy = fx_rand() * im->height;
  double rx = 2 * t->width + fx_rand() * im->width / 3.0;
  double ry = 2 * t->height + fx_rand() * im->height / 3.0;
  pv_match_region regs[4] = {{-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 0},
                             {cx - rx, cy - ry, cx + rx, cy + ry, 0, 0},
                             {cx - ry, cy - ry, cx + ry, cy + ry, 1, 0},
                             {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 0.1}};
  pv_matcher *m1 = make(im->width, im->height, t, 1, thr);
  for (int r = 0; r < 4; r++) {
    memset(ref[r], 0, sizeof ref[r]);
    nref[r] = pv_matcher_find_in(m1, im, &regs[r], ref[r], MAXM);
    assert_true(nref[r] >= 0);
  }
  pv_matcher_destroy(m1);
  for (int k = 0; k < NTC; k++) {
    pv_matcher *m = make(im->width, im->height, t, thread_counts[k], thr);
    for (int rep = 0; rep < 2; rep++) /* a second find on the same pool */
      for (int r = 0; r < 4; r++) {
        memset(got, 0, sizeof got);
        int n = pv_matcher_find_in(m, im, &regs[r], got, MAXM);
        if (n != nref[r] || memcmp(got, ref[r], sizeof got) != 0)
          fail_msg("%dx%d, template %dx%d, region %d, threads %d: %d matches "
                   "(first %.4f, %.4f, %.6f) vs %d at 1 thread "
                   "(first %.4f, %.4f, %.6f)",
                   im->width, im->height, t->width, t->height, r,
                   thread_counts[k], n, got[0].x, got[0].y, got[0].score,
                   nref[r], ref[r][0].x, ref[r][0].y, ref[r][0].score);
      }
    pv_matcher_destroy(m);
  }
}

static void task(void *ctx, int i) { ((int *)ctx)[i]++; }

static void test_pool_runs_every_task_once(void **state) {
  (void)state;
  enum { N = 1000 };
  static int slot[N];
  const int sizes[] = {0, 1, 2, 5, 63, N};
  for (int n = 1; n <= 7; n++) {
    pv__workers *w = NULL;
    assert_int_equal(pv__workers_create(n, &w), PV_OK);
    assert_int_equal(pv__workers_count(w), n);
    for (int rep = 0; rep < (quick ? 20 : 100); rep++)
      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        memset(slot, 0, sizeof slot);
        pv__workers_run(w, task, slot, sizes[s]);
        for (int i = 0; i < N; i++) assert_int_equal(slot[i], i < sizes[s]);
      }
    pv__workers_destroy(w);
  }
}

/* The levels and integral images of pv__pyramid_build: the same bits for
 * every thread count as for one, both kernel sets. */
static void test_pyramid_bands_same_bits(void **state) {
  (void)state;
  fx_seed(11);
  const int sides[] = {32, 64, 128, 256};
  for (int simd = 0; simd < 2; simd++) {
    if (simd == 0) setenv("PV_MATCH_SIMD", "portable", 1);
    else unsetenv("PV_MATCH_SIMD");
    for (int si = 0; si < 4; si++) {
      int w = 600 + fx_int(0, 99), h = 500 + fx_int(0, 99);
      pv_image im = fx_image(w, h, 0);
      noise_scene(&im, 3);
      pv_image t = fx_cut(&im, 17, 23, sides[si], sides[si]);
      pv_matcher *m1 = make(w, h, &t, 1, 0.5);
      assert_true(m1->top >= 1);
      pv__pyramid_build(m1, &im);
      for (int k = 0; k < NTC; k++) {
        pv_matcher *m = make(w, h, &t, thread_counts[k], 0.5);
        assert_int_equal(m->top, m1->top);
        pv__pyramid_build(m, &im);
        for (int l = 1; l <= m->top; l++) {
          assert_int_equal(m->lvl[l].w, m1->lvl[l].w);
          assert_int_equal(m->lvl[l].h, m1->lvl[l].h);
          assert_memory_equal(m->lvl[l].px, m1->lvl[l].px,
                              (size_t)m->lvl[l].w * m->lvl[l].h * sizeof(float));
        }
        size_t in = ((size_t)m->lvl[m->top].w + 1) * ((size_t)m->lvl[m->top].h + 1);
        assert_memory_equal(m->isum, m1->isum, in * sizeof(double));
        assert_memory_equal(m->isq, m1->isq, in * sizeof(double));
        pv_matcher_destroy(m);
      }
      pv_matcher_destroy(m1);
      fx_free(&t);
      fx_free(&im);
    }
  }
  unsetenv("PV_MATCH_SIMD");
}

/* Noise scenes, raw (the top level is often 0: the exhaustive 8-bit scan)
 * and blurred, with the template pasted exactly twice more (equal scores). */
static void test_noise_scenes_identical(void **state) {
  (void)state;
  fx_seed(5);
  const int sides[] = {16, 24, 32, 48, 64, 128, 192, 256};
  int scenes = quick ? 4 : 16;
  for (int i = 0; i < scenes; i++) {
    if (i % 4 == 3) setenv("PV_MATCH_SIMD", "portable", 1);
    int side = sides[i % 8], w = 2 * side + 120 + fx_int(0, 200);
    int h = 2 * side + 80 + fx_int(0, 120);
    pv_image im = fx_image(w, h, 0);
    noise_scene(&im, side <= 24 ? i % 3 : 1 + side / 32); /* raw noise: the
                            top level is 0, an exhaustive 8-bit scan */
    pv_image t = fx_cut(&im, fx_int(0, w - side), fx_int(0, h - side), side,
                        side - (i & 1) * side / 4);
    fx_paste(&im, &t, fx_int(0, w - t.width), fx_int(0, h - t.height), 0);
    fx_paste(&im, &t, fx_int(0, w - t.width), fx_int(0, h - t.height), 0);
    check_scene(&im, &t, i % 2 ? 0.2 : -1.0);
    unsetenv("PV_MATCH_SIMD");
    fx_free(&t);
    fx_free(&im);
  }
}

/* Wafer frames: many identical dies, templates around a die mark cut from
 * another render; one frame at the camera's full 2448 x 2048. */
static void test_wafer_frames_identical(void **state) {
  (void)state;
  fx_seed(7);
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&wp, &s), PV_OK);
  const int sides[] = {16, 32, 64, 96, 128, 200, 256};
  int frames = quick ? 2 : 7;
  for (int i = 0; i < frames; i++) {
    int big = i == 0 && !quick;
    int w = big ? 2448 : 700 + fx_int(0, 300), h = big ? 2048 : 600 + fx_int(0, 200);
    int side = sides[(i * 3) % 7];
    double mx, my;
    assert_int_equal(pv_scene_die_mark(s, fx_int(0, 30), &mx, &my), PV_OK);
    pv_image src = fx_image(w, h, 0), im = fx_image(w, h, 0);
    assert_int_equal(pv_scene_render(s, mx, my, 99, PV_PIXFMT_MONO8, src.data,
                                     w, h, w), PV_OK);
    assert_int_equal(pv_scene_render(s, mx + fx_rand() * 300, my + fx_rand() * 300,
                                     (uint64_t)i, PV_PIXFMT_MONO8, im.data, w, h, w),
                     PV_OK);
    pv_image t = fx_cut(&src, (w - side) / 2, (h - side) / 2, side, side);
    check_scene(&im, &t, 0.5);
    fx_free(&t);
    fx_free(&src);
    fx_free(&im);
  }
  pv_scene_destroy(s);
}

/* Threads start at create and end at destroy, none per find. */
static void test_no_thread_left_behind(void **state) {
  (void)state;
  fx_seed(3);
  pv_image im = fx_image(300, 200, 0);
  noise_scene(&im, 2);
  pv_image t = fx_cut(&im, 40, 50, 32, 32);
  int before = count_tasks();
  for (int i = 0; i < (quick ? 30 : 100); i++) {
    int n = 1 + i % 7;
    pv_matcher *m = make(im.width, im.height, &t, n, 0.5);
    assert_int_equal(count_tasks(), before + n - 1);
    pv_match out[4];
    assert_true(pv_matcher_find(m, &im, out, 4) >= 1);
    assert_int_equal(count_tasks(), before + n - 1);
    pv_matcher_destroy(m);
    assert_int_equal(count_tasks(), before);
  }
  pv_matcher *m = make(im.width, im.height, &t, PV_MATCH_THREADS_MAX, 0.5);
  assert_int_equal(count_tasks(), before + PV_MATCH_THREADS_MAX - 1);
  pv_matcher_destroy(m);
  assert_int_equal(count_tasks(), before);
  fx_free(&t);
  fx_free(&im);
}

static void test_threads_out_of_range(void **state) {
  (void)state;
  pv_image t = fx_image(16, 16, 0);
  for (int i = 0; i < 256; i++) t.data[i] = (uint8_t)(i * 37);
  const int bad[] = {0, -1, PV_MATCH_THREADS_MAX + 1, 1 << 30};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pv_match_params p;
    pv_match_params_default(&p);
    p.threads = bad[i];
    static int dummy;
    pv_matcher *m = (pv_matcher *)(void *)&dummy; /* must be cleared */
    assert_int_equal(pv_matcher_create(64, 64, &t, &p, &m), PV_EINVAL);
    assert_null(m);
  }
  fx_free(&t);
}

int main(int argc, char **argv) {
  quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  if (getenv("PV_TEST_FILTER") != NULL) cmocka_set_test_filter(getenv("PV_TEST_FILTER"));
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pool_runs_every_task_once),
      cmocka_unit_test(test_pyramid_bands_same_bits),
      cmocka_unit_test(test_noise_scenes_identical),
      cmocka_unit_test(test_wafer_frames_identical),
      cmocka_unit_test(test_no_thread_left_behind),
      cmocka_unit_test(test_threads_out_of_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
