/* config: every value remembers where it came from, so that an error found
 * later (an unreadable template, say) can name the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "probevision/config.h"
#include "tmpfile.h"

static void origins_name_file_line_override_or_default(void **state) {
  (void)state;
  char path[64], where[PV_CONFIG_PATH_CAP + 16], want[96];
  write_tmp_str(path, "# station\n[match]\nthreshold = 0.7\n\n[align]\ntolerance_um = 1.5\n");
  pv_config c;
  pv_config_default(&c);
  pv_error err;
  assert_int_equal(pv_config_load(&c, path, &err), PV_OK);
  assert_int_equal(pv_config_set(&c, "sim.speed", "0", &err), PV_OK);

  assert_true(pv_config_origin(&c, "match.threshold", where, sizeof where) > 0);
  snprintf(want, sizeof want, "%s:3", path);
  assert_string_equal(where, want);
  pv_config_origin(&c, "align.tolerance_um", where, sizeof where);
  snprintf(want, sizeof want, "%s:6", path);
  assert_string_equal(where, want);
  pv_config_origin(&c, "sim.speed", where, sizeof where);
  assert_string_equal(where, "command line");
  pv_config_origin(&c, "camera.buffers", where, sizeof where);
  assert_string_equal(where, "default");
  assert_int_equal(pv_config_origin(&c, "camera.nonsense", where, sizeof where), PV_EINVAL);

  /* a failed load leaves values and origins as they were */
  char bad[64];
  write_tmp_str(bad, "[camera]\nbuffers = 8\nfps = fast\n");
  assert_int_equal(pv_config_load(&c, bad, &err), PV_EPARSE);
  pv_config_origin(&c, "camera.buffers", where, sizeof where);
  assert_string_equal(where, "default");
  assert_int_equal(c.camera_buffers, 4);
  unlink(path);
  unlink(bad);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(origins_name_file_line_override_or_default)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
