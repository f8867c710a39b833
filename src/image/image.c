/* Pixel-format names (generated from PV_PIXFMT_MAP), grey image allocation
 * and views, and the format-sniffing file read/write entry points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probevision/image.h"

static const char *const pixfmt_names[PV_PIXFMT_COUNT] = {
#define PV__PIXFMT_NAME(name, text) [PV_PIXFMT_##name] = text,
    PV_PIXFMT_MAP(PV__PIXFMT_NAME)
#undef PV__PIXFMT_NAME
};

const char *pv_pixfmt_name(pv_pixfmt fmt) {
  if ((int)fmt < 0 || fmt >= PV_PIXFMT_COUNT) return "unknown";
  return pixfmt_names[fmt];
}

int pv_pixfmt_parse(const char *name) {
  if (name == NULL) return -1;
  for (int i = 0; i < PV_PIXFMT_COUNT; i++)
    if (strcmp(name, pixfmt_names[i]) == 0) return i;
  return -1;
}

int pv_image_alloc(pv_image *img, int w, int h) {
  if (img == NULL) return PV_EINVAL;
  memset(img, 0, sizeof *img);
  if (w < 1 || h < 1 || w > PV_IMAGE_MAX_DIM || h > PV_IMAGE_MAX_DIM)
    return PV_EINVAL;
  img->data = calloc((size_t)w * (size_t)h, 1);
  if (img->data == NULL) return PV_ENOMEM;
  /* calloc of a large image maps zero pages that become resident only when
   * written: back them now, so RSS is final from the start. */
  pv_prefault(img->data, (size_t)w * (size_t)h);
  img->width = w;
  img->height = h;
  img->stride = w;
  return PV_OK;
}

void pv_image_free(pv_image *img) {
  if (img == NULL) return;
  free(img->data);
  memset(img, 0, sizeof *img);
}

int pv_image_view(const pv_image *src, int x, int y, int w, int h,
                  pv_image *out) {
  if (src == NULL || out == NULL || src->data == NULL) return PV_EINVAL;
  if (x < 0 || y < 0 || w < 1 || h < 1 || x > src->width - w ||
      y > src->height - h)
    return PV_EINVAL;
  out->width = w;
  out->height = h;
  out->stride = src->stride;
  out->data = src->data + (size_t)y * (size_t)src->stride + (size_t)x;
  return PV_OK;
}

int pv_image_read(const char *path, pv_image *out, pv_error *err) {
  if (path == NULL || out == NULL)
    return pv_error_set(err, PV_EINVAL, "image read: no path or output");
  unsigned char magic[8] = {0};
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return pv_error_set(err, PV_EIO, "%s: cannot open: %m", path);
  size_t n = fread(magic, 1, sizeof magic, f);
  fclose(f);
  static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n == sizeof magic && memcmp(magic, png_sig, 8) == 0)
    return pv_png_read(path, out, err);
  if (n >= 2 && magic[0] == 'P' && (magic[1] == '5' || magic[1] == '2'))
    return pv_pgm_read(path, out, err);
  return pv_error_set(err, PV_EPARSE,
                      "%s: not a PNG or PGM file (unrecognised first bytes)",
                      path);
}

static int has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  return n > e && strcasecmp(path + n - e, ext) == 0;
}

int pv_image_write(const char *path, const pv_image *img, pv_error *err) {
  if (path == NULL)
    return pv_error_set(err, PV_EINVAL, "image write: no path");
  if (has_ext(path, ".png")) return pv_png_write(path, img, err);
  if (has_ext(path, ".pgm")) return pv_pgm_write(path, img, err);
  return pv_error_set(err, PV_EINVAL,
                      "%s: unknown image extension (use .png or .pgm)", path);
}
