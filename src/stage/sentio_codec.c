/* The SENTIO line codec (probevision/sentio.h): line assembly with a fixed
 * buffer, reply parsing, strict number parsing and escaping for messages,
 * the error-code table (names, classes) and version parsing. Pure
 * functions over caller-owned buffers and constant tables; thread-safe. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/sentio.h"

void pv_sentio_lines_reset(pv_sentio_lines *lb) {
  lb->len = 0;
  lb->discarding = 0;
}

char *pv_sentio_lines_space(pv_sentio_lines *lb, size_t *cap) {
  *cap = sizeof lb->buf - lb->len;
  return lb->buf + lb->len;
}

void pv_sentio_lines_added(pv_sentio_lines *lb, size_t n) {
  lb->len += n;
  if (lb->len > sizeof lb->buf) lb->len = sizeof lb->buf;
}

static void consume(pv_sentio_lines *lb, size_t n) {
  memmove(lb->buf, lb->buf + n, lb->len - n);
  lb->len -= n;
}

pv_sentio_line_event pv_sentio_lines_next(pv_sentio_lines *lb, char *out,
                                            size_t *len) {
  for (;;) {
    char *nl = memchr(lb->buf, '\n', lb->len);
    if (lb->discarding) {
      if (nl == NULL) {
        lb->len = 0;
        return PV_SENTIO_NONE;
      }
      consume(lb, (size_t)(nl - lb->buf) + 1);
      lb->discarding = 0;
      continue;
    }
    if (nl == NULL) {
      if (lb->len < sizeof lb->buf) return PV_SENTIO_NONE;
      /* A full buffer with no terminator: longer than any valid line. */
      lb->len = 0;
      lb->discarding = 1;
      return PV_SENTIO_OVERLONG;
    }
    size_t n = (size_t)(nl - lb->buf);
    size_t keep = n;
    if (keep > 0 && lb->buf[keep - 1] == '\r') keep--;
    if (keep > PV_SENTIO_LINE_MAX) {
      consume(lb, n + 1);
      return PV_SENTIO_OVERLONG;
    }
    memcpy(out, lb->buf, keep);
    out[keep] = '\0';
    *len = keep;
    consume(lb, n + 1);
    return PV_SENTIO_LINE;
  }
}

void pv_sentio_escape(const char *in, size_t len, char *out, size_t cap) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  if (cap == 0) return;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    char tmp[5];
    size_t n = 0;
    if (c == '\\' || c == '"') {
      tmp[n++] = '\\';
      tmp[n++] = (char)c;
    } else if (c == '\r' || c == '\n' || c == '\t') {
      tmp[n++] = '\\';
      tmp[n++] = c == '\r' ? 'r' : c == '\n' ? 'n' : 't';
    } else if (c >= 0x20 && c < 0x7f) {
      tmp[n++] = (char)c;
    } else {
      tmp[n++] = '\\';
      tmp[n++] = 'x';
      tmp[n++] = hex[c >> 4];
      tmp[n++] = hex[c & 15];
    }
    /* Keep room for "..." and the terminator. */
    if (o + n + 4 > cap) {
      if (cap >= 4) {
        while (o + 4 > cap) o--;
        memcpy(out + o, "...", 3);
        o += 3;
      }
      break;
    }
    memcpy(out + o, tmp, n);
    o += n;
  }
  out[o < cap ? o : cap - 1] = '\0';
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Parses a non-negative decimal integer field [s, s+len) with optional
 * blanks around it, at most 10 digits. */
static int parse_uint_field(const char *s, size_t len, unsigned long *out) {
  size_t i = 0, end = len;
  while (i < end && is_blank(s[i])) i++;
  while (end > i && is_blank(s[end - 1])) end--;
  if (i == end || end - i > 10) return -1;
  unsigned long v = 0;
  for (size_t k = i; k < end; k++) {
    if (s[k] < '0' || s[k] > '9') return -1;
    v = v * 10 + (unsigned long)(s[k] - '0');
  }
  if (v > 0xffffffffUL) return -1;
  *out = v;
  return 0;
}

static int malformed(const char *line, size_t len, const char *peer,
                     const char *why, pv_error *err) {
  char esc[160];
  pv_sentio_escape(line, len, esc, sizeof esc);
  return pv_error_set(err, PV_EPARSE, "sentio %s: malformed reply (%s): \"%s\"",
                      peer, why, esc);
}

