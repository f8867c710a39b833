/* The simulator's SENTIO server: the command table and the chuck and status
 * commands, as MPI's remote command set (pre-25.2 names) defines them.
 *
 * Lines: "name arg, arg, ..." (name case-insensitive, arguments comma-
 * separated and trimmed). Replies "errc,cmdId,message": errc = error code
 * (low 10 bits) | status bits (EndOfRoute 1 << 10, LastSite 2 << 10); cmdId
 * 0 except for asynchronous commands; numbers with '.' and 3 decimals.
 * Empty lines are ignored.
 *
 *   *IDN?                        MPI Corporation,Sentio - Probe System
 *                                Software Suite,0,24.0.0.0 (no errc prefix)
 *   *RCS N, *LOCAL, any '*' command without '?'   no reply at all
 *   status:get_version           Version: 24.0.0 (the pre-25.2 command set)
 *   status:get_machine_status    Ready|Initializing|NotInitialized,
 *                                AtContact|AtSeparation|ZUnknown,ChuckZ=Z,
 *                                ContactHeightSet|ContactHeightNotSet
 *   move_chuck_xy REF, X, Y      new X,Y in REF (R: in Zero)
 *   get_chuck_xy [SITE, REF]     X,Y (no arguments: Wafer, Zero)
 *   move_chuck_home              X,Y of home in Zero; 18 without home
 *   move_chuck_contact           Z reached; 23 without a contact height
 *   move_chuck_separation        Z reached
 *   get_chuck_z [REF]            Z in REF: C Contact, S Separation, Z Zero
 *                                (default), R Current (0); H Hover: 13
 *   get_chuck_site_heights SITE  contact,separation gap,overtravel,hover
 *   set_chuck_site_heights SITE, C, S, OT, HOVER   sets the contact height
 *                                (C and S must be the stage's: else 8)
 *   clear_contact [SITE]         forgets the contact height (then 23)
 *   get_chuck_site_status SITE   hasHome,hasContact,overtravel,vacuum
 *   map:...                      sentio_map.c
 *   start_initialization, query_command_status, wait_complete,
 *   abort_command                sentio_async.c
 *
 * XY references (any case, letter or name), origins in Zero coordinates:
 *   Z Zero        the wafer's origin, die (0, 0)'s lower-left corner = the
 *                 simulated stage's own frame
 *   M Machine     the axes' zero: Zero's origin is at Machine
 *                 (machine_x_um, machine_y_um), default (150000, 150000)
 *   H Home        the home position (default die (0, 0)'s mark); set by
 *                 initialization: without it, 18
 *   C Center      the chuck centre = the centre of the die grid
 *   U User        the user origin (default die (0, 0)'s centre)
 *   R Relative / Current   moves relative to the current position;
 *                 positions in R are reported in Zero
 * Sites: Wafer; AuxRight, AuxLeft, AuxRight2, AuxLeft2, ChuckCamera,
 * ChuckCamera2 are not on this chuck (13); anything else 6.
 *
 * Errors: 3 unknown command, 6 bad parameter (not a number, unknown
 * reference or site), 7 wrong number of parameters, 8 out of range (the
 * stage's travel, a die outside the map), 12 invalid operation (an XY move
 * while in contact: the stage's interlock refuses and counts it; a motion
 * during or before initialization), 13 not supported, 18 no home, 23 no
 * contact height, 2 a move that failed (the stage-error fault), 19 a move
 * that timed out.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sentio_internal.h"

enum ref { REF_M, REF_H, REF_C, REF_Z, REF_U, REF_R };

void pv__srv_set(pv__srv_reply *r, int code, const char *fmt, ...) {
  r->code = code;
  va_list ap;
  va_start(ap, fmt);
  pv_vsnprintf_c(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
}

int pv__srv_parse_int(const char *a, int *out) {
  char *end;
  errno = 0;
  long v = strtol(a, &end, 10);
  if (end == a || *end != '\0' || errno != 0 || v < -1000000 || v > 1000000) return -1;
  *out = (int)v;
  return 0;
}

static int parse_num(const char *a, double *out) {
  return pv_sentio_parse_number(a, strlen(a), out);
}

/* Splits "a, b, c" at commas into at most max trimmed fields; -1: more. */
static int split_args(char *args, char **out, int max) {
  int n = 0;
  while (*args == ' ' || *args == '\t') args++;
  if (*args == '\0') return 0;
  for (char *tok = args;;) {
    if (n == max) return -1;
    char *comma = strchr(tok, ',');
    if (comma) *comma = '\0';
    while (*tok == ' ' || *tok == '\t') tok++;
    char *end = tok + strlen(tok);
    while (end > tok && (end[-1] == ' ' || end[-1] == '\t')) *--end = '\0';
    out[n++] = tok;
    if (comma == NULL) return n;
    tok = comma + 1;
  }
}

