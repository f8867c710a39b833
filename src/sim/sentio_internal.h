/* The simulator's SENTIO server, shared between its files (src/sim only):
 * sentio_server.c (sockets, clients, deferred replies), sentio_commands.c
 * (the command table, the chuck and status commands), sentio_map.c (the
 * wafer map's route), sentio_async.c (asynchronous commands).
 *
 * Everything here runs on the server's one thread ("sentio"); nothing is
 * thread-safe and nothing needs to be.
 */
#ifndef PV_SIM_SENTIO_INTERNAL_H
#define PV_SIM_SENTIO_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "probevision/sentio.h"
#include "probevision/sim.h"

/* Replies use SENTIO's error codes and status bits from probevision/sentio.h
 * (the table the client classifies them with); a status bit goes above the
 * code's 10 bits. */
#define PV__SRV_STAT(bit) ((unsigned)(bit) << 10)

#define PV__SRV_VERSION "24.0.0"
#define PV__SRV_IDN "MPI Corporation,Sentio - Probe System Software Suite,0,24.0.0.0"
#define PV__SRV_MAX_ARGS 8
#define PV__SRV_JOBS 16

/* What a command's handler answers. */
typedef enum pv__srv_reply_kind {
  PV__SRV_NOW = 0, /* send code/status/cmd_id/msg now */
  PV__SRV_NONE,    /* no reply (a '*' command without '?') */
  PV__SRV_RAW,     /* send msg as the whole line (*IDN?) */
  PV__SRV_HOLD,    /* the stage-timeout fault: send after the fault delay */
  PV__SRV_WAIT     /* wait_complete: send when job wait_id ends or at
                      wait_deadline_ns (error 19) */
} pv__srv_reply_kind;

typedef struct pv__srv_reply {
  pv__srv_reply_kind kind;
  int code;
  unsigned status;
  long cmd_id;
  long wait_id;
  int64_t wait_deadline_ns;
  char msg[PV_SENTIO_LINE_MAX - 32];
} pv__srv_reply;

typedef enum pv__srv_job_state { PV__JOB_FREE = 0, PV__JOB_RUNNING, PV__JOB_DONE } pv__srv_job_state;

/* An asynchronous command: runs until t_end_ns, then completes (or was
 * aborted); its final code and message are what query_command_status and
 * wait_complete report. */
typedef struct pv__srv_job {
  long id;
  pv__srv_job_state state;
  int64_t t_end_ns;
  int code;
  char msg[96];
} pv__srv_job;

typedef enum pv__srv_client_state { PV__CL_FREE = 0, PV__CL_IDLE, PV__CL_HELD, PV__CL_WAIT } pv__srv_client_state;

typedef struct pv__srv_client {
  int fd;
  pv__srv_client_state state;
  int64_t deadline_ns;   /* HELD: when the held reply goes out */
  pv__srv_reply pending; /* HELD or WAIT: the reply to send */
  pv_sentio_lines lines;
} pv__srv_client;

struct pv_sentio_server {
  pv_stage *stage;
  pv_sentio_server_params p;
  uint64_t rng;
  int listen_fd, wake_fd, port;
  pthread_t thread;
  pv__srv_client clients[PV_SENTIO_SERVER_CLIENTS];
  char line[PV_SENTIO_LINE_MAX + 1];
  /* the station */
  int initialized, home_set, contact_set;
  long init_job;          /* id of the running initialization, 0: none */
  int route_pos;          /* the active die's index on the route; -1: none */
  pv__srv_job jobs[PV__SRV_JOBS];
  long next_job_id;
};

/* sentio_commands.c: answers one command line (printable, NUL-terminated). */
void pv__srv_handle(pv_sentio_server *s, char *line, pv__srv_reply *r);
/* Reply setters (kind untouched). */
void pv__srv_set(pv__srv_reply *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An XY move of the chuck to (x, y) in Zero through the stage, with the
 * faults and the interlock: PV_SENTIO_OK (r->kind may be HOLD: the
 * stage-timeout fault) or an error code with r set. */
int pv__srv_xy_move(pv_sentio_server *s, double x, double y, pv__srv_reply *r);
/* 0 when the station may move (r untouched), else the error code with r
 * set (initialization running or not done). */
int pv__srv_check_ready(pv_sentio_server *s, pv__srv_reply *r);
/* Parses a whole decimal integer; 0 or -1. */
int pv__srv_parse_int(const char *a, int *out);

/* sentio_map.c: map:* commands (name without "map:"). 1 when handled. */
int pv__srv_map_command(pv_sentio_server *s, const char *name, char **a, int n,
                        pv__srv_reply *r);

/* sentio_async.c */
void pv__srv_start_initialization(pv_sentio_server *s, int n, pv__srv_reply *r);
void pv__srv_query(pv_sentio_server *s, char **a, int n, pv__srv_reply *r);
void pv__srv_wait_complete(pv_sentio_server *s, char **a, int n, pv__srv_reply *r);
void pv__srv_abort(pv_sentio_server *s, char **a, int n, pv__srv_reply *r);
/* Completes jobs whose time has come. */
void pv__srv_jobs_tick(pv_sentio_server *s);
/* The earliest end of a running job (INT64_MAX: none). */
int64_t pv__srv_jobs_next_end(const pv_sentio_server *s);
/* For a client waiting on job id: 1 and r set when the wait is over
 * (the job ended, is unknown, or now >= deadline). */
int pv__srv_wait_over(pv_sentio_server *s, long id, int64_t deadline_ns, pv__srv_reply *r);

#endif
