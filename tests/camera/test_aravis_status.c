/* camera/aravis: the pure parts of the aravis driver: every ArvBufferStatus
 * maps onto the worker's classes (only SUCCESS is a good frame), pixel
 * formats map both ways, and the exposure start estimated from a buffer's
 * system timestamp is never later than the true exposure start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aravis_internal.h" /* white-box: src/camera is on this test's include path */

static void only_success_is_a_good_frame(void **state) {
  (void)state;
  assert_int_equal(pv__aravis_status(ARV_BUFFER_STATUS_SUCCESS), PV_OK);
  const ArvBufferStatus partial[] = {
      ARV_BUFFER_STATUS_MISSING_PACKETS, ARV_BUFFER_STATUS_SIZE_MISMATCH,
      ARV_BUFFER_STATUS_ABORTED,         ARV_BUFFER_STATUS_FILLING,
      ARV_BUFFER_STATUS_TIMEOUT,         ARV_BUFFER_STATUS_CLEARED,
      ARV_BUFFER_STATUS_WRONG_PACKET_ID, ARV_BUFFER_STATUS_UNKNOWN};
  for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++)
    assert_int_equal(pv__aravis_status(partial[i]), PV_EINCOMPLETE);
  /* a status a later Aravis might add is not a good frame either */
  assert_int_equal(pv__aravis_status((ArvBufferStatus)42), PV_EINCOMPLETE);
}

static void pixel_formats_round_trip(void **state) {
  (void)state;
  for (int f = 0; f < PV_PIXFMT_COUNT; f++) {
    ArvPixelFormat a = pv__aravis_pixfmt_to_arv((pv_pixfmt)f);
    assert_true(a != 0);
    assert_int_equal(pv__aravis_pixfmt_from_arv(a), f);
  }
  assert_int_equal(pv__aravis_pixfmt_to_arv(PV_PIXFMT_BAYER_BG8), ARV_PIXEL_FORMAT_BAYER_BG_8);
  assert_int_equal(pv__aravis_pixfmt_to_arv(PV_PIXFMT_BAYER_RG8), ARV_PIXEL_FORMAT_BAYER_RG_8);
  assert_int_equal(pv__aravis_pixfmt_from_arv(ARV_PIXEL_FORMAT_MONO_16), -1);
  assert_int_equal(pv__aravis_pixfmt_from_arv(ARV_PIXEL_FORMAT_RGB_8_PACKED), -1);
}

/* A frame exposed at mono time T for E ns, read out and sent for R ns, its
 * leader received at T + E + R: the estimate must not be after T, and not
 * far before it when the allowance matches the link. */
static void exposure_start_is_never_late(void **state) {
  (void)state;
  const int64_t wall_offset = INT64_C(1700000000) * PV_NS_PER_S; /* wall - mono */
  const int64_t t = 5 * PV_NS_PER_S;
  const int64_t e = 10 * PV_NS_PER_MS;
  size_t payloads[] = {512 * 512, 2048 * 2048, 2448 * 2048};
  for (size_t i = 0; i < 3; i++) {
    int64_t allowance = pv__aravis_latency_ns(payloads[i]);
    /* the real transfer at GigE wire speed takes at most payload / 125 MB/s */
    int64_t wire = (int64_t)((double)payloads[i] / 125e6 * 1e9);
    assert_true(allowance >= wire);
    int64_t received = t + e + wire;
    int64_t now = received + 7 * PV_NS_PER_MS; /* popped a bit later */
    int64_t est = pv__aravis_exposure_start_ns((uint64_t)(received + wall_offset),
                                               now + wall_offset, now, e, allowance);
    assert_true(est <= t);
    assert_true(t - est <= allowance - wire + PV_NS_PER_MS);
  }
}

static void clock_corner_cases_stay_early(void **state) {
  (void)state;
  const int64_t mono = 100 * PV_NS_PER_S, wall = INT64_C(1800000000) * PV_NS_PER_S;
  /* a timestamp in the future (wall clock stepped back) counts as now */
  assert_int_equal(pv__aravis_exposure_start_ns((uint64_t)(wall + PV_NS_PER_S), wall, mono, 0, 0),
                   mono);
  /* no timestamp at all (0): the frame looks ancient, never new */
  assert_true(pv__aravis_exposure_start_ns(0, wall, mono, 0, 0) < 0);
  /* negative exposure or allowance are ignored, never move the estimate later */
  assert_int_equal(pv__aravis_exposure_start_ns((uint64_t)wall, wall, mono, -5, -5), mono);
  /* exposure and allowance both subtract */
  assert_int_equal(pv__aravis_exposure_start_ns((uint64_t)(wall - 3), wall, mono, 10, 20),
                   mono - 33);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(only_success_is_a_good_frame),
      cmocka_unit_test(pixel_formats_round_trip),
      cmocka_unit_test(exposure_start_is_never_late),
      cmocka_unit_test(clock_corner_cases_stay_early),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
