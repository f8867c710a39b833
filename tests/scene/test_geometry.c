/* scene: die geometry, nearest mark, parameters, the template, and the
 * distinctiveness of the mark within a die. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/scene.h"
#include "scene_test_util.h"

static void defaults_and_die_marks(void **state) {
  (void)state;
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  assert_int_equal(p.cols, 10);
  assert_int_equal(p.rows, 8);
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&p, &s), PV_OK);
  assert_int_equal(pv_scene_die_count(s), 80);
  assert_true(pv_scene_params(s)->pitch_y_um == 900);
  double x, y;
  assert_int_equal(pv_scene_die_mark(s, 0, &x, &y), PV_OK);
  assert_true(x == 250 && y == 220);
  /* k = r * cols + c: die (c 3, r 2) */
  assert_int_equal(pv_scene_die_mark(s, 23, &x, &y), PV_OK);
  assert_true(fabs(x - 3250) < 1e-9 && fabs(y - 2020) < 1e-9);
  assert_int_equal(pv_scene_die_mark(s, 79, &x, &y), PV_OK);
  assert_true(fabs(x - 9250) < 1e-9 && fabs(y - 6520) < 1e-9);
  assert_int_equal(pv_scene_die_mark(s, 80, &x, &y), PV_EINVAL);
  assert_int_equal(pv_scene_die_mark(s, -1, &x, &y), PV_EINVAL);
  pv_scene_destroy(s);
  pv_scene_destroy(NULL);
}

static void nearest_mark_picks_the_closest_die(void **state) {
  (void)state;
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  p.cols = 4;
  p.rows = 3;
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&p, &s), PV_OK);
  assert_int_equal(pv_scene_die_count(s), 12);
  double mx, my;
  pv_scene_nearest_mark(s, 2250 + 400, 1120 - 300, &mx, &my);
  assert_true(fabs(mx - 2250) < 1e-9 && fabs(my - 1120) < 1e-9);
  pv_scene_nearest_mark(s, 2250 + 600, 1120 + 500, &mx, &my);
  assert_true(fabs(mx - 3250) < 1e-9 && fabs(my - 2020) < 1e-9);
  /* outside the grid: clamped to the edge dies */
  pv_scene_nearest_mark(s, -5000, 1e5, &mx, &my);
  assert_true(fabs(mx - 250) < 1e-9 && fabs(my - 2020) < 1e-9);
  pv_scene_destroy(s);
}

static void bad_params_are_refused(void **state) {
  (void)state;
  pv_wafer_params p;
  pv_scene *s = (pv_scene *)&p;
  pv_wafer_params_default(&p);
  p.cols = 0;
  assert_int_equal(pv_scene_create(&p, &s), PV_EINVAL);
  assert_null(s);
  pv_wafer_params_default(&p);
  p.um_per_px = 0;
  assert_int_equal(pv_scene_create(&p, &s), PV_EINVAL);
  pv_wafer_params_default(&p);
  p.mark_x_um = 2000;
  assert_int_equal(pv_scene_create(&p, &s), PV_EINVAL);
  pv_wafer_params_default(&p);
  p.gradient = 1.5;
  assert_int_equal(pv_scene_create(&p, &s), PV_EINVAL);
  assert_int_equal(pv_scene_create(NULL, &s), PV_EINVAL);
}

/* The template is the clean view of any die's mark. */
static void template_is_the_clean_mark_view(void **state) {
  (void)state;
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  p.noise = 0;
  p.gradient = 0;
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&p, &s), PV_OK);
  pv_image t, v;
  assert_int_equal(pv_scene_template(s, &t), PV_OK);
  assert_int_equal(t.width, PV_SCENE_TEMPLATE_PX);
  assert_int_equal(t.height, PV_SCENE_TEMPLATE_PX);
  assert_int_equal(pv_image_alloc(&v, 128, 128), PV_OK);
  double x, y;
  pv_scene_die_mark(s, 37, &x, &y);
  assert_int_equal(pv_scene_render(s, x, y, 5, PV_PIXFMT_MONO8, v.data, 128, 128, 128), PV_OK);
  int maxd = 0, lo = 255, hi = 0;
  for (int i = 0; i < 128 * 128; i++) {
    int d = abs(t.data[i] - v.data[i]);
    if (d > maxd) maxd = d;
    if (t.data[i] < lo) lo = t.data[i];
    if (t.data[i] > hi) hi = t.data[i];
  }
  assert_true(maxd <= 1);
  assert_true(hi - lo > 150); /* high contrast */
  pv_image_free(&t);
  pv_image_free(&v);
  pv_scene_destroy(s);
}

/* Nothing in a die but its mark looks like the template: NCC over a grid of
 * positions covering one die pitch stays below 0.6 away from the marks. */
static void mark_is_distinctive_within_a_die(void **state) {
  (void)state;
  pv_wafer_params p;
  pv_wafer_params_default(&p);
  pv_scene *s = NULL;
  assert_int_equal(pv_scene_create(&p, &s), PV_OK);
  pv_image t, img;
  assert_int_equal(pv_scene_template(s, &t), PV_OK);
  const double u = p.um_per_px;
  int w = (int)ceil(p.pitch_x_um / u) + 128, h = (int)ceil(p.pitch_y_um / u) + 128;
  assert_int_equal(pv_image_alloc(&img, w, h), PV_OK);
  double cx = 4.5 * p.pitch_x_um, cy = 3.5 * p.pitch_y_um; /* die (4, 3) centre */
  assert_int_equal(pv_scene_render(s, cx, cy, 9, PV_PIXFMT_MONO8, img.data, w, h, w), PV_OK);
  double best_away = -1, best_mark = -1;
  const int step = 8, excl = 32; /* px from a mark centre */
  for (int v = 0; v + 128 <= h; v += step)
    for (int uu = 0; uu + 128 <= w; uu += step) {
      /* wafer position seen at the window centre, and its nearest mark */
      double wx = cx + (uu + 63.5 - (w - 1) / 2.0) * u;
      double wy = cy + (v + 63.5 - (h - 1) / 2.0) * u;
      double mx, my;
      pv_scene_nearest_mark(s, wx, wy, &mx, &my);
      double r = hypot(wx - mx, wy - my) / u;
      double c = ncc_at(&t, &img, uu, v);
      if (r >= excl && c > best_away) best_away = c;
    }
  /* the die's own mark, at the nearest whole-pixel window */
  double mx, my;
  pv_scene_die_mark(s, 3 * p.cols + 4, &mx, &my);
  int mu = (int)lround((mx - cx) / u + (w - 1) / 2.0 - 63.5);
  int mv = (int)lround((my - cy) / u + (h - 1) / 2.0 - 63.5);
  best_mark = ncc_at(&t, &img, mu, mv);
  print_message("max NCC: %.3f at a mark, %.3f elsewhere\n", best_mark, best_away);
  assert_true(best_mark > 0.9);
  assert_true(best_away < 0.6);
  pv_image_free(&t);
  pv_image_free(&img);
  pv_scene_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_and_die_marks),
      cmocka_unit_test(nearest_mark_picks_the_closest_die),
      cmocka_unit_test(bad_params_are_refused),
      cmocka_unit_test(template_is_the_clean_mark_view),
      cmocka_unit_test(mark_is_distinctive_within_a_die),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
