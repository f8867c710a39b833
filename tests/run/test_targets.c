/* run: the targets file reader, the demo list and the list hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/run.h"
#include "probevision/scene.h"

static char dir[64];
static char path[128];

/* Writes n bytes of content to a fresh file; returns its path. */
static const char *write_file(const char *content, size_t n) {
  static int seq;
  snprintf(path, sizeof path, "%s/t%d.csv", dir, seq++);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(content, 1, n, f), n);
  fclose(f);
  return path;
}
#define WRITE(s) write_file((s), sizeof(s) - 1)

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/pv-targets-XXXXXX");
  return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void reads_um_file_with_comments_blank_lines_and_crlf(void **state) {
  (void)state;
  const char *p = WRITE("# wafer 7\r\nindex,x_um,y_um,name\r\n\r\n3,250,220.5,first\r\n"
                        "  # skipped\n10, -1e3 ,0,\"second\"\n11,0.25,7,\n");
  pv_targets t;
  pv_error err;
  assert_int_equal(pv_targets_load(p, &t, &err), PV_OK);
  assert_int_equal(t.count, 3);
  assert_int_equal(t.items[0].index, 3);
  assert_true(t.items[0].x_um == 250 && t.items[0].y_um == 220.5);
  assert_string_equal(t.items[0].name, "first");
  assert_int_equal(t.items[1].index, 10);
  assert_true(t.items[1].x_um == -1000 && t.items[1].y_um == 0);
  assert_string_equal(t.items[1].name, "second");
  assert_string_equal(t.items[2].name, "");
  pv_targets_free(&t);
  assert_null(t.items);
  assert_int_equal(t.count, 0);
  pv_targets_free(NULL);
}

static void reads_mm_in_any_column_order_with_quoted_names(void **state) {
  (void)state;
  const char *p = WRITE("name,y_mm,index,x_mm\n\"a, \"\"b\"\"\",0.22,0,1.25\nplain,-2,1,0\n");
  pv_targets t;
  pv_error err;
  assert_int_equal(pv_targets_load(p, &t, &err), PV_OK);
  assert_int_equal(t.count, 2);
  assert_string_equal(t.items[0].name, "a, \"b\"");
  assert_int_equal(t.items[0].index, 0);
  assert_true(t.items[0].x_um == 1250 && t.items[0].y_um == 220);
  assert_true(t.items[1].x_um == 0 && t.items[1].y_um == -2000);
  pv_targets_free(&t);
}

static void hash_depends_on_content_not_units(void **state) {
  (void)state;
  pv_targets a, b, c;
  pv_error err;
  assert_int_equal(pv_targets_load(WRITE("index,x_um,y_um\n1,1500,-250\n2,0,0\n"), &a, &err), 0);
  assert_int_equal(pv_targets_load(WRITE("index,y_mm,x_mm\n1,-0.25,1.5\n2,0,0\n"), &b, &err), 0);
  assert_int_equal(pv_targets_load(WRITE("index,x_um,y_um\n1,1500,-250\n2,0,0.001\n"), &c, &err), 0);
  assert_true(pv_targets_hash(&a) == pv_targets_hash(&b));
  assert_true(pv_targets_hash(&a) != pv_targets_hash(&c));
  char hex[PV_HASH_HEX];
  pv_hash_hex(pv_targets_hash(&a), hex);
  assert_int_equal(strlen(hex), 16);
  pv_targets_free(&a);
  pv_targets_free(&b);
  pv_targets_free(&c);
}

typedef struct bad_case {
  const char *content;
  size_t len;   /* 0: strlen */
  int line;     /* expected line in "path:LINE:", 0: "path: " */
  const char *phrase;
} bad_case;

