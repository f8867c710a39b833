/* The stepper (the real sequencer, aligning real points) and a second
 * reader hammering pv_camera_frame_after at the same time. Run under
 * ThreadSanitizer by the test runner (suite 'concurrency'). Asserts: every
 * point still aligns, the reader's frames never go back in sequence, and
 * every pool frame comes back (no lease left) at the end. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/run.h"
#include "sim_station.h"

typedef struct reader {
  pv_camera *camera;
  atomic_int stop;
  long leases, backwards, errors;
} reader;

static void *hammer(void *arg) {
  reader *r = arg;
  pv_thread_set_name("reader");
  uint64_t last = 0;
  while (!atomic_load(&r->stop)) {
    pv_lease lease = {0};
    int rc = pv_camera_frame_after(r->camera, 0, 1000, &lease);
    if (rc < 0) {
      r->errors++;
      continue;
    }
    if (lease.frame->seq < last) r->backwards++;
    last = lease.frame->seq;
    /* read the whole frame, as a consumer would */
    unsigned sum = 0;
    for (size_t i = 0; i < lease.frame->size; i += 64) sum += lease.frame->data[i];
    (void)sum;
    r->leases++;
    pv_lease_release(&lease);
  }
  return NULL;
}

static void stepper_and_reader_share_the_camera(void **state) {
  (void)state;
  sim_station s;
  assert_int_equal(sim_station_open(&s, 640, 512), 0);
  char db[] = "/tmp/pv-concurrency-XXXXXX";
  int fd = mkstemp(db);
  assert_true(fd >= 0);
  close(fd);
  unlink(db);
  pv_journal *j;
  pv_error err;
  assert_int_equal(pv_journal_open(db, &j, &err), 0);
  int64_t run_id;
  assert_int_equal(pv_journal_begin_run(j, "0", "0", "", &run_id, &err), 0);
  pv_targets t;
  pv_die_grid g = sim_station_grid(&s);
  assert_int_equal(pv_targets_generate(&g, 12, &t), 0);
  pv_sequencer_params sp;
  pv_sequencer_params_default(&sp);
  pv_sequencer_io io = {.cam = s.camera, .stage = s.stage, .matcher = s.matcher,
                        .journal = j, .run_id = run_id};
  pv_sequencer *seq;
  assert_int_equal(pv_sequencer_create(&sp, &io, s.width, s.height, &seq), 0);

  reader r = {.camera = s.camera};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, hammer, &r), 0);
  pv_run_summary sum;
  assert_int_equal(pv_sequencer_run(seq, &t, NULL, 0, t.count, NULL, NULL, NULL, &sum), 0);
  atomic_store(&r.stop, 1);
  pthread_join(th, NULL);

  assert_int_equal(sum.done, 12);
  assert_int_equal(sum.counts[PV_POINT_OK], 12);
  assert_true(sum.min_settle_margin_ns > 0);
  assert_true(r.leases > 10);
  assert_int_equal(r.backwards, 0);
  pv_camera_counters cc;
  pv_camera_get_counters(s.camera, &cc);
  assert_true(cc.ok > 0);

  pv_sequencer_destroy(seq);
  pv_targets_free(&t);
  pv_journal_close(j);
  sim_station_close(&s);
  unlink(db);
  char side[64];
  snprintf(side, sizeof side, "%s-wal", db);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", db);
  unlink(side);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(stepper_and_reader_share_the_camera)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
