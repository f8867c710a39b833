/* image: pv_image_alloc'd images are resident from allocation on (calloc
 * of a large image maps pages that would be backed only when written).
 * Resident size from pv_mem_usage (VmRSS). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/image.h"
#include "probevision/monitor.h"

/* Resident bytes of this process (the library's own reading, VmRSS). */
static long resident_bytes(void) {
  uint64_t rss = 0;
  assert_int_equal(pv_mem_usage(&rss, NULL, NULL), 0);
  return (long)rss;
}

static void allocated_image_is_resident_and_zero(void **state) {
  (void)state;
  enum { W = 4096, H = 3000 };
  long before = resident_bytes();
  pv_image img;
  assert_int_equal(pv_image_alloc(&img, W, H), PV_OK);
  long grown = resident_bytes() - before;
  long want = (long)(0.9 * W * (double)H);
  if (grown < want)
    fail_msg("RSS grew by %ld bytes across pv_image_alloc of %d bytes, want >= %ld", grown,
             W * H, want);
  for (size_t i = 0; i < (size_t)W * H; i += 4093) assert_int_equal(img.data[i], 0);
  assert_int_equal(img.data[(size_t)W * H - 1], 0);
  pv_image_free(&img);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(allocated_image_is_resident_and_zero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
