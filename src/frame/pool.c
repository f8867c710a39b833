/* The frame pool: N frames allocated once, one writer, many leasing readers.
 *
 * Design: one mutex guards all slot state; one condvar (`published`) wakes
 * readers when a frame is published or the pool closes, a second one
 * (`left`) lets pv_frame_pool_close wait until every waiter has left.
 *
 * Per slot: `refs` (leases held) and `writing` (handed to the writer, not
 * yet published or discarded). `latest` is the slot of the newest published
 * frame, or -1. Invariants (all under the mutex):
 * - the writer only gets a slot with refs == 0 and !writing, so a leased
 *   frame is never overwritten;
 * - readers only lease `latest`, and `latest` is never a slot being written
 *   (when the writer has to take the latest slot, latest becomes -1 until
 *   the next publish), so a reader never sees a frame being written;
 * - the writer prefers a free slot that is not the latest, so a reader
 *   arriving later can still lease the newest picture;
 * - the frame data is written without the lock: only the writer touches a
 *   `writing` slot, and readers only read slots they hold a lease on.
 *
 * Leases: each one holds a ticket, a record (ticket_gen, ticket_slot) that
 * lives until its release. ticket_gen is the lease's generation, taken from
 * a pool-wide counter on each lease (unique, never 0; 0 marks a free
 * ticket). A release counts only when the lease's (ticket, gen, slot) still
 * match the record; a second release of a lease, or of a copy of it, finds
 * the ticket freed or reused under another generation and is refused, so
 * it never takes a reference that another reader holds, even on the same
 * slot. Free tickets are a stack, so leasing is O(1).
 * Nothing is allocated after create, and create writes every page.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probevision/core.h"
#include "probevision/frame.h"

struct pv_frame_pool {
  pthread_mutex_t mu;
  pthread_cond_t published; /* CLOCK_MONOTONIC: new latest, or closed */
  pthread_cond_t left;      /* a waiter left after close */
  int count;
  size_t capacity;
  int latest;               /* slot of the newest published frame, or -1 */
  int closed;
  int waiters;              /* threads inside pv_frame_pool_wait */
  int leased;               /* sum of refs */
  uint64_t next_seq;
  uint64_t published_total;
  uint64_t dropped;
  uint8_t *data;            /* count * capacity bytes */
  pv_frame frames[PV_FRAME_POOL_MAX];
  int refs[PV_FRAME_POOL_MAX];
  int writing[PV_FRAME_POOL_MAX];
  uint64_t next_gen;        /* generation of the last lease */
  uint64_t ticket_gen[PV_FRAME_POOL_MAX_LEASES]; /* 0: free */
  int ticket_slot[PV_FRAME_POOL_MAX_LEASES];
  int free_tickets[PV_FRAME_POOL_MAX_LEASES];    /* a stack */
  int free_top;
  uint64_t bad_releases;
  int told_bad_release, told_full; /* logged once per pool */
};

int pv_frame_pool_create(int count, size_t capacity, pv_frame_pool **out) {
  *out = NULL;
  if (count < 2 || count > PV_FRAME_POOL_MAX || capacity == 0) return PV_EINVAL;
  pv_frame_pool *p = calloc(1, sizeof *p);
  if (p == NULL) return PV_ENOMEM;
  p->data = malloc((size_t)count * capacity);
  if (p->data == NULL) {
    free(p);
    return PV_ENOMEM;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->published, &ca);
  pthread_condattr_destroy(&ca);
  pthread_cond_init(&p->left, NULL);
  pthread_mutex_init(&p->mu, NULL);
  p->count = count;
  p->capacity = capacity;
  p->latest = -1;
  for (int i = 0; i < count; i++) {
    p->frames[i].capacity = capacity;
    p->frames[i].data = p->data + (size_t)i * capacity;
  }
  for (int t = 0; t < PV_FRAME_POOL_MAX_LEASES; t++)
    p->free_tickets[t] = PV_FRAME_POOL_MAX_LEASES - 1 - t;
  p->free_top = PV_FRAME_POOL_MAX_LEASES;
  /* Backed now: otherwise RSS steps up when a frame is first written, maybe
   * an hour into a run (the writer reuses the lowest free slots). */
  pv_prefault(p->data, (size_t)count * capacity);
  *out = p;
  return PV_OK;
}

