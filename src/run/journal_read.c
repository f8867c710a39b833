/* Reading a finished (or running) run back from the journal, for reports.
 *
 * A separate read-only SQLite connection per call: it never shares the
 * writer's prepared statements or transactions, and WAL lets it read while
 * a run is still recording. Points come back in rowid order, which is the
 * order pv_journal_record inserted them. A journal older than the frame
 * columns (schema version 0, never opened for writing since) is read as
 * it is: frame_id 0 and exposure_margin_ms NAN; one older than the
 * contact and die columns (version 1): contact_z_um NAN, has_die 0.
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probevision/run.h"

static void text_col(sqlite3_stmt *st, int col, char *out, size_t cap) {
  const unsigned char *t = sqlite3_column_text(st, col);
  snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static double real_col(sqlite3_stmt *st, int col) {
  return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

/* "2025-10-16T08:30:12.345Z" -> wall ns; 0 when empty or malformed. */
static int64_t iso_to_ns(const unsigned char *s) {
  struct tm tm;
  int ms = 0;
  memset(&tm, 0, sizeof tm);
  if (s == NULL || sscanf((const char *)s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                          &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * PV_NS_PER_S + (int64_t)ms * PV_NS_PER_MS;
}

static void read_point(sqlite3_stmt *st, pv_point_result *p) {
  memset(p, 0, sizeof *p);
  p->idx = sqlite3_column_int64(st, 0);
  text_col(st, 1, p->name, sizeof p->name);
  p->x_target_um = real_col(st, 2);
  p->y_target_um = real_col(st, 3);
  p->x_final_um = real_col(st, 4);
  p->y_final_um = real_col(st, 5);
  p->residual_um = real_col(st, 6);
  p->score = real_col(st, 7);
  p->iterations = sqlite3_column_int(st, 8);
  const unsigned char *status = sqlite3_column_text(st, 9);
  int s = status ? pv_point_status_parse((const char *)status) : -1;
  p->status = s < 0 ? PV_POINT_SKIPPED : (pv_point_status)s;
  p->truth_error_um = real_col(st, 10);
  p->measured = sqlite3_column_type(st, 11) != SQLITE_NULL;
  text_col(st, 11, p->measure_output, sizeof p->measure_output);
  text_col(st, 12, p->error, sizeof p->error);
  p->started_wall_ns = iso_to_ns(sqlite3_column_text(st, 13));
  p->finished_wall_ns = iso_to_ns(sqlite3_column_text(st, 14));
  p->frame_id = sqlite3_column_type(st, 15) == SQLITE_NULL
                    ? 0 : (uint64_t)sqlite3_column_int64(st, 15);
  p->exposure_margin_ms = real_col(st, 16);
  p->contact_z_um = real_col(st, 17);
  p->has_die = sqlite3_column_type(st, 18) != SQLITE_NULL;
  p->die_col = sqlite3_column_int(st, 18);
  p->die_row = sqlite3_column_int(st, 19);
  p->die_site = sqlite3_column_int(st, 20);
}

/* 1 when the points table has the column (frame_id: schema version 1,
 * contact_z_um: 2). */
static int has_column(sqlite3 *db, const char *name) {
  sqlite3_stmt *st = NULL;
  int has = 0;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info('points')"
                             " WHERE name = ?1", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    has = sqlite3_column_int(st, 0) > 0;
  sqlite3_finalize(st);
  return has;
}

int pv_journal_read_run(const char *path, int64_t run_id, pv_run_record *run,
                        pv_point_visit_fn visit, void *ctx, pv_error *err) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  pv_point_result *p = NULL;
  int rc = PV_OK;
  memset(run, 0, sizeof *run);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) goto db_error;
  sqlite3_busy_timeout(db, 5000);
  const char *run_sql =
      run_id > 0 ? "SELECT id, status, started_at, finished_at, config_hash, targets_hash"
                   " FROM runs WHERE id = ?1"
                 : "SELECT id, status, started_at, finished_at, config_hash, targets_hash"
                   " FROM runs ORDER BY id DESC LIMIT 1";
  if (sqlite3_prepare_v2(db, run_sql, -1, &st, NULL) != SQLITE_OK) goto db_error;
  if (run_id > 0) sqlite3_bind_int64(st, 1, run_id);
  int step = sqlite3_step(st);
  if (step == SQLITE_DONE) {
    rc = run_id > 0 ? pv_error_set(err, PV_ENOTFOUND, "%s: no run %lld", path, (long long)run_id)
                    : pv_error_set(err, PV_ENOTFOUND, "%s: holds no run", path);
    goto out;
  }
  if (step != SQLITE_ROW) goto db_error;
  run->id = sqlite3_column_int64(st, 0);
  text_col(st, 1, run->status, sizeof run->status);
  text_col(st, 2, run->started_at, sizeof run->started_at);
  text_col(st, 3, run->finished_at, sizeof run->finished_at);
  text_col(st, 4, run->config_hash, sizeof run->config_hash);
  text_col(st, 5, run->targets_hash, sizeof run->targets_hash);
  sqlite3_finalize(st);
  st = NULL;
  if (visit == NULL) goto out;
  char points_sql[512];
  pv_snprintf_c(points_sql, sizeof points_sql,
                "SELECT idx, name, x_target_um, y_target_um, x_final_um, y_final_um,"
                " residual_um, score, iterations, status, truth_error_um,"
                " measure_output, error, started_at, finished_at, %s, %s"
                " FROM points WHERE run_id = ?1 ORDER BY rowid",
                has_column(db, "frame_id") ? "frame_id, exposure_margin_ms" : "NULL, NULL",
                has_column(db, "contact_z_um") ? "contact_z_um, die_col, die_row, site"
                                               : "NULL, NULL, NULL, NULL");
  if (sqlite3_prepare_v2(db, points_sql, -1, &st, NULL) != SQLITE_OK)
    goto db_error;
  sqlite3_bind_int64(st, 1, run->id);
  p = malloc(sizeof *p);
  if (p == NULL) {
    rc = PV_ENOMEM;
    goto out;
  }
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    read_point(st, p);
    if ((rc = visit(ctx, p)) != 0) goto out;
  }
  if (step != SQLITE_DONE) goto db_error;
  goto out;
db_error:
  rc = pv_error_set(err, PV_EDB, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
out:
  free(p);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}
