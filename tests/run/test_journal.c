/* run: the SQLite results journal. The database is inspected with plain
 * sqlite3 calls, independent of the journal's own statements. */
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

static const char *db_path(const char *name) {
  static char p[128];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return p;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/pv-journal-XXXXXX");
  return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* The first column of the first row of sql as text ("NULL" for NULL). */
static void query(const char *path, const char *sql, char *out, size_t cap) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
  else
    snprintf(out, cap, rc == SQLITE_ROW ? "NULL" : "NO ROW");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

static pv_point_result point(int64_t idx, pv_point_status status) {
  pv_point_result p;
  memset(&p, 0, sizeof p);
  p.idx = idx;
  snprintf(p.name, sizeof p.name, "die-%d", (int)idx);
  p.x_target_um = 100.0 * (double)idx;
  p.y_target_um = -50;
  p.x_final_um = p.x_target_um + 0.5;
  p.y_final_um = -49.5;
  p.residual_um = 0.75;
  p.score = 0.93;
  p.iterations = 2;
  p.status = status;
  p.truth_error_um = NAN;
  p.started_wall_ns = INT64_C(1760603412) * PV_NS_PER_S + 345 * PV_NS_PER_MS;
  p.finished_wall_ns = p.started_wall_ns + 1500 * PV_NS_PER_MS;
  return p;
}

static void creates_the_schema_in_wal_mode(void **state) {
  (void)state;
  const char *p = db_path("schema.db");
  pv_journal *j;
  pv_error err;
  assert_int_equal(pv_journal_open(p, &j, &err), PV_OK);
  pv_journal_close(j);
  char buf[512];
  query(p, "PRAGMA journal_mode", buf, sizeof buf);
  assert_string_equal(buf, "wal");
  query(p, "SELECT group_concat(name, ',') FROM pragma_table_info('runs')", buf, sizeof buf);
  assert_string_equal(buf, "id,started_at,finished_at,status,config_hash,targets_hash,config");
  query(p, "SELECT group_concat(name, ',') FROM pragma_table_info('points')", buf, sizeof buf);
  assert_string_equal(buf, "run_id,idx,name,x_target_um,y_target_um,x_final_um,y_final_um,"
                           "residual_um,score,iterations,status,truth_error_um,measure_output,"
                           "error,started_at,finished_at,frame_id,exposure_margin_ms,contact_z_um,"
                           "die_col,die_row,site");
  query(p, "SELECT group_concat(name, ',') FROM pragma_table_info('points') WHERE pk > 0",
        buf, sizeof buf);
  assert_string_equal(buf, "run_id,idx");
  /* Reopening an existing journal works. */
  assert_int_equal(pv_journal_open(p, &j, &err), PV_OK);
  pv_journal_close(j);
  pv_journal_close(NULL);
}

static void records_a_point_with_nulls_and_refuses_a_second_record(void **state) {
  (void)state;
  const char *p = db_path("record.db");
  pv_journal *j;
  pv_error err;
  int64_t run;
  assert_int_equal(pv_journal_open(p, &j, &err), 0);
  assert_int_equal(pv_journal_begin_run(j, "00000000000000aa", "00000000000000bb",
                                        "[align]\ntolerance_um = 2\n", &run, &err), 0);
  pv_point_result a = point(4, PV_POINT_OK);
  assert_int_equal(pv_journal_record(j, run, &a, &err), 0);
  pv_point_result b = point(5, PV_POINT_MEASURE_FAILED);
  b.truth_error_um = 1.25;
  b.residual_um = NAN;
  b.measured = 1;
  snprintf(b.measure_output, sizeof b.measure_output, "V=1.2\n");
  snprintf(b.error, sizeof b.error, "exit 3");
  assert_int_equal(pv_journal_record(j, run, &b, &err), 0);

  pv_point_result again = point(4, PV_POINT_NO_MATCH);
  assert_int_equal(pv_journal_record(j, run, &again, &err), PV_ECONFLICT);
  assert_non_null(strstr(err.msg, p));
  pv_journal_close(j);

  char buf[256];
  query(p, "SELECT status FROM points WHERE idx = 4", buf, sizeof buf);
  assert_string_equal(buf, "ok"); /* not replaced */
  query(p, "SELECT count(*) FROM points", buf, sizeof buf);
  assert_string_equal(buf, "2");
  query(p, "SELECT truth_error_um FROM points WHERE idx = 4", buf, sizeof buf);
  assert_string_equal(buf, "NULL");
  query(p, "SELECT measure_output FROM points WHERE idx = 4", buf, sizeof buf);
  assert_string_equal(buf, "NULL");
  query(p, "SELECT error FROM points WHERE idx = 4", buf, sizeof buf);
  assert_string_equal(buf, "NULL");
  query(p, "SELECT started_at || ' ' || finished_at FROM points WHERE idx = 4", buf, sizeof buf);
  assert_string_equal(buf, "2025-10-16T08:30:12.345Z 2025-10-16T08:30:13.845Z");
  query(p, "SELECT residual_um IS NULL AND truth_error_um = 1.25 AND status = 'measure_failed'"
           " AND measure_output = 'V=1.2\n' AND error = 'exit 3' FROM points WHERE idx = 5",
        buf, sizeof buf);
  assert_string_equal(buf, "1");
  query(p, "SELECT name || ' ' || iterations || ' ' || x_final_um FROM points WHERE idx = 4",
        buf, sizeof buf);
  assert_string_equal(buf, "die-4 2 400.5");
  query(p, "SELECT status || ' ' || config_hash || ' ' || targets_hash FROM runs", buf,
        sizeof buf);
  assert_string_equal(buf, "running 00000000000000aa 00000000000000bb");
  query(p, "SELECT started_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
           "[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z' FROM runs", buf, sizeof buf);
  assert_string_equal(buf, "1");
}

static void finds_the_last_unfinished_run(void **state) {
  (void)state;
  const char *p = db_path("unfinished.db");
  pv_journal *j;
  pv_error err;
  int64_t r1, r2, found = -1;
  char ch[PV_HASH_HEX], th[PV_HASH_HEX];
  assert_int_equal(pv_journal_open(p, &j, &err), 0);
  assert_int_equal(pv_journal_last_unfinished(j, &found, ch, th, &err), PV_ENOTFOUND);
  assert_int_equal(pv_journal_begin_run(j, "1111111111111111", "2222222222222222", "", &r1, &err), 0);
  assert_int_equal(pv_journal_begin_run(j, "3333333333333333", "4444444444444444", "", &r2, &err), 0);
  assert_true(r2 != r1);
  assert_int_equal(pv_journal_last_unfinished(j, &found, ch, th, &err), 0);
  assert_true(found == r2);
  assert_int_equal(pv_journal_finish_run(j, r2, PV_RUN_FINISHED, &err), 0);
  assert_int_equal(pv_journal_last_unfinished(j, &found, ch, th, &err), 0);
  assert_true(found == r1);
  assert_string_equal(ch, "1111111111111111");
  assert_string_equal(th, "2222222222222222");
  assert_int_equal(pv_journal_finish_run(j, r1, PV_RUN_ABORTED, &err), 0);
  assert_int_equal(pv_journal_last_unfinished(j, &found, ch, th, &err), PV_ENOTFOUND);
  assert_int_equal(pv_journal_finish_run(j, r2 + 10, PV_RUN_FINISHED, &err), PV_ENOTFOUND);
  pv_journal_close(j);
  char buf[128];
  query(p, "SELECT group_concat(status, ',') FROM (SELECT status FROM runs ORDER BY id)", buf,
        sizeof buf);
  assert_string_equal(buf, "aborted,finished");
  query(p, "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL", buf, sizeof buf);
  assert_string_equal(buf, "2");
}

static void loads_the_recorded_set_of_a_run(void **state) {
  (void)state;
  pv_journal *j;
  pv_error err;
  int64_t r1, r2;
  assert_int_equal(pv_journal_open(db_path("recorded.db"), &j, &err), 0);
  assert_int_equal(pv_journal_begin_run(j, "a", "b", "", &r1, &err), 0);
  assert_int_equal(pv_journal_begin_run(j, "a", "b", "", &r2, &err), 0);
  pv_point_result p9 = point(9, PV_POINT_OK), p2 = point(2, PV_POINT_LOW_SCORE),
                  p5 = point(5, PV_POINT_OK), p40 = point(40, PV_POINT_OK);
  assert_int_equal(pv_journal_record(j, r1, &p9, &err), 0);
  assert_int_equal(pv_journal_record(j, r1, &p2, &err), 0);
  assert_int_equal(pv_journal_record(j, r1, &p40, &err), 0); /* not in the list */
  assert_int_equal(pv_journal_record(j, r2, &p5, &err), 0);
  pv_target items[4] = {{5, 0, 0, ""}, {9, 0, 0, ""}, {2, 0, 0, ""}, {7, 0, 0, ""}};
  pv_targets t = {items, 4};
  unsigned char rec[4] = {9, 9, 9, 9};
  assert_int_equal(pv_journal_recorded(j, r1, &t, rec, &err), 2);
  assert_memory_equal(rec, ((unsigned char[]){0, 1, 1, 0}), 4);
  assert_int_equal(pv_journal_recorded(j, r2, &t, rec, &err), 1);
  assert_memory_equal(rec, ((unsigned char[]){1, 0, 0, 0}), 4);
  assert_int_equal(pv_journal_recorded(j, r2 + 1, &t, rec, &err), 0);
  pv_journal_close(j);
}

static void refuses_files_that_are_not_journals(void **state) {
  (void)state;
  const char *p = db_path("text.db");
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  for (int i = 0; i < 64; i++) fputs("this is a targets file, not a database\n", f);
  fclose(f);
  pv_journal *j = (pv_journal *)1;
  pv_error err;
  assert_int_equal(pv_journal_open(p, &j, &err), PV_EDB);
  assert_null(j);
  assert_non_null(strstr(err.msg, p));
  assert_non_null(strstr(err.msg, "not a database"));

  const char *q = db_path("other.db");
  sqlite3 *db;
  assert_int_equal(sqlite3_open(q, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "CREATE TABLE points (a, b)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(pv_journal_open(q, &j, &err), PV_EDB);
  assert_non_null(strstr(err.msg, q));
  assert_non_null(strstr(err.msg, "incompatible schema"));

  assert_int_equal(pv_journal_open(db_path("no/such/dir.db"), &j, &err), PV_EDB);
  assert_non_null(strstr(err.msg, "no/such/dir.db"));
}

static void point_status_names_round_trip(void **state) {
  (void)state;
  for (int i = 0; i < PV_POINT_STATUS_COUNT; i++)
    assert_int_equal(pv_point_status_parse(pv_point_status_name((pv_point_status)i)), i);
  assert_string_equal(pv_point_status_name(PV_POINT_NOT_CONVERGED), "not_converged");
  assert_string_equal(pv_point_status_name(PV_POINT_STATUS_COUNT), "?");
  assert_int_equal(pv_point_status_parse("OK"), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(creates_the_schema_in_wal_mode),
      cmocka_unit_test(records_a_point_with_nulls_and_refuses_a_second_record),
      cmocka_unit_test(finds_the_last_unfinished_run),
      cmocka_unit_test(loads_the_recorded_set_of_a_run),
      cmocka_unit_test(refuses_files_that_are_not_journals),
      cmocka_unit_test(point_status_names_round_trip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