static int parse_ref(const char *a) {
  static const struct { const char *name; int ref; } refs[] = {
      {"m", REF_M}, {"machine", REF_M}, {"h", REF_H}, {"home", REF_H},
      {"c", REF_C}, {"center", REF_C},  {"z", REF_Z}, {"zero", REF_Z},
      {"u", REF_U}, {"user", REF_U},    {"userdefined", REF_U},
      {"r", REF_R}, {"relative", REF_R}, {"current", REF_R}};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
    if (strcasecmp(a, refs[i].name) == 0) return refs[i].ref;
  return -1;
}

/* 0 Wafer, 1 a chuck site this chuck lacks, -1 not a site. */
static int parse_site(const char *a) {
  static const char *absent[] = {"AuxRight", "AuxLeft", "AuxRight2", "AuxLeft2",
                                 "ChuckCamera", "ChuckCamera2"};
  if (strcasecmp(a, "Wafer") == 0) return 0;
  for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
    if (strcasecmp(a, absent[i]) == 0) return 1;
  return -1;
}

/* 0 for Wafer; else the error with r set. */
static int check_site(const char *a, pv__srv_reply *r) {
  int site = parse_site(a);
  if (site == 1) {
    pv__srv_set(r, PV_SENTIO_ERR_NOT_SUPPORTED, "chuck site %s is not on the simulated chuck", a);
    return r->code;
  }
  if (site < 0) {
    pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "'%s' is not a chuck site (Wafer)", a);
    return r->code;
  }
  return 0;
}

/* The origin of ref in Zero coordinates (R: Zero's). 0, or 18 when ref is
 * Home and no home is set (r set). */
static int ref_origin(const pv_sentio_server *s, int ref, double *ox, double *oy,
                      pv__srv_reply *r) {
  const pv_wafer_params *w = &s->p.wafer;
  *ox = *oy = 0;
  switch (ref) {
    case REF_M: *ox = -s->p.machine_x_um; *oy = -s->p.machine_y_um; break;
    case REF_H:
      if (!s->home_set) {
        pv__srv_set(r, PV_SENTIO_ERR_HOME_NOT_SET, "home position not set: run start_initialization");
        return r->code;
      }
      *ox = s->p.home_x_um;
      *oy = s->p.home_y_um;
      break;
    case REF_C: *ox = w->cols * w->pitch_x_um / 2; *oy = w->rows * w->pitch_y_um / 2; break;
    case REF_U: *ox = s->p.user_x_um; *oy = s->p.user_y_um; break;
    default: break;
  }
  return 0;
}

int pv__srv_check_ready(pv_sentio_server *s, pv__srv_reply *r) {
  if (s->init_job) {
    pv__srv_set(r, PV_SENTIO_ERR_INVALID_OPERATION, "initialization in progress (command %ld)", s->init_job);
    return r->code;
  }
  if (!s->initialized) {
    pv__srv_set(r, PV_SENTIO_ERR_INVALID_OPERATION, "station not initialized: run start_initialization");
    return r->code;
  }
  return 0;
}

