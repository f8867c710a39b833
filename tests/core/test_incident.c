/* Incidents: the handler receives cause and summary from any thread; no
 * handler only logs; removing the handler stops the calls. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/core.h"

#define THREADS 4
#define RAISES 50

typedef struct seen {
  pthread_mutex_t mu;
  int calls;
  int per_thread[THREADS];
  int bad;
} seen;

static void handler(void *ctx, const char *cause, const char *summary) {
  seen *s = ctx;
  int t = -1, k = -1;
  pthread_mutex_lock(&s->mu);
  s->calls++;
  if (strcmp(cause, "test-cause") != 0 || sscanf(summary, "thread %d raise %d", &t, &k) != 2 ||
      t < 0 || t >= THREADS)
    s->bad++;
  else
    s->per_thread[t]++;
  pthread_mutex_unlock(&s->mu);
}

static void *raiser(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int k = 0; k < RAISES; k++) pv_incident_raise("test-cause", "thread %d raise %d", t, k);
  return NULL;
}

static void test_handler_from_threads(void **state) {
  (void)state;
  static seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  pv_incident_set_handler(handler, &s);
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&th[t], NULL, raiser, (void *)(intptr_t)t), 0);
  for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
  pv_incident_set_handler(NULL, NULL);
  assert_int_equal(s.bad, 0);
  assert_int_equal(s.calls, THREADS * RAISES);
  for (int t = 0; t < THREADS; t++) assert_int_equal(s.per_thread[t], RAISES);
  /* removed: no more calls */
  pv_incident_raise("test-cause", "thread 0 raise 99");
  assert_int_equal(s.calls, THREADS * RAISES);
}

static void test_no_handler_logs(void **state) {
  (void)state;
  pv_incident_set_handler(NULL, NULL);
  uint64_t before = pv_events_total();
  pv_incident_raise("lonely", "nobody listens: %d", 42);
  pv_incident_raise(NULL, "no cause");
  assert_int_equal(pv_events_total(), before + 2);
  pv_event ev[2];
  assert_int_equal(pv_events_snapshot(ev, 2), 2);
  assert_int_equal(ev[0].level, PV_LOG_WARN);
  assert_non_null(strstr(ev[0].msg, "lonely"));
  assert_non_null(strstr(ev[0].msg, "nobody listens: 42"));
  assert_non_null(strstr(ev[1].msg, "unknown"));
}

static void test_long_summary_truncated(void **state) {
  (void)state;
  static seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
  static char big[2000];
  memset(big, 'x', sizeof big - 1);
  pv_incident_set_handler(handler, &s);
  pv_incident_raise("test-cause", "%s", big);
  pv_incident_set_handler(NULL, NULL);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.bad, 1); /* not "thread N raise K": but delivered, truncated */
}

int main(void) {
  pv_log_set_level(PV_LOG_ERROR); /* keep the test output short */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handler_from_threads),
      cmocka_unit_test(test_no_handler_logs),
      cmocka_unit_test(test_long_summary_truncated),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
