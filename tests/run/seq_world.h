/* Test fixture of the sequencer tests that run on the default simulated
 * world: `scene` (the default wafer) and `templ` (its die template), made
 * once per test program by group_setup and freed by group_teardown.
 * Include after seq_station.h; static, so each test includes it once. */
#ifndef PV_TEST_SEQ_WORLD_H
#define PV_TEST_SEQ_WORLD_H

static pv_scene *scene;
static pv_image templ;

static int group_setup(void **state) {
  (void)state;
  return seq_world_open(NULL, &scene, &templ);
}

static int group_teardown(void **state) {
  (void)state;
  return seq_world_close(scene, &templ);
}

#endif
