/* frame: one writer publishing thousands of patterned frames while readers
 * lease, verify and release them. A reader must never see a torn frame
 * (bytes that disagree with the frame's seq), never see seq go backwards,
 * and every lease must come back. Also run under ThreadSanitizer (suite
 * 'concurrency'). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/frame.h"

enum { FRAMES = 20000, BYTES = 4096, READERS = 3, POOL = 4 };

struct reader {
  pv_frame_pool *pool;
  int hold; /* leases kept at once: >1 provokes drops */
  long seen, torn, backwards;
};

static int frame_is_consistent(const pv_frame *f) {
  uint8_t want = (uint8_t)(f->seq & 0xff);
  if ((int64_t)f->seq != f->exposure_ns || f->size != BYTES) return 0;
  for (size_t i = 0; i < f->size; i++)
    if (f->data[i] != want) return 0;
  return 1;
}

static void *reader_thread(void *arg) {
  struct reader *r = arg;
  pv_lease held[4];
  memset(held, 0, sizeof held);
  int n = 0;
  int64_t last = 0;
  for (;;) {
    pv_lease l;
    int rc = pv_frame_pool_wait(r->pool, last, 200, &l);
    if (rc == PV_ECANCELED) break;
    if (rc != PV_OK) continue;
    r->seen++;
    if ((int64_t)l.frame->seq <= last) r->backwards++;
    last = (int64_t)l.frame->seq;
    if (!frame_is_consistent(l.frame)) r->torn++;
    sched_yield();
    if (!frame_is_consistent(l.frame)) r->torn++; /* still intact later */
    held[n++] = l;
    if (n == r->hold) {
      for (int i = 0; i < n; i++) pv_lease_release(&held[i]);
      n = 0;
    }
  }
  for (int i = 0; i < n; i++) pv_lease_release(&held[i]);
  return NULL;
}

static void readers_never_see_torn_or_old_frames(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(POOL, BYTES, &pool), PV_OK);
  struct reader readers[READERS];
  pthread_t threads[READERS];
  for (int i = 0; i < READERS; i++) {
    readers[i] = (struct reader){pool, i + 1, 0, 0, 0};
    assert_int_equal(pthread_create(&threads[i], NULL, reader_thread, &readers[i]), 0);
  }

  /* The writer: seq is assigned at publish, and as the only writer we know
   * it will be published + 1; the pattern and exposure are derived from it. */
  uint64_t attempts = 0, next = 1;
  while (next <= FRAMES) {
    attempts++;
    pv_frame *f = pv_frame_pool_acquire(pool);
    if (f == NULL) {
      sched_yield();
      continue;
    }
    memset(f->data, (int)(next & 0xff), BYTES);
    f->size = BYTES;
    f->exposure_ns = (int64_t)next;
    pv_frame_pool_publish(pool, f);
    assert_int_equal(f->seq, next);
    next++;
    if (next % 8 == 0) pv_sleep_ns(20000); /* let readers in */
  }
  pv_sleep_ns(20 * PV_NS_PER_MS);
  pv_frame_pool_close(pool);
  long seen = 0;
  for (int i = 0; i < READERS; i++) {
    pthread_join(threads[i], NULL);
    assert_int_equal(readers[i].torn, 0);
    assert_int_equal(readers[i].backwards, 0);
    seen += readers[i].seen;
  }
  assert_true(seen > 0);
  printf("# readers saw %ld leases\n", seen);
  pv_frame_pool_stats st;
  pv_frame_pool_get_stats(pool, &st);
  assert_int_equal(st.leased, 0);
  assert_int_equal(st.published, FRAMES);
  assert_int_equal(st.published + st.dropped, attempts);
  pv_frame_pool_destroy(pool);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(readers_never_see_torn_or_old_frames),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
