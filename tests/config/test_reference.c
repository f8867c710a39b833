/* config: the Markdown reference documents every key of the dump, with
 * the default the dump shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/config.h"

/* The reference text, in a static buffer (it is a few kB). */
static char *reference_text(void) {
  static char text[1 << 16];
  FILE *f = tmpfile();
  assert_non_null(f);
  pv_config_write_reference(f);
  rewind(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  assert_true(n > 0 && n < sizeof text - 1);
  text[n] = '\0';
  return text;
}

static int count_lines_starting(const char *text, const char *prefix) {
  int n = 0;
  for (const char *p = text; p != NULL && *p != '\0';) {
    if (strncmp(p, prefix, strlen(prefix)) == 0) n++;
    p = strchr(p, '\n');
    if (p != NULL) p++;
  }
  return n;
}

static void reference_lists_every_dumped_key_with_its_default(void **state) {
  (void)state;
  char *ref = reference_text();
  assert_true(strncmp(ref, "| key | default | range | meaning |\n| --- |", 42) == 0);
  pv_config c;
  pv_config_default(&c);
  static char dump[PV_CONFIG_DUMP_CAP];
  assert_true(pv_config_dump(&c, 0, dump, sizeof dump) > 0);

  char section[64] = "";
  int keys = 0;
  for (char *line = strtok(dump, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    if (line[0] == '[') {
      snprintf(section, sizeof section, "%.*s", (int)strlen(line) - 2, line + 1);
      continue;
    }
    char *eq = strstr(line, " = ");
    assert_non_null(eq);
    *eq = '\0';
    char row[256];
    snprintf(row, sizeof row, "| `%s.%s` | `%s` | ", section, line, eq + 3);
    if (strstr(ref, row) == NULL) fail_msg("reference lacks row starting %s", row);
    keys++;
  }
  assert_true(keys >= 55); /* the keys listed in the design brief */
  /* exactly one row per key (plus the header row) */
  assert_int_equal(count_lines_starting(ref, "| `"), keys);
  assert_int_equal(count_lines_starting(ref, "| "), keys + 2);
}

static void reference_shows_ranges_and_volatility(void **state) {
  (void)state;
  char *ref = reference_text();
  assert_non_null(strstr(ref, "| `camera.width` | `2448` | 16..16384 | "));
  assert_non_null(strstr(ref, "| `camera.pixel_format` | `BayerBG8` | Mono8, BayerBG8, "));
  const char *speed = strstr(ref, "| `sim.speed` |");
  assert_non_null(speed);
  const char *eol = strchr(speed, '\n');
  const char *vol = strstr(speed, "volatile");
  assert_true(vol != NULL && vol < eol);
  const char *seed = strstr(ref, "| `sim.seed` |");
  assert_non_null(seed);
  vol = strstr(seed, "volatile");
  assert_true(vol == NULL || vol > strchr(seed, '\n'));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reference_lists_every_dumped_key_with_its_default),
      cmocka_unit_test(reference_shows_ranges_and_volatility),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
