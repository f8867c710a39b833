/* run: every point's alignment frame was exposed after that point's last
 * settle, checked against the simulated camera's own records (the truth):
 * in software trigger mode the frame the journal names (frame_id) was
 * produced by a trigger fired after the settle; in continuous mode its true
 * exposure began after the settle. The journal's exposure margin is that
 * frame's. Also with lost triggers (camera nodata faults). */
#include "seq_station.h"

#define W 640
#define H 512

#include "seq_world.h"

typedef struct check {
  station *s;
  pv_acquisition mode;
  int points, aligned;
  uint64_t ids[64];
} check;

/* After each point: its final frame against the camera's records. */
static void on_point(void *ctx, int done, int total, const pv_point_result *p) {
  (void)total;
  check *c = ctx;
  c->points = done;
  if (p->status != PV_POINT_OK) return;
  assert_true(p->iterations >= 1);
  int64_t settled = c->s->settles->last_settled_ns, fired = -1, exposure = -1;
  assert_true(p->frame_id > 0);
  assert_int_equal(pv_sim_camera_frame_record(c->s->sim_cam, p->frame_id, &fired, &exposure),
                   PV_OK);
  if (c->mode == PV_ACQUISITION_SOFTWARE) {
    assert_true(fired > settled);     /* the trigger came after the settle */
    assert_true(exposure >= fired);
  } else {
    assert_int_equal(fired, 0);       /* no trigger: streamed */
  }
  assert_true(exposure > settled);    /* true exposure start after the settle */
  /* the journal's margin is this frame's (TRUTH time: the exposure start) */
  assert_float_equal(p->exposure_margin_ms, (double)(exposure - settled) / 1e6, 1e-6);
  if (c->aligned < 64) c->ids[c->aligned] = p->frame_id;
  c->aligned++;
}

typedef struct readback {
  const check *c;
  int n, ok;
} readback;

static int read_point(void *ctx, const pv_point_result *p) {
  readback *r = ctx;
  if (p->status == PV_POINT_OK) {
    assert_true(r->ok < 64);
    assert_int_equal(p->frame_id, r->c->ids[r->ok]); /* what was used is journalled */
    assert_true(p->exposure_margin_ms > 0);
    r->ok++;
  } else if (p->iterations == 0) {
    assert_int_equal(p->frame_id, 0);
  }
  r->n++;
  return 0;
}

static void run_mode(pv_acquisition mode, double camera_fault, int npoints) {
  seq_setup o;
  seq_setup_default(&o, scene, &templ, W, H);
  o.npoints = npoints;
  o.acquisition = mode;
  o.camera_fault = camera_fault;
  o.record_settles = 1;
  station s;
  station_open(&s, &o);
  pv_camera_info info;
  pv_camera_get_info(s.cam, &info);
  assert_int_equal(info.acquisition, mode);
  check c = {.s = &s, .mode = mode};
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(s.seq, &s.targets, NULL, 0, npoints, on_point, &c, NULL,
                                    &sum), PV_OK);
  assert_int_equal(c.points, npoints);
  if (camera_fault == 0) assert_int_equal(c.aligned, npoints);
  else assert_true(c.aligned >= npoints / 2);
  pv_camera_counters cc;
  pv_camera_get_counters(s.cam, &cc);
  if (mode == PV_ACQUISITION_SOFTWARE) {
    assert_true(cc.triggers >= (uint64_t)sum.frames);
    if (camera_fault > 0) assert_true(cc.lost_triggers > 0);
  } else {
    assert_int_equal(cc.triggers, 0);
  }
  pv_frame_pool_stats ps;
  pv_camera_get_pool_stats(s.cam, &ps);
  assert_int_equal(ps.leased, 0);
  readback r = {&c, 0, 0};
  pv_run_record run;
  pv_error err;
  assert_int_equal(pv_journal_read_run(s.db, s.run_id, &run, read_point, &r, &err), PV_OK);
  assert_int_equal(r.n, npoints);
  assert_int_equal(r.ok, c.aligned);
  print_message("%s, nodata %.1f: %d of %d points aligned, %llu triggers (%llu lost), "
                "min margin %.3f ms\n", pv_acquisition_name(mode), camera_fault, c.aligned,
                npoints, (unsigned long long)cc.triggers, (unsigned long long)cc.lost_triggers,
                (double)sum.min_settle_margin_ns / 1e6);
  station_close(&s);
}

static void software_frames_were_fired_after_the_settle(void **state) {
  (void)state;
  run_mode(PV_ACQUISITION_SOFTWARE, 0, 12);
}

static void software_with_lost_triggers(void **state) {
  (void)state;
  run_mode(PV_ACQUISITION_SOFTWARE, 0.3, 12);
}

static void continuous_frames_were_exposed_after_the_settle(void **state) {
  (void)state;
  run_mode(PV_ACQUISITION_CONTINUOUS, 0, 12);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(software_frames_were_fired_after_the_settle),
      cmocka_unit_test(software_with_lost_triggers),
      cmocka_unit_test(continuous_frames_were_exposed_after_the_settle),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
