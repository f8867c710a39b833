/* The simulator's SENTIO server: asynchronous commands.
 *
 *   start_initialization        "0,ID,..." with a new command id (ids count
 *                               up from 1); the station is then
 *                               initializing for init_ms (real time):
 *                               motion commands answer 12, the home
 *                               position is unset. At the end the chuck goes
 *                               to separation and to the home position and
 *                               the station is Ready (home set). 12 while
 *                               one is already running.
 *   query_command_status ID     30 (pending) while running; when ended, the
 *                               command's result: 0, or 31 after an abort,
 *                               or 2 if its moves failed; 32 unknown id
 *   wait_complete ID, TIMEOUT_S that result when the command ends (the
 *                               client's later lines wait; other clients go
 *                               on); 19 when TIMEOUT_S passes first; 32
 *   abort_command ID            stops a running command (0); it then
 *                               reports 31 and the station stays not
 *                               initialized; 12 when it already ended; 32
 * Every reply about a command carries its id as cmdId. The last
 * PV__SRV_JOBS commands are remembered; older ids answer 32.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sentio_internal.h"

static pv__srv_job *find(pv_sentio_server *s, long id) {
  for (int i = 0; i < PV__SRV_JOBS; i++)
    if (s->jobs[i].state != PV__JOB_FREE && s->jobs[i].id == id) return &s->jobs[i];
  return NULL;
}

/* Parses ID into *id; the job or NULL with r set (6, or 32). */
static pv__srv_job *job_arg(pv_sentio_server *s, const char *a, long *id, pv__srv_reply *r) {
  int v;
  if (pv__srv_parse_int(a, &v) < 0) {
    pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "command id '%s' is not an integer", a);
    return NULL;
  }
  *id = r->cmd_id = v;
  pv__srv_job *j = find(s, v);
  if (j == NULL) pv__srv_set(r, PV_SENTIO_ERR_UNKNOWN_ID, "unknown command id %d", v);
  return j;
}

static void result(const pv__srv_job *j, pv__srv_reply *r) {
  r->cmd_id = j->id;
  if (j->state == PV__JOB_RUNNING)
    pv__srv_set(r, PV_SENTIO_ERR_PENDING, "command %ld is running", j->id);
  else
    pv__srv_set(r, j->code, "%s", j->msg);
}

static void finish(pv_sentio_server *s, pv__srv_job *j, int code, const char *msg) {
  j->state = PV__JOB_DONE;
  j->code = code;
  pv_snprintf_c(j->msg, sizeof j->msg, "%.95s", msg);
  if (s->init_job == j->id) s->init_job = 0;
}

void pv__srv_start_initialization(pv_sentio_server *s, int n, pv__srv_reply *r) {
  if (n != 0)
    return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "start_initialization takes no parameters");
  if (s->init_job)
    return pv__srv_set(r, PV_SENTIO_ERR_INVALID_OPERATION, "initialization already running (command %ld)",
                       s->init_job);
  pv__srv_job *j = &s->jobs[s->next_job_id % PV__SRV_JOBS]; /* the oldest slot */
  *j = (pv__srv_job){.id = s->next_job_id++, .state = PV__JOB_RUNNING,
                     .t_end_ns = pv_now_ns() + (int64_t)(s->p.init_ms * 1e6)};
  s->init_job = j->id;
  s->initialized = s->home_set = 0;
  s->route_pos = -1;
  pv_info("sentio server: initialization started (command %ld, %.0f ms)", j->id, s->p.init_ms);
  r->cmd_id = j->id;
  pv__srv_set(r, 0, "initialization started");
}

/* The end of an initialization: separation, home, Ready. */
static void complete_init(pv_sentio_server *s, pv__srv_job *j) {
  double z;
  pv_error e;
  pv__srv_reply r = {.kind = PV__SRV_NOW};
  s->init_job = 0; /* the moves below are the initialization's own */
  s->initialized = 1;
  if (pv_stage_separate(s->stage, &z, &e) < 0) {
    s->initialized = 0;
    return finish(s, j, PV_SENTIO_ERR_EXECUTION, e.msg);
  }
  if (pv__srv_xy_move(s, s->p.home_x_um, s->p.home_y_um, &r) != PV_SENTIO_OK) {
    s->initialized = 0;
    return finish(s, j, PV_SENTIO_ERR_EXECUTION, r.msg);
  }
  s->home_set = 1;
  pv_info("sentio server: initialization done (command %ld)", j->id);
  finish(s, j, 0, "OK");
}

void pv__srv_jobs_tick(pv_sentio_server *s) {
  int64_t now = pv_now_ns();
  for (int i = 0; i < PV__SRV_JOBS; i++) {
    pv__srv_job *j = &s->jobs[i];
    if (j->state == PV__JOB_RUNNING && now >= j->t_end_ns) complete_init(s, j);
  }
}

int64_t pv__srv_jobs_next_end(const pv_sentio_server *s) {
  int64_t t = INT64_MAX;
  for (int i = 0; i < PV__SRV_JOBS; i++)
    if (s->jobs[i].state == PV__JOB_RUNNING && s->jobs[i].t_end_ns < t) t = s->jobs[i].t_end_ns;
  return t;
}

void pv__srv_query(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  long id;
  if (n != 1) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "query_command_status wants ID");
  pv__srv_job *j = job_arg(s, a[0], &id, r);
  if (j) result(j, r);
}

void pv__srv_wait_complete(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  long id;
  double timeout_s;
  if (n != 2) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "wait_complete wants ID, TIMEOUT_S");
  if (pv_sentio_parse_number(a[1], strlen(a[1]), &timeout_s) < 0)
    return pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "timeout '%s' is not a number (s)", a[1]);
  if (!(timeout_s >= 0 && timeout_s <= 86400))
    return pv__srv_set(r, PV_SENTIO_ERR_OUT_OF_BOUNDS, "timeout %g s is outside 0..86400", timeout_s);
  pv__srv_job *j = job_arg(s, a[0], &id, r);
  if (j == NULL) return;
  if (j->state != PV__JOB_RUNNING) return result(j, r);
  r->kind = PV__SRV_WAIT;
  r->wait_id = id;
  r->wait_deadline_ns = pv_now_ns() + (int64_t)(timeout_s * 1e9);
}

int pv__srv_wait_over(pv_sentio_server *s, long id, int64_t deadline_ns, pv__srv_reply *r) {
  pv__srv_job *j = find(s, id);
  r->kind = PV__SRV_NOW;
  r->cmd_id = id;
  if (j == NULL) {
    pv__srv_set(r, PV_SENTIO_ERR_UNKNOWN_ID, "unknown command id %ld", id);
    return 1;
  }
  if (j->state != PV__JOB_RUNNING) {
    result(j, r);
    return 1;
  }
  if (pv_now_ns() < deadline_ns) {
    r->kind = PV__SRV_WAIT;
    return 0;
  }
  pv__srv_set(r, PV_SENTIO_ERR_TIMEOUT, "timeout: command %ld still running", id);
  return 1;
}

void pv__srv_abort(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  long id;
  if (n != 1) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "abort_command wants ID");
  pv__srv_job *j = job_arg(s, a[0], &id, r);
  if (j == NULL) return;
  if (j->state != PV__JOB_RUNNING)
    return pv__srv_set(r, PV_SENTIO_ERR_INVALID_OPERATION, "command %ld has already ended", id);
  finish(s, j, PV_SENTIO_ERR_ABORTED, "async command aborted");
  pv_info("sentio server: command %ld aborted", id);
  pv__srv_set(r, 0, "command %ld aborted", id);
}
