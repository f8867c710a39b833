/* frame: the pool's leases, drops, newer-than waits, timeouts and close. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/frame.h"

/* Acquires, stamps and publishes one frame; returns it (NULL on a drop). */
static pv_frame *publish(pv_frame_pool *pool, int64_t exposure_ns) {
  pv_frame *f = pv_frame_pool_acquire(pool);
  if (f == NULL) return NULL;
  f->exposure_ns = exposure_ns;
  f->size = 1;
  f->data[0] = (uint8_t)exposure_ns;
  pv_frame_pool_publish(pool, f);
  return f;
}

static void create_rejects_bad_sizes(void **state) {
  (void)state;
  pv_frame_pool *pool = (pv_frame_pool *)1;
  assert_int_equal(pv_frame_pool_create(1, 16, &pool), PV_EINVAL);
  assert_null(pool);
  assert_int_equal(pv_frame_pool_create(PV_FRAME_POOL_MAX + 1, 16, &pool), PV_EINVAL);
  assert_int_equal(pv_frame_pool_create(2, 0, &pool), PV_EINVAL);
  pv_frame_pool_destroy(NULL);
}

static void publish_assigns_increasing_seq(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(3, 64, &pool), PV_OK);
  uint64_t last = 0;
  for (int i = 1; i <= 10; i++) {
    pv_frame *f = publish(pool, i);
    assert_non_null(f);
    assert_true(f->seq > last);
    assert_int_equal(f->capacity, 64);
    last = f->seq;
  }
  pv_frame_pool_stats st;
  pv_frame_pool_get_stats(pool, &st);
  assert_int_equal(st.published, 10);
  assert_int_equal(st.dropped, 0);
  assert_int_equal(st.count, 3);
  pv_frame_pool_destroy(pool);
}

/* With N frames and N-1 leases the writer still gets a frame; with all N
 * leased it gets NULL, counts a drop, and never hands out a leased frame. */
static void leases_block_reuse(void **state) {
  (void)state;
  enum { N = 4 };
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(N, 8, &pool), PV_OK);
  pv_lease leases[N];
  for (int i = 0; i < N; i++) {
    pv_frame *f = publish(pool, 100 + i);
    assert_non_null(f);
    for (int j = 0; j < i; j++) assert_ptr_not_equal(f, leases[j].frame);
    assert_int_equal(pv_frame_pool_wait(pool, 100 + i - 1, 0, &leases[i]), PV_OK);
    assert_ptr_equal(leases[i].frame, f);
  }
  pv_frame_pool_stats st;
  pv_frame_pool_get_stats(pool, &st);
  assert_int_equal(st.leased, N);
  assert_null(pv_frame_pool_acquire(pool));
  assert_null(pv_frame_pool_acquire(pool));
  pv_frame_pool_get_stats(pool, &st);
  assert_int_equal(st.dropped, 2);

  /* Leased frames keep their content while the writer cycles the rest. */
  assert_int_equal(pv_lease_release(&leases[1]), PV_OK);
  assert_null(leases[1].frame);
  pv_lease none = {0};
  assert_int_equal(pv_lease_release(&none), PV_OK); /* zeroed lease: no-op */
  for (int k = 0; k < 5; k++) {
    pv_frame *f = publish(pool, 200 + k);
    assert_non_null(f);
    for (int j = 0; j < N; j++)
      if (j != 1) assert_ptr_not_equal(f, leases[j].frame);
  }
  for (int j = 0; j < N; j++)
    if (j != 1) assert_int_equal(leases[j].frame->data[0], (uint8_t)(100 + j));
  for (int j = 0; j < N; j++)
    if (j != 1) assert_int_equal(pv_lease_release(&leases[j]), PV_OK);
  pv_frame_pool_get_stats(pool, &st);
  assert_int_equal(st.leased, 0);
  assert_int_equal(st.bad_releases, 0);
  pv_frame_pool_destroy(pool);
}

/* When the only free frame is the latest, the writer takes it and readers
 * cannot lease it while it is written. */
