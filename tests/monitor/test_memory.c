/* monitor: pv_mem_usage reports this process's memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/monitor.h"

#define MB (UINT64_C(1) << 20)

static void values_are_plausible(void **state) {
  (void)state;
  uint64_t rss = 0, peak = 0, ram = 0;
  assert_int_equal(pv_mem_usage(&rss, &peak, &ram), PV_OK);
  assert_true(rss >= 256 * 1024); /* a C program with libc mapped */
  assert_true(peak >= rss);
  assert_true(ram > rss);
  assert_int_equal(pv_mem_usage(NULL, NULL, NULL), PV_OK);
  assert_int_equal(pv_mem_usage(&rss, NULL, NULL), PV_OK);
}

static void rss_follows_touched_memory(void **state) {
  (void)state;
  const uint64_t n = 48 * MB;
  uint64_t before, after, peak;
  assert_int_equal(pv_mem_usage(&before, NULL, NULL), PV_OK);
  unsigned char *block = malloc(n);
  assert_non_null(block);
  memset(block, 0xa5, n);
  assert_int_equal(pv_mem_usage(&after, &peak, NULL), PV_OK);
  assert_true(block[n / 2] == 0xa5);
  free(block);
  /* about N more: all of it touched, and not much besides (sanitizer
   * shadow memory adds an eighth) */
  uint64_t grew = after > before ? after - before : 0;
  if (grew < n * 9 / 10 || grew > n * 3 / 2)
    fail_msg("RSS grew by %llu bytes after touching %llu", (unsigned long long)grew,
             (unsigned long long)n);
  assert_true(peak >= after);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(values_are_plausible),
      cmocka_unit_test(rss_follows_touched_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
