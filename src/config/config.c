/* Defaults, overrides, cross-key checks, canonical dump, hash and reference
 * text: each is a loop over the key table (keys.c). */
#include <stdlib.h>
#include <string.h>

#include "keys.h"

void pv_config_default(pv_config *c) {
  memset(c, 0, sizeof *c);
  for (int i = 0; i < pv__config_key_count; i++) {
    pv_error err;
    if (pv__config_parse_value(c, &pv__config_keys[i], pv__config_keys[i].def,
                               "default", &err) != PV_OK) {
      pv_error("config: invalid built-in %s", err.msg); /* a bug in keys.c */
      abort();
    }
  }
}

static const char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
  return s;
}

int pv_config_set(pv_config *c, const char *section_dot_key, const char *value,
                  pv_error *err) {
  if (c == NULL || section_dot_key == NULL || value == NULL)
    return pv_error_set(err, PV_EINVAL, "override: missing key or value");
  const char *dot = strchr(section_dot_key, '.');
  int idx = dot ? pv__config_find(section_dot_key, (size_t)(dot - section_dot_key),
                                  dot + 1)
                : -1;
  if (idx < 0)
    return pv_error_set(err, PV_EPARSE,
                        "override: unknown key '%.64s' (expected section.key, "
                        "see `probevision help config`)", section_dot_key);
  char text[PV_CONFIG_LINE_MAX];
  if (strlen(value) >= sizeof text)
    return pv_error_set(err, PV_EPARSE, "override: %s: value too long",
                        section_dot_key);
  strcpy(text, value);
  pv_config tmp = *c;
  int rc = pv__config_parse_value(&tmp, &pv__config_keys[idx], trim(text),
                                  "override", err);
  if (rc == PV_OK) {
    tmp.origin_line[idx] = PV_CONFIG_FROM_OVERRIDE;
    *c = tmp;
  }
  return rc;
}

int pv_config_origin(const pv_config *c, const char *section_dot_key, char *buf,
                     size_t cap) {
  const char *dot = strchr(section_dot_key, '.');
  int idx = dot ? pv__config_find(section_dot_key, (size_t)(dot - section_dot_key),
                                  dot + 1)
                : -1;
  if (idx < 0) return PV_EINVAL;
  int line = c->origin_line[idx];
  int n = line > 0 ? snprintf(buf, cap, "%s:%d", c->origin_file, line)
          : line == PV_CONFIG_FROM_OVERRIDE ? snprintf(buf, cap, "command line")
                                            : snprintf(buf, cap, "default");
  return n < 0 ? PV_EINVAL : n;
}

static int key_index(const char *dotted) {
  const char *dot = strchr(dotted, '.');
  return pv__config_find(dotted, (size_t)(dot - dotted), dot + 1);
}

int pv__config_check_at(const pv_config *c, const char *path,
                        const int *line_of, pv_error *err) {
  for (int r = 0; r < pv__config_rule_count; r++) {
    int a = key_index(pv__config_rules[r].lesser);
    int b = key_index(pv__config_rules[r].greater);
    double va = pv__config_number(c, &pv__config_keys[a]);
    double vb = pv__config_number(c, &pv__config_keys[b]);
    if (va <= vb) continue;
    char where[PV_ERROR_MSG_MAX / 2] = "";
    int line = 0;
    if (line_of != NULL) line = line_of[a] > line_of[b] ? line_of[a] : line_of[b];
    if (path != NULL && line > 0)
      snprintf(where, sizeof where, "%s:%d: ", path, line);
    else if (path != NULL)
      snprintf(where, sizeof where, "%s: ", path);
    return pv_error_set(err, PV_EPARSE, "%s%s = %g must not exceed %s = %g",
                        where, pv__config_rules[r].lesser, va,
                        pv__config_rules[r].greater, vb);
  }
  return PV_OK;
}

int pv_config_check(const pv_config *c, pv_error *err) {
  return pv__config_check_at(c, NULL, NULL, err);
}

int pv_config_dump(const pv_config *c, int hashed_only, char *buf, size_t cap) {
  size_t used = 0;
  const char *section = NULL;
  if (cap == 0) return PV_ERANGE;
  buf[0] = '\0';
  for (int i = 0; i < pv__config_key_count; i++) {
    const pv__config_key *k = &pv__config_keys[i];
    if (hashed_only && (k->flags & PV_KEY_VOLATILE)) continue;
    int n;
    if (section == NULL || strcmp(section, k->section) != 0) {
      n = snprintf(buf + used, cap - used, "%s[%s]\n", section ? "\n" : "",
                   k->section);
      if (n < 0 || (size_t)n >= cap - used) return PV_ERANGE;
      used += (size_t)n;
      section = k->section;
    }
    n = snprintf(buf + used, cap - used, "%s = ", k->name);
    if (n < 0 || (size_t)n >= cap - used) return PV_ERANGE;
    used += (size_t)n;
    n = pv__config_format_value(c, k, buf + used, cap - used);
    if (n < 0 || (size_t)n + 1 >= cap - used) return PV_ERANGE;
    used += (size_t)n;
    buf[used++] = '\n';
    buf[used] = '\0';
  }
  return (int)used;
}

uint64_t pv_config_hash(const pv_config *c) {
  char text[PV_CONFIG_DUMP_CAP];
  int n = pv_config_dump(c, 1, text, sizeof text);
  uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a 64 offset basis */
  for (int i = 0; i < n; i++) {
    h ^= (unsigned char)text[i];
    h *= UINT64_C(1099511628211); /* FNV 64 prime */
  }
  return h;
}

void pv_config_write_reference(FILE *out) {
  pv_config def;
  pv_config_default(&def);
  fprintf(out, "| key | default | range | meaning |\n| --- | --- | --- | --- |\n");
  for (int i = 0; i < pv__config_key_count; i++) {
    const pv__config_key *k = &pv__config_keys[i];
    char value[PV_CONFIG_PATH_CAP + 8], range[128];
    if (pv__config_format_value(&def, k, value, sizeof value) < 0) value[0] = '\0';
    pv__config_range_text(k, range, sizeof range);
    fprintf(out, "| `%s.%s` | `%s` | %s | %s%s |\n", k->section, k->name, value,
            range, k->doc,
            (k->flags & PV_KEY_VOLATILE) ? " (volatile: not in the config hash)"
                                         : "");
  }
}
