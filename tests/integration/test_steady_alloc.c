/* The frame and match path allocates nothing in steady state: after a
 * warm-up, the loop acquire -> lease -> luma -> match runs with zero heap
 * allocations in any thread (the camera thread rendering and publishing
 * included). malloc and friends are interposed here and counted while the
 * window is open. Not built under sanitizers (they own malloc). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probevision/core.h"
#include "sim_station.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_int counting;
static atomic_long allocations;

static void note(void) {
  if (atomic_load_explicit(&counting, memory_order_relaxed))
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
}
void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
  note();
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;
}
void free(void *p) { __libc_free(p); }

static int one_point(sim_station *s, pv_image *luma, int k) {
  double x, y;
  pv_scene_die_mark(s->scene, k % pv_scene_die_count(s->scene), &x, &y);
  int64_t settled;
  if (pv_stage_move_abs(s->stage, x, y, NULL) < 0) return -1;
  if (pv_stage_wait_settled(s->stage, &settled, NULL) < 0) return -1;
  pv_lease lease = {0};
  if (pv_camera_frame_after(s->camera, settled, 5000, &lease) < 0) return -1;
  const pv_frame *f = lease.frame;
  int rc = pv_frame_to_luma(f->data, f->width, f->height, f->stride, f->format, luma);
  pv_match found[16];
  int n = rc < 0 ? rc : pv_matcher_find(s->matcher, luma, found, 16);
  pv_lease_release(&lease);
  return n;
}

static void frame_and_match_path_allocates_nothing(void **state) {
  (void)state;
  sim_station s;
  assert_int_equal(sim_station_open(&s, 1224, 1024), 0);
  pv_image luma;
  assert_int_equal(pv_image_alloc(&luma, s.width, s.height), 0);
  for (int k = 0; k < 5; k++) assert_true(one_point(&s, &luma, k) >= 1); /* warm-up */
  atomic_store(&allocations, 0);
  atomic_store(&counting, 1);
  int found = 0;
  for (int k = 5; k < 25; k++) found += one_point(&s, &luma, k) >= 1;
  atomic_store(&counting, 0);
  assert_int_equal(found, 20);
  /* and the window really counts: one malloc in it is seen */
  long during = atomic_load(&allocations);
  atomic_store(&counting, 1);
  void *volatile probe = malloc(64);
  atomic_store(&counting, 0);
  free(probe);
  assert_int_equal(atomic_load(&allocations), during + 1);
  assert_int_equal(during, 0);
  pv_image_free(&luma);
  sim_station_close(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(frame_and_match_path_allocates_nothing)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
