/* scene: rendered frames. The mark matches the template, the picture moves
 * sub-pixel exactly with the stage, Bayer and Mono8 renders agree, renders
 * are deterministic, and a frame shows the marks the geometry predicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/scene.h"
#include "scene_test_util.h"

static pv_scene *make_scene(double noise, double gradient, uint64_t seed) {
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  p.noise = noise;
  p.gradient = gradient;
  p.seed = seed;
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&p, &s), PV_OK);
  return s;
}

/* Bayer render centred on several dies' marks, demosaiced: the centre
 * window matches the template, also with the mark near a frame corner. */
static void every_mark_matches_the_template(void **state) {
  (void)state;
  pv_scene *s = make_scene(3, 0.25, 1);
  pv_image t, luma;
  assert_int_equal(pv_scene_template(s, &t), PV_OK);
  enum { W = 640, H = 480 };
  uint8_t *raw = malloc(W * H);
  assert_int_equal(pv_image_alloc(&luma, W, H), PV_OK);
  const int dies[] = {0, 13, 46, 79};
  for (size_t n = 0; n < sizeof dies / sizeof dies[0]; n++) {
    double x, y;
    assert_int_equal(pv_scene_die_mark(s, dies[n], &x, &y), PV_OK);
    assert_int_equal(pv_scene_render(s, x, y, n, PV_PIXFMT_BAYER_BG8, raw, W, H, W), PV_OK);
    assert_int_equal(pv_frame_to_luma(raw, W, H, W, PV_PIXFMT_BAYER_BG8, &luma), PV_OK);
    /* window centre (W-1)/2 == top-left + 63.5 */
    assert_true(ncc_at(&t, &luma, (W - 128) / 2, (H - 128) / 2) > 0.95);
    /* stage moved so that the mark sits 200 x 150 px up-left of centre */
    double u = pv_scene_params(s)->um_per_px;
    assert_int_equal(pv_scene_render(s, x + 200 * u, y + 150 * u, n, PV_PIXFMT_BAYER_BG8, raw, W, H, W), PV_OK);
    assert_int_equal(pv_frame_to_luma(raw, W, H, W, PV_PIXFMT_BAYER_BG8, &luma), PV_OK);
    assert_true(ncc_at(&t, &luma, (W - 128) / 2 - 200, (H - 128) / 2 - 150) > 0.9);
  }
  free(raw);
  pv_image_free(&luma);
  pv_image_free(&t);
  pv_scene_destroy(s);
}

/* Least-squares fraction d with b(i) = (1-d) a(i) + d a(i+step): how far the
 * picture b is shifted against a, in pixels along step (1 = x, w = y). */
static double shift_between(const uint8_t *a, const uint8_t *b, int w, int h,
                            int step) {
  double num = 0, den = 0;
  for (int y = 2; y < h - 2; y++)
    for (int x = 2; x < w - 2; x++) {
      int i = y * w + x;
      double da = a[i + step] - a[i], db = b[i] - a[i];
      num += da * db;
      den += da * da;
    }
  return num / den;
}

static void picture_moves_sub_pixel_with_the_stage(void **state) {
  (void)state;
  pv_scene *s = make_scene(0, 0, 1);
  double u = pv_scene_params(s)->um_per_px;
  enum { W = 256, H = 192 };
  uint8_t *a = malloc(W * H), *b = malloc(W * H);
  double x0 = 3333.3, y0 = 2222.2;
  assert_int_equal(pv_scene_render(s, x0, y0, 0, PV_PIXFMT_MONO8, a, W, H, W), PV_OK);
  /* +1 px of stage: the picture moves by exactly one pixel */
  assert_int_equal(pv_scene_render(s, x0 + u, y0, 0, PV_PIXFMT_MONO8, b, W, H, W), PV_OK);
  int maxd = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x + 1 < W; x++) {
      int d = abs(b[y * W + x] - a[y * W + x + 1]);
      if (d > maxd) maxd = d;
    }
  assert_true(maxd <= 1);
  const double fr[] = {0.5, 0.25, 0.75};
  for (int n = 0; n < 3; n++) {
    assert_int_equal(pv_scene_render(s, x0 + fr[n] * u, y0, 0, PV_PIXFMT_MONO8, b, W, H, W), PV_OK);
    double dx = shift_between(a, b, W, H, 1);
    assert_true(fabs(dx - fr[n]) < 0.05);
    assert_int_equal(pv_scene_render(s, x0, y0 + fr[n] * u, 0, PV_PIXFMT_MONO8, b, W, H, W), PV_OK);
    double dy = shift_between(a, b, W, H, W);
    assert_true(fabs(dy - fr[n]) < 0.05);
  }
  free(a);
  free(b);
  pv_scene_destroy(s);
}

