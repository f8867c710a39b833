/* Internal to src/config: the key descriptor table and the value codec
 * shared by the file parser, the overrides, the dump and the reference. */
#ifndef PV_CONFIG_KEYS_H
#define PV_CONFIG_KEYS_H

#include <stddef.h>

#include "probevision/config.h"

typedef enum pv__key_type {
  PV__KT_STR,      /* char[size], optional list of choices */
  PV__KT_INT,      /* int */
  PV__KT_I64,      /* int64_t */
  PV__KT_DBL,      /* double, finite */
  PV__KT_BOOL,     /* bool */
  PV__KT_PIXFMT,   /* pv_pixfmt */
  PV__KT_LOGLEVEL  /* pv_log_level */
} pv__key_type;

/* Not part of pv_config_hash(): may differ when a run is resumed. */
#define PV_KEY_VOLATILE 1u
/* DBL only: also accepts the word "auto", stored as 0 (outside the range). */
#define PV_KEY_AUTO 2u

typedef struct pv__config_key {
  const char *section;
  const char *name;
  pv__key_type type;
  size_t offset;       /* of the field in pv_config */
  size_t size;         /* of the field */
  const char *def;     /* default, as text (parsed by the same code) */
  long long imin, imax; /* INT, I64 */
  double dmin, dmax;   /* DBL */
  const char *choices; /* STR: "a, b" (the only accepted values) or NULL */
  unsigned flags;
  const char *doc;     /* one line, with the unit */
} pv__config_key;

/* "a <= b" rules between two numeric keys. */
typedef struct pv__config_rule {
  const char *lesser;  /* "section.key" */
  const char *greater;
} pv__config_rule;

extern const pv__config_key pv__config_keys[];
extern const int pv__config_key_count;
extern const pv__config_rule pv__config_rules[];
extern const int pv__config_rule_count;

/* Index of the key, or -1. section_len: bytes of section to compare. */
int pv__config_find(const char *section, size_t section_len, const char *name);
/* True if any key lives in that section. */
int pv__config_has_section(const char *section);
/* Parses text into the key's field of c; on error c is unchanged and err
 * reads "WHERE: section.key ...". */
int pv__config_parse_value(pv_config *c, const pv__config_key *k,
                           const char *text, const char *where, pv_error *err);
/* Canonical text of the key's value (strings quoted). Returns the length
 * or PV_ERANGE when cap is too small. */
int pv__config_format_value(const pv_config *c, const pv__config_key *k,
                            char *buf, size_t cap);
/* What the key accepts, e.g. "16..16384", "true/false", "sim, aravis". */
void pv__config_range_text(const pv__config_key *k, char *buf, size_t cap);
/* Numeric value of a key (INT, I64, DBL) as a double. */
double pv__config_number(const pv_config *c, const pv__config_key *k);

/* Printable excerpt of outside text for messages: at most 40 bytes, bytes
 * outside printable ASCII shown as '?', "..." when cut. */
void pv__config_excerpt(const char *text, char out[48]);

/* pv_config_check with where-information: line_of[i] > 0 is the line of
 * path where key i was set (the message then starts "path:line: "). */
int pv__config_check_at(const pv_config *c, const char *path,
                        const int *line_of, pv_error *err);

#endif /* PV_CONFIG_KEYS_H */