void pv_frame_pool_destroy(pv_frame_pool *pool) {
  if (pool == NULL) return;
  pthread_mutex_destroy(&pool->mu);
  pthread_cond_destroy(&pool->published);
  pthread_cond_destroy(&pool->left);
  free(pool->data);
  free(pool);
}

static int slot_of(const pv_frame_pool *pool, const pv_frame *frame) {
  ptrdiff_t i = frame - pool->frames;
  return (i >= 0 && i < pool->count) ? (int)i : -1;
}

pv_frame *pv_frame_pool_acquire(pv_frame_pool *pool) {
  pthread_mutex_lock(&pool->mu);
  int pick = -1;
  for (int i = 0; i < pool->count; i++) {
    if (pool->refs[i] == 0 && !pool->writing[i] && i != pool->latest) {
      pick = i;
      break;
    }
  }
  if (pick < 0 && pool->latest >= 0 && pool->refs[pool->latest] == 0 &&
      !pool->writing[pool->latest]) {
    pick = pool->latest; /* the only free one: no reader holds it */
    pool->latest = -1;
  }
  pv_frame *f = NULL;
  if (pick >= 0) {
    pool->writing[pick] = 1;
    f = &pool->frames[pick];
    f->size = 0;
    f->has_truth = 0;
  } else {
    pool->dropped++;
  }
  pthread_mutex_unlock(&pool->mu);
  return f;
}

void pv_frame_pool_publish(pv_frame_pool *pool, pv_frame *frame) {
  int i = slot_of(pool, frame);
  if (i < 0) return;
  pthread_mutex_lock(&pool->mu);
  if (pool->writing[i]) {
    pool->writing[i] = 0;
    frame->seq = ++pool->next_seq;
    pool->latest = i;
    pool->published_total++;
    pthread_cond_broadcast(&pool->published);
  }
  pthread_mutex_unlock(&pool->mu);
}

void pv_frame_pool_discard(pv_frame_pool *pool, pv_frame *frame) {
  int i = slot_of(pool, frame);
  if (i < 0) return;
  pthread_mutex_lock(&pool->mu);
  pool->writing[i] = 0;
  pthread_mutex_unlock(&pool->mu);
}