static void latest_is_not_leasable_while_rewritten(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(2, 8, &pool), PV_OK);
  publish(pool, 10);
  pv_lease a;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &a), PV_OK);
  publish(pool, 20); /* the other frame, now latest and unleased */
  pv_frame *w = pv_frame_pool_acquire(pool);
  assert_non_null(w);
  assert_ptr_not_equal(w, a.frame);
  pv_lease b;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &b), PV_ETIMEDOUT);
  w->exposure_ns = 30;
  pv_frame_pool_publish(pool, w);
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &b), PV_OK);
  assert_int_equal(b.frame->exposure_ns, 30);
  /* A discarded frame is free again but not published. */
  pv_lease_release(&b);
  pv_frame *d = pv_frame_pool_acquire(pool);
  assert_non_null(d);
  pv_frame_pool_discard(pool, d);
  pv_frame_pool_stats st;
  pv_frame_pool_get_stats(pool, &st);
  assert_int_equal(st.published, 3);
  pv_lease_release(&a);
  pv_frame_pool_destroy(pool);
}

static void newer_than_is_respected_and_times_out(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(3, 8, &pool), PV_OK);
  pv_lease l;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 20, &l), PV_ETIMEDOUT);
  assert_null(l.frame);
  publish(pool, 1000);
  assert_int_equal(pv_frame_pool_wait(pool, 1000, 20, &l), PV_ETIMEDOUT);
  assert_int_equal(pv_frame_pool_wait(pool, 999, 20, &l), PV_OK);
  assert_int_equal(l.frame->exposure_ns, 1000);
  pv_lease_release(&l);
  publish(pool, 1001);
  assert_int_equal(pv_frame_pool_wait(pool, 1000, 20, &l), PV_OK);
  assert_int_equal(l.frame->exposure_ns, 1001);
  pv_lease_release(&l);
  pv_frame_pool_destroy(pool);
}

struct waiter {
  pv_frame_pool *pool;
  int64_t newer_than;
  int rc;
  int64_t exposure;
};

static void *wait_thread(void *arg) {
  struct waiter *w = arg;
  pv_lease l;
  w->rc = pv_frame_pool_wait(w->pool, w->newer_than, 10000, &l);
  if (w->rc == PV_OK) {
    w->exposure = l.frame->exposure_ns;
    pv_lease_release(&l);
  }
  return NULL;
}

static void waiter_wakes_on_a_newer_frame(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(3, 8, &pool), PV_OK);
  publish(pool, 5);
  struct waiter w = {pool, 5, 1, 0};
  pthread_t t;
  pthread_create(&t, NULL, wait_thread, &w);
  pv_sleep_ns(5 * PV_NS_PER_MS);
  publish(pool, 4); /* not newer: keeps waiting */
  publish(pool, 6);
  pthread_join(t, NULL);
  assert_int_equal(w.rc, PV_OK);
  assert_int_equal(w.exposure, 6);
  pv_frame_pool_destroy(pool);
}

static void close_cancels_waiters(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(2, 8, &pool), PV_OK);
  struct waiter w[3];
  pthread_t t[3];
  for (int i = 0; i < 3; i++) {
    w[i] = (struct waiter){pool, 0, 1, 0};
    pthread_create(&t[i], NULL, wait_thread, &w[i]);
  }
  pv_sleep_ns(10 * PV_NS_PER_MS);
  pv_frame_pool_close(pool);
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].rc, PV_ECANCELED);
  }
  pv_lease l;
  publish(pool, 1);
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &l), PV_ECANCELED);
  pv_frame_pool_destroy(pool);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(create_rejects_bad_sizes),
      cmocka_unit_test(publish_assigns_increasing_seq),
      cmocka_unit_test(leases_block_reuse),
      cmocka_unit_test(latest_is_not_leasable_while_rewritten),
      cmocka_unit_test(newer_than_is_respected_and_times_out),
      cmocka_unit_test(waiter_wakes_on_a_newer_frame),
      cmocka_unit_test(close_cancels_waiters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
