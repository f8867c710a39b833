/* PGM files: P5 (binary) and P2 (ASCII), maxval 1..65535, read into 8-bit
 * luma (value * 255 / maxval, rounded); written as P5 maxval 255.
 *
 * The header parser is strict: magic, then width, height, maxval as plain
 * decimal numbers separated by whitespace and '#' comments, then exactly one
 * whitespace byte before P5 data. Sizes are checked before allocating.
 * Every error message names the file and the field or offset at fault.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/image.h"

typedef struct reader {
  FILE *f;
  const char *path;
  long pos; /* bytes consumed, for messages */
} reader;

static int next_byte(reader *r) {
  int c = getc(r->f);
  if (c != EOF) r->pos++;
  return c;
}

static int is_space(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

/* Skips whitespace and comments; returns the first other byte (or EOF). */
static int skip_blank(reader *r) {
  int c = next_byte(r);
  for (;;) {
    if (c == '#') {
      while (c != EOF && c != '\n') c = next_byte(r);
    } else if (!is_space(c)) {
      return c;
    }
    c = next_byte(r);
  }
}

/* Reads an unsigned decimal number of at most 9 digits. *term receives the
 * byte after it. */
static int read_number(reader *r, const char *field, long *out, int *term,
                       pv_error *err) {
  int c = skip_blank(r);
  if (c == EOF)
    return pv_error_set(err, PV_EPARSE, "%s: truncated header: missing %s",
                        r->path, field);
  long v = 0;
  int digits = 0;
  long at = r->pos;
  while (c >= '0' && c <= '9') {
    if (++digits > 9)
      return pv_error_set(err, PV_EPARSE,
                          "%s: offset %ld: %s has too many digits", r->path,
                          at, field);
    v = v * 10 + (c - '0');
    c = next_byte(r);
  }
  if (digits == 0 || (c != EOF && !is_space(c) && c != '#'))
    return pv_error_set(err, PV_EPARSE,
                        "%s: offset %ld: bad %s: not a decimal number",
                        r->path, at, field);
  *out = v;
  *term = c;
  return PV_OK;
}

static int read_header(reader *r, int *ascii, long *w, long *h, long *maxval,
                       pv_error *err) {
  int m0 = next_byte(r), m1 = next_byte(r);
  if (m0 != 'P' || (m1 != '5' && m1 != '2'))
    return pv_error_set(err, PV_EPARSE,
                        "%s: bad magic: not a PGM file (expected P5 or P2)",
                        r->path);
  *ascii = m1 == '2';
  int term, rc;
  if ((rc = read_number(r, "width", w, &term, err)) != PV_OK) return rc;
  if (term == '#') ungetc(term, r->f), r->pos--;
  if ((rc = read_number(r, "height", h, &term, err)) != PV_OK) return rc;
  if (term == '#') ungetc(term, r->f), r->pos--;
  if ((rc = read_number(r, "maxval", maxval, &term, err)) != PV_OK) return rc;
  if (!is_space(term))
    return pv_error_set(err, PV_EPARSE,
                        "%s: header must end with one whitespace byte after "
                        "maxval", r->path);
  if (*w < 1 || *h < 1 || *w > PV_IMAGE_MAX_DIM || *h > PV_IMAGE_MAX_DIM)
    return pv_error_set(err, PV_ERANGE,
                        "%s: size %ldx%ld out of range (1..%d per side)",
                        r->path, *w, *h, PV_IMAGE_MAX_DIM);
  if (*w * *h > PV_IMAGE_MAX_PIXELS)
    return pv_error_set(err, PV_ERANGE, "%s: size %ldx%ld exceeds %d pixels",
                        r->path, *w, *h, PV_IMAGE_MAX_PIXELS);
  if (*maxval < 1 || *maxval > 65535)
    return pv_error_set(err, PV_ERANGE,
                        "%s: maxval %ld out of range (1..65535)", r->path,
                        *maxval);
  return PV_OK;
}

static uint8_t scale(long v, long maxval) {
  return (uint8_t)((v * 255 + maxval / 2) / maxval);
}

static int read_binary(reader *r, long maxval, pv_image *img, pv_error *err) {
  size_t n = (size_t)img->width * img->height;
  if (maxval < 256) {
    size_t got = fread(img->data, 1, n, r->f);
    if (got != n)
      return pv_error_set(err, PV_EPARSE,
                          "%s: truncated pixel data (%zu of %zu bytes)",
                          r->path, got, n);
    for (size_t i = 0; i < n; i++) {
      if (img->data[i] > maxval)
        return pv_error_set(err, PV_EPARSE,
                            "%s: pixel %zu value %d exceeds maxval %ld",
                            r->path, i, img->data[i], maxval);
      if (maxval != 255) img->data[i] = scale(img->data[i], maxval);
    }
    return PV_OK;
  }
  for (size_t i = 0; i < n; i++) {
    int hi = getc(r->f), lo = getc(r->f);
    if (hi == EOF || lo == EOF)
      return pv_error_set(err, PV_EPARSE,
                          "%s: truncated pixel data (%zu of %zu samples)",
                          r->path, i, n);
    long v = hi << 8 | lo;
    if (v > maxval)
      return pv_error_set(err, PV_EPARSE,
                          "%s: pixel %zu value %ld exceeds maxval %ld",
                          r->path, i, v, maxval);
    img->data[i] = scale(v, maxval);
  }
  return PV_OK;
}

static int read_ascii(reader *r, long maxval, pv_image *img, pv_error *err) {
  size_t n = (size_t)img->width * img->height;
  for (size_t i = 0; i < n; i++) {
    long v;
    int term, rc;
    char field[48];
    snprintf(field, sizeof field, "pixel %zu", i);
    if ((rc = read_number(r, field, &v, &term, err)) != PV_OK) return rc;
    if (term == '#') ungetc(term, r->f), r->pos--;
    if (v > maxval)
      return pv_error_set(err, PV_EPARSE,
                          "%s: pixel %zu value %ld exceeds maxval %ld",
                          r->path, i, v, maxval);
    img->data[i] = scale(v, maxval);
  }
  return PV_OK;
}

int pv_pgm_read(const char *path, pv_image *out, pv_error *err) {
  if (path == NULL || out == NULL)
    return pv_error_set(err, PV_EINVAL, "pgm read: no path or output");
  memset(out, 0, sizeof *out);
  reader r = {.f = fopen(path, "rb"), .path = path, .pos = 0};
  if (r.f == NULL)
    return pv_error_set(err, PV_EIO, "%s: cannot open: %s", path,
                        strerror(errno));
  int ascii = 0;
  long w = 0, h = 0, maxval = 0;
  int rc = read_header(&r, &ascii, &w, &h, &maxval, err);
  if (rc == PV_OK) {
    rc = pv_image_alloc(out, (int)w, (int)h);
    if (rc != PV_OK)
      pv_error_set(err, rc, "%s: cannot allocate %ldx%ld image", path, w, h);
  }
  if (rc == PV_OK)
    rc = ascii ? read_ascii(&r, maxval, out, err)
               : read_binary(&r, maxval, out, err);
  if (rc == PV_OK && ferror(r.f))
    rc = pv_error_set(err, PV_EIO, "%s: read error", path);
  fclose(r.f);
  if (rc != PV_OK) pv_image_free(out);
  return rc;
}

int pv_pgm_write(const char *path, const pv_image *img, pv_error *err) {
  if (path == NULL || img == NULL || img->data == NULL || img->width < 1 ||
      img->height < 1 || img->stride < img->width)
    return pv_error_set(err, PV_EINVAL, "%s: pgm write: invalid image",
                        path ? path : "(null)");
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return pv_error_set(err, PV_EIO, "%s: cannot create: %s", path,
                        strerror(errno));
  int ok = fprintf(f, "P5\n%d %d\n255\n", img->width, img->height) > 0;
  for (int y = 0; ok && y < img->height; y++)
    ok = fwrite(img->data + (size_t)y * img->stride, 1, (size_t)img->width,
                f) == (size_t)img->width;
  if (fclose(f) != 0) ok = 0;
  if (!ok)
    return pv_error_set(err, PV_EIO, "%s: write failed: %s", path,
                        strerror(errno));
  return PV_OK;
}
