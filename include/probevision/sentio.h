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
 * field (0 success), the bits above it are status flags (EndOfRoute,
 * LastSite); cmdId is 0 for synchronous commands and the command's id for
 * asynchronous ones; the message is the rest of the line and may hold
 * commas. Commands starting with '*' and without '?' ("*RCS 1", "*LOCAL")
 * get no reply.
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

/* SENTIO's remote-command error codes (the low 10 bits of a reply's first
 * field) and what the client does with each, in one table:
 *   X(ENUM, Name, code, class, "meaning")
 * Name is SENTIO's own (MPI's RemoteCommandError). Classes:
 *   PASS   success;
 *   RETRY  the command may succeed when sent again (the client retries it,
 *          bounded by its retries);
 *   FAIL   retrying cannot help: the command fails at once (PV_ESTAGE with
 *          the code, its name and the station's message);
 *   END    the end of the wafer map's route (PV_ENOTFOUND for a step).
 * Codes not in the table (4, 5 and 10 are unused by SENTIO's own commands;
 * loader, vision and SiPh codes never answer the chuck commands) are FAIL,
 * named "unknown". */
#define PV_SENTIO_ERROR_MAP(X)                                                          \
  X(NO_ERROR, NoError, 0, PASS, "no error")                                             \
  X(INTERNAL, InternalError, 1, FAIL, "internal error of the station software")         \
  X(EXECUTION, ExecutionError, 2, RETRY, "execution error: the command did not complete") \
  X(NO_HANDLER, CommandHandlerNotFound, 3, FAIL, "unknown command")                     \
  X(INVALID_PARAM, InvalidParameter, 6, FAIL, "invalid parameter")                      \
  X(PARAM_COUNT, InvalidNumberOfParameters, 7, FAIL, "invalid number of parameters")    \
  X(OUT_OF_BOUNDS, ArgumentOutOfBounds, 8, FAIL, "argument out of bounds")              \
  X(FILE_NOT_FOUND, FileNotFound, 9, FAIL, "file not found")                            \
  X(END_OF_ROUTE, EndOfRoute, 11, END, "end of the route")                              \
  X(INVALID_OPERATION, InvalidOperation, 12, FAIL, "not allowed in the current state")  \
  X(NOT_SUPPORTED, NotSupported, 13, FAIL, "not supported by this station")             \
  X(NOT_ROUTABLE, SubsiteNotRoutable, 14, FAIL, "subsite not routable")                 \
  X(PROJECT_REQUIRED, ProjectRequired, 15, FAIL, "needs an open project")               \
  X(HOME_NOT_SET, HomePositionNotSet, 18, FAIL, "home position not set")                \
  X(TIMEOUT, Timeout, 19, RETRY, "the station timed out")                               \
  X(CONTACT_NOT_SET, ContactHeightNotSet, 23, FAIL, "contact height not set")           \
  X(PENDING, CommandPending, 30, RETRY, "command pending")                               \
  X(ABORTED, AsyncCommandAborted, 31, FAIL, "asynchronous command aborted")             \
  X(UNKNOWN_ID, UnknownCommandId, 32, FAIL, "unknown command id")                       \
  X(WRONG_Z, SteppingWithWrongZPosition, 38, FAIL, "stepping with the chuck below separation")

enum {
#define PV__SENTIO_ERR_ENUM(e, name, code, cls, what) PV_SENTIO_ERR_##e = (code),
  PV_SENTIO_ERROR_MAP(PV__SENTIO_ERR_ENUM)
#undef PV__SENTIO_ERR_ENUM
  PV_SENTIO_OK = 0,
  PV_SENTIO_CODE_MASK = 1023
};

typedef enum pv_sentio_class {
  PV_SENTIO_PASS = 0,
  PV_SENTIO_RETRY,
  PV_SENTIO_FAIL,
  PV_SENTIO_END
} pv_sentio_class;

/* Status bits: the bits above the error code, shifted down (reply.status). */
enum {
  PV_SENTIO_STAT_END_OF_ROUTE = 1, /* the step reached the route's last die */
  PV_SENTIO_STAT_LAST_SITE = 2     /* the step reached the die's last site */
};

/* SENTIO's version as status:get_version reports it ("Version: 25.2.0").
 * From 25.2 on (MPI's client counts 25.1.99 previews as 25.2) the station
 * has the chuck: command group (chuck:move_xy, chuck:get_xy, chuck:get_z). */
typedef struct pv_sentio_version {
  int major, minor, patch;
} pv_sentio_version;

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

/* The first n numbers of a comma-separated message ("X,Y" or "X,Y,Zero"
 * or "col,row,site,..."): fields after the n-th are ignored, whatever they
 * hold. 0, or -1 when fewer than n fields or one of them is not a number. */
int pv_sentio_parse_first(const char *s, int n, double *out);

/* The name (SENTIO's, e.g. "ArgumentOutOfBounds"; "unknown" for a code
 * not in the table), class and meaning of an error code. */
const char *pv_sentio_error_name(int code);
pv_sentio_class pv_sentio_error_class(int code);
const char *pv_sentio_error_what(int code);

/* Finds "Version: N.N[.N]" (case-insensitive, blanks allowed after the
 * colon) anywhere in msg. 0, or -1 when there is none. */
int pv_sentio_parse_version(const char *msg, pv_sentio_version *v);
/* 1 when a station of version v has the chuck: command group (>= 25.2,
 * or a 25.1.99 preview), else 0. */
int pv_sentio_version_has_chuck_group(const pv_sentio_version *v);

/* Escapes len bytes for a message: printable ASCII kept, \\ \" \r \n \t,
 * others as \xNN; truncated with "..." to fit cap (always terminated). */
void pv_sentio_escape(const char *in, size_t len, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_SENTIO_H */
