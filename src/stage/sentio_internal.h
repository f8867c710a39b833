/* Internal: the SENTIO remote-command line codec, shared by the sentio
 * stage driver (client, src/stage) and the simulator's server (src/sim).
 *
 * Wire format: ASCII lines ending in "\n" ("\r\n" accepted). A line holds
 * at most PV_SENTIO_LINE_MAX bytes before its terminator; longer lines are
 * discarded up to their "\n" and reported once. Replies are
 * "errc_stat,cmdId,message": the error code is the low 10 bits of the first
 * field (0 success), the bits above it are status flags; cmdId is 0 for
 * synchronous commands.
 *
 * Error codes the simulator answers with (a real SENTIO has its own table;
 * the client only distinguishes 0 from non-zero and reports the message):
 */
#ifndef PROBEVISION_SENTIO_INTERNAL_H
#define PROBEVISION_SENTIO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"
#include "probevision/sim.h"

enum {
  PV__SENTIO_OK = 0,
  PV__SENTIO_E_UNKNOWN_CMD = 2,  /* unknown command or not printable */
  PV__SENTIO_E_BAD_PARAM = 3,    /* wrong number or form of parameters */
  PV__SENTIO_E_RANGE = 4,        /* target outside the travel range */
  PV__SENTIO_E_MOVE = 5,         /* the move failed (stage fault) */
  PV__SENTIO_E_TOO_LONG = 6,     /* command line longer than the maximum */
  PV__SENTIO_CODE_MASK = 1023
};

/* A parsed reply. msg points into the caller's line buffer. */
typedef struct pv__sentio_reply {
  int code;          /* low 10 bits of the first field */
  unsigned status;   /* the bits above them */
  long cmd_id;
  const char *msg;   /* the rest of the line, leading blanks skipped */
} pv__sentio_reply;

/* Line assembler: a fixed buffer, no allocation. */
#define PV__SENTIO_BUF_CAP (PV_SENTIO_LINE_MAX + 2) /* line + "\r\n" */
typedef struct pv__sentio_lines {
  char buf[PV__SENTIO_BUF_CAP];
  size_t len;     /* bytes buffered */
  int discarding; /* skipping the rest of an overlong line */
} pv__sentio_lines;

typedef enum pv__sentio_line_event {
  PV__SENTIO_NONE = 0,     /* no complete line buffered: read more */
  PV__SENTIO_LINE = 1,     /* a line was copied out */
  PV__SENTIO_OVERLONG = 2  /* a line longer than the maximum was dropped */
} pv__sentio_line_event;

void pv__sentio_lines_reset(pv__sentio_lines *lb);
/* Where received bytes go: at most *cap bytes at the returned pointer, then
 * pv__sentio_lines_added(lb, n). *cap > 0 whenever no line is pending. */
char *pv__sentio_lines_space(pv__sentio_lines *lb, size_t *cap);
void pv__sentio_lines_added(pv__sentio_lines *lb, size_t n);
/* Takes the next event. For PV__SENTIO_LINE, the line (terminator and a
 * trailing "\r" removed) is copied into out (capacity PV_SENTIO_LINE_MAX +
 * 1, NUL-terminated) and its length (it may hold NUL bytes) into *len. */
pv__sentio_line_event pv__sentio_lines_next(pv__sentio_lines *lb, char *out,
                                            size_t *len);

/* Parses a reply line of len bytes. PV_EPARSE (err: "<peer>: why: "line"")
 * when it is not printable ASCII or not "int,int,message". peer names the
 * other side in messages ("127.0.0.1:35555"). */
int pv__sentio_parse_reply(const char *line, size_t len, const char *peer,
                           pv__sentio_reply *r, pv_error *err);

/* A decimal number with optional blanks around it; rejects empty, trailing
 * garbage, hex, inf and nan. 0 or -1. */
int pv__sentio_parse_number(const char *s, size_t len, double *out);
/* "x, y" (two numbers, comma-separated, nothing more). 0 or -1. */
int pv__sentio_parse_xy(const char *s, double *x, double *y);

/* Escapes len bytes for a message: printable ASCII kept, \\ \" \r \n \t,
 * others as \xNN; truncated with "..." to fit cap (always terminated). */
void pv__sentio_escape(const char *in, size_t len, char *out, size_t cap);

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
  pv__sentio_lines lines;
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
                            int timeout_ms, pv__sentio_reply *r,
                            pv_error *err);

#endif
