/* Value codec of the config keys: text -> field (with validation) and
 * field -> canonical text. Both the file parser and the overrides go
 * through pv__config_parse_value, so every input path validates the same.
 * A field is written only after its whole value has been accepted. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "keys.h"

static const struct {
  const char *text;
  bool value;
} bool_words[] = {{"true", true}, {"false", false}, {"yes", true}, {"no", false},
                  {"on", true},   {"off", false},   {"1", true},   {"0", false}};

/* Shortest %g text that reads back as exactly v ('.' decimal separator
 * under any LC_NUMERIC). */
static void format_double(double v, char *buf, size_t cap) {
  for (int prec = 15; prec <= 17; prec++) {
    pv_snprintf_c(buf, cap, "%.*g", prec, v);
    if (pv_strtod_c(buf, NULL) == v) return;
  }
}

/* Printable excerpt of outside text for messages: at most 40 bytes,
 * anything outside printable ASCII shown as '?'. */
void pv__config_excerpt(const char *text, char out[48]) {
  size_t i = 0;
  for (; text[i] != '\0' && i < 40; i++) {
    unsigned char ch = (unsigned char)text[i];
    out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
  }
  if (text[i] != '\0') {
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = '\0';
}

void pv__config_range_text(const pv__config_key *k, char *buf, size_t cap) {
  char lo[32], hi[32];
  size_t used = 0;
  switch (k->type) {
  case PV__KT_STR:
    if (k->choices != NULL)
      snprintf(buf, cap, "%s", k->choices);
    else
      snprintf(buf, cap, "text, at most %zu bytes", k->size - 1);
    return;
  case PV__KT_INT:
  case PV__KT_I64:
    snprintf(buf, cap, "%lld..%lld", k->imin, k->imax);
    return;
  case PV__KT_DBL:
    format_double(k->dmin, lo, sizeof lo);
    format_double(k->dmax, hi, sizeof hi);
    snprintf(buf, cap, "%s%s..%s", k->flags & PV_KEY_AUTO ? "auto, or " : "", lo, hi);
    return;
  case PV__KT_BOOL:
    snprintf(buf, cap, "true/false (also yes/no, on/off, 1/0)");
    return;
  case PV__KT_PIXFMT:
    buf[0] = '\0';
    for (int i = 0; i < PV_PIXFMT_COUNT && used < cap; i++)
      used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                               pv_pixfmt_name((pv_pixfmt)i));
    return;
  case PV__KT_LOGLEVEL:
    snprintf(buf, cap, "debug, info, warn, error");
    return;
  }
  buf[0] = '\0';
}

static int bad_value(const pv__config_key *k, const char *text,
                     const char *what, const char *where, pv_error *err) {
  char shown[48], range[96];
  pv__config_excerpt(text, shown);
  pv__config_range_text(k, range, sizeof range);
  return pv_error_set(err, PV_EPARSE, "%s: %s.%s: '%s' %s (allowed: %s)", where,
                      k->section, k->name, shown, what, range);
}

/* Is word one of the ", "-separated choices? */
static int is_choice(const char *choices, const char *word, size_t len) {
  const char *p = choices;
  while (*p != '\0') {
    size_t n = strcspn(p, ",");
    if (n == len && memcmp(p, word, len) == 0) return 1;
    p += n;
    while (*p == ',' || *p == ' ') p++;
  }
  return 0;
}

static int parse_string(char *field, const pv__config_key *k, const char *text,
                        const char *where, pv_error *err) {
  const char *s = text;
  size_t n = strlen(text);
  if (n > 0 && s[0] == '"') {
    if (n < 2 || s[n - 1] != '"')
      return bad_value(k, text, "lacks its closing double quote", where, err);
    s++;
    n -= 2;
  }
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
      return bad_value(k, text, "contains a control character", where, err);
  if (n >= k->size)
    return pv_error_set(err, PV_EPARSE,
                        "%s: %s.%s: value is %zu bytes long, at most %zu allowed",
                        where, k->section, k->name, n, k->size - 1);
  if (k->choices != NULL && !is_choice(k->choices, s, n))
    return bad_value(k, text, "is not a known choice", where, err);
  memcpy(field, s, n);
  field[n] = '\0';
  return PV_OK;
}

static int parse_integer(char *field, const pv__config_key *k, const char *text,
                         const char *where, pv_error *err) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (end == text || *end != '\0')
    return bad_value(k, text, "is not an integer", where, err);
  if (errno == ERANGE || v < k->imin || v > k->imax)
    return bad_value(k, text, "is out of range", where, err);
  if (k->type == PV__KT_INT) {
    int iv = (int)v;
    memcpy(field, &iv, sizeof iv);
  } else {
    int64_t lv = (int64_t)v;
    memcpy(field, &lv, sizeof lv);
  }
  return PV_OK;
}

