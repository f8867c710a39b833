/* Target lists: the CSV reader, the built-in demo list and the hash.
 *
 * The reader is line based with a fixed line buffer (PV_TARGETS_LINE_MAX):
 * a longer line, a NUL byte or other control characters are rejected, so
 * a binary file fails at its first line instead of being half-read. The
 * first line that is neither blank nor a '#' comment is the header; it maps
 * each column to a field (index, x, y, name) and fixes the unit (um or mm).
 * Each later line must have exactly as many fields. Fields may be quoted
 * ("a ""b"", c"); a quote anywhere else is an error. Duplicate indices are
 * found with an open-addressing hash of list positions, so the message can
 * name the earlier line without a second pass.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/run.h"

enum { COL_INDEX, COL_X, COL_Y, COL_NAME, COL_KINDS };
#define MAX_COLS 8

typedef struct reader {
  const char *path;
  FILE *f;
  int line;        /* number of the line in buf */
  pv_error *err;
  char buf[PV_TARGETS_LINE_MAX + 2];
  char field[MAX_COLS][PV_TARGETS_LINE_MAX + 1];
  int nfields;
} reader;

typedef struct index_set { /* positions of items by index, -1 = empty */
  int *slot;
  int *line; /* line of each item, by position */
  size_t mask;
} index_set;

/* Reads the next line into r->buf without its end of line. Returns 1, 0 at
 * end of file, or a negative status. */
static int read_line(reader *r) {
  size_t n = 0;
  int c;
  r->line++;
  while ((c = getc_unlocked(r->f)) != EOF && c != '\n') {
    if (c == 0 || (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
      return pv_error_set(r->err, PV_EPARSE,
                          "%s:%d: binary content (byte 0x%02x)", r->path,
                          r->line, c);
    if (n >= PV_TARGETS_LINE_MAX)
      return pv_error_set(r->err, PV_EPARSE, "%s:%d: line longer than %d bytes",
                          r->path, r->line, PV_TARGETS_LINE_MAX);
    r->buf[n++] = (char)c;
  }
  if (ferror(r->f))
    return pv_error_set(r->err, PV_EIO, "%s:%d: read error: %s", r->path,
                        r->line, strerror(errno));
  if (c == EOF && n == 0) return 0;
  if (n > 0 && r->buf[n - 1] == '\r') n--;
  r->buf[n] = '\0';
  if (memchr(r->buf, '\r', n) != NULL)
    return pv_error_set(r->err, PV_EPARSE, "%s:%d: stray carriage return",
                        r->path, r->line);
  if (r->line == 1 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0) /* UTF-8 BOM */
    memmove(r->buf, r->buf + 3, n - 2);
  return 1;
}

static int is_blank_or_comment(const char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return *s == '\0' || *s == '#';
}

/* Splits r->buf into r->field[], trimming blanks around unquoted fields. */
static int split(reader *r) {
  const char *p = r->buf;
  r->nfields = 0;
  for (;;) {
    if (r->nfields == MAX_COLS)
      return pv_error_set(r->err, PV_EPARSE, "%s:%d: more than %d fields",
                          r->path, r->line, MAX_COLS);
    char *out = r->field[r->nfields++];
    size_t n = 0;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '"') {
      for (p++;; p++) {
        if (*p == '\0')
          return pv_error_set(r->err, PV_EPARSE, "%s:%d: unbalanced quotes",
                              r->path, r->line);
        if (*p == '"' && p[1] == '"') p++;
        else if (*p == '"') break;
        out[n++] = *p;
      }
      p++;
      while (*p == ' ' || *p == '\t') p++;
      if (*p != ',' && *p != '\0')
        return pv_error_set(r->err, PV_EPARSE,
                            "%s:%d: text after a closing quote in field %d",
                            r->path, r->line, r->nfields);
    } else {
      for (; *p != ',' && *p != '\0'; p++) {
        if (*p == '"')
          return pv_error_set(r->err, PV_EPARSE,
                              "%s:%d: unbalanced quotes in field %d", r->path,
                              r->line, r->nfields);
        out[n++] = *p;
      }
      while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) n--;
    }
    out[n] = '\0';
    if (*p == '\0') return 0;
    p++; /* the comma */
  }
}

