/* frame: the pool's buffers are resident from creation on. Without
 * pre-faulting, malloc'd buffers this large are mapped but not backed, and
 * RSS grows when each frame is first written (in a real-time hour, a step
 * of 4.7 MB after 20 minutes). Resident size from pv_mem_usage (VmRSS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/frame.h"
#include "probevision/monitor.h"

/* Resident bytes of this process (the library's own reading, VmRSS). */
static long resident_bytes(void) {
  uint64_t rss = 0;
  assert_int_equal(pv_mem_usage(&rss, NULL, NULL), 0);
  return (long)rss;
}

static void pool_buffers_are_resident_at_creation(void **state) {
  (void)state;
  enum { FRAMES = 4 };
  const size_t capacity = (size_t)2448 * 2048; /* one BayerBG8 frame */
  long before = resident_bytes();
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(FRAMES, capacity, &pool), PV_OK);
  long grown = resident_bytes() - before;
  long want = (long)(0.9 * FRAMES * (double)capacity);
  if (grown < want)
    fail_msg("RSS grew by %ld bytes across the creation of %d x %zu bytes, want >= %ld",
             grown, FRAMES, capacity, want);
  /* Writing every frame now adds (almost) nothing. */
  for (int i = 0; i < FRAMES; i++) {
    pv_frame *f = pv_frame_pool_acquire(pool);
    assert_non_null(f);
    for (size_t k = 0; k < capacity; k++) f->data[k] = (uint8_t)k;
    f->exposure_ns = i + 1;
    pv_frame_pool_publish(pool, f);
  }
  long after_use = resident_bytes() - before;
  assert_true(after_use - grown < (long)(0.1 * FRAMES * (double)capacity));
  pv_frame_pool_destroy(pool);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pool_buffers_are_resident_at_creation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