int pv__srv_xy_move(pv_sentio_server *s, double x, double y, pv__srv_reply *r) {
  const pv_sim_faults *f = &s->p.faults;
  if (f->stage_error > 0 && pv_rng_uniform(&s->rng) < f->stage_error) {
    pv_info("sentio server: injected stage error on a move to (%.3f, %.3f) um", x, y);
    pv__srv_set(r, PV_SENTIO_ERR_EXECUTION, "injected fault: move to %.3f, %.3f failed", x, y);
    return r->code;
  }
  pv_error e;
  int rc = pv_stage_move_abs(s->stage, x, y, &e);
  int64_t t;
  if (rc == PV_OK) rc = pv_stage_wait_settled(s->stage, &t, &e);
  if (rc == PV_OK) {
    if (f->stage_timeout > 0 && pv_rng_uniform(&s->rng) < f->stage_timeout) {
      pv_info("sentio server: injected delay of the reply to a move to (%.3f, %.3f) um", x, y);
      r->kind = PV__SRV_HOLD;
    }
    return PV_SENTIO_OK;
  }
  double z;
  pv_stage_z where = PV_STAGE_Z_UNKNOWN;
  pv_error ze;
  if (rc == PV_ESTAGE && pv_stage_get_z(s->stage, &z, &where, &ze) == PV_OK &&
      where == PV_STAGE_Z_CONTACT)
    pv__srv_set(r, PV_SENTIO_ERR_INVALID_OPERATION, "%s", e.msg);
  else if (rc == PV_ERANGE)
    pv__srv_set(r, PV_SENTIO_ERR_OUT_OF_BOUNDS, "%s", e.msg);
  else if (rc == PV_ETIMEDOUT)
    pv__srv_set(r, PV_SENTIO_ERR_TIMEOUT, "%s", e.msg);
  else
    pv__srv_set(r, PV_SENTIO_ERR_EXECUTION, "%s", e.msg);
  return r->code;
}

static int position(pv_sentio_server *s, double *x, double *y, pv__srv_reply *r) {
  pv_error e;
  if (pv_stage_get_position(s->stage, x, y, &e) == PV_OK) return 0;
  pv__srv_set(r, PV_SENTIO_ERR_EXECUTION, "cannot read the chuck position: %s", e.msg);
  return r->code;
}

static void reply_xy(pv_sentio_server *s, double ox, double oy, pv__srv_reply *r) {
  double x, y;
  if (position(s, &x, &y, r) == 0) pv__srv_set(r, 0, "%.3f,%.3f", x - ox, y - oy);
}

static void move_chuck_xy(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  if (n != 3) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "move_chuck_xy wants REF, X, Y");
  int ref = parse_ref(a[0]);
  double x, y, ox, oy;
  if (ref < 0)
    return pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "'%s' is not a reference (M, H, C, Z, U, R)", a[0]);
  if (parse_num(a[1], &x) < 0 || parse_num(a[2], &y) < 0)
    return pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "X and Y must be numbers (um): '%s', '%s'", a[1], a[2]);
  if ((s->init_job && pv__srv_check_ready(s, r)) || ref_origin(s, ref, &ox, &oy, r) ||
      pv__srv_check_ready(s, r))
    return;
  if (ref == REF_R && position(s, &ox, &oy, r)) return;
  if (pv__srv_xy_move(s, x + ox, y + oy, r)) return;
  if (ref == REF_R) ox = oy = 0;
  reply_xy(s, ox, oy, r);
}

static void get_chuck_xy(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  int ref = REF_Z;
  double ox, oy;
  if (n > 2) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "get_chuck_xy wants [SITE, REF]");
  if (n == 1 && parse_ref(a[0]) >= 0) {
    ref = parse_ref(a[0]); /* a lone reference: on Wafer */
  } else if (n >= 1) {
    if (check_site(a[0], r)) return;
    if (n == 2 && (ref = parse_ref(a[1])) < 0)
      return pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "'%s' is not a reference (M, H, C, Z, U, R)", a[1]);
  }
  if (ref_origin(s, ref, &ox, &oy, r) == 0) reply_xy(s, ox, oy, r);
}

static void move_chuck_home(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  (void)a;
  if (n != 0) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "move_chuck_home takes no parameters");
  double hx, hy;
  if ((s->init_job && pv__srv_check_ready(s, r)) || ref_origin(s, REF_H, &hx, &hy, r) ||
      pv__srv_check_ready(s, r) || pv__srv_xy_move(s, hx, hy, r))
    return;
  reply_xy(s, 0, 0, r);
}

