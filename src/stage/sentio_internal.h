/* Internal to src/stage: the sentio client's connection (sentio_conn.c)
 * and the sentio stage's state, requests and driver entries. The wire
 * protocol's constants and line codec, which the simulator's server
 * shares, are public: probevision/sentio.h.
 */
#ifndef PROBEVISION_SENTIO_INTERNAL_H
#define PROBEVISION_SENTIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"
#include "probevision/sentio.h"
#include "probevision/stage.h"

/* ---- client connection (sentio_conn.c; used by sentio_session.c) ------- */

#define PV__SENTIO_BACKOFF_MIN_MS 50
#define PV__SENTIO_BACKOFF_MAX_MS 1000

typedef struct pv__sentio_conn {
  char host[256];
  int port;
  char peer[280];             /* "host:port" for messages */
  int fd;                     /* -1: not connected */
  int connect_timeout_ms;
  int64_t next_connect_ns;    /* backoff: no connect attempt before this */
  int backoff_ms;
  pv_sentio_lines lines;
  char line[PV_SENTIO_LINE_MAX + 1]; /* the last line read */
  size_t line_len;
} pv__sentio_conn;

void pv__sentio_conn_init(pv__sentio_conn *c, const char *host, int port,
                          int connect_timeout_ms);
/* TCP connect with timeout (after the backoff delay, if any). PV_EIO /
 * PV_ETIMEDOUT / PV_ENOTFOUND with the peer in err. */
int pv__sentio_conn_open(pv__sentio_conn *c, pv_error *err);
/* Closes (if open) and arms the reconnect backoff. */
void pv__sentio_conn_close(pv__sentio_conn *c);
/* Sends cmd + "\n". PV_EDISCONNECTED (connection closed) on failure. */
int pv__sentio_conn_send(pv__sentio_conn *c, const char *cmd, pv_error *err);
/* Reads one line into c->line within timeout_ms. PV_ETIMEDOUT,
 * PV_EDISCONNECTED, or PV_EPARSE for an overlong line; each closes the
 * connection (its stream position is lost). */
int pv__sentio_conn_read_line(pv__sentio_conn *c, int timeout_ms,
                              const char *cmd, pv_error *err);

/* ---- the sentio stage (sentio_session.c, sentio_stage.c, sentio_zmap.c) */

/* What a request asks; the command line is formatted for the station's
 * command set when it is sent (sentio_session.c). */
typedef enum pv__sentio_op {
  PV__SENTIO_MOVE_ABS,  /* x, y */
  PV__SENTIO_MOVE_REL,  /* x, y: the delta */
  PV__SENTIO_GET_XY,
  PV__SENTIO_CONTACT,
  PV__SENTIO_SEPARATE,
  PV__SENTIO_GET_Z,
  PV__SENTIO_MAP_FIRST,
  PV__SENTIO_MAP_NEXT,
  PV__SENTIO_MAP_DIE,   /* col, row, site */
  PV__SENTIO_MAP_INDEX
} pv__sentio_op;

typedef struct pv__sentio_req {
  pv__sentio_op op;
  double x, y;
  int col, row, site;
} pv__sentio_req;

/* How a request ended: sent is 1 once the whole command line went out on a
 * connection (it may have been carried out); code is the station's error
 * code of the last reply, -1 when there was no reply. */
typedef struct pv__sentio_outcome {
  int sent;
  int code;
} pv__sentio_outcome;

#define PV__SENTIO_Z_TOL_UM 1.0 /* a height within this of a known one is it */

typedef struct pv__sentio_stage {
  pv_sentio_stage_params p;
  pv__sentio_conn conn;
  int ever_connected;      /* a handshake succeeded once */
  int have_version;
  pv_sentio_version version;
  int chuck_group;         /* send the chuck: group (station >= 25.2) */
  int group_refused;       /* the station answered 3/6/7 to a chuck: command */
  int plain_get_xy;        /* the station refused "get_chuck_xy Wafer, Zero" */
  char idn[128];
  int have_pos;            /* pos_x/pos_y are the chuck's known position */
  double pos_x, pos_y;
  int64_t t_move_done;     /* when the last move's reply arrived; 0: none */
  int have_contact_z, have_sep_z;
  double contact_z, sep_z; /* heights the station reported for them */
  int have_die;            /* die: the last die the station stepped to */
  pv_map_die die;
} pv__sentio_stage;

/* Connects and runs the handshake if not connected ("*RCS 1", "*IDN?",
 * "status:get_version"). One attempt; PV_EIO / PV_ETIMEDOUT / PV_EPARSE /
 * PV_EDISCONNECTED. */
int pv__sentio_session_open(pv__sentio_stage *s, pv_error *err);
/* Sends q and reads its reply with the retry policy (sentio_session.c):
 * up to retries further attempts after a reply timeout, a malformed reply
 * or a RETRY-class error; FAIL-class errors at once (PV_ESTAGE), END
 * (PV_ENOTFOUND); a connection that cannot be (re)established or is lost
 * is retried for reconnect_ms. once: return as soon as an attempt that was
 * sent fails (the caller recovers: the command may have been carried out).
 * *r points into s->conn.line. out may be NULL. Not thread-safe. */
int pv__sentio_request(pv__sentio_stage *s, const pv__sentio_req *q, int retries, int once,
                       pv_sentio_reply *r, pv__sentio_outcome *out, pv_error *err);
/* The position query (GET_XY with retries); updates pos_x/pos_y. */
int pv__sentio_query_position(pv__sentio_stage *s, double *x, double *y, pv_error *err);
/* The first n (<= 4) numbers of r's message into v, or PV_EPARSE with err
 * naming the peer, the request (`what`) and the expected form, and quoting
 * the reply. Thread: the stage's. */
int pv__sentio_numbers(const pv__sentio_stage *s, const pv_sentio_reply *r, int n, double *v,
                       const char *what, const char *form, pv_error *err);
/* That error: PV_EPARSE, "the reply to <what> is not <form>: <reply>". */
int pv__sentio_bad_reply(const pv__sentio_stage *s, const pv_sentio_reply *r, const char *what,
                         const char *form, pv_error *err);

/* Driver entries in sentio_zmap.c (self is a pv__sentio_stage). */
int pv__sentio_contact(void *self, double *z_um, pv_error *err);
int pv__sentio_separate(void *self, double *z_um, pv_error *err);
int pv__sentio_get_z(void *self, double *z_um, pv_stage_z *where, pv_error *err);
int pv__sentio_map_step(void *self, pv_map_step_kind kind, int col, int row, int site,
                        pv_map_die *out, pv_error *err);

#endif
