/* run: a recorded point survives a power cut. The journal is in WAL mode
 * with synchronous=FULL, so every pv_journal_record (one transaction) must
 * sync the WAL file after writing its frames and before it returns; with
 * synchronous=NORMAL or OFF the commit returns with the frames only in the
 * page cache, and nothing else in the suite notices.
 *
 * fsync, fdatasync and pwrite64 are interposed here (defined in the
 * test executable, forwarded with dlsym(RTLD_NEXT, ...)); while the window
 * is open each call on the journal's WAL file (found by its /proc/self/fd
 * link) is noted: writes make it dirty, a sync makes it clean and counts.
 * Not built under sanitizers (they intercept the same calls). Single-
 * threaded: the journal belongs to one thread. */
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <cmocka.h>

#include "probevision/run.h"

static char dir[PATH_MAX];     /* the temporary directory, resolved */
static char wal_path[PATH_MAX + 16]; /* DIR/j.db-wal */

static int window;       /* calls are noted while set */
static int wal_syncs;    /* syncs of the WAL file in the window */
static int wal_writes;   /* writes to the WAL file in the window */
static int wal_dirty;    /* written since its last sync */

/* Whether fd is the journal's WAL file. */
static int is_wal(int fd) {
  char link[64], target[PATH_MAX + 16];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return 0;
  target[n] = '\0';
  return wal_path[0] != '\0' && strcmp(target, wal_path) == 0;
}

static void note_sync(int fd) {
  if (window && is_wal(fd)) wal_syncs++, wal_dirty = 0;
}

static void note_write(int fd) {
  if (window && is_wal(fd)) wal_writes++, wal_dirty = 1;
}

/* The next definition (libc's, or a preloaded tool's). */
static void *next(const char *name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    fprintf(stderr, "test_journal_durable: dlsym(RTLD_NEXT, %s) failed\n", name);
    abort();
  }
  return f;
}

int fsync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))next("fsync");
  note_sync(fd);
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))next("fdatasync");
  note_sync(fd);
  return real(fd);
}

/* SQLite's unix VFS writes with pwrite64 (its system call table). */
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  static ssize_t (*real)(int, const void *, size_t, off64_t);
  if (real == NULL) real = (ssize_t (*)(int, const void *, size_t, off64_t))next("pwrite64");
  note_write(fd);
  return real(fd, buf, n, off);
}

static void open_window(void) {
  wal_syncs = wal_writes = wal_dirty = 0;
  window = 1;
}

static int setup(void **state) {
  (void)state;
  char tmpl[] = "/tmp/pv-durable-XXXXXX";
  if (mkdtemp(tmpl) == NULL || realpath(tmpl, dir) == NULL) return -1;
  snprintf(wal_path, sizeof wal_path, "%s/j.db-wal", dir);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static pv_point_result point(int64_t idx) {
  pv_point_result p;
  memset(&p, 0, sizeof p);
  p.idx = idx;
  snprintf(p.name, sizeof p.name, "die-%d", (int)idx);
  p.x_target_um = 400.0 * (double)idx + 150;
  p.y_target_um = 150;
  p.x_final_um = p.x_target_um + 0.4;
  p.y_final_um = 150.3;
  p.residual_um = 0.5;
  p.score = 0.99;
  p.iterations = 2;
  p.status = PV_POINT_OK;
  p.truth_error_um = 0.5;
  p.started_wall_ns = INT64_C(1760603412) * PV_NS_PER_S;
  p.finished_wall_ns = p.started_wall_ns + 700 * PV_NS_PER_MS;
  return p;
}

static pv_journal *open_with_run(const char *name, int64_t *run) {
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/%s", dir, name);
  pv_journal *j;
  pv_error err;
  if (pv_journal_open(p, &j, &err) != 0) fail_msg("%s", err.msg);
  if (pv_journal_begin_run(j, "00000000000000aa", "00000000000000bb", "", run, &err) != 0)
    fail_msg("%s", err.msg);
  return j;
}

static void each_record_syncs_the_wal_before_returning(void **state) {
  (void)state;
  int64_t run;
  pv_journal *j = open_with_run("j.db", &run);
  pv_error err;
  /* a few dozen points, each its own commit, the WAL growing */
  for (int i = 0; i < 40; i++) {
    pv_point_result p = point(i);
    open_window();
    int rc = pv_journal_record(j, run, &p, &err);
    window = 0;
    if (rc != 0) fail_msg("point %d: %s", i, err.msg);
    if (wal_writes == 0)
      fail_msg("point %d: no write to %s seen: the interposition does not work", i, wal_path);
    if (wal_syncs == 0)
      fail_msg("point %d: pv_journal_record returned without syncing %s "
               "(%d writes, 0 syncs): a power cut loses the point", i, wal_path, wal_writes);
    if (wal_dirty)
      fail_msg("point %d: %s written after its last sync (%d writes, %d syncs)", i,
               wal_path, wal_writes, wal_syncs);
  }
  pv_journal_close(j);

  /* a reopened journal (--resume) is as durable */
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/j.db", dir);
  assert_int_equal(pv_journal_open(p, &j, &err), 0);
  for (int i = 40; i < 45; i++) {
    pv_point_result pt = point(i);
    open_window();
    int rc = pv_journal_record(j, run, &pt, &err);
    window = 0;
    if (rc != 0) fail_msg("point %d after reopen: %s", i, err.msg);
    if (wal_syncs == 0 || wal_dirty)
      fail_msg("point %d after reopen: %d writes, %d syncs, dirty %d", i, wal_writes,
               wal_syncs, wal_dirty);
  }
  /* and so is the end of the run */
  open_window();
  int rc = pv_journal_finish_run(j, run, PV_RUN_FINISHED, &err);
  window = 0;
  assert_int_equal(rc, 0);
  if (wal_syncs == 0 || wal_dirty)
    fail_msg("finish_run: %d writes, %d syncs, dirty %d", wal_writes, wal_syncs, wal_dirty);
  pv_journal_close(j);
}

/* The window counts only the WAL file: a sync of another file is not one. */
static void a_sync_of_another_file_is_not_counted(void **state) {
  (void)state;
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/other", dir);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs("x\n", f);
  fflush(f);
  open_window();
  assert_int_equal(fsync(fileno(f)), 0);
  assert_int_equal(fdatasync(fileno(f)), 0);
  window = 0;
  fclose(f);
  assert_int_equal(wal_syncs, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_record_syncs_the_wal_before_returning),
      cmocka_unit_test(a_sync_of_another_file_is_not_counted),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