static void move_z(pv_sentio_server *s, int contact, int n, pv__srv_reply *r) {
  const char *name = contact ? "move_chuck_contact" : "move_chuck_separation";
  if (n != 0) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "%s takes no parameters", name);
  if (!s->contact_set)
    return pv__srv_set(r, PV_SENTIO_ERR_CONTACT_NOT_SET, "contact height not set (set_chuck_site_heights)");
  if (pv__srv_check_ready(s, r)) return;
  double z;
  pv_error e;
  int rc = contact ? pv_stage_contact(s->stage, &z, &e) : pv_stage_separate(s->stage, &z, &e);
  if (rc < 0) return pv__srv_set(r, PV_SENTIO_ERR_EXECUTION, "%s: %s", name, e.msg);
  pv__srv_set(r, 0, "%.3f", z);
}

static void move_chuck_contact(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  (void)a;
  move_z(s, 1, n, r);
}

static void move_chuck_separation(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  (void)a;
  move_z(s, 0, n, r);
}

static void get_chuck_z(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  if (n > 1) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "get_chuck_z wants REF");
  double z, base = 0;
  pv_stage_z where;
  pv_error e;
  char ref = n == 0 ? 'z' : (char)(a[0][0] | 0x20);
  if (n == 1 && strlen(a[0]) > 1) {
    static const char *names[] = {"contact", "separation", "hover", "zero", "current"};
    ref = 0;
    for (size_t i = 0; i < 5; i++)
      if (strcasecmp(a[0], names[i]) == 0) ref = i == 4 ? 'r' : names[i][0];
  }
  if (!ref || !strchr("cshzr", ref))
    return pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "'%s' is not a Z reference (C, S, H, Z, R)", a[0]);
  if (ref == 'h')
    return pv__srv_set(r, PV_SENTIO_ERR_NOT_SUPPORTED, "the simulated chuck has no hover height");
  if ((ref == 'c' || ref == 's') && !s->contact_set)
    return pv__srv_set(r, PV_SENTIO_ERR_CONTACT_NOT_SET, "contact height not set (set_chuck_site_heights)");
  if (pv_stage_get_z(s->stage, &z, &where, &e) < 0)
    return pv__srv_set(r, PV_SENTIO_ERR_EXECUTION, "cannot read the chuck height: %s", e.msg);
  if (ref == 'c') base = s->p.contact_um;
  if (ref == 's') base = s->p.contact_um - s->p.separation_um;
  if (ref == 'r') base = z;
  pv__srv_set(r, 0, "%.3f", z - base);
}

static void site_heights(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  if (n != 1) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "get_chuck_site_heights wants SITE");
  if (check_site(a[0], r)) return;
  if (!s->contact_set)
    return pv__srv_set(r, PV_SENTIO_ERR_CONTACT_NOT_SET, "contact height not set (set_chuck_site_heights)");
  pv__srv_set(r, 0, "%.3f,%.3f,0.000,0.000", s->p.contact_um, s->p.separation_um);
}

static void set_site_heights(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  double v[4];
  if (n != 5)
    return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT,
                       "set_chuck_site_heights wants SITE, CONTACT, SEPARATION, OVERTRAVEL, HOVER");
  if (check_site(a[0], r)) return;
  for (int i = 0; i < 4; i++)
    if (parse_num(a[i + 1], &v[i]) < 0)
      return pv__srv_set(r, PV_SENTIO_ERR_INVALID_PARAM, "'%s' is not a number (um)", a[i + 1]);
  if (fabs(v[0] - s->p.contact_um) > 1e-3 || fabs(v[1] - s->p.separation_um) > 1e-3)
    return pv__srv_set(r, PV_SENTIO_ERR_OUT_OF_BOUNDS,
                       "the simulated chuck's contact height is %.3f um and its separation gap "
                       "%.3f um", s->p.contact_um, s->p.separation_um);
  s->contact_set = 1;
  pv__srv_set(r, 0, "OK");
}

static void clear_contact(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  if (n > 1) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "clear_contact wants [SITE]");
  if (n == 1 && check_site(a[0], r)) return;
  s->contact_set = 0;
  pv__srv_set(r, 0, "OK");
}

static void site_status(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  if (n != 1) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "get_chuck_site_status wants SITE");
  if (check_site(a[0], r) == 0) pv__srv_set(r, 0, "%d,%d,0,1", s->home_set, s->contact_set);
}

