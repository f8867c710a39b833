/* The INI file reader: a small, strict line parser.
 *
 * libinih is not used for files because its Debian build reports neither
 * the line of a handler's error nor lines it skips, silently continues
 * values over indented lines, truncates lines over 200 bytes and cannot tell
 * a NUL byte from the end of a line; every bad line here must instead fail
 * with "FILE:LINE: what, which key, what is allowed". Grammar, per line:
 *   blank | ';' or '#' comment | '[' section ']' | key '=' value
 * with spaces and tabs around the parts ignored, a UTF-8 BOM allowed at
 * the start, CRLF allowed, any other control byte rejected (binary file).
 * The file is applied to a copy of the configuration, which replaces the
 * caller's only when the whole file (and the cross-key rules) passed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "keys.h"

typedef struct load_state {
  const char *path;
  int lineno;
  char section[PV_CONFIG_NAME_CAP]; /* "" before the first [section] */
  int *line_of;                     /* per key: line that set it, 0 = none */
  pv_config *c;
} load_state;

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
  return s;
}

/* "a, b, c": the distinct sections, or the keys of one section. */
static void list_names(const char *section, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < pv__config_key_count && used < cap; i++) {
    const pv__config_key *k = &pv__config_keys[i];
    const char *name = section ? k->name : k->section;
    if (section != NULL && strcmp(k->section, section) != 0) continue;
    if (section == NULL && i > 0 && strcmp(pv__config_keys[i - 1].section, name) == 0)
      continue;
    used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", name);
  }
}

static int parse_section(load_state *st, char *s, pv_error *err) {
  size_t n = strlen(s);
  char shown[48];
  if (s[n - 1] != ']') {
    pv__config_excerpt(s, shown);
    return pv_error_set(err, PV_EPARSE, "%s:%d: section header '%s' lacks its ']'",
                        st->path, st->lineno, shown);
  }
  s[n - 1] = '\0';
  char *name = trim(s + 1);
  if (!pv__config_has_section(name)) {
    char known[160];
    list_names(NULL, known, sizeof known);
    pv__config_excerpt(name, shown);
    return pv_error_set(err, PV_EPARSE, "%s:%d: unknown section [%s] (known: %s)",
                        st->path, st->lineno, shown, known);
  }
  snprintf(st->section, sizeof st->section, "%s", name);
  return PV_OK;
}

static int parse_key(load_state *st, char *s, pv_error *err) {
  char shown[48];
  char *eq = strchr(s, '=');
  if (eq == NULL || eq == s) {
    pv__config_excerpt(s, shown);
    return pv_error_set(err, PV_EPARSE,
                        "%s:%d: expected 'key = value', '[section]' or a comment, "
                        "got '%s'", st->path, st->lineno, shown);
  }
  *eq = '\0';
  char *key = trim(s), *value = trim(eq + 1);
  pv__config_excerpt(key, shown);
  if (st->section[0] == '\0')
    return pv_error_set(err, PV_EPARSE, "%s:%d: key '%s' before any [section]",
                        st->path, st->lineno, shown);
  int idx = pv__config_find(st->section, strlen(st->section), key);
  if (idx < 0) {
    char known[400];
    list_names(st->section, known, sizeof known);
    return pv_error_set(err, PV_EPARSE, "%s:%d: unknown key '%s' in [%s] (known: %s)",
                        st->path, st->lineno, shown, st->section, known);
  }
  if (st->line_of[idx] > 0)
    return pv_error_set(err, PV_EPARSE, "%s:%d: duplicate key %s.%s (first set on line %d)",
                        st->path, st->lineno, st->section, key, st->line_of[idx]);
  st->line_of[idx] = st->lineno;
  char where[300];
  snprintf(where, sizeof where, "%.256s:%d", st->path, st->lineno);
  return pv__config_parse_value(st->c, &pv__config_keys[idx], value, where, err);
}

/* Reads one line (with its '\n', if any) of at most cap - 1 bytes into buf,
 * NUL bytes included. Returns its length, 0 at the end of the file; sets
 * *cut when the line did not fit. Never reads more than cap bytes, so a
 * binary file without newlines (or /dev/zero) costs nothing. */
static size_t read_line(FILE *f, char *buf, size_t cap, int *cut) {
  size_t n = 0;
  int ch;
  *cut = 0;
  while (n < cap - 1 && (ch = getc(f)) != EOF) {
    buf[n++] = (char)ch;
    if (ch == '\n') break;
  }
  if (n == cap - 1 && buf[n - 1] != '\n') *cut = 1;
  buf[n] = '\0';
  return n;
}

static int parse_line(load_state *st, char *line, size_t len, int cut,
                      pv_error *err) {
  if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
  if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
  if (st->lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
    line += 3;
    len -= 3;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)line[i];
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
      return pv_error_set(err, PV_EPARSE,
                          "%s:%d: control byte 0x%02x at column %zu: not a text file?",
                          st->path, st->lineno, ch, i + 1);
  }
  if (cut || len > PV_CONFIG_LINE_MAX)
    return pv_error_set(err, PV_EPARSE, "%s:%d: line longer than %d bytes",
                        st->path, st->lineno, PV_CONFIG_LINE_MAX);
  char *s = trim(line);
  if (s[0] == '\0' || s[0] == ';' || s[0] == '#') return PV_OK;
  if (s[0] == '[') return parse_section(st, s, err);
  return parse_key(st, s, err);
}

int pv_config_load(pv_config *c, const char *path, pv_error *err) {
  if (c == NULL || path == NULL)
    return pv_error_set(err, PV_EINVAL, "config: no configuration or path");
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return pv_error_set(err, PV_EIO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    fclose(f);
    return pv_error_set(err, PV_EIO, "%s: cannot read: is a directory", path);
  }
  pv_config tmp = *c;
  load_state st = {.path = path, .c = &tmp};
  st.line_of = calloc((size_t)pv__config_key_count, sizeof *st.line_of);
  char line[PV_CONFIG_LINE_MAX + 4]; /* the longest line, CR, LF, NUL, 1 */
  size_t len, total = 0;
  int cut;
  int rc = st.line_of ? PV_OK : pv_error_set(err, PV_ENOMEM, "%s: out of memory", path);
  while (rc == PV_OK && (len = read_line(f, line, sizeof line, &cut)) > 0) {
    st.lineno++;
    total += len;
    if (total > PV_CONFIG_FILE_MAX)
      rc = pv_error_set(err, PV_EPARSE, "%s:%d: file larger than %d bytes: not a "
                        "configuration", path, st.lineno, PV_CONFIG_FILE_MAX);
    else
      rc = parse_line(&st, line, len, cut, err);
  }
  if (rc == PV_OK && ferror(f))
    rc = pv_error_set(err, PV_EIO, "%s: read error: %s", path, strerror(errno));
  if (rc == PV_OK) rc = pv__config_check_at(&tmp, path, st.line_of, err);
  if (rc == PV_OK) {
    snprintf(tmp.origin_file, sizeof tmp.origin_file, "%s", path);
    for (int i = 0; i < pv__config_key_count; i++)
      if (st.line_of[i] > 0) tmp.origin_line[i] = st.line_of[i];
    *c = tmp;
  }
  free(st.line_of);
  fclose(f);
  return rc;
}