static struct timespec deadline_after_ms(int timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

const char *pv_frame_time_name(pv_frame_time t) {
  static const char *const names[] = {
#define XX(name, word) word,
      PV_FRAME_TIME_MAP(XX)
#undef XX
  };
  return (unsigned)t < PV_FRAME_TIME_COUNT ? names[t] : "?";
}

/* What a reader waits for: a frame exposed after a time, or one answering
 * a trigger request. */
typedef struct wanted {
  int by_trigger;
  int64_t newer_than_ns;
  uint64_t trigger;
} wanted;

static int is_wanted(const pv_frame *f, const wanted *w) {
  if (w->by_trigger) return f->trigger >= w->trigger;
  return f->time != PV_FRAME_TIME_UNCERTAIN && f->exposure_ns > w->newer_than_ns;
}

/* timeout_ms < 0 waits without a deadline; 0 only looks. */
static int wait_for(pv_frame_pool *pool, const wanted *w, int timeout_ms, pv_lease *out) {
  memset(out, 0, sizeof *out);
  struct timespec deadline = deadline_after_ms(timeout_ms > 0 ? timeout_ms : 0);
  int rc = PV_ETIMEDOUT;
  pthread_mutex_lock(&pool->mu);
  pool->waiters++;
  for (;;) {
    if (pool->closed) {
      rc = PV_ECANCELED;
      break;
    }
    int l = pool->latest;
    if (l >= 0 && is_wanted(&pool->frames[l], w)) {
      if (pool->free_top == 0) {
        rc = PV_EBUSY;
        break;
      }
      int t = pool->free_tickets[--pool->free_top];
      pool->ticket_gen[t] = ++pool->next_gen;
      pool->ticket_slot[t] = l;
      pool->refs[l]++;
      pool->leased++;
      out->frame = &pool->frames[l];
      out->pool = pool;
      out->slot = l;
      out->ticket = t;
      out->gen = pool->ticket_gen[t];
      rc = PV_OK;
      break;
    }
    if (timeout_ms == 0) break;
    if (timeout_ms < 0) {
      pthread_cond_wait(&pool->published, &pool->mu);
    } else if (pthread_cond_timedwait(&pool->published, &pool->mu, &deadline) ==
               ETIMEDOUT) {
      timeout_ms = 0; /* look once more, then give up */
    }
  }
  pool->waiters--;
  if (pool->closed && pool->waiters == 0) pthread_cond_broadcast(&pool->left);
  int tell = rc == PV_EBUSY && !pool->told_full;
  if (tell) pool->told_full = 1;
  pthread_mutex_unlock(&pool->mu);
  if (tell)
    pv_error("frame pool: %d leases held at once, none left: a reader does not release its "
             "leases (pv_lease_release); no more frames are leased until they come back",
             PV_FRAME_POOL_MAX_LEASES);
  return rc;
}

int pv_frame_pool_wait(pv_frame_pool *pool, int64_t newer_than_ns, int timeout_ms,
                       pv_lease *out) {
  wanted w = {.by_trigger = 0, .newer_than_ns = newer_than_ns};
  return wait_for(pool, &w, timeout_ms, out);
}

int pv_frame_pool_wait_trigger(pv_frame_pool *pool, uint64_t trigger, int timeout_ms,
                               pv_lease *out) {
  wanted w = {.by_trigger = 1, .trigger = trigger};
  return wait_for(pool, &w, timeout_ms, out);
}

int pv_lease_release(pv_lease *lease) {
  if (lease == NULL || lease->pool == NULL) return PV_OK;
  pv_frame_pool *pool = lease->pool;
  int t = lease->ticket, slot = lease->slot;
  pthread_mutex_lock(&pool->mu);
  int ok = lease->gen != 0 && t >= 0 && t < PV_FRAME_POOL_MAX_LEASES &&
           pool->ticket_gen[t] == lease->gen && pool->ticket_slot[t] == slot;
  int tell = 0;
  if (ok) {
    pool->ticket_gen[t] = 0;
    pool->free_tickets[pool->free_top++] = t;
    pool->refs[slot]--;
    pool->leased--;
  } else {
    pool->bad_releases++;
    tell = !pool->told_bad_release;
    pool->told_bad_release = 1;
  }
  pthread_mutex_unlock(&pool->mu);
  lease->frame = NULL; /* pool, ticket and gen stay: a second release is seen */
  if (tell)
    pv_error("frame pool: lease %llu (slot %d) released twice, or a copy of a released "
             "lease: refused, no reference dropped (reported once per pool; counted in "
             "bad_releases)", (unsigned long long)lease->gen, slot);
  return ok ? PV_OK : PV_EINVAL;
}

/* Also waits until every woken waiter has left pv_frame_pool_wait, so the
 * pool may be destroyed as soon as this returns (once leases are back). */
void pv_frame_pool_close(pv_frame_pool *pool) {
  if (pool == NULL) return;
  pthread_mutex_lock(&pool->mu);
  pool->closed = 1;
  pthread_cond_broadcast(&pool->published);
  while (pool->waiters > 0) pthread_cond_wait(&pool->left, &pool->mu);
  pthread_mutex_unlock(&pool->mu);
}

void pv_frame_pool_get_stats(pv_frame_pool *pool, pv_frame_pool_stats *out) {
  pthread_mutex_lock(&pool->mu);
  out->published = pool->published_total;
  out->dropped = pool->dropped;
  out->leased = pool->leased;
  out->count = pool->count;
  out->bad_releases = pool->bad_releases;
  pthread_mutex_unlock(&pool->mu);
}