static void get_version(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  (void)s;
  (void)a;
  if (n != 0) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "status:get_version takes no parameters");
  pv__srv_set(r, 0, "Version: %s (probevision simulator)", PV__SRV_VERSION);
}

static void machine_status(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  (void)a;
  if (n != 0)
    return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "status:get_machine_status takes no parameters");
  double z = 0;
  pv_stage_z where = PV_STAGE_Z_UNKNOWN;
  pv_error e;
  if (pv_stage_get_z(s->stage, &z, &where, &e) < 0) where = PV_STAGE_Z_UNKNOWN;
  pv__srv_set(r, 0, "%s,%s,ChuckZ=%.3f,%s",
              s->init_job ? "Initializing" : s->initialized ? "Ready" : "NotInitialized",
              where == PV_STAGE_Z_CONTACT ? "AtContact"
              : where == PV_STAGE_Z_SEPARATION ? "AtSeparation" : "ZUnknown",
              z, s->contact_set ? "ContactHeightSet" : "ContactHeightNotSet");
}

static void start_init(pv_sentio_server *s, char **a, int n, pv__srv_reply *r) {
  (void)a;
  pv__srv_start_initialization(s, n, r);
}

typedef void (*handler)(pv_sentio_server *, char **, int, pv__srv_reply *);
static const struct {
  const char *name;
  handler fn;
} table[] = {
    {"status:get_version", get_version},
    {"status:get_machine_status", machine_status},
    {"move_chuck_xy", move_chuck_xy},
    {"get_chuck_xy", get_chuck_xy},
    {"move_chuck_home", move_chuck_home},
    {"move_chuck_contact", move_chuck_contact},
    {"move_chuck_separation", move_chuck_separation},
    {"get_chuck_z", get_chuck_z},
    {"get_chuck_site_heights", site_heights},
    {"set_chuck_site_heights", set_site_heights},
    {"clear_contact", clear_contact},
    {"get_chuck_site_status", site_status},
    {"start_initialization", start_init},
    {"query_command_status", pv__srv_query},
    {"wait_complete", pv__srv_wait_complete},
    {"abort_command", pv__srv_abort},
};

/* '*' commands: *IDN? answers; the others without '?' get no reply. */
static void star_command(const char *name, pv__srv_reply *r) {
  if (strcasecmp(name, "*IDN?") == 0) {
    r->kind = PV__SRV_RAW;
    snprintf(r->msg, sizeof r->msg, "%s", PV__SRV_IDN);
    return;
  }
  if (name[strlen(name) - 1] == '?') {
    pv__srv_set(r, PV_SENTIO_ERR_NO_HANDLER, "unknown command \"%.60s\"", name);
    return;
  }
  if (strcasecmp(name, "*RCS") != 0 && strcasecmp(name, "*LOCAL") != 0)
    pv_debug("sentio server: '%.60s' ignored (no reply)", name);
  r->kind = PV__SRV_NONE;
}

void pv__srv_handle(pv_sentio_server *s, char *line, pv__srv_reply *r) {
  while (*line == ' ' || *line == '\t') line++;
  if (*line == '\0') {
    r->kind = PV__SRV_NONE;
    return;
  }
  char *args = line + strcspn(line, " \t");
  if (*args) *args++ = '\0';
  if (line[0] == '*') return star_command(line, r);
  char *a[PV__SRV_MAX_ARGS];
  int n = split_args(args, a, PV__SRV_MAX_ARGS);
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (strcasecmp(line, table[i].name) != 0) continue;
    if (n < 0) return pv__srv_set(r, PV_SENTIO_ERR_PARAM_COUNT, "%s: too many parameters", line);
    return table[i].fn(s, a, n, r);
  }
  if (strncasecmp(line, "map:", 4) == 0 && n >= 0 && pv__srv_map_command(s, line + 4, a, n, r))
    return;
  char esc[80];
  pv_sentio_escape(line, strlen(line), esc, sizeof esc);
  pv_debug("sentio server: unknown command \"%s\"", esc);
  pv__srv_set(r, PV_SENTIO_ERR_NO_HANDLER, "unknown command \"%s\"", esc);
}
