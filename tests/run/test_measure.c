/* run: the measurement hook (external command per point). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "probevision/run.h"

static const pv_measure_env env = {42, 7, "die-3-1", 1250.5, -220.25};

static void captures_output_and_passes_the_point(void **state) {
  (void)state;
  setenv("PV_NAME", "stale-from-parent", 1);
  char out[256];
  int code = -5;
  pv_error err;
  int rc = pv_measure_run("echo \"$PV_RUN|$PV_INDEX|$PV_NAME|$PV_X_UM|$PV_Y_UM\"; "
                          "env | grep -c '^PV_NAME='",
                          10, &env, out, sizeof out, &code, &err);
  assert_int_equal(rc, PV_OK);
  assert_int_equal(code, 0);
  assert_string_equal(out, "42|7|die-3-1|1250.500|-220.250\n1\n");
  unsetenv("PV_NAME");
}

static void keeps_at_most_4_KiB_and_drains_the_rest(void **state) {
  (void)state;
  static char out[3 * PV_MEASURE_OUTPUT_MAX];
  int code;
  pv_error err;
  /* 1 MB: far more than a pipe holds, so the child blocks unless drained. */
  int rc = pv_measure_run("head -c 1000000 /dev/zero | tr '\\0' x; echo done >&2",
                          20, &env, out, sizeof out, &code, &err);
  assert_int_equal(rc, PV_OK);
  assert_int_equal(strlen(out), PV_MEASURE_OUTPUT_MAX);
  assert_int_equal(strspn(out, "x"), PV_MEASURE_OUTPUT_MAX);
  /* A smaller buffer caps earlier and stays terminated. */
  char small[8];
  assert_int_equal(pv_measure_run("echo 0123456789", 10, &env, small, sizeof small, &code, &err),
                   PV_OK);
  assert_string_equal(small, "0123456");
}

static void timeout_kills_the_whole_group(void **state) {
  (void)state;
  char out[64];
  int code;
  pv_error err;
  int64_t t0 = pv_now_ns();
  /* The shell's child keeps the pipe open too: both must die. */
  int rc = pv_measure_run("echo started; sleep 30; echo never", 0.3, &env, out, sizeof out,
                          &code, &err);
  double took = (double)(pv_now_ns() - t0) / 1e9;
  assert_int_equal(rc, PV_ETIMEDOUT);
  assert_string_equal(out, "started\n");
  assert_non_null(strstr(err.msg, "timed out"));
  assert_true(took < 10); /* not the 30 s of the sleep */
  /* No child of ours is left behind (the hook's was reaped). */
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
}

static void failures_report_exit_code_or_signal(void **state) {
  (void)state;
  char out[64];
  int code;
  pv_error err;
  assert_int_equal(pv_measure_run("echo partial; exit 3", 10, &env, out, sizeof out, &code,
                                  &err), PV_ECHILD);
  assert_int_equal(code, 3);
  assert_string_equal(out, "partial\n");
  assert_non_null(strstr(err.msg, "status 3"));

  assert_int_equal(pv_measure_run("kill -SEGV $$", 10, &env, out, sizeof out, &code, &err),
                   PV_ECHILD);
  assert_int_equal(code, 128 + SIGSEGV);
  assert_non_null(strstr(err.msg, "signal"));

  assert_int_equal(pv_measure_run("", 10, &env, out, sizeof out, &code, &err), PV_EINVAL);
}

static void a_closed_stdout_still_waits_for_the_exit(void **state) {
  (void)state;
  char out[64];
  int code;
  pv_error err;
  assert_int_equal(pv_measure_run("exec >&-; sleep 0.2; exit 4", 10, &env, out, sizeof out,
                                  &code, &err), PV_ECHILD);
  assert_int_equal(code, 4);
  assert_string_equal(out, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(captures_output_and_passes_the_point),
      cmocka_unit_test(keeps_at_most_4_KiB_and_drains_the_rest),
      cmocka_unit_test(timeout_kills_the_whole_group),
      cmocka_unit_test(failures_report_exit_code_or_signal),
      cmocka_unit_test(a_closed_stdout_still_waits_for_the_exit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
