/* The results journal: one SQLite file, two tables (runs, points).
 *
 * Durability: WAL journal with synchronous=FULL. In WAL mode NORMAL keeps
 * the database consistent but may lose the last commits on a power cut;
 * FULL syncs the WAL at every commit. A point takes seconds (moves, frames,
 * a measurement), so one fsync per point costs nothing that matters, and
 * the contract is that a recorded result is never lost.
 *
 * Every statement the run loop uses is prepared once at open and reset
 * after each use, so recording a point compiles no SQL. A point is one
 * INSERT executed in autocommit mode: exactly one transaction per point.
 * INSERT (never OR REPLACE): a second record of (run_id, idx) fails with
 * PV_ECONFLICT instead of overwriting what was measured.
 *
 * An existing file is accepted only if it is SQLite and its tables have
 * exactly the expected columns; anything else is refused with the path.
 * Schema versions (PRAGMA user_version): 0 the first one; 1 adds the
 * points columns frame_id and exposure_margin_ms (the frame of the final
 * alignment decision); 2 adds contact_z_um (the chuck height reached at
 * contact) and die_col, die_row, site (the station's die in a map run).
 * An older file (exactly the columns of its version) is migrated at open,
 * in the schema transaction, by ALTER TABLE ... ADD COLUMN: its rows keep
 * their values (the new columns NULL), so old journals open and resume.
 */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probevision/run.h"

static const char *const run_cols[] = {
    "id", "started_at", "finished_at", "status", "config_hash",
    "targets_hash", "config", NULL};
static const char *const point_cols[] = {
    "run_id", "idx", "name", "x_target_um", "y_target_um", "x_final_um",
    "y_final_um", "residual_um", "score", "iterations", "status",
    "truth_error_um", "measure_output", "error", "started_at", "finished_at",
    "frame_id", "exposure_margin_ms", "contact_z_um", "die_col", "die_row",
    "site", NULL};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started_at TEXT,"
    " finished_at TEXT, status TEXT, config_hash TEXT, targets_hash TEXT,"
    " config TEXT);"
    "CREATE TABLE IF NOT EXISTS points (run_id INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, name TEXT, x_target_um REAL, y_target_um REAL,"
    " x_final_um REAL, y_final_um REAL, residual_um REAL, score REAL,"
    " iterations INTEGER, status TEXT, truth_error_um REAL,"
    " measure_output TEXT, error TEXT, started_at TEXT, finished_at TEXT,"
    " frame_id INTEGER, exposure_margin_ms REAL, contact_z_um REAL,"
    " die_col INTEGER, die_row INTEGER, site INTEGER,"
    " PRIMARY KEY (run_id, idx));";

enum { ST_COLUMNS, ST_BEGIN_RUN, ST_LAST, ST_RECORDED, ST_RECORD, ST_FINISH,
       ST_LAST_POINT, ST_COUNT };
static const char *const stmt_sql[ST_COUNT] = {
    "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
    "INSERT INTO runs (started_at, status, config_hash, targets_hash, config)"
    " VALUES (?1, 'running', ?2, ?3, ?4)",
    "SELECT id, config_hash, targets_hash FROM runs WHERE status = 'running'"
    " ORDER BY id DESC LIMIT 1",
    "SELECT idx FROM points WHERE run_id = ?1",
    "INSERT INTO points (run_id, idx, name, x_target_um, y_target_um,"
    " x_final_um, y_final_um, residual_um, score, iterations, status,"
    " truth_error_um, measure_output, error, started_at, finished_at,"
    " frame_id, exposure_margin_ms, contact_z_um, die_col, die_row, site)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
    " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
    "UPDATE runs SET status = ?1, finished_at = ?2 WHERE id = ?3",
    "SELECT idx, die_col, die_row, site FROM points WHERE run_id = ?1"
    " ORDER BY idx DESC LIMIT 1",
};

struct pv_journal {
  sqlite3 *db;
  sqlite3_stmt *st[ST_COUNT];
  char path[512];
};

static const char *const run_status_names[] = {"running", "finished", "aborted"};

