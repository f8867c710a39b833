/* sim: fault spec parsing ("NAME:VALUE"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/sim.h"

static void every_spec_sets_its_field_only(void **state) {
  (void)state;
  pv_sim_faults f;
  memset(&f, 0, sizeof f);
  pv_error err;
  assert_int_equal(pv_sim_fault_parse("nodata:0.2", &f, &err), PV_OK);
  assert_true(f.nodata == 0.2);
  assert_int_equal(pv_sim_fault_parse("stall:3", &f, &err), PV_OK);
  assert_true(f.stall_s == 3);
  assert_int_equal(pv_sim_fault_parse("packet-loss:10", &f, &err), PV_OK);
  assert_true(f.packet_loss == 10);
  assert_int_equal(pv_sim_fault_parse("disconnect:2.5", &f, &err), PV_OK);
  assert_true(f.disconnect_s == 2.5);
  assert_int_equal(pv_sim_fault_parse("stage-timeout:0.1", &f, &err), PV_OK);
  assert_true(f.stage_timeout == 0.1);
  assert_int_equal(pv_sim_fault_parse("stage-error:0.05", &f, &err), PV_OK);
  assert_true(f.stage_error == 0.05);
  assert_int_equal(pv_sim_fault_parse("seed:12345678901", &f, &err), PV_OK);
  assert_true(f.seed == UINT64_C(12345678901));
  /* nothing else was touched */
  assert_true(f.nodata == 0.2 && f.stall_s == 3 && f.packet_loss == 10);
}

static void range_bounds_are_inclusive_where_documented(void **state) {
  (void)state;
  pv_sim_faults f;
  memset(&f, 0, sizeof f);
  pv_error err;
  assert_int_equal(pv_sim_fault_parse("nodata:0", &f, &err), PV_OK);
  assert_int_equal(pv_sim_fault_parse("nodata:1", &f, &err), PV_OK);
  assert_true(f.nodata == 1);
  assert_int_equal(pv_sim_fault_parse("packet-loss:1000", &f, &err), PV_OK);
  assert_int_equal(pv_sim_fault_parse("packet-loss:0", &f, &err), PV_OK);
  assert_int_equal(pv_sim_fault_parse("stall:3600", &f, &err), PV_OK);
  assert_int_equal(pv_sim_fault_parse("seed:0", &f, &err), PV_OK);
}

/* Each bad spec is refused, names itself in the message, leaves f alone. */
static void expect_refused(const char *spec, const char *hint) {
  pv_sim_faults f, before;
  memset(&f, 0, sizeof f);
  f.nodata = 0.5;
  f.stall_s = 7;
  f.seed = 9;
  before = f;
  pv_error err = {{0}};
  int rc = pv_sim_fault_parse(spec, &f, &err);
  if (rc != PV_EPARSE) fail_msg("'%s' gave %d, want PV_EPARSE", spec, rc);
  if (strstr(err.msg, spec) == NULL) fail_msg("message for '%s' omits it: %s", spec, err.msg);
  if (hint && strstr(err.msg, hint) == NULL)
    fail_msg("message for '%s' lacks '%s': %s", spec, hint, err.msg);
  assert_memory_equal(&f, &before, sizeof f);
}

static void unknown_names_are_refused(void **state) {
  (void)state;
  expect_refused("nodatum:0.1", "unknown fault 'nodatum'");
  expect_refused("packet_loss:5", "unknown");
  expect_refused("NODATA:0.1", "unknown");
  expect_refused(":0.1", "unknown");
  expect_refused("stall3:1", "unknown");
}

static void missing_colon_is_refused(void **state) {
  (void)state;
  expect_refused("nodata", "NAME:VALUE");
  expect_refused("", "NAME:VALUE");
  expect_refused("stall=3", "NAME:VALUE");
}

static void bad_numbers_are_refused(void **state) {
  (void)state;
  expect_refused("nodata:", "value");
  expect_refused("nodata:x", "not a number");
  expect_refused("stall:3s", "not a number");
  expect_refused("stall:nan", "not a number");
  expect_refused("stall:inf", "not a number");
  expect_refused("packet-loss: 5", "value");
  expect_refused("seed:-1", "non-negative");
  expect_refused("seed:1.5", "not an integer");
  expect_refused("seed:99999999999999999999999", "not an integer");
}

static void out_of_range_is_refused(void **state) {
  (void)state;
  expect_refused("nodata:1.01", "[0,1]");
  expect_refused("nodata:-0.1", "[0,1]");
  expect_refused("stage-error:2", "[0,1]");
  expect_refused("stage-timeout:-1", "[0,1]");
  expect_refused("stall:0", "(0,3600]");
  expect_refused("stall:-2", "(0,3600]");
  expect_refused("disconnect:3601", "(0,3600]");
  expect_refused("packet-loss:1001", "[0,1000]");
  expect_refused("packet-loss:-1", "[0,1000]");
}

/* The GigE Vision camera's timing faults. */
static void timing_faults_parse_and_check_their_ranges(void **state) {
  (void)state;
  pv_sim_faults f;
  memset(&f, 0, sizeof f);
  pv_error err = {{0}};
  assert_int_equal(pv_sim_fault_parse("leader-delay:250", &f, &err), PV_OK);
  assert_true(f.leader_delay_ms == 250);
  assert_int_equal(pv_sim_fault_parse("queue:3", &f, &err), PV_OK);
  assert_true(f.queue_frames == 3 && f.leader_delay_ms == 250 && f.nodata == 0);
  assert_int_equal(pv_sim_fault_parse("leader-delay:10000", &f, &err), PV_OK);
  assert_int_equal(pv_sim_fault_parse("queue:8", &f, &err), PV_OK);
  expect_refused("leader-delay:0", "(0,10000]");
  expect_refused("leader-delay:10001", "(0,10000]");
  expect_refused("queue:0", "1 to 8");
  expect_refused("queue:9", "1 to 8");
  expect_refused("queue:2.5", "1 to 8");
}

static void null_arguments_are_invalid(void **state) {
  (void)state;
  pv_sim_faults f;
  assert_int_equal(pv_sim_fault_parse(NULL, &f, NULL), PV_EINVAL);
  assert_int_equal(pv_sim_fault_parse("nodata:0.1", NULL, NULL), PV_EINVAL);
  assert_int_equal(pv_sim_fault_parse("bogus", &f, NULL), PV_EPARSE); /* err may be NULL */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_spec_sets_its_field_only),
      cmocka_unit_test(range_bounds_are_inclusive_where_documented),
      cmocka_unit_test(unknown_names_are_refused),
      cmocka_unit_test(missing_colon_is_refused),
      cmocka_unit_test(bad_numbers_are_refused),
      cmocka_unit_test(out_of_range_is_refused),
      cmocka_unit_test(timing_faults_parse_and_check_their_ranges),
      cmocka_unit_test(null_arguments_are_invalid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
