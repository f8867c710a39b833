/* run: journals written before the frame columns (schema version 0) or
 * before the contact and die columns (version 1) still open, resume and
 * read: read-only readers see frame_id 0, no margin, no contact height, no
 * die; opening for writing adds the columns in place, keeps every row, and
 * the run goes on recording them. Other shapes are still refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "probevision/run.h"

static char dir[64];

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/pv-migrate-XXXXXX");
  return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static void exec_sql(const char *path, const char *sql) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
  sqlite3_close(db);
}

static int64_t query_int(const char *path, const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* A journal as version 0 wrote it: a running run with point idx 0. */
static void write_v0(const char *path) {
  exec_sql(path,
           "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT,"
           " status TEXT, config_hash TEXT, targets_hash TEXT, config TEXT);"
           "CREATE TABLE points (run_id INTEGER NOT NULL, idx INTEGER NOT NULL, name TEXT,"
           " x_target_um REAL, y_target_um REAL, x_final_um REAL, y_final_um REAL,"
           " residual_um REAL, score REAL, iterations INTEGER, status TEXT,"
           " truth_error_um REAL, measure_output TEXT, error TEXT, started_at TEXT,"
           " finished_at TEXT, PRIMARY KEY (run_id, idx));"
           "INSERT INTO runs VALUES (1, '2026-01-01T00:00:00.000Z', NULL, 'running',"
           " 'aaaa', 'bbbb', '');"
           "INSERT INTO points VALUES (1, 0, 'die-0', 10, 20, 10.5, 20.5, 0.5, 0.9, 2, 'ok',"
           " 0.4, NULL, NULL, '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z');");
}

typedef struct seen {
  int n;
  pv_point_result p[4];
} seen;

static int keep(void *ctx, const pv_point_result *p) {
  seen *s = ctx;
  if (s->n < 4) s->p[s->n] = *p;
  s->n++;
  return 0;
}

static void old_journal_reads_without_migration(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/v0-read.db", dir);
  write_v0(path);
  static seen s;
  memset(&s, 0, sizeof s);
  pv_run_record run;
  pv_error err;
  assert_int_equal(pv_journal_read_run(path, 0, &run, keep, &s, &err), PV_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.p[0].idx, 0);
  assert_int_equal(s.p[0].iterations, 2);
  assert_int_equal(s.p[0].frame_id, 0);
  assert_true(isnan(s.p[0].exposure_margin_ms));
  /* reading did not change the file */
  assert_int_equal(query_int(path, "SELECT count(*) FROM pragma_table_info('points')"), 16);
}

static void old_journal_is_migrated_and_resumes(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/v0-resume.db", dir);
  write_v0(path);
  pv_journal *j;
  pv_error err = {{0}};
  if (pv_journal_open(path, &j, &err) != PV_OK) fail_msg("%s", err.msg);
  int64_t run_id;
  char ch[PV_HASH_HEX], th[PV_HASH_HEX];
  assert_int_equal(pv_journal_last_unfinished(j, &run_id, ch, th, &err), PV_OK);
  assert_int_equal(run_id, 1);
  assert_string_equal(ch, "aaaa");
  pv_target items[2] = {{0, 10, 20, "die-0"}, {1, 30, 20, "die-1"}};
  pv_targets t = {items, 2};
  unsigned char rec[2];
  assert_int_equal(pv_journal_recorded(j, run_id, &t, rec, &err), 1);
  assert_int_equal(rec[0], 1);
  assert_int_equal(rec[1], 0);
  static pv_point_result p;
  memset(&p, 0, sizeof p);
  p.idx = 1;
  p.x_target_um = 30, p.y_target_um = 20;
  p.x_final_um = p.y_final_um = p.residual_um = p.score = p.truth_error_um = NAN;
  p.status = PV_POINT_OK;
  p.iterations = 1;
  p.frame_id = 42;
  p.exposure_margin_ms = 3.5;
  assert_int_equal(pv_journal_record(j, run_id, &p, &err), PV_OK);
  assert_int_equal(pv_journal_finish_run(j, run_id, PV_RUN_FINISHED, &err), PV_OK);
  pv_journal_close(j);
  assert_int_equal(query_int(path, "PRAGMA user_version"), 2);
  assert_int_equal(query_int(path, "SELECT count(*) FROM pragma_table_info('points')"), 22);

  static seen s;
  memset(&s, 0, sizeof s);
  pv_run_record run;
  assert_int_equal(pv_journal_read_run(path, 1, &run, keep, &s, &err), PV_OK);
  assert_string_equal(run.status, "finished");
  assert_int_equal(s.n, 2);
  assert_int_equal(s.p[0].frame_id, 0); /* the old row: no frame recorded */
  assert_true(isnan(s.p[0].exposure_margin_ms));
  assert_float_equal(s.p[0].residual_um, 0.5, 1e-12);
  assert_int_equal(s.p[1].frame_id, 42);
  assert_float_equal(s.p[1].exposure_margin_ms, 3.5, 1e-12);

  /* opened again: nothing more to do */
  assert_int_equal(pv_journal_open(path, &j, &err), PV_OK);
  pv_journal_close(j);
  assert_int_equal(query_int(path, "SELECT count(*) FROM points"), 2);
}