static int parse_double(char *field, const pv__config_key *k, const char *text,
                        const char *where, pv_error *err) {
  char *end;
  errno = 0;
  double v = pv_strtod_c(text, &end); /* '.' under any LC_NUMERIC */
  if (end == text || *end != '\0')
    return bad_value(k, text, "is not a number", where, err);
  if (!isfinite(v)) return bad_value(k, text, "is not finite", where, err);
  if (v < k->dmin || v > k->dmax)
    return bad_value(k, text, "is out of range", where, err);
  memcpy(field, &v, sizeof v);
  return PV_OK;
}

int pv__config_parse_value(pv_config *c, const pv__config_key *k,
                           const char *text, const char *where, pv_error *err) {
  char *field = (char *)c + k->offset;
  switch (k->type) {
  case PV__KT_STR:
    return parse_string(field, k, text, where, err);
  case PV__KT_INT:
  case PV__KT_I64:
    return parse_integer(field, k, text, where, err);
  case PV__KT_DBL:
    if ((k->flags & PV_KEY_AUTO) && strcmp(text, "auto") == 0) {
      const double automatic = 0.0;
      memcpy(field, &automatic, sizeof automatic);
      return PV_OK;
    }
    return parse_double(field, k, text, where, err);
  case PV__KT_BOOL:
    for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++)
      if (strcasecmp(text, bool_words[i].text) == 0) {
        memcpy(field, &bool_words[i].value, sizeof(bool));
        return PV_OK;
      }
    return bad_value(k, text, "is not a boolean", where, err);
  case PV__KT_PIXFMT: /* as pv_pixfmt_parse, but case-insensitive */
    for (int i = 0; i < PV_PIXFMT_COUNT; i++)
      if (strcasecmp(text, pv_pixfmt_name((pv_pixfmt)i)) == 0) {
        pv_pixfmt f = (pv_pixfmt)i;
        memcpy(field, &f, sizeof f);
        return PV_OK;
      }
    return bad_value(k, text, "is not a known pixel format", where, err);
  case PV__KT_LOGLEVEL: {
    int level = pv_log_level_parse(text);
    if (level < 0) return bad_value(k, text, "is not a log level", where, err);
    pv_log_level l = (pv_log_level)level;
    memcpy(field, &l, sizeof l);
    return PV_OK;
  }
  }
  return pv_error_set(err, PV_EINVAL, "%s: %s.%s: bad key type", where,
                      k->section, k->name);
}

int pv__config_format_value(const pv_config *c, const pv__config_key *k,
                            char *buf, size_t cap) {
  const char *field = (const char *)c + k->offset;
  int n = 0;
  switch (k->type) {
  case PV__KT_STR:
    n = snprintf(buf, cap, "\"%.*s\"", (int)strnlen(field, k->size), field);
    break;
  case PV__KT_INT: {
    int v;
    memcpy(&v, field, sizeof v);
    n = snprintf(buf, cap, "%d", v);
    break;
  }
  case PV__KT_I64: {
    int64_t v;
    memcpy(&v, field, sizeof v);
    n = snprintf(buf, cap, "%lld", (long long)v);
    break;
  }
  case PV__KT_DBL: {
    char num[40];
    double v = pv__config_number(c, k);
    if ((k->flags & PV_KEY_AUTO) && v == 0.0) snprintf(num, sizeof num, "auto");
    else format_double(v, num, sizeof num);
    n = snprintf(buf, cap, "%s", num);
    break;
  }
  case PV__KT_BOOL: {
    bool b;
    memcpy(&b, field, sizeof b);
    n = snprintf(buf, cap, "%s", b ? "true" : "false");
    break;
  }
  case PV__KT_PIXFMT: {
    pv_pixfmt f;
    memcpy(&f, field, sizeof f);
    n = snprintf(buf, cap, "%s", pv_pixfmt_name(f));
    break;
  }
  case PV__KT_LOGLEVEL: {
    pv_log_level l;
    memcpy(&l, field, sizeof l);
    static const char *const names[] = {"debug", "info", "warn", "error"};
    n = snprintf(buf, cap, "%s", (unsigned)l <= PV_LOG_ERROR ? names[l] : "?");
    break;
  }
  }
  if (n < 0 || (size_t)n >= cap) return PV_ERANGE;
  return n;
}

double pv__config_number(const pv_config *c, const pv__config_key *k) {
  const char *field = (const char *)c + k->offset;
  if (k->type == PV__KT_INT) {
    int v;
    memcpy(&v, field, sizeof v);
    return v;
  }
  if (k->type == PV__KT_I64) {
    int64_t v;
    memcpy(&v, field, sizeof v);
    return (double)v;
  }
  double v = 0;
  if (k->type == PV__KT_DBL) memcpy(&v, field, sizeof v);
  return v;
}