static void bayer_render_demosaics_to_the_mono_render(void **state) {
  (void)state;
  pv_scene *s = make_scene(0, 0.25, 1);
  enum { W = 320, H = 240 };
  uint8_t *mono = malloc(W * H), *raw = malloc(W * H);
  pv_image luma, m = {W, H, W, mono};
  assert_int_equal(pv_image_alloc(&luma, W, H), PV_OK);
  assert_int_equal(pv_scene_render(s, 1250, 1120, 0, PV_PIXFMT_MONO8, mono, W, H, W), PV_OK);
  for (int f = PV_PIXFMT_BAYER_BG8; f <= PV_PIXFMT_BAYER_RG8; f++) {
    assert_int_equal(pv_scene_render(s, 1250, 1120, 0, f, raw, W, H, W), PV_OK);
    assert_int_equal(pv_frame_to_luma(raw, W, H, W, f, &luma), PV_OK);
    /* no bias (the tint's luma is applied to Mono8), small differences
     * (bilinear demosaic softens the finest wiring) */
    double sum = 0, bias = 0;
    for (int i = 0; i < W * H; i++) {
      sum += abs(luma.data[i] - mono[i]);
      bias += luma.data[i] - mono[i];
    }
    assert_true(fabs(bias) / (W * H) < 0.3);
    assert_true(sum / (W * H) < 2.5);
    /* the whole picture correlates (as one big window) */
    pv_image lw, mw;
    assert_int_equal(pv_image_view(&luma, 0, 0, W, H, &lw), PV_OK);
    assert_int_equal(pv_image_view(&m, 0, 0, W, H, &mw), PV_OK);
    assert_true(ncc_at(&mw, &lw, 0, 0) > 0.99);
  }
  free(mono);
  free(raw);
  pv_image_free(&luma);
  pv_scene_destroy(s);
}

static void renders_are_deterministic(void **state) {
  (void)state;
  pv_scene *s1 = make_scene(3, 0.25, 7), *s2 = make_scene(3, 0.25, 7);
  pv_scene *s3 = make_scene(3, 0.25, 8);
  enum { W = 200, H = 150 };
  uint8_t *a = malloc(W * H), *b = malloc(W * H);
  assert_int_equal(pv_scene_render(s1, 4321, 3456, 11, PV_PIXFMT_BAYER_RG8, a, W, H, W), PV_OK);
  assert_int_equal(pv_scene_render(s2, 4321, 3456, 11, PV_PIXFMT_BAYER_RG8, b, W, H, W), PV_OK);
  assert_memory_equal(a, b, W * H);
  assert_int_equal(pv_scene_render(s1, 4321, 3456, 12, PV_PIXFMT_BAYER_RG8, b, W, H, W), PV_OK);
  assert_memory_not_equal(a, b, W * H); /* other noise */
  assert_int_equal(pv_scene_render(s3, 4321, 3456, 11, PV_PIXFMT_BAYER_RG8, b, W, H, W), PV_OK);
  assert_memory_not_equal(a, b, W * H); /* other wafer */
  /* bad arguments */
  assert_int_equal(pv_scene_render(s1, 0, 0, 0, PV_PIXFMT_COUNT, a, W, H, W), PV_EINVAL);
  assert_int_equal(pv_scene_render(s1, 0, 0, 0, PV_PIXFMT_MONO8, a, W, H, W - 1), PV_EINVAL);
  assert_int_equal(pv_scene_render(s1, NAN, 0, 0, PV_PIXFMT_MONO8, a, W, H, W), PV_EINVAL);
  free(a);
  free(b);
  pv_scene_destroy(s1);
  pv_scene_destroy(s2);
  pv_scene_destroy(s3);
}