/* Fills err with "PATH: what: sqlite message" and returns status. */
static int db_error(pv_journal *j, pv_error *err, int status, const char *what) {
  return pv_error_set(err, status, "%s: %s: %s", j->path, what,
                      j->db ? sqlite3_errmsg(j->db) : "no database");
}

/* ISO-8601 UTC with milliseconds: "2025-10-16T08:30:12.345Z". */
static void iso_time(int64_t wall_ns, char buf[32]) {
  time_t s = (time_t)(wall_ns / PV_NS_PER_S);
  struct tm tm;
  gmtime_r(&s, &tm);
  size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, 32 - n, ".%03dZ",
           (int)(wall_ns % PV_NS_PER_S / PV_NS_PER_MS));
}

static int check_columns(pv_journal *j, const char *table,
                         const char *const *want, pv_error *err) {
  sqlite3_stmt *st = j->st[ST_COLUMNS];
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  int i = 0, ok = 1, rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    if (want[i] == NULL || name == NULL || strcmp(name, want[i]) != 0) ok = 0;
    if (want[i] != NULL) i++;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return db_error(j, err, PV_EDB, "reading the schema");
  if (!ok || want[i] != NULL)
    return pv_error_set(err, PV_EDB,
                        "%s: incompatible schema: table %s does not have the "
                        "columns of a probevision journal", j->path, table);
  return 0;
}

/* One integer from a query ("SELECT ..."), or -1 on an error. */
static int64_t query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* The schema's history: step v takes a version-v points table (its first
 * `cols` columns of point_cols, exactly) to version v + 1 by adding the
 * columns point_cols[cols .. cols + added - 1]. A new version is one more
 * row here, its columns appended to point_cols, SCHEMA_VERSION + 1. */