static void expect_error(const bad_case *c) {
  size_t n = c->len ? c->len : strlen(c->content);
  const char *p = write_file(c->content, n);
  pv_targets t = {(pv_target *)1, 99};
  pv_error err = {""};
  int rc = pv_targets_load(p, &t, &err);
  if (rc != PV_EPARSE || strstr(err.msg, c->phrase) == NULL)
    fail_msg("content %.40s: rc %d, message '%s', want '%s'", c->content, rc,
             err.msg, c->phrase);
  char want[160];
  if (c->line > 0) snprintf(want, sizeof want, "%s:%d: ", p, c->line);
  else snprintf(want, sizeof want, "%s: ", p);
  if (strncmp(err.msg, want, strlen(want)) != 0)
    fail_msg("message '%s' does not start with '%s'", err.msg, want);
  assert_null(t.items);
  assert_int_equal(t.count, 0);
}

static void rejects_malformed_files_naming_the_line(void **state) {
  (void)state;
  static const bad_case cases[] = {
      {"index,x_um,y_um,z\n1,2,3,4\n", 0, 1, "unknown column 'z'"},
      {"# c\nindex,x_um,y_mm\n1,2,3\n", 0, 2, "mixed units"},
      {"index,x_um\n1,2\n", 0, 1, "missing column y"},
      {"x_mm,y_mm\n1,2\n", 0, 1, "missing column index"},
      {"index,x_um,y_um,x_um\n", 0, 1, "duplicate column 'x_um'"},
      {"index,x_um,y_um\n1,2,3\n\n2,3\n", 0, 4, "2 fields, the header has 3"},
      {"index,x_um,y_um\n1,2,3,4\n", 0, 2, "4 fields"},
      {"index,x_um,y_um\n1,2x,3\n", 0, 2, "bad number '2x' in column x_um"},
      {"index,x_mm,y_mm\n1,2,\n", 0, 2, "bad number '' in column y_mm"},
      {"index,x_um,y_um\n1,inf,3\n", 0, 2, "bad number 'inf'"},
      {"index,x_um,y_um\n1,nan,3\n", 0, 2, "bad number 'nan'"},
      {"index,x_um,y_um\n1,1e999,3\n", 0, 2, "bad number '1e999'"},
      {"index,x_um,y_um\n1.5,2,3\n", 0, 2, "bad index '1.5'"},
      {"index,x_um,y_um\nx,2,3\n", 0, 2, "bad index 'x'"},
      {"index,x_um,y_um\n-3,2,3\n", 0, 2, "negative index -3"},
      {"index,x_um,y_um\n7,0,0\n8,0,0\n# c\n7,1,1\n", 0, 5,
       "duplicate index 7 (first at line 2)"},
      {"index,x_um,y_um\n1,2\0,3\n", 23, 2, "binary content"},
      {"\x7f" "ELF\x02\x01\x01", 7, 1, "binary content"},
      {"", 0, 0, "empty file"},
      {"# only\n\n  # comments\n", 0, 0, "empty file"},
      {"index,x_um,y_um\n# none\n", 0, 2, "no targets"},
      {"index,x_um,y_um,name\n1,2,3,\"abc\n", 0, 2, "unbalanced quotes"},
      {"index,x_um,y_um,name\n1,2,3,ab\"c\n", 0, 2, "unbalanced quotes"},
      {"index,x_um,y_um,name\n1,2,3,\"ab\"c\n", 0, 2, "after a closing quote"},
      {"index,x_um,y_um,name\n1,2,3,"
       "0123456789012345678901234567890123456789012345678901234567890123\n",
       0, 2, "name longer than 63"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_error(&cases[i]);

  /* A name of exactly 63 characters is fine. */
  pv_targets t;
  pv_error err;
  assert_int_equal(pv_targets_load(WRITE("index,x_um,y_um,name\n1,2,3,"
      "012345678901234567890123456789012345678901234567890123456789012\n"), &t, &err), 0);
  assert_int_equal(strlen(t.items[0].name), 63);
  pv_targets_free(&t);
}

static void rejects_a_line_over_the_limit(void **state) {
  (void)state;
  static char buf[PV_TARGETS_LINE_MAX + 64];
  int n = snprintf(buf, sizeof buf, "index,x_um,y_um\n1,");
  memset(buf + n, '1', PV_TARGETS_LINE_MAX);
  memcpy(buf + n + PV_TARGETS_LINE_MAX, ",2\n", 3);
  bad_case c = {buf, (size_t)n + PV_TARGETS_LINE_MAX + 3, 2, "line longer than"};
  expect_error(&c);
}

static void rejects_more_than_the_maximum_rows(void **state) {
  (void)state;
  snprintf(path, sizeof path, "%s/big.csv", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("index,x_um,y_um\n", f);
  for (int i = 0; i <= PV_TARGETS_MAX; i++) fprintf(f, "%d,0,0\n", i);
  fclose(f);
  pv_targets t;
  pv_error err;
  assert_int_equal(pv_targets_load(path, &t, &err), PV_EPARSE);
  char want[256];
  snprintf(want, sizeof want, "%s:%d: more than %d targets", path, PV_TARGETS_MAX + 2,
           PV_TARGETS_MAX);
  assert_string_equal(err.msg, want);
}

static void unreadable_file_is_an_io_error(void **state) {
  (void)state;
  pv_targets t;
  pv_error err;
  char p[128];
  snprintf(p, sizeof p, "%s/absent.csv", dir);
  assert_int_equal(pv_targets_load(p, &t, &err), PV_EIO);
  assert_non_null(strstr(err.msg, p));
  assert_int_equal(pv_targets_load(dir, &t, &err) < 0, 1); /* a directory */
}

static void generates_die_marks_in_order_and_revisits(void **state) {
  (void)state;
  pv_wafer_params wp;
  pv_wafer_params_default(&wp);
  wp.cols = 3;
  wp.rows = 2;
  pv_scene *scene;
  assert_int_equal(pv_scene_create(&wp, &scene), 0);
  int dies = pv_scene_die_count(scene);
  assert_int_equal(dies, 6);
  /* the grid of the scene's parameters puts every point on its die's mark */
  pv_die_grid g = {wp.cols, wp.rows, wp.pitch_x_um, wp.pitch_y_um, wp.mark_x_um, wp.mark_y_um};
  pv_targets t;
  assert_int_equal(pv_targets_generate(&g, dies + 2, &t), 0);
  assert_int_equal(t.count, dies + 2);
  for (int i = 0; i < t.count; i++) {
    double x, y;
    assert_int_equal(pv_scene_die_mark(scene, i % dies, &x, &y), 0);
    assert_int_equal(t.items[i].index, i);
    assert_true(t.items[i].x_um == x && t.items[i].y_um == y);
  }
  assert_string_equal(t.items[0].name, "die-0-0");
  assert_string_equal(t.items[4].name, "die-1-1");
  assert_string_equal(t.items[dies + 1].name, "die-1-0");
  assert_true(t.items[dies].x_um == t.items[0].x_um);
  pv_targets_free(&t);
  assert_int_equal(pv_targets_generate(&g, 0, &t), PV_EINVAL);
  assert_null(t.items);
  g.cols = 0;
  assert_int_equal(pv_targets_generate(&g, 1, &t), PV_EINVAL);
  pv_scene_destroy(scene);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reads_um_file_with_comments_blank_lines_and_crlf),
      cmocka_unit_test(reads_mm_in_any_column_order_with_quoted_names),
      cmocka_unit_test(hash_depends_on_content_not_units),
      cmocka_unit_test(rejects_malformed_files_naming_the_line),
      cmocka_unit_test(rejects_a_line_over_the_limit),
      cmocka_unit_test(rejects_more_than_the_maximum_rows),
      cmocka_unit_test(unreadable_file_is_an_io_error),
      cmocka_unit_test(generates_die_marks_in_order_and_revisits),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
