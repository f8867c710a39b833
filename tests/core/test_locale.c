/* Locale-proof numbers: in a process that set a comma-decimal locale
 * (setlocale(LC_ALL, "de_DE.UTF-8"), as a host program embedding the
 * library would), everything that crosses a boundary still reads and writes
 * '.': the helpers themselves, the SENTIO codec (move command, reply with
 * decimals), the targets CSV, and the configuration (set, load, dump).
 * Skipped when the locale is not installed (Debian: locales-all). */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/config.h"
#include "probevision/core.h"
#include "probevision/run.h"
#include "probevision/sentio.h"

static int comma_locale(void **state) {
  (void)state;
  if (setlocale(LC_ALL, "de_DE.UTF-8") == NULL) return 0; /* each test skips */
  return 0;
}

/* Skips unless the comma locale is in force; then plain printf says "0,25". */
static void need_comma_locale(void) {
  const char *name = setlocale(LC_NUMERIC, NULL);
  if (name == NULL || strcmp(name, "de_DE.UTF-8") != 0) {
    print_message("de_DE.UTF-8 not installed (Debian: locales-all): skipped\n");
    skip();
  }
  char plain[16];
  snprintf(plain, sizeof plain, "%.2f", 0.25);
  assert_string_equal(plain, "0,25"); /* the locale really is comma-decimal */
}

static void write_tmp(char *path, const char *text) {
  strcpy(path, "/tmp/pv-locale-test-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t n = strlen(text);
  assert_int_equal(write(fd, text, n), (ssize_t)n);
  close(fd);
}

static void helpers_use_a_point(void **state) {
  (void)state;
  need_comma_locale();
  char buf[64];
  assert_int_equal(pv_snprintf_c(buf, sizeof buf, "%.3f|%g|%.1e", 1234.5, 0.25, 1.5e-7), 21);
  assert_string_equal(buf, "1234.500|0.25|1.5e-07");
  char *end;
  assert_true(pv_strtod_c("0.25", &end) == 0.25);
  assert_string_equal(end, "");
  assert_true(pv_strtod_c("-1.5e3x", &end) == -1500.0);
  assert_string_equal(end, "x");
  pv_strtod_c("0,25", &end); /* a comma is not a decimal separator here */
  assert_string_equal(end, ",25");

  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  assert_non_null(f);
  pv_fprintf_c(f, "%.2f", 2.5);
  fclose(f);
  assert_string_equal(mem, "2.50");
  free(mem);

  pv_c_locale_scope outer = pv_c_locale_begin(); /* scopes nest and restore */
  pv_c_locale_scope inner = pv_c_locale_begin();
  snprintf(buf, sizeof buf, "%.1f", 0.5);
  assert_string_equal(buf, "0.5");
  pv_c_locale_end(inner);
  snprintf(buf, sizeof buf, "%.1f", 0.5);
  assert_string_equal(buf, "0.5");
  pv_c_locale_end(outer);
  snprintf(buf, sizeof buf, "%.1f", 0.5);
  assert_string_equal(buf, "0,5"); /* the host's locale is back */
}

static void sentio_codec_uses_a_point(void **state) {
  (void)state;
  need_comma_locale();
  char cmd[128];
  int n = pv_sentio_format_move(cmd, sizeof cmd, "Zero", 1250.25, -220.5);
  assert_string_equal(cmd, "move_chuck_xy Zero, 1250.250, -220.500");
  assert_int_equal(n, (int)strlen(cmd));
  assert_int_equal(pv_sentio_format_move(cmd, 10, "Zero", 1.0, 2.0), -1);

  const char *line = "0,0,1250.250,-220.5";
  pv_sentio_reply r;
  assert_int_equal(pv_sentio_parse_reply(line, strlen(line), "peer:1", &r, NULL), PV_OK);
  double x = 0, y = 0;
  assert_int_equal(pv_sentio_parse_xy(r.msg, &x, &y), 0);
  assert_true(x == 1250.25);
  assert_true(y == -220.5);
  assert_int_equal(pv_sentio_parse_number("0,5", 3, &x), -1); /* never a decimal comma */
}

static void targets_csv_uses_a_point(void **state) {
  (void)state;
  need_comma_locale();
  char path[64];
  write_tmp(path, "index,x_mm,y_mm,name\n0,0.25,0.5,a\n1,1.25,-0.125,b\n");
  pv_targets t = {0};
  pv_error err = {""};
  int rc = pv_targets_load(path, &t, &err);
  unlink(path);
  assert_int_equal(rc, PV_OK);
  assert_int_equal(t.count, 2);
  assert_true(t.items[0].x_um == 250.0 && t.items[0].y_um == 500.0);
  assert_true(t.items[1].x_um == 1250.0 && t.items[1].y_um == -125.0);
  uint64_t h = pv_targets_hash(&t); /* the same hash as under "C" */
  setlocale(LC_NUMERIC, "C");
  uint64_t h_c = pv_targets_hash(&t);
  setlocale(LC_NUMERIC, "de_DE.UTF-8");
  assert_true(h == h_c);
  pv_targets_free(&t);
}

static void config_set_load_dump_use_a_point(void **state) {
  (void)state;
  need_comma_locale();
  pv_config c;
  pv_config_default(&c);
  pv_error err = {""};
  assert_int_equal(pv_config_set(&c, "align.tolerance_um", "0.25", &err), PV_OK);
  assert_true(c.align_tolerance_um == 0.25);
  assert_int_equal(pv_config_set(&c, "align.tolerance_um", "0,25", &err), PV_EPARSE);
  assert_true(c.align_tolerance_um == 0.25); /* unchanged on error */

  char path[64];
  write_tmp(path, "[sim]\ngradient = 0.125\n");
  int rc = pv_config_load(&c, path, &err);
  unlink(path);
  assert_int_equal(rc, PV_OK);
  assert_true(c.sim_gradient == 0.125);

  static char dump[PV_CONFIG_DUMP_CAP];
  assert_true(pv_config_dump(&c, 0, dump, sizeof dump) > 0);
  assert_non_null(strstr(dump, "\ntolerance_um = 0.25\n"));
  assert_non_null(strstr(dump, "\ngradient = 0.125\n"));
  assert_non_null(strstr(dump, "\nmin_score = 0.6\n"));
  uint64_t h = pv_config_hash(&c);
  setlocale(LC_NUMERIC, "C");
  assert_true(pv_config_hash(&c) == h); /* the journal's identity holds */
  setlocale(LC_NUMERIC, "de_DE.UTF-8");

  write_tmp(path, dump); /* the dump loads back as an equal configuration */
  pv_config back;
  pv_config_default(&back);
  rc = pv_config_load(&back, path, &err);
  unlink(path);
  assert_int_equal(rc, PV_OK);
  assert_true(pv_config_hash(&back) == h);
  assert_true(back.align_tolerance_um == 0.25 && back.sim_gradient == 0.125);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(helpers_use_a_point),
      cmocka_unit_test(sentio_codec_uses_a_point),
      cmocka_unit_test(targets_csv_uses_a_point),
      cmocka_unit_test(config_set_load_dump_use_a_point),
  };
  return cmocka_run_group_tests(tests, comma_locale, NULL);
}
