/* match: pv_matcher_find_frame converts only the rectangle a region search
 * reads, and answers bit-identically to pv_frame_to_luma of the whole frame
 * followed by pv_matcher_find_in with the same region: same count, same x,
 * y and score doubles, for every pixel format (the Bayer phase is that of
 * absolute coordinates), regions anywhere (inside, touching and crossing
 * the frame's edges, discs and rectangles), the infinite region and empty
 * ones. Before each search the matcher's luma buffer is filled with another
 * frame, so a search that read a pixel outside the converted rectangle
 * would differ. Bad arguments are PV_EINVAL; a region outside is 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "match_fixtures.h"
#include "probevision/scene.h"

#define W 900
#define H 700
#define STRIDE (W + 13)
#define MAXOUT 16

static const pv_pixfmt formats[] = {PV_PIXFMT_MONO8, PV_PIXFMT_BAYER_BG8, PV_PIXFMT_BAYER_GB8,
                                    PV_PIXFMT_BAYER_GR8, PV_PIXFMT_BAYER_RG8};

static pv_scene *scene;
static pv_image templ, small; /* the die's 128 px template; a 40 px crop of it */
static uint8_t *noise;        /* a frame of random bytes (STRIDE x H) */

static int group_setup(void **state) {
  (void)state;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  wp.cols = wp.rows = 12;
  wp.pitch_x_um = wp.pitch_y_um = 400; /* several marks in view */
  wp.mark_x_um = wp.mark_y_um = 150;
  if (pv_scene_create(&wp, &scene) != 0 || pv_scene_template(scene, &templ) != 0) return -1;
  small = fx_image(40, 40, 0);
  for (int y = 0; y < 40; y++)
    memcpy(fx_px(&small, 0, y), fx_px(&templ, 44, 44 + y), 40);
  fx_seed(11);
  noise = malloc((size_t)STRIDE * H);
  for (size_t i = 0; i < (size_t)STRIDE * H; i++) noise[i] = (uint8_t)(fx_rand() * 256);
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  free(noise);
  fx_free(&small);
  pv_image_free(&templ);
  pv_scene_destroy(scene);
  return 0;
}

/* The frame of format fmt: die 5 * 12 + 5's mark off centre by a few dies'
 * fraction, so marks lie near and across the edges too. */
static uint8_t *render(pv_pixfmt fmt) {
  double x, y;
  assert_int_equal(pv_scene_die_mark(scene, 5 * 12 + 5, &x, &y), 0);
  uint8_t *f = malloc((size_t)STRIDE * H);
  memset(f, 0xA5, (size_t)STRIDE * H); /* the padding past W too */
  assert_int_equal(pv_scene_render(scene, x + 37.3, y - 21.8, 3, fmt, f, W, H, STRIDE), 0);
  return f;
}

/* find_frame on frame against the reference on its whole luma; the
 * matcher's buffer holds the noise frame's luma first. */
static void check_region(pv_matcher *m, const uint8_t *frame, pv_pixfmt fmt,
                         const pv_image *luma, const pv_match_region *r) {
  pv_match want[MAXOUT], got[MAXOUT];
  pv_match_region all = {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 0};
  /* max_out 0: converts the whole noise frame, searches nothing */
  assert_int_equal(pv_matcher_find_frame(m, noise, W, H, STRIDE, fmt, &all, NULL, 0), 0);
  int nw = pv_matcher_find_in(m, luma, r, want, MAXOUT);
  memset(got, 0x5A, sizeof got);
  int ng = pv_matcher_find_frame(m, frame, W, H, STRIDE, fmt, r, got, MAXOUT);
  if (ng != nw)
    fail_msg("%s region (%g, %g)-(%g, %g) ellipse %d: %d matches, want %d",
             pv_pixfmt_name(fmt), r->x0, r->y0, r->x1, r->y1, r->ellipse, ng, nw);
  if (nw > 0) assert_memory_equal(got, want, (size_t)nw * sizeof want[0]);
}