/* A journal as version 1 wrote it: version 0 plus the frame columns. */
static void write_v1(const char *path) {
  write_v0(path);
  exec_sql(path, "ALTER TABLE points ADD COLUMN frame_id INTEGER;"
                 "ALTER TABLE points ADD COLUMN exposure_margin_ms REAL;"
                 "UPDATE points SET frame_id = 7, exposure_margin_ms = 1.25;"
                 "PRAGMA user_version = 1;");
}

static void version_1_reads_and_is_migrated(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/v1.db", dir);
  write_v1(path);
  static seen s;
  memset(&s, 0, sizeof s);
  pv_run_record run;
  pv_error err = {{0}};
  assert_int_equal(pv_journal_read_run(path, 0, &run, keep, &s, &err), PV_OK);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.p[0].frame_id, 7);
  assert_true(isnan(s.p[0].contact_z_um));
  assert_int_equal(s.p[0].has_die, 0);
  assert_int_equal(query_int(path, "SELECT count(*) FROM pragma_table_info('points')"), 18);

  pv_journal *j;
  if (pv_journal_open(path, &j, &err) != PV_OK) fail_msg("%s", err.msg);
  static pv_point_result p;
  memset(&p, 0, sizeof p);
  p.idx = 1;
  p.x_target_um = p.y_target_um = p.x_final_um = p.y_final_um = NAN;
  p.residual_um = p.score = p.truth_error_um = p.exposure_margin_ms = NAN;
  p.status = PV_POINT_OK;
  p.contact_z_um = 10000;
  p.has_die = 1, p.die_col = 3, p.die_row = 4, p.die_site = 0;
  assert_int_equal(pv_journal_record(j, 1, &p, &err), PV_OK);
  int64_t idx = -1;
  int has_die = 0;
  pv_map_die die;
  assert_int_equal(pv_journal_last_point(j, 1, &idx, &has_die, &die, &err), PV_OK);
  assert_int_equal(idx, 1);
  assert_int_equal(has_die, 1);
  assert_int_equal(die.col, 3);
  assert_int_equal(die.row, 4);
  pv_journal_close(j);
  assert_int_equal(query_int(path, "PRAGMA user_version"), 2);
  assert_int_equal(query_int(path, "SELECT count(*) FROM pragma_table_info('points')"), 22);
  assert_int_equal(query_int(path, "SELECT frame_id FROM points WHERE idx = 0"), 7);
  assert_int_equal(query_int(path, "SELECT count(*) FROM points WHERE idx = 0 AND"
                                   " contact_z_um IS NULL AND die_col IS NULL"), 1);
  assert_int_equal(query_int(path, "SELECT count(*) FROM points WHERE idx = 1 AND"
                                   " contact_z_um = 10000 AND die_col = 3 AND die_row = 4"
                                   " AND site = 0"), 1);
  memset(&s, 0, sizeof s);
  assert_int_equal(pv_journal_read_run(path, 1, &run, keep, &s, &err), PV_OK);
  assert_int_equal(s.n, 2);
  assert_float_equal(s.p[1].contact_z_um, 10000, 1e-9);
  assert_int_equal(s.p[1].has_die, 1);
  assert_int_equal(s.p[1].die_row, 4);
}

static void other_shapes_are_still_refused(void **state) {
  (void)state;
  char path[128];
  snprintf(path, sizeof path, "%s/odd.db", dir);
  exec_sql(path, "CREATE TABLE points (run_id INTEGER, idx INTEGER, name TEXT)");
  pv_journal *j = NULL;
  pv_error err = {{0}};
  assert_int_equal(pv_journal_open(path, &j, &err), PV_EDB);
  assert_null(j);
  assert_non_null(strstr(err.msg, "incompatible schema"));
  assert_non_null(strstr(err.msg, path));
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(old_journal_reads_without_migration),
      cmocka_unit_test(old_journal_is_migrated_and_resumes),
      cmocka_unit_test(version_1_reads_and_is_migrated),
      cmocka_unit_test(other_shapes_are_still_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
