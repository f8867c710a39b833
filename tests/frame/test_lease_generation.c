/* frame: leases that cannot be released twice. A lease released twice, or a
 * copy released after the original, is refused (PV_EINVAL, counted, logged
 * once per pool) and never drops a reference another reader holds, even
 * when that reader leased the same frame, or the same slot after it was
 * published again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/frame.h"

static pv_frame *publish(pv_frame_pool *pool, int64_t exposure_ns) {
  pv_frame *f = pv_frame_pool_acquire(pool);
  if (f == NULL) return NULL;
  f->exposure_ns = exposure_ns;
  f->size = 1;
  f->data[0] = (uint8_t)exposure_ns;
  pv_frame_pool_publish(pool, f);
  return f;
}

static pv_frame_pool_stats stats(pv_frame_pool *pool) {
  pv_frame_pool_stats st;
  pv_frame_pool_get_stats(pool, &st);
  return st;
}

/* The writer cycles through every free frame: none of them may be `held`. */
static void writer_never_takes(pv_frame_pool *pool, const pv_frame *held, int64_t t0) {
  for (int k = 0; k < 8; k++) {
    pv_frame *f = publish(pool, t0 + k);
    assert_non_null(f);
    assert_ptr_not_equal(f, held);
  }
}

static void double_release_is_refused(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(3, 8, &pool), PV_OK);
  publish(pool, 1);
  pv_lease a;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &a), PV_OK);
  assert_int_equal(pv_lease_release(&a), PV_OK);
  assert_null(a.frame);
  assert_int_equal(pv_lease_release(&a), PV_EINVAL);
  assert_int_equal(stats(pool).leased, 0);
  assert_int_equal(stats(pool).bad_releases, 1);
  pv_frame_pool_destroy(pool);
}

static void copy_released_after_the_original_is_refused(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(3, 8, &pool), PV_OK);
  publish(pool, 1);
  pv_lease a;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &a), PV_OK);
  pv_lease copy = a;
  assert_int_equal(pv_lease_release(&a), PV_OK);
  assert_int_equal(pv_lease_release(&copy), PV_EINVAL);
  assert_int_equal(stats(pool).leased, 0);
  pv_frame_pool_destroy(pool);
}

/* Two readers lease the same published frame; a copy of the first one's
 * lease, released after the original, must not take the second's. */
static void stale_copy_spares_a_reader_of_the_same_frame(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(3, 8, &pool), PV_OK);
  publish(pool, 7);
  pv_lease a, b;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &a), PV_OK);
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &b), PV_OK);
  assert_ptr_equal(a.frame, b.frame);
  pv_lease copy = a;
  assert_int_equal(pv_lease_release(&a), PV_OK);
  assert_int_equal(pv_lease_release(&copy), PV_EINVAL);
  assert_int_equal(stats(pool).leased, 1);
  writer_never_takes(pool, b.frame, 100);
  assert_int_equal(b.frame->data[0], 7);
  assert_int_equal(b.frame->exposure_ns, 7);
  assert_int_equal(pv_lease_release(&b), PV_OK);
  assert_int_equal(stats(pool).leased, 0);
  pv_frame_pool_destroy(pool);
}

/* The copy's slot is written again and leased by another reader: the stale
 * copy must not drop that reader's reference. */
static void stale_copy_spares_the_slot_re_leased_by_another(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(2, 8, &pool), PV_OK);
  pv_frame *first = publish(pool, 10);
  pv_lease a;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &a), PV_OK);
  pv_lease copy = a;
  assert_int_equal(pv_lease_release(&a), PV_OK);
  /* Publish until the same slot holds a new frame, then lease it. */
  pv_frame *again = NULL;
  for (int64_t t = 11; t < 20 && again != first; t++) again = publish(pool, t);
  assert_ptr_equal(again, first);
  int64_t exposure = again->exposure_ns;
  pv_lease b;
  assert_int_equal(pv_frame_pool_wait(pool, exposure - 1, 0, &b), PV_OK);
  assert_ptr_equal(b.frame, copy.frame);
  assert_int_equal(b.slot, copy.slot);
  assert_int_equal(pv_lease_release(&copy), PV_EINVAL);
  assert_int_equal(stats(pool).leased, 1);
  /* b's frame stays leased and intact while the writer goes on. */
  for (int k = 0; k < 6; k++) {
    pv_frame *f = publish(pool, 100 + k);
    assert_non_null(f);
    assert_ptr_not_equal(f, b.frame);
  }
  assert_int_equal(b.frame->exposure_ns, exposure);
  assert_int_equal(b.frame->data[0], (uint8_t)exposure);
  assert_int_equal(pv_lease_release(&b), PV_OK);
  assert_int_equal(stats(pool).leased, 0);
  assert_int_equal(stats(pool).bad_releases, 1);
  pv_frame_pool_destroy(pool);
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

static void refused_releases_are_logged_once_per_pool(void **state) {
  (void)state;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  pv_log_set_stream(mem);
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(2, 8, &pool), PV_OK);
  publish(pool, 1);
  for (int i = 0; i < 3; i++) {
    pv_lease a;
    assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &a), PV_OK);
    assert_int_equal(pv_lease_release(&a), PV_OK);
    assert_int_equal(pv_lease_release(&a), PV_EINVAL);
  }
  assert_int_equal(stats(pool).bad_releases, 3);
  pv_frame_pool_destroy(pool);
  pv_log_set_stream(NULL);
  fclose(mem);
  assert_int_equal(count(buf, "[ERROR] frame pool: lease"), 1);
  assert_int_equal(count(buf, "released twice"), 1);
  free(buf);
}

/* Each lease holds one of PV_FRAME_POOL_MAX_LEASES records: when all are
 * held, a wait is refused (PV_EBUSY) instead of sharing one. */
static void leases_beyond_the_table_are_refused(void **state) {
  (void)state;
  pv_frame_pool *pool;
  assert_int_equal(pv_frame_pool_create(2, 8, &pool), PV_OK);
  publish(pool, 1);
  static pv_lease held[PV_FRAME_POOL_MAX_LEASES];
  for (int i = 0; i < PV_FRAME_POOL_MAX_LEASES; i++)
    assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &held[i]), PV_OK);
  pv_lease extra;
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &extra), PV_EBUSY);
  assert_null(extra.frame);
  assert_int_equal(pv_lease_release(&extra), PV_OK); /* zeroed: no-op */
  assert_int_equal(pv_lease_release(&held[0]), PV_OK);
  assert_int_equal(pv_frame_pool_wait(pool, 0, 0, &extra), PV_OK);
  assert_int_equal(pv_lease_release(&extra), PV_OK);
  for (int i = 1; i < PV_FRAME_POOL_MAX_LEASES; i++)
    assert_int_equal(pv_lease_release(&held[i]), PV_OK);
  assert_int_equal(stats(pool).leased, 0);
  assert_int_equal(stats(pool).bad_releases, 0);
  pv_frame_pool_destroy(pool);
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(double_release_is_refused),
      cmocka_unit_test(copy_released_after_the_original_is_refused),
      cmocka_unit_test(stale_copy_spares_a_reader_of_the_same_frame),
      cmocka_unit_test(stale_copy_spares_the_slot_re_leased_by_another),
      cmocka_unit_test(refused_releases_are_logged_once_per_pool),
      cmocka_unit_test(leases_beyond_the_table_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