static void regions_for(pv_matcher *m, const uint8_t *frame, pv_pixfmt fmt,
                        const pv_image *luma, int *nonempty) {
  const pv_match_region fixed[] = {
      {-INFINITY, -INFINITY, INFINITY, INFINITY, 0, 0}, /* the whole frame */
      {0, 0, W - 1, H - 1, 0, 0},
      {-50, -50, 260, 240, 1, 0},                /* crossing the top-left corner */
      {W - 300.5, H - 280.25, W + 40, H + 90, 1, 0}, /* crossing bottom-right */
      {63.5, 63.5, 63.5, 63.5, 0, 0},            /* one placement, at the corner */
      {W - 64.5, 100, W - 64.5, 400, 0, 0},      /* the last column of placements */
      {200.3, -INFINITY, 520.9, INFINITY, 0, 0}, /* a vertical band */
      {-INFINITY, 333.3, INFINITY, 333.3, 0, 0}, /* one row */
      {W + 10, 0, W + 200, H, 0, 0},             /* right of the frame: none */
      {0, -300, W, -70, 1, 0},                   /* above: none */
      {400, 400, 300, 500, 0, 0},                /* x1 < x0: empty */
      {NAN, 0, 100, 100, 0, 0},                  /* NaN: empty */
  };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    check_region(m, frame, fmt, luma, &fixed[i]);
  for (int k = 0; k < 24; k++) { /* discs and rectangles anywhere, edges included */
    double cx = -80 + fx_rand() * (W + 160), cy = -80 + fx_rand() * (H + 160);
    double rx = 1 + fx_rand() * 260, ry = k % 3 ? rx : 1 + fx_rand() * 200;
    pv_match_region r = {cx - rx, cy - ry, cx + rx, cy + ry, k % 2, 0};
    pv_match junk[MAXOUT];
    *nonempty += pv_matcher_find_in(m, luma, &r, junk, MAXOUT) > 0;
    check_region(m, frame, fmt, luma, &r);
  }
}

static void bit_identical_for_every_format_and_region(void **state) {
  (void)state;
  const pv_image *tpls[] = {&templ, &small};
  pv_image luma;
  assert_int_equal(pv_image_alloc(&luma, W, H), 0);
  int nonempty = 0;
  for (size_t t = 0; t < 2; t++) {
    pv_match_params p;
    pv_match_params_default(&p);
    p.threshold = 0.3;
    pv_matcher *m;
    /* larger than the frames: the buffer's rows are the frame's width */
    assert_int_equal(pv_matcher_create(W + 64, H + 32, tpls[t], &p, &m), 0);
    fx_seed(100 + t);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
      uint8_t *frame = render(formats[f]);
      assert_int_equal(pv_frame_to_luma(frame, W, H, STRIDE, formats[f], &luma), 0);
      regions_for(m, frame, formats[f], &luma, &nonempty);
      free(frame);
    }
    pv_matcher_destroy(m);
  }
  assert_true(nonempty >= 40); /* the random regions did find marks */
  pv_image_free(&luma);
}

static void bad_arguments_are_einval(void **state) {
  (void)state;
  pv_matcher *m;
  assert_int_equal(pv_matcher_create(W, H, &templ, NULL, &m), 0);
  pv_match out[4];
  pv_match_region r = {100, 100, 300, 300, 1, 0}, none = {-900, -900, -800, -800, 0, 0};
  const pv_pixfmt bg = PV_PIXFMT_BAYER_BG8;
  assert_int_equal(pv_matcher_find_frame(NULL, noise, W, H, STRIDE, bg, &r, out, 4), PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, NULL, W, H, STRIDE, bg, &r, out, 4), PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, noise, 0, H, STRIDE, bg, &r, out, 4), PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, noise, W, -1, STRIDE, bg, &r, out, 4), PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, noise, W, H, W - 1, bg, &r, out, 4), PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, noise, W + 1, H, STRIDE, bg, &r, out, 4),
                   PV_EINVAL); /* larger than the matcher */
  assert_int_equal(pv_matcher_find_frame(m, noise, W, H, STRIDE, PV_PIXFMT_COUNT, &r, out, 4),
                   PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, noise, W, H, STRIDE, (pv_pixfmt)-1, &none, out, 4),
                   PV_EINVAL); /* even when the region converts nothing */
  assert_int_equal(pv_matcher_find_frame(m, noise, W, H, STRIDE, bg, NULL, out, 4), PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, noise, W, H, STRIDE, bg, &r, NULL, 4), PV_EINVAL);
  assert_int_equal(pv_matcher_find_frame(m, noise, 100, 100, STRIDE, bg, &r, out, 4),
                   PV_EINVAL); /* smaller than the template, as find_in */
  /* a region with no placement in the frame: 0, nothing written */
  pv_match untouched[4];
  memset(out, 0x77, sizeof out);
  memset(untouched, 0x77, sizeof untouched);
  assert_int_equal(pv_matcher_find_frame(m, noise, W, H, STRIDE, bg, &none, out, 4), 0);
  assert_memory_equal(out, untouched, sizeof out);
  pv_matcher_destroy(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bit_identical_for_every_format_and_region),
      cmocka_unit_test(bad_arguments_are_einval),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