/* Maps header fields to columns; *mm set when the file uses millimetres. */
static int parse_header(reader *r, int col_of[MAX_COLS], int *mm) {
  int seen[COL_KINDS] = {0, 0, 0, 0};
  int unit = -1; /* 0 um, 1 mm */
  for (int i = 0; i < r->nfields; i++) {
    const char *h = r->field[i];
    int kind, u = -1;
    if (strcmp(h, "index") == 0) kind = COL_INDEX;
    else if (strcmp(h, "name") == 0) kind = COL_NAME;
    else if (strcmp(h, "x_um") == 0) kind = COL_X, u = 0;
    else if (strcmp(h, "y_um") == 0) kind = COL_Y, u = 0;
    else if (strcmp(h, "x_mm") == 0) kind = COL_X, u = 1;
    else if (strcmp(h, "y_mm") == 0) kind = COL_Y, u = 1;
    else
      return pv_error_set(r->err, PV_EPARSE,
                          "%s:%d: unknown column '%s' (want index, x_um, "
                          "y_um or x_mm, y_mm, name)", r->path, r->line, h);
    if (seen[kind]++)
      return pv_error_set(r->err, PV_EPARSE, "%s:%d: duplicate column '%s'",
                          r->path, r->line, h);
    if (u >= 0 && unit >= 0 && u != unit)
      return pv_error_set(r->err, PV_EPARSE,
                          "%s:%d: mixed units: use x_um,y_um or x_mm,y_mm",
                          r->path, r->line);
    if (u >= 0) unit = u;
    col_of[i] = kind;
  }
  static const char *const need[] = {"index", "x (x_um or x_mm)",
                                     "y (y_um or y_mm)"};
  for (int k = COL_INDEX; k <= COL_Y; k++)
    if (!seen[k])
      return pv_error_set(r->err, PV_EPARSE, "%s:%d: missing column %s",
                          r->path, r->line, need[k]);
  *mm = unit == 1;
  return 0;
}

static int parse_number(reader *r, const char *s, const char *col, double *v) {
  char *end;
  errno = 0;
  *v = pv_strtod_c(s, &end); /* '.' under any LC_NUMERIC */
  if (*s == '\0' || *end != '\0' || !isfinite(*v) || errno == ERANGE)
    return pv_error_set(r->err, PV_EPARSE, "%s:%d: bad number '%s' in column %s",
                        r->path, r->line, s, col);
  return 0;
}

static int parse_index(reader *r, const char *s, int64_t *v) {
  char *end;
  errno = 0;
  long long x = strtoll(s, &end, 10);
  int digit = isdigit((unsigned char)s[s[0] == '-']);
  if (!digit || *end != '\0' || errno == ERANGE)
    return pv_error_set(r->err, PV_EPARSE,
                        "%s:%d: bad index '%s' (want an integer >= 0)",
                        r->path, r->line, s);
  *v = x;
  return 0;
}

static size_t hash_index(int64_t idx, size_t mask) {
  uint64_t h = (uint64_t)idx * UINT64_C(0x9e3779b97f4a7c15);
  return (size_t)(h >> 17) & mask;
}

/* Inserts item pos; returns the position of an earlier equal index or -1. */
static int index_insert(index_set *s, const pv_target *items, int pos) {
  size_t i = hash_index(items[pos].index, s->mask);
  while (s->slot[i] >= 0) {
    if (items[s->slot[i]].index == items[pos].index) return s->slot[i];
    i = (i + 1) & s->mask;
  }
  s->slot[i] = pos;
  return -1;
}

/* Keeps the hash at most half full and the arrays big enough for count+1. */
static int grow(pv_targets *t, int *cap, index_set *s) {
  if (t->count < *cap) return 0;
  int ncap = *cap ? *cap * 2 : 256;
  pv_target *items = realloc(t->items, (size_t)ncap * sizeof *items);
  if (items == NULL) return PV_ENOMEM;
  t->items = items;
  int *line = realloc(s->line, (size_t)ncap * sizeof *line);
  if (line == NULL) return PV_ENOMEM;
  s->line = line;
  size_t nslots = (size_t)ncap * 2;
  int *slot = malloc(nslots * sizeof *slot);
  if (slot == NULL) return PV_ENOMEM;
  free(s->slot);
  s->slot = slot;
  s->mask = nslots - 1;
  memset(slot, 0xff, nslots * sizeof *slot);
  for (int i = 0; i < t->count; i++) index_insert(s, t->items, i);
  *cap = ncap;
  return 0;
}

static int parse_row(reader *r, const int col_of[MAX_COLS], int ncols, int mm,
                     pv_target *t) {
  if (r->nfields != ncols)
    return pv_error_set(r->err, PV_EPARSE, "%s:%d: %d fields, the header has %d",
                        r->path, r->line, r->nfields, ncols);
  memset(t, 0, sizeof *t);
  for (int i = 0; i < ncols; i++) {
    const char *f = r->field[i];
    int rc = 0;
    switch (col_of[i]) {
    case COL_INDEX: rc = parse_index(r, f, &t->index); break;
    case COL_X: rc = parse_number(r, f, mm ? "x_mm" : "x_um", &t->x_um); break;
    case COL_Y: rc = parse_number(r, f, mm ? "y_mm" : "y_um", &t->y_um); break;
    default:
      if (strlen(f) >= PV_TARGET_NAME_MAX)
        return pv_error_set(r->err, PV_EPARSE,
                            "%s:%d: name longer than %d characters", r->path,
                            r->line, PV_TARGET_NAME_MAX - 1);
      memcpy(t->name, f, strlen(f) + 1);
    }
    if (rc != 0) return rc;
  }
  if (mm) t->x_um *= 1000.0, t->y_um *= 1000.0;
  /* A finite mm value can overflow to inf in um (found by fuzzing). */
  if (!isfinite(t->x_um) || !isfinite(t->y_um))
    return pv_error_set(r->err, PV_EPARSE,
                        "%s:%d: coordinate out of range in micrometres",
                        r->path, r->line);
  return 0;
}

