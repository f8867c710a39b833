/* A small fork-join pool for the matcher: n - 1 threads started at create,
 * joined at destroy; the caller of pv__workers_run is the n-th worker.
 *
 * States (all under mu):
 *   idle     gen unchanged since each worker last looked; workers sleep on go.
 *   open     the caller set job (fn, ctx, ntasks), next = 0, open = 1 and
 *            gen + 1, then broadcast go. A worker that wakes while open
 *            joins (active + 1) and claims task indices from the atomic
 *            counter next, as the caller does, until next passes ntasks.
 *   closing  the caller ran out of tasks: open = 0, and it waits until
 *            active is 0 (the last worker out signals done). A worker that
 *            wakes after the close does nothing: a thread the scheduler
 *            has not run yet (the other core busy) never delays a find.
 *            When the caller returns every task has finished and no worker
 *            touches job or ctx.
 *   stopping stop set (destroy): workers leave their loop and are joined.
 * Invariants: job fields change only while the run is closed and active
 * is 0 (so never under a running worker); one run at a time per pool (the
 * matcher is used by one thread at a time). Each worker remembers the last
 * gen it looked at, so it joins a run at most once and a missed broadcast
 * is impossible (it checks gen under mu before sleeping).
 *
 * Determinism: which thread runs task i is not fixed (dynamic claiming
 * balances uneven tasks); callers make results independent of that by
 * writing task i's results only to slot i (and using scratch indexed by
 * task, not by thread). So the answer never depends on the thread count.
 *
 * No allocation per call: the job lives in the pool, created once; run
 * only locks, signals and waits. Workers block every signal (signals go to
 * the program's own threads) and are named "pv-match".
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "match_internal.h"

struct pv__workers {
  int n;                /* workers including the caller; n - 1 threads */
  pthread_t *tid;       /* n - 1 */
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  unsigned gen;         /* runs started (under mu) */
  int open;             /* the current run still takes helpers (under mu) */
  int active;           /* threads inside the current run (under mu) */
  int stop;             /* destroy asked (under mu) */
  pv__task_fn fn;       /* the current job (written only while busy == 0) */
  void *ctx;
  int ntasks;
  atomic_int next;      /* next task index to claim */
};

static void claim_all(pv__workers *w, pv__task_fn fn, void *ctx, int ntasks) {
  for (;;) {
    int i = atomic_fetch_add_explicit(&w->next, 1, memory_order_relaxed);
    if (i >= ntasks) return;
    fn(ctx, i);
  }
}

static void *worker_main(void *arg) {
  pv__workers *w = arg;
  pv_thread_set_name("pv-match");
  unsigned seen = 0; /* gen at create: a run started before this thread
                       got here is still served */
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->stop && w->gen == seen) pthread_cond_wait(&w->go, &w->mu);
    if (w->stop) break;
    seen = w->gen;
    if (!w->open) continue; /* woke after the caller closed the run */
    w->active++;
    pv__task_fn fn = w->fn;
    void *ctx = w->ctx;
    int ntasks = w->ntasks;
    pthread_mutex_unlock(&w->mu);
    claim_all(w, fn, ctx, ntasks);
    pthread_mutex_lock(&w->mu);
    if (--w->active == 0 && !w->open) pthread_cond_signal(&w->done);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* Stops and joins the first `started` threads, frees the pool. */
static void teardown(pv__workers *w, int started) {
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_broadcast(&w->go);
  pthread_mutex_unlock(&w->mu);
  for (int i = 0; i < started; i++) pthread_join(w->tid[i], NULL);
  pthread_cond_destroy(&w->go);
  pthread_cond_destroy(&w->done);
  pthread_mutex_destroy(&w->mu);
  free(w->tid);
  free(w);
}

int pv__workers_create(int n, pv__workers **out) {
  *out = NULL;
  if (n < 1) return PV_EINVAL;
  pv__workers *w = calloc(1, sizeof *w);
  if (w == NULL) return PV_ENOMEM;
  w->n = n;
  atomic_init(&w->next, 0);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->go, NULL);
  pthread_cond_init(&w->done, NULL);
  w->tid = calloc((size_t)n, sizeof *w->tid);
  if (w->tid == NULL) {
    teardown(w, 0);
    return PV_ENOMEM;
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int started = 0;
  while (started < n - 1 &&
         pthread_create(&w->tid[started], NULL, worker_main, w) == 0)
    started++;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (started < n - 1) {
    teardown(w, started);
    return PV_ENOMEM;
  }
  *out = w;
  return PV_OK;
}

void pv__workers_destroy(pv__workers *w) {
  if (w != NULL) teardown(w, w->n - 1);
}

int pv__workers_count(const pv__workers *w) { return w != NULL ? w->n : 1; }

void pv__workers_run(pv__workers *w, pv__task_fn fn, void *ctx, int ntasks) {
  if (ntasks <= 0) return;
  if (w == NULL || w->n == 1 || ntasks == 1) {
    for (int i = 0; i < ntasks; i++) fn(ctx, i);
    return;
  }
  pthread_mutex_lock(&w->mu);
  w->fn = fn;
  w->ctx = ctx;
  w->ntasks = ntasks;
  atomic_store_explicit(&w->next, 0, memory_order_relaxed);
  w->open = 1;
  w->active = 0;
  w->gen++;
  pthread_cond_broadcast(&w->go);
  pthread_mutex_unlock(&w->mu);
  claim_all(w, fn, ctx, ntasks);
  pthread_mutex_lock(&w->mu);
  w->open = 0; /* every task is claimed: a thread not yet awake stays out */
  while (w->active > 0) pthread_cond_wait(&w->done, &w->mu);
  pthread_mutex_unlock(&w->mu);
}

void pv__parallel_for(pv_matcher *m, int n, void (*fn)(void *ctx, int i),
                      void *ctx) {
  pv__workers_run(m->pool, fn, ctx, n);
}