static const struct migration {
  int cols, added;
  const char *types[4]; /* of the added columns, as in schema_sql */
  const char *why;
} migrations[] = {
    {16, 2, {"INTEGER", "REAL"}, "the frame of the final alignment decision"},
    {18, 4, {"REAL", "INTEGER", "INTEGER", "INTEGER"},
     "the chuck height at contact and the station's die"},
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* Inside the schema transaction: brings a points table of any earlier
 * version (exactly its columns) to the current one. Any other shape is left
 * to check_columns to refuse. */
static int migrate(pv_journal *j, pv_error *err) {
  int64_t cols = query_int(j->db, "SELECT count(*) FROM pragma_table_info('points')");
  if (cols < 0) return db_error(j, err, PV_EDB, "reading the schema");
  for (int v = 0; v < SCHEMA_VERSION; v++) {
    const struct migration *m = &migrations[v];
    char sql[512], added[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('points') WHERE name = '%s'",
             point_cols[m->cols]);
    int64_t has = query_int(j->db, sql);
    if (has < 0) return db_error(j, err, PV_EDB, "reading the schema");
    if (cols != m->cols || has != 0) continue;
    size_t n = 0, k = 0;
    for (int c = m->cols; c < m->cols + m->added; c++) {
      n += (size_t)snprintf(sql + n, sizeof sql - n, "ALTER TABLE points ADD COLUMN %s %s;",
                            point_cols[c], m->types[c - m->cols]);
      k += (size_t)snprintf(added + k, sizeof added - k, "%s%s", c > m->cols ? ", " : "",
                            point_cols[c]);
    }
    if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
      return db_error(j, err, PV_EDB, "adding the columns of a newer schema to an older journal");
    pv_info("%s: journal schema migrated to version %d (points: %s: %s)", j->path, v + 1, added,
            m->why);
    cols += m->added;
  }
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
  if (query_int(j->db, "PRAGMA user_version") < SCHEMA_VERSION &&
      sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error(j, err, PV_EDB, "setting the schema version");
  return 0;
}

static int open_db(pv_journal *j, pv_error *err) {
  if (sqlite3_open_v2(j->path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      NULL) != SQLITE_OK)
    return db_error(j, err, PV_EDB, "cannot open");
  sqlite3_extended_result_codes(j->db, 1);
  sqlite3_busy_timeout(j->db, 5000);
  /* The first statement reads the file: a non-database fails here. */
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(j->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
    return db_error(j, err, PV_EDB, "not a usable SQLite database");
  int rc = sqlite3_step(st);
  int wal = rc == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) return db_error(j, err, PV_EDB, "not a usable SQLite database");
  if (!wal)
    return pv_error_set(err, PV_EDB, "%s: cannot switch to WAL journal mode", j->path);
  if (sqlite3_exec(j->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) != SQLITE_OK)
    return db_error(j, err, PV_EDB, "setting synchronous");
  /* Bounded memory for a night-long run: SQLite's page cache would
   * otherwise grow with the journal up to its 2 MB default (the soak saw
   * ~190 bytes per point), and the WAL file is cut back after each
   * checkpoint. A point is one small INSERT: 256 KiB of cache is plenty. */
  if (sqlite3_exec(j->db, "PRAGMA cache_size=-256; PRAGMA journal_size_limit=1048576",
                   NULL, NULL, NULL) != SQLITE_OK)
    return db_error(j, err, PV_EDB, "bounding the page cache");
  /* Test knob (documented in the README's fault matrix, not a user
   * setting): PV_JOURNAL_MAX_PAGES=N caps the file at N pages, so that a
   * full disk can be simulated without one. */
  const char *max_pages = getenv("PV_JOURNAL_MAX_PAGES");
  if (max_pages != NULL && *max_pages != '\0') {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", strtoll(max_pages, NULL, 10));
    if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
      return db_error(j, err, PV_EDB, "PV_JOURNAL_MAX_PAGES");
    pv_warn("%s: journal capped at %s pages (PV_JOURNAL_MAX_PAGES)", j->path, max_pages);
  }
  if (sqlite3_exec(j->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_error(j, err, PV_EDB, "creating the schema");
  if (sqlite3_exec(j->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
    int r = db_error(j, err, PV_EDB, "creating the schema");
    sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
  }
  int mr = migrate(j, err);
  if (mr != 0) {
    sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    return mr;
  }
  if (sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    return db_error(j, err, PV_EDB, "creating the schema");
  /* Verify the columns before preparing statements that name them. */
  for (int i = 0; i < ST_COUNT; i++) {
    if (sqlite3_prepare_v3(j->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                           &j->st[i], NULL) != SQLITE_OK)
      return db_error(j, err, PV_EDB, "preparing statements");
    if (i == ST_COLUMNS) {
      int r = check_columns(j, "runs", run_cols, err);
      if (r == 0) r = check_columns(j, "points", point_cols, err);
      if (r != 0) return r;
    }
  }
  return 0;
}

int pv_journal_open(const char *path, pv_journal **out, pv_error *err) {
  *out = NULL;
  pv_journal *j = calloc(1, sizeof *j);
  if (j == NULL) return pv_error_set(err, PV_ENOMEM, "%s: out of memory", path);
  if (snprintf(j->path, sizeof j->path, "%s", path) >= (int)sizeof j->path) {
    free(j);
    return pv_error_set(err, PV_EINVAL, "journal path too long: %s", path);
  }
  int rc = open_db(j, err);
  if (rc != 0) {
    pv_journal_close(j);
    return rc;
  }
  *out = j;
  return 0;
}

void pv_journal_close(pv_journal *j) {
  if (j == NULL) return;
  for (int i = 0; i < ST_COUNT; i++) sqlite3_finalize(j->st[i]);
  sqlite3_close(j->db);
  free(j);
}

/* Steps a write statement to completion and resets it. */
static int step_done(pv_journal *j, sqlite3_stmt *st, pv_error *err,
                     const char *what) {
  int rc = sqlite3_step(st);
  int r = 0;
  if (rc != SQLITE_DONE) r = db_error(j, err, PV_EDB, what);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return r;
}

int pv_journal_begin_run(pv_journal *j, const char *config_hash,
                         const char *targets_hash, const char *config_text,
                         int64_t *run_id, pv_error *err) {
  sqlite3_stmt *st = j->st[ST_BEGIN_RUN];
  char now[32];
  iso_time(pv_wall_ns(), now);
  sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, config_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, targets_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, config_text, -1, SQLITE_TRANSIENT);
  int r = step_done(j, st, err, "inserting a run");
  if (r == 0) *run_id = sqlite3_last_insert_rowid(j->db);
  return r;
}

static void copy_hash(sqlite3_stmt *st, int col, char out[PV_HASH_HEX]) {
  const char *s = (const char *)sqlite3_column_text(st, col);
  snprintf(out, PV_HASH_HEX, "%s", s ? s : "");
}

int pv_journal_last_unfinished(pv_journal *j, int64_t *run_id,
                               char config_hash[PV_HASH_HEX],
                               char targets_hash[PV_HASH_HEX], pv_error *err) {
  sqlite3_stmt *st = j->st[ST_LAST];
  int rc = sqlite3_step(st), r = 0;
  if (rc == SQLITE_ROW) {
    *run_id = sqlite3_column_int64(st, 0);
    copy_hash(st, 1, config_hash);
    copy_hash(st, 2, targets_hash);
  } else if (rc == SQLITE_DONE) {
    r = pv_error_set(err, PV_ENOTFOUND, "%s: no unfinished run", j->path);
  } else {
    r = db_error(j, err, PV_EDB, "looking for an unfinished run");
  }
  sqlite3_reset(st);
  return r;
}

typedef struct idx_pos { int64_t idx; int pos; } idx_pos;

static int cmp_idx(const void *a, const void *b) {
  int64_t x = ((const idx_pos *)a)->idx, y = ((const idx_pos *)b)->idx;
  return (x > y) - (x < y);
}

int pv_journal_recorded(pv_journal *j, int64_t run_id,
                        const pv_targets *targets, unsigned char *recorded,
                        pv_error *err) {
  int n = targets->count;
  memset(recorded, 0, (size_t)n);
  idx_pos *map = malloc((size_t)(n > 0 ? n : 1) * sizeof *map);
  if (map == NULL) return pv_error_set(err, PV_ENOMEM, "%s: out of memory", j->path);
  for (int i = 0; i < n; i++) map[i] = (idx_pos){targets->items[i].index, i};
  qsort(map, (size_t)n, sizeof *map, cmp_idx);
  sqlite3_stmt *st = j->st[ST_RECORDED];
  sqlite3_bind_int64(st, 1, run_id);
  int rc, count = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    idx_pos key = {sqlite3_column_int64(st, 0), 0};
    idx_pos *hit = bsearch(&key, map, (size_t)n, sizeof *map, cmp_idx);
    if (hit != NULL && !recorded[hit->pos]) recorded[hit->pos] = 1, count++;
  }
  int r = rc == SQLITE_DONE ? count : db_error(j, err, PV_EDB, "reading recorded points");
  sqlite3_reset(st);
  free(map);
  return r;
}

static void bind_real(sqlite3_stmt *st, int i, double v) {
  if (isnan(v)) sqlite3_bind_null(st, i);
  else sqlite3_bind_double(st, i, v);
}

static void bind_time(sqlite3_stmt *st, int i, int64_t wall_ns) {
  char t[32];
  if (wall_ns <= 0) {
    sqlite3_bind_null(st, i);
    return;
  }
  iso_time(wall_ns, t);
  sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
}

int pv_journal_record(pv_journal *j, int64_t run_id, const pv_point_result *p,
                      pv_error *err) {
  sqlite3_stmt *st = j->st[ST_RECORD];
  sqlite3_bind_int64(st, 1, run_id);
  sqlite3_bind_int64(st, 2, p->idx);
  sqlite3_bind_text(st, 3, p->name, -1, SQLITE_STATIC);
  bind_real(st, 4, p->x_target_um);
  bind_real(st, 5, p->y_target_um);
  bind_real(st, 6, p->x_final_um);
  bind_real(st, 7, p->y_final_um);
  bind_real(st, 8, p->residual_um);
  bind_real(st, 9, p->score);
  sqlite3_bind_int(st, 10, p->iterations);
  sqlite3_bind_text(st, 11, pv_point_status_name(p->status), -1, SQLITE_STATIC);
  bind_real(st, 12, p->truth_error_um);
  if (p->measured)
    sqlite3_bind_text(st, 13, p->measure_output, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, 13);
  if (p->error[0] != '\0') sqlite3_bind_text(st, 14, p->error, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 14);
  bind_time(st, 15, p->started_wall_ns);
  bind_time(st, 16, p->finished_wall_ns);
  if (p->frame_id != 0) sqlite3_bind_int64(st, 17, (sqlite3_int64)p->frame_id);
  else sqlite3_bind_null(st, 17);
  bind_real(st, 18, p->exposure_margin_ms);
  bind_real(st, 19, p->contact_z_um);
  if (p->has_die) {
    sqlite3_bind_int(st, 20, p->die_col);
    sqlite3_bind_int(st, 21, p->die_row);
    sqlite3_bind_int(st, 22, p->die_site);
  } /* else NULL: unbound parameters are NULL */
  int rc = sqlite3_step(st), r = 0;
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    r = pv_error_set(err, PV_ECONFLICT,
                     "%s: point idx %" PRId64 " of run %" PRId64
                     " is already recorded", j->path, p->idx, run_id);
  else if (rc != SQLITE_DONE)
    r = db_error(j, err, PV_EDB, "recording a point");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return r;
}

int pv_journal_last_point(pv_journal *j, int64_t run_id, int64_t *idx,
                          int *has_die, pv_map_die *die, pv_error *err) {
  sqlite3_stmt *st = j->st[ST_LAST_POINT];
  sqlite3_bind_int64(st, 1, run_id);
  int rc = sqlite3_step(st), r = 0;
  if (rc == SQLITE_ROW) {
    *idx = sqlite3_column_int64(st, 0);
    memset(die, 0, sizeof *die);
    *has_die = sqlite3_column_type(st, 1) != SQLITE_NULL &&
               sqlite3_column_type(st, 2) != SQLITE_NULL;
    die->col = sqlite3_column_int(st, 1);
    die->row = sqlite3_column_int(st, 2);
    die->site = sqlite3_column_int(st, 3);
  } else if (rc == SQLITE_DONE) {
    r = pv_error_set(err, PV_ENOTFOUND, "%s: run %" PRId64 " holds no point", j->path, run_id);
  } else {
    r = db_error(j, err, PV_EDB, "reading the last point");
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return r;
}

int pv_journal_finish_run(pv_journal *j, int64_t run_id, pv_run_status status,
                          pv_error *err) {
  if ((unsigned)status > PV_RUN_ABORTED)
    return pv_error_set(err, PV_EINVAL, "bad run status %d", (int)status);
  sqlite3_stmt *st = j->st[ST_FINISH];
  char now[32];
  iso_time(pv_wall_ns(), now);
  sqlite3_bind_text(st, 1, run_status_names[status], -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, run_id);
  int r = step_done(j, st, err, "finishing a run");
  if (r == 0 && sqlite3_changes(j->db) != 1)
    r = pv_error_set(err, PV_ENOTFOUND, "%s: no run %" PRId64, j->path, run_id);
  return r;
}

const char *pv_point_status_name(pv_point_status s) {
  switch (s) {
#define PV__POINT_STATUS_NAME(name, text) \
  case PV_POINT_##name:                   \
    return text;
    PV_POINT_STATUS_MAP(PV__POINT_STATUS_NAME)
#undef PV__POINT_STATUS_NAME
  default:
    return "?";
  }
}

int pv_point_status_parse(const char *name) {
#define PV__POINT_STATUS_PARSE(id, text) \
  if (strcmp(name, text) == 0) return PV_POINT_##id;
  PV_POINT_STATUS_MAP(PV__POINT_STATUS_PARSE)
#undef PV__POINT_STATUS_PARSE
  return -1;
}
