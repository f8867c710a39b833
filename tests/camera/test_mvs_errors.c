/* The mvs driver's pure parts (src/camera/mvs_internal.h): the MVS error
 * table (every code has a name, a meaning and one of the driver's classes;
 * MV_E_NODATA is a timeout; unknown codes print in hex), the library loader
 * when nothing is installed (the message names every place tried), and the
 * host-clock exposure estimate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mvs_internal.h"

static void test_every_code_named_and_classed(void **state) {
  (void)state;
  size_t n = pv__mvs_error_count();
  assert_true(n >= 100);
  for (size_t i = 0; i < n; i++) {
    int code = pv__mvs_error_code_at(i);
    assert_true((unsigned)code >= 0x80000000u);
    const char *name = pv__mvs_error_name(code);
    assert_non_null(name);
    assert_memory_equal(name, "MV_E_", 5);
    assert_true(strlen(pv__mvs_error_text(code)) > 3);
    int cls = pv__mvs_error_class(code);
    assert_true(cls == PV_ETIMEDOUT || cls == PV_EINCOMPLETE || cls == PV_EDISCONNECTED ||
                cls == PV_EFATAL || cls == PV_EUNSUPPORTED);
    for (size_t j = 0; j < i; j++) {
      assert_int_not_equal(pv__mvs_error_code_at(j), code);
      assert_string_not_equal(pv__mvs_error_name(pv__mvs_error_code_at(j)), name);
    }
    char buf[160], hex[16];
    snprintf(hex, sizeof hex, "0x%08X", (unsigned)code);
    pv__mvs_error_format(code, buf, sizeof buf);
    assert_non_null(strstr(buf, name));
    assert_non_null(strstr(buf, hex));
  }
}

static void test_classes_of_the_field_codes(void **state) {
  (void)state;
  assert_string_equal(pv__mvs_error_name((int)0x80000007u), "MV_E_NODATA");
  assert_int_equal(pv__mvs_error_class((int)0x80000007u), PV_ETIMEDOUT);
  assert_non_null(strstr(pv__mvs_error_text((int)0x80000007u), "no frame before the deadline"));
  /* only NODATA is a timeout: a timeout escalates by restarts first */
  for (size_t i = 0; i < pv__mvs_error_count(); i++)
    if (pv__mvs_error_code_at(i) != (int)0x80000007u)
      assert_int_not_equal(pv__mvs_error_class(pv__mvs_error_code_at(i)), PV_ETIMEDOUT);
  assert_int_equal(pv__mvs_error_class((int)0x80000206u), PV_EDISCONNECTED); /* NETER */
  assert_int_equal(pv__mvs_error_class((int)0x80000203u), PV_EDISCONNECTED); /* ACCESS_DENIED */
  assert_int_equal(pv__mvs_error_class((int)0x8000001Au), PV_EDISCONNECTED); /* NORESPONSE */
  assert_int_equal(pv__mvs_error_class((int)0x80000300u), PV_EDISCONNECTED); /* USB_READ */
  assert_int_equal(pv__mvs_error_class((int)0x8000000Bu), PV_EINCOMPLETE);   /* ABNORMAL_IMAGE */
  assert_int_equal(pv__mvs_error_class((int)0x80000004u), PV_EFATAL);        /* PARAMETER */
  assert_int_equal(pv__mvs_error_class((int)0x80000001u), PV_EUNSUPPORTED);  /* SUPPORT */
  assert_string_equal(pv__mvs_error_name(0), "MV_OK");
  assert_int_equal(pv__mvs_error_class(0), PV_OK);
}

static void test_unknown_code_prints_hex(void **state) {
  (void)state;
  int code = (int)0x8000ABCDu;
  assert_null(pv__mvs_error_name(code));
  assert_int_equal(pv__mvs_error_class(code), PV_EFATAL);
  char buf[160];
  pv__mvs_error_format(code, buf, sizeof buf);
  assert_non_null(strstr(buf, "0x8000ABCD"));
  assert_non_null(strstr(buf, "unknown"));
}

static void test_missing_library_lists_places(void **state) {
  (void)state;
  unsetenv(PV__MVS_ENV);
  pv__mvs_api api;
  pv_error err = {{0}};
  int rc = pv__mvs_load("/nonexistent/dir/libMvCameraControl.so", &api, &err);
  if (rc == PV_OK) { /* the real SDK is installed here: nothing to check */
    pv__mvs_unload(&api);
    skip();
  }
  assert_int_equal(rc, PV_ENOTFOUND);
  assert_null(api.dl);
  assert_non_null(strstr(err.msg, "/nonexistent/dir/libMvCameraControl.so"));
  assert_non_null(strstr(err.msg, "$PV_MVS_LIBRARY: not set"));
  assert_non_null(strstr(err.msg, "/opt/MVS/lib/64/libMvCameraControl.so"));
  assert_non_null(strstr(err.msg, "/opt/MVS/lib/aarch64/libMvCameraControl.so"));
  assert_non_null(strstr(err.msg, "install MVS"));
  setenv(PV__MVS_ENV, "/nonexistent/env.so", 1);
  rc = pv__mvs_load(NULL, &api, &err);
  assert_int_equal(rc, PV_ENOTFOUND);
  assert_non_null(strstr(err.msg, "camera.mvs_library: not set"));
  assert_non_null(strstr(err.msg, "/nonexistent/env.so"));
  unsetenv(PV__MVS_ENV);
}

static void test_estimate_errs_early_or_is_uncertain(void **state) {
  (void)state;
  int64_t wall = 1700000000000000000LL, mono = 5000000000LL;
  int certain = 0;
  /* received 40 ms ago (stamp truncated to the ms): 40 ms + exposure + latency before now */
  int64_t t = pv__mvs_exposure_estimate_ns((wall - 40 * PV_NS_PER_MS) / PV_NS_PER_MS, wall, mono,
                                           10 * PV_NS_PER_MS, 2 * PV_NS_PER_MS, &certain);
  assert_int_equal(certain, 1);
  assert_true(t <= mono - 52 * PV_NS_PER_MS);
  assert_true(t >= mono - 53 * PV_NS_PER_MS);
  /* a stamp in the future (clock stepped back), none, or very old */
  pv__mvs_exposure_estimate_ns(wall / PV_NS_PER_MS + 5, wall, mono, 0, 0, &certain);
  assert_int_equal(certain, 0);
  pv__mvs_exposure_estimate_ns(0, wall, mono, 0, 0, &certain);
  assert_int_equal(certain, 0);
  pv__mvs_exposure_estimate_ns((wall - 60 * PV_NS_PER_S) / PV_NS_PER_MS, wall, mono, 0, 0,
                               &certain);
  assert_int_equal(certain, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_code_named_and_classed),
      cmocka_unit_test(test_classes_of_the_field_codes),
      cmocka_unit_test(test_unknown_code_prints_hex),
      cmocka_unit_test(test_missing_library_lists_places),
      cmocka_unit_test(test_estimate_errs_early_or_is_uncertain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