int pv_sentio_parse_reply(const char *line, size_t len, const char *peer,
                           pv_sentio_reply *r, pv_error *err) {
  if (len > PV_SENTIO_LINE_MAX)
    return malformed(line, len, peer, "longer than the maximum", err);
  if (len == 0) return malformed(line, len, peer, "empty line", err);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)line[i];
    if ((c < 0x20 && c != '\t') || c >= 0x7f)
      return malformed(line, len, peer, "not printable ASCII", err);
  }
  const char *c1 = memchr(line, ',', len);
  const char *c2 =
      c1 ? memchr(c1 + 1, ',', len - (size_t)(c1 + 1 - line)) : NULL;
  if (c2 == NULL)
    return malformed(line, len, peer, "expected errc_stat,cmdId,message",
                     err);
  unsigned long errc, cmd;
  if (parse_uint_field(line, (size_t)(c1 - line), &errc) < 0)
    return malformed(line, len, peer, "first field is not a number", err);
  if (parse_uint_field(c1 + 1, (size_t)(c2 - c1 - 1), &cmd) < 0)
    return malformed(line, len, peer, "cmdId is not a number", err);
  const char *m = c2 + 1;
  while (is_blank(*m)) m++;
  r->code = (int)(errc & PV_SENTIO_CODE_MASK);
  r->status = (unsigned)(errc >> 10);
  r->cmd_id = (long)cmd;
  r->msg = m;
  return PV_OK;
}

int pv_sentio_parse_number(const char *s, size_t len, double *out) {
  char tmp[64];
  size_t i = 0, end = len;
  while (i < end && is_blank(s[i])) i++;
  while (end > i && is_blank(s[end - 1])) end--;
  if (i == end || end - i >= sizeof tmp) return -1;
  for (size_t k = i; k < end; k++)
    if (strchr("+-.0123456789eE", s[k]) == NULL || s[k] == '\0') return -1;
  memcpy(tmp, s + i, end - i);
  tmp[end - i] = '\0';
  char *stop;
  errno = 0;
  double v = pv_strtod_c(tmp, &stop); /* '.' under any LC_NUMERIC */
  if (stop == tmp || *stop != '\0' || errno == ERANGE || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}

int pv_sentio_format_move(char *buf, size_t cap, const char *ref, double x_um, double y_um) {
  int n = pv_snprintf_c(buf, cap, "move_chuck_xy %s, %.3f, %.3f", ref, x_um, y_um);
  return n >= 0 && (size_t)n < cap ? n : -1;
}

int pv_sentio_parse_xy(const char *s, double *x, double *y) {
  const char *comma = strchr(s, ',');
  if (comma == NULL) return -1;
  if (pv_sentio_parse_number(s, (size_t)(comma - s), x) < 0) return -1;
  return pv_sentio_parse_number(comma + 1, strlen(comma + 1), y);
}

int pv_sentio_parse_first(const char *s, int n, double *out) {
  for (int i = 0; i < n; i++) {
    const char *comma = strchr(s, ',');
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    if (pv_sentio_parse_number(s, len, &out[i]) < 0) return -1;
    if (i + 1 < n) {
      if (comma == NULL) return -1;
      s = comma + 1;
    }
  }
  return 0;
}

typedef struct err_row {
  int code;
  pv_sentio_class cls;
  const char *name, *what;
} err_row;

static const err_row err_table[] = {
#define PV__SENTIO_ERR_ROW(e, name, code, cls, what) {code, PV_SENTIO_##cls, #name, what},
    PV_SENTIO_ERROR_MAP(PV__SENTIO_ERR_ROW)
#undef PV__SENTIO_ERR_ROW
};

static const err_row *err_find(int code) {
  for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
    if (err_table[i].code == code) return &err_table[i];
  return NULL;
}

const char *pv_sentio_error_name(int code) {
  const err_row *e = err_find(code);
  return e ? e->name : "unknown";
}

pv_sentio_class pv_sentio_error_class(int code) {
  const err_row *e = err_find(code);
  return e ? e->cls : PV_SENTIO_FAIL;
}

const char *pv_sentio_error_what(int code) {
  const err_row *e = err_find(code);
  return e ? e->what : "an error code this client does not know";
}

/* Parses a decimal integer of at most 6 digits at *p, advancing it. */
static int take_int(const char **p, int *out) {
  int v = 0, n = 0;
  while (**p >= '0' && **p <= '9' && n < 6) {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  if (n == 0 || (**p >= '0' && **p <= '9')) return -1;
  *out = v;
  return 0;
}

int pv_sentio_parse_version(const char *msg, pv_sentio_version *v) {
  static const char key[] = "version:";
  for (const char *p = msg; *p != '\0'; p++) {
    size_t k = 0;
    while (key[k] != '\0' && p[k] != '\0' &&
           (p[k] == key[k] || (p[k] >= 'A' && p[k] <= 'Z' && p[k] + 32 == key[k])))
      k++;
    if (key[k] != '\0') continue;
    const char *q = p + k;
    while (is_blank(*q)) q++;
    pv_sentio_version t = {0, 0, 0};
    if (take_int(&q, &t.major) < 0 || *q != '.') continue;
    q++;
    if (take_int(&q, &t.minor) < 0) continue;
    if (*q == '.' && q[1] >= '0' && q[1] <= '9') {
      q++;
      if (take_int(&q, &t.patch) < 0) continue;
    }
    *v = t;
    return 0;
  }
  return -1;
}

int pv_sentio_version_has_chuck_group(const pv_sentio_version *v) {
  if (v->major != 25) return v->major > 25;
  return v->minor >= 2 || (v->minor == 1 && v->patch >= 99);
}