/* A 1024 x 768 frame at a position chosen between four marks: find the marks
 * by NCC on a 4x-reduced picture and compare with the geometry. */
static void frame_shows_the_predicted_marks(void **state) {
  (void)state;
  pv_scene *s = make_scene(3, 0.25, 1);
  const pv_wafer_params *p = pv_scene_params(s);
  enum { W = 1024, H = 768, F = 4 };
  const double u = p->um_per_px, x0 = 1750, y0 = 670;
  const double half_x = (W - 1) / 2.0 * u, half_y = (H - 1) / 2.0 * u;
  const double half_t = PV_SCENE_TEMPLATE_PX / 2.0 * u;
  /* expected marks: template square fully inside; none only partly inside */
  double ex[16], ey[16];
  int expected = 0;
  for (int k = 0; k < pv_scene_die_count(s); k++) {
    double mx, my;
    pv_scene_die_mark(s, k, &mx, &my);
    double ox = fabs(mx - x0), oy = fabs(my - y0);
    int inside = ox + half_t <= half_x && oy + half_t <= half_y;
    int touches = ox - half_t < half_x && oy - half_t < half_y;
    assert_true(inside == touches); /* precondition of this test */
    if (inside && expected < 16) {
      ex[expected] = (mx - x0) / u + (W - 1) / 2.0;
      ey[expected] = (my - y0) / u + (H - 1) / 2.0;
      expected++;
    }
  }
  assert_int_equal(expected, 4);

  uint8_t *raw = malloc(W * H);
  pv_image luma, small, t, ts;
  assert_int_equal(pv_image_alloc(&luma, W, H), PV_OK);
  assert_int_equal(pv_image_alloc(&small, W / F, H / F), PV_OK);
  assert_int_equal(pv_scene_template(s, &t), PV_OK);
  assert_int_equal(pv_image_alloc(&ts, t.width / F, t.height / F), PV_OK);
  assert_int_equal(pv_scene_render(s, x0, y0, 3, PV_PIXFMT_BAYER_BG8, raw, W, H, W), PV_OK);
  assert_int_equal(pv_frame_to_luma(raw, W, H, W, PV_PIXFMT_BAYER_BG8, &luma), PV_OK);
  downsample(&luma, &small, F);
  downsample(&t, &ts, F);
  int sw = small.width - ts.width + 1, sh = small.height - ts.height + 1;
  double *score = malloc(sizeof(double) * sw * sh);
  for (int v = 0; v < sh; v++)
    for (int x = 0; x < sw; x++) score[v * sw + x] = ncc_at(&ts, &small, x, v);
  int found = 0, matched = 0;
  for (int v = 0; v < sh; v++)
    for (int x = 0; x < sw; x++) {
      double c = score[v * sw + x];
      if (c < 0.8) continue;
      int is_max = 1; /* local maximum within +-8 reduced pixels */
      for (int dv = -8; dv <= 8 && is_max; dv++)
        for (int dx = -8; dx <= 8; dx++) {
          int yy = v + dv, xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= sh || xx >= sw || (!dv && !dx)) continue;
          if (score[yy * sw + xx] > c) { is_max = 0; break; }
        }
      if (!is_max) continue;
      found++;
      /* window centre in full-resolution pixels */
      double cxp = (x + (ts.width - 1) / 2.0) * F + (F - 1) / 2.0;
      double cyp = (v + (ts.height - 1) / 2.0) * F + (F - 1) / 2.0;
      for (int n = 0; n < expected; n++)
        if (fabs(cxp - ex[n]) <= F && fabs(cyp - ey[n]) <= F) matched++;
    }
  assert_int_equal(found, expected);
  assert_int_equal(matched, expected);
  free(score);
  free(raw);
  pv_image_free(&luma);
  pv_image_free(&small);
  pv_image_free(&t);
  pv_image_free(&ts);
  pv_scene_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_mark_matches_the_template),
      cmocka_unit_test(picture_moves_sub_pixel_with_the_stage),
      cmocka_unit_test(bayer_render_demosaics_to_the_mono_render),
      cmocka_unit_test(renders_are_deterministic),
      cmocka_unit_test(frame_shows_the_predicted_marks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
