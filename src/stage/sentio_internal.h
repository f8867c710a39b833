/* Internal to src/stage: the sentio client's connection (sentio_conn.c,
 * used by sentio_stage.c). The wire protocol's constants and line codec,
 * which the simulator's server shares, are public: probevision/sentio.h.
 */
#ifndef PROBEVISION_SENTIO_INTERNAL_H
#define PROBEVISION_SENTIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"
#include "probevision/sentio.h"

/* ---- client connection (sentio_conn.c; used by sentio_stage.c) ------- */

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
/* send + read + parse. A malformed reply closes the connection
 * (PV_EPARSE); a non-zero error code is PV_ESTAGE with the server's message
 * (the connection stays). *r points into c->line. */
int pv__sentio_conn_command(pv__sentio_conn *c, const char *cmd,
                            int timeout_ms, pv_sentio_reply *r,
                            pv_error *err);

#endif
