/* probevision sentio: the SENTIO remote-command wire protocol, as far as
 * probevision speaks it: the constants and the line codec shared by the
 * sentio stage driver (the client, src/stage) and the station simulator's
 * server (src/sim). Implemented in src/stage/sentio_codec.c; it is part of
 * the stage module. Users of a stage need stage.h only; this header is for
 * code that reads or writes the protocol itself.
 *
 * Wire format: ASCII lines ending in "\n" ("\r\n" accepted). A line holds
 * at most PV_SENTIO_LINE_MAX bytes before its terminator; longer lines are
 * discarded up to their "\n" and reported once. Replies are
 * "errc_stat,cmdId,message": the error code is the low 10 bits of the first
 * field (0 success), the bits above it are status flags; cmdId is 0 for
 * synchronous commands.
 *
 * Every function here is pure over caller-owned memory: no allocation, no
 * global state, thread-safe.
 */
#ifndef PROBEVISION_SENTIO_H
#define PROBEVISION_SENTIO_H

#include <stddef.h>
#include <stdint.h>

#include "probevision/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants -------------------------------------------------------- */

#define PV_SENTIO_DEFAULT_PORT 35555
#define PV_SENTIO_LINE_MAX 1024 /* longest command or reply line */

/* Error codes the simulator answers with (a real SENTIO has its own table;
 * the client only distinguishes 0 from non-zero and reports the message). */
enum {
  PV_SENTIO_OK = 0,
  PV_SENTIO_E_UNKNOWN_CMD = 2,  /* unknown command or not printable */
  PV_SENTIO_E_BAD_PARAM = 3,    /* wrong number or form of parameters */
  PV_SENTIO_E_RANGE = 4,        /* target outside the travel range */
  PV_SENTIO_E_MOVE = 5,         /* the move failed (stage fault) */
  PV_SENTIO_E_TOO_LONG = 6,     /* command line longer than the maximum */
  PV_SENTIO_CODE_MASK = 1023
};

/* A parsed reply. msg points into the caller's line buffer. */
typedef struct pv_sentio_reply {
  int code;          /* low 10 bits of the first field */
  unsigned status;   /* the bits above them */
  long cmd_id;
  const char *msg;   /* the rest of the line, leading blanks skipped */
} pv_sentio_reply;

/* Line assembler: a fixed buffer, no allocation. */
#define PV_SENTIO_BUF_CAP (PV_SENTIO_LINE_MAX + 2) /* line + "\r\n" */
typedef struct pv_sentio_lines {
  char buf[PV_SENTIO_BUF_CAP];
  size_t len;     /* bytes buffered */
  int discarding; /* skipping the rest of an overlong line */
} pv_sentio_lines;

typedef enum pv_sentio_line_event {
  PV_SENTIO_NONE = 0,     /* no complete line buffered: read more */
  PV_SENTIO_LINE = 1,     /* a line was copied out */
  PV_SENTIO_OVERLONG = 2  /* a line longer than the maximum was dropped */
} pv_sentio_line_event;

void pv_sentio_lines_reset(pv_sentio_lines *lb);
/* Where received bytes go: at most *cap bytes at the returned pointer, then
 * pv_sentio_lines_added(lb, n). *cap > 0 whenever no line is pending. */
char *pv_sentio_lines_space(pv_sentio_lines *lb, size_t *cap);
void pv_sentio_lines_added(pv_sentio_lines *lb, size_t n);
/* Takes the next event. For PV_SENTIO_LINE, the line (terminator and a
 * trailing "\r" removed) is copied into out (capacity PV_SENTIO_LINE_MAX +
 * 1, NUL-terminated) and its length (it may hold NUL bytes) into *len. */
pv_sentio_line_event pv_sentio_lines_next(pv_sentio_lines *lb, char *out,
                                            size_t *len);

/* Parses a reply line of len bytes. PV_EPARSE (err: "<peer>: why: "line"")
 * when it is not printable ASCII or not "int,int,message". peer names the
 * other side in messages ("127.0.0.1:35555"). */
int pv_sentio_parse_reply(const char *line, size_t len, const char *peer,
                           pv_sentio_reply *r, pv_error *err);

/* A decimal number with optional blanks around it; rejects empty, trailing
 * garbage, hex, inf and nan. '.' is the decimal separator whatever
 * LC_NUMERIC says. 0 or -1. */
int pv_sentio_parse_number(const char *s, size_t len, double *out);
/* "x, y" (two numbers, comma-separated, nothing more). 0 or -1. */
int pv_sentio_parse_xy(const char *s, double *x, double *y);

/* The move command "move_chuck_xy REF, X, Y" (ref: "Zero", "Home" or
 * "Relative"; X, Y in micrometres with 3 decimals and '.' as the decimal
 * separator whatever LC_NUMERIC says) into buf (cap bytes, terminated).
 * Returns its length, or -1 when it does not fit. */
int pv_sentio_format_move(char *buf, size_t cap, const char *ref, double x_um, double y_um);

/* Escapes len bytes for a message: printable ASCII kept, \\ \" \r \n \t,
 * others as \xNN; truncated with "..." to fit cap (always terminated). */
void pv_sentio_escape(const char *in, size_t len, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_SENTIO_H */
