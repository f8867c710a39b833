/* PNG files through libspng.
 *
 * Reading: the IHDR is read and checked against PV_IMAGE_MAX_DIM /
 * PV_IMAGE_MAX_PIXELS (and spng's own image and chunk limits are set) before
 * anything is decoded, so a hostile header cannot make us allocate. 8-bit
 * grey non-interlaced images decode straight into the output; every other
 * colour type decodes to RGBA8 (spng converts bit depths and palettes) and
 * is reduced to luma 0.299 R + 0.587 G + 0.114 B, alpha ignored.
 * Writing: 8-bit grey, row by row (the image may have stride > width).
 */
#include <errno.h>
#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/image.h"

/* spng errors about the file's content (as opposed to I/O) */
static int spng_status(int e) {
  if (e == SPNG_EMEM) return PV_ENOMEM;
  if (e == SPNG_IO_ERROR) return PV_EIO;
  return PV_EPARSE;
}

static int read_ihdr(spng_ctx *ctx, const char *path, struct spng_ihdr *ihdr,
                     pv_error *err) {
  spng_set_image_limits(ctx, PV_IMAGE_MAX_DIM, PV_IMAGE_MAX_DIM);
  spng_set_chunk_limits(ctx, 64u << 20, 64u << 20);
  int e = spng_get_ihdr(ctx, ihdr);
  if (e == SPNG_EUSER_WIDTH || e == SPNG_EUSER_HEIGHT)
    return pv_error_set(err, PV_ERANGE,
                        "%s: PNG image larger than %d pixels per side", path,
                        PV_IMAGE_MAX_DIM);
  if (e != 0)
    return pv_error_set(err, spng_status(e), "%s: not a valid PNG: %s", path,
                        spng_strerror(e));
  if ((uint64_t)ihdr->width * ihdr->height > PV_IMAGE_MAX_PIXELS)
    return pv_error_set(err, PV_ERANGE,
                        "%s: PNG image %ux%u exceeds %d pixels", path,
                        ihdr->width, ihdr->height, PV_IMAGE_MAX_PIXELS);
  return PV_OK;
}

static int decode(spng_ctx *ctx, const char *path,
                  const struct spng_ihdr *ihdr, pv_image *out, pv_error *err) {
  int rc = pv_image_alloc(out, (int)ihdr->width, (int)ihdr->height);
  if (rc != PV_OK)
    return pv_error_set(err, rc, "%s: cannot allocate %ux%u image", path,
                        ihdr->width, ihdr->height);
  size_t n = (size_t)out->width * out->height;
  int e;
  if (ihdr->color_type == SPNG_COLOR_TYPE_GRAYSCALE && ihdr->bit_depth <= 8 &&
      ihdr->interlace_method == 0) {
    e = spng_decode_image(ctx, out->data, n, SPNG_FMT_G8, 0);
  } else {
    uint8_t *rgba = malloc(n * 4);
    if (rgba == NULL) {
      pv_image_free(out);
      return pv_error_set(err, PV_ENOMEM, "%s: cannot allocate decode buffer",
                          path);
    }
    e = spng_decode_image(ctx, rgba, n * 4, SPNG_FMT_RGBA8, 0);
    if (e == 0)
      for (size_t i = 0; i < n; i++) {
        const uint8_t *p = rgba + 4 * i;
        out->data[i] = (uint8_t)((19595 * p[0] + 38470 * p[1] + 7471 * p[2] +
                                  32768) >> 16);
      }
    free(rgba);
  }
  if (e != 0) {
    pv_image_free(out);
    return pv_error_set(err, spng_status(e), "%s: bad PNG data: %s", path,
                        spng_strerror(e));
  }
  return PV_OK;
}

int pv_png_read(const char *path, pv_image *out, pv_error *err) {
  if (path == NULL || out == NULL)
    return pv_error_set(err, PV_EINVAL, "png read: no path or output");
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return pv_error_set(err, PV_EIO, "%s: cannot open: %s", path,
                        strerror(errno));
  spng_ctx *ctx = spng_ctx_new(0);
  if (ctx == NULL) {
    fclose(f);
    return pv_error_set(err, PV_ENOMEM, "%s: cannot create PNG decoder", path);
  }
  int rc = PV_OK;
  struct spng_ihdr ihdr;
  int e = spng_set_png_file(ctx, f);
  if (e != 0)
    rc = pv_error_set(err, PV_EIO, "%s: %s", path, spng_strerror(e));
  if (rc == PV_OK) rc = read_ihdr(ctx, path, &ihdr, err);
  if (rc == PV_OK) rc = decode(ctx, path, &ihdr, out, err);
  spng_ctx_free(ctx);
  fclose(f);
  return rc;
}

int pv_png_write(const char *path, const pv_image *img, pv_error *err) {
  if (path == NULL || img == NULL || img->data == NULL || img->width < 1 ||
      img->height < 1 || img->stride < img->width)
    return pv_error_set(err, PV_EINVAL, "%s: png write: invalid image",
                        path ? path : "(null)");
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return pv_error_set(err, PV_EIO, "%s: cannot create: %s", path,
                        strerror(errno));
  spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  if (ctx == NULL) {
    fclose(f);
    return pv_error_set(err, PV_ENOMEM, "%s: cannot create PNG encoder", path);
  }
  struct spng_ihdr ihdr = {.width = (uint32_t)img->width,
                           .height = (uint32_t)img->height,
                           .bit_depth = 8,
                           .color_type = SPNG_COLOR_TYPE_GRAYSCALE};
  int e = spng_set_png_file(ctx, f);
  if (e == 0) e = spng_set_ihdr(ctx, &ihdr);
  if (e == 0)
    e = spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG,
                          SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);
  for (int y = 0; e == 0 && y < img->height; y++) {
    e = spng_encode_row(ctx, img->data + (size_t)y * img->stride,
                        (size_t)img->width);
    if (e == SPNG_EOI && y == img->height - 1) e = 0;
  }
  spng_ctx_free(ctx);
  int close_failed = fclose(f) != 0;
  if (e != 0)
    return pv_error_set(err, PV_EIO, "%s: PNG encoding failed: %s", path,
                        spng_strerror(e));
  if (close_failed)
    return pv_error_set(err, PV_EIO, "%s: write failed: %s", path,
                        strerror(errno));
  return PV_OK;
}