static int load(reader *r, pv_targets *out, index_set *set) {
  int col_of[MAX_COLS], ncols = 0, mm = 0, cap = 0, rc;
  while ((rc = read_line(r)) > 0) {
    if (is_blank_or_comment(r->buf)) continue;
    if ((rc = split(r)) != 0) return rc;
    if (ncols == 0) {
      if ((rc = parse_header(r, col_of, &mm)) != 0) return rc;
      ncols = r->nfields;
      continue;
    }
    if (out->count == PV_TARGETS_MAX)
      return pv_error_set(r->err, PV_EPARSE, "%s:%d: more than %d targets",
                          r->path, r->line, PV_TARGETS_MAX);
    if (grow(out, &cap, set) != 0)
      return pv_error_set(r->err, PV_ENOMEM, "%s:%d: out of memory", r->path,
                          r->line);
    pv_target *t = &out->items[out->count];
    if ((rc = parse_row(r, col_of, ncols, mm, t)) != 0) return rc;
    if (t->index < 0)
      return pv_error_set(r->err, PV_EPARSE, "%s:%d: negative index %" PRId64,
                          r->path, r->line, t->index);
    set->line[out->count] = r->line;
    int earlier = index_insert(set, out->items, out->count);
    if (earlier >= 0)
      return pv_error_set(r->err, PV_EPARSE,
                          "%s:%d: duplicate index %" PRId64 " (first at line %d)",
                          r->path, r->line, t->index, set->line[earlier]);
    out->count++;
  }
  if (rc < 0) return rc;
  if (ncols == 0)
    return pv_error_set(r->err, PV_EPARSE, "%s: empty file (no header)", r->path);
  if (out->count == 0)
    return pv_error_set(r->err, PV_EPARSE, "%s:%d: no targets after the header",
                        r->path, r->line - 1);
  return 0;
}

int pv_targets_load(const char *path, pv_targets *out, pv_error *err) {
  memset(out, 0, sizeof *out);
  reader *r = calloc(1, sizeof *r);
  if (r == NULL) return pv_error_set(err, PV_ENOMEM, "%s: out of memory", path);
  r->path = path;
  r->err = err;
  r->f = fopen(path, "rb");
  if (r->f == NULL) {
    int e = errno;
    free(r);
    return pv_error_set(err, PV_EIO, "%s: cannot open: %s", path, strerror(e));
  }
  index_set set = {NULL, NULL, 0};
  int rc = load(r, out, &set);
  fclose(r->f);
  free(r);
  free(set.slot);
  free(set.line);
  if (rc != 0) pv_targets_free(out);
  return rc;
}

int pv_targets_generate(const pv_die_grid *g, int n, pv_targets *out) {
  memset(out, 0, sizeof *out);
  if (g == NULL || n <= 0 || n > PV_TARGETS_MAX || g->cols <= 0 || g->rows <= 0 ||
      g->cols > INT_MAX / g->rows || !isfinite(g->pitch_x_um) ||
      !isfinite(g->pitch_y_um) || !isfinite(g->mark_x_um) || !isfinite(g->mark_y_um))
    return PV_EINVAL;
  int dies = g->cols * g->rows;
  out->items = calloc((size_t)n, sizeof *out->items);
  if (out->items == NULL) return PV_ENOMEM;
  for (int i = 0; i < n; i++) {
    pv_target *t = &out->items[i];
    int k = i % dies, c = k % g->cols, r = k / g->cols;
    t->index = i;
    snprintf(t->name, sizeof t->name, "die-%d-%d", c, r);
    t->x_um = c * g->pitch_x_um + g->mark_x_um;
    t->y_um = r * g->pitch_y_um + g->mark_y_um;
  }
  out->count = n;
  return 0;
}

void pv_targets_free(pv_targets *t) {
  if (t == NULL) return;
  free(t->items);
  t->items = NULL;
  t->count = 0;
}

uint64_t pv_fnv1a64(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

void pv_hash_hex(uint64_t h, char out[PV_HASH_HEX]) {
  snprintf(out, PV_HASH_HEX, "%016" PRIx64, h);
}

uint64_t pv_targets_hash(const pv_targets *t) {
  uint64_t h = PV_FNV1A64_INIT;
  char line[PV_TARGET_NAME_MAX + 96];
  for (int i = 0; t != NULL && i < t->count; i++) {
    const pv_target *p = &t->items[i];
    int n = pv_snprintf_c(line, sizeof line, "%" PRId64 ",%.17g,%.17g,%s\n",
                          p->index, p->x_um, p->y_um, p->name);
    h = pv_fnv1a64(h, line, (size_t)n);
  }
  return h;
}

uint64_t pv_targets_map_hash(void) {
  static const char text[] = PV_TARGETS_SENTIO_MAP "\n";
  return pv_fnv1a64(PV_FNV1A64_INIT, text, sizeof text - 1);
}
