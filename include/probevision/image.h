/* probevision image: 8-bit grey images, pixel formats, Bayer demosaic to
 * luma (full and 2x2-binned), PNG and PGM files.
 *
 * Conversion functions write into caller-provided images and allocate
 * nothing, so they can run on the frame path. File readers allocate the
 * image they return; the caller frees it with pv_image_free().
 */
#ifndef PROBEVISION_IMAGE_H
#define PROBEVISION_IMAGE_H

#include <stdint.h>

#include "probevision/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

/* Pixel formats of camera frames. BAYER_xx8: the 2x2 pattern starting at
 * pixel (0,0), e.g. BG means row 0 = B G B G..., row 1 = G R G R... */
#define PV_PIXFMT_MAP(XX)                                                      \
  XX(MONO8, "Mono8")                                                           \
  XX(BAYER_BG8, "BayerBG8")                                                    \
  XX(BAYER_GB8, "BayerGB8")                                                    \
  XX(BAYER_GR8, "BayerGR8")                                                    \
  XX(BAYER_RG8, "BayerRG8")

typedef enum pv_pixfmt {
#define PV__PIXFMT_ENUM(name, text) PV_PIXFMT_##name,
  PV_PIXFMT_MAP(PV__PIXFMT_ENUM)
#undef PV__PIXFMT_ENUM
  PV_PIXFMT_COUNT
} pv_pixfmt;

/* An 8-bit grey image. `data` row j starts at data + j * stride.
 * Owned by whoever allocated it (pv_image_alloc / a reader) unless it is a
 * view onto someone else's memory. */
typedef struct pv_image {
  int width;
  int height;
  int stride; /* bytes per row, >= width */
  uint8_t *data;
} pv_image;

/* ---- functions -------------------------------------------------------- */

/* GenICam name ("BayerBG8") of a format, and back (-1 if unknown). */
const char *pv_pixfmt_name(pv_pixfmt fmt);
int pv_pixfmt_parse(const char *name);

/* Allocates a w x h image (stride == w, zero-filled, every page written now
 * by pv_prefault so the resident size does not grow later). 1 <= w,h <=
 * PV_IMAGE_MAX_DIM. Free with pv_image_free (which accepts a zeroed image). */
int pv_image_alloc(pv_image *img, int w, int h);
void pv_image_free(pv_image *img);
/* A view of the rectangle (x, y, w, h) of src; no copy, src keeps ownership.
 * The rectangle must lie inside src (PV_EINVAL otherwise). */
int pv_image_view(const pv_image *src, int x, int y, int w, int h,
                  pv_image *out);

/* Whether the luma functions below accept a w x h frame at src with this
 * stride and format: PV_OK, or PV_EINVAL (no data, an empty size, a
 * stride below w, a format that is neither Mono8 nor 8-bit Bayer, or a
 * Bayer frame under 2 x 2). Pure, thread-safe. */
int pv_frame_luma_check(const uint8_t *src, int w, int h, int stride, pv_pixfmt fmt);
/* Bayer (or Mono8) frame -> luma of the same size, into dst (dst->width ==
 * w, dst->height == h). Luma = 0.299 R + 0.587 G + 0.114 B from a bilinear
 * demosaic; Mono8 is copied. Allocates nothing. Thread-safe for distinct dst. */
int pv_frame_to_luma(const uint8_t *src, int w, int h, int stride,
                     pv_pixfmt fmt, pv_image *dst);
/* Bayer (or Mono8) frame -> 2x2-binned luma, w/2 x h/2 (each output pixel
 * from one 2x2 cell: one R, two G, one B; Mono8 averages the 4 pixels). */
int pv_frame_to_luma_bin2(const uint8_t *src, int w, int h, int stride,
                          pv_pixfmt fmt, pv_image *dst);
/* Converts the rectangle (x0, y0, dst->width, dst->height) of the w x h
 * Bayer (or Mono8) frame into dst: exactly the bytes pv_frame_to_luma would
 * write there for the whole frame (neighbours outside the rectangle are read
 * from the frame; only the frame's own edges reflect). Any x0, y0 parity
 * (the Bayer phase comes from absolute coordinates). PV_EINVAL if the
 * rectangle is not inside the frame or dst is too small. Allocates nothing.
 * Thread-safe for distinct dst.
 * All three conversions run the fastest kernel the CPU supports (AVX2,
 * SSE2, scalar; every one gives identical bytes); the environment variable
 * PV_LUMA_SIMD=scalar|sse2|avx2, read at first use, forces one (an
 * unsupported choice falls back to the best supported). */
int pv_frame_to_luma_rect(const uint8_t *src, int w, int h, int stride,
                          pv_pixfmt fmt, int x0, int y0, pv_image *dst);

/* Colour of the Bayer site at pixel (x, y) of a frame in format fmt:
 * 0 = red, 1 = green, 2 = blue; -1 for Mono8 or an unknown format.
 * Thread-safe, pure. */
int pv_bayer_site_colour(pv_pixfmt fmt, int x, int y);

/* Files. Readers accept 8-bit or 16-bit grey, grey+alpha, RGB(A) PNG and
 * P2/P5 PGM (maxval up to 65535), convert to 8-bit luma, and reject images
 * larger than PV_IMAGE_MAX_DIM per side or PV_IMAGE_MAX_PIXELS in all, or
 * truncated/garbled files, with a message naming the file. */
int pv_png_read(const char *path, pv_image *out, pv_error *err);
int pv_png_write(const char *path, const pv_image *img, pv_error *err);
int pv_pgm_read(const char *path, pv_image *out, pv_error *err);
int pv_pgm_write(const char *path, const pv_image *img, pv_error *err);
/* Reads PNG or PGM, chosen by the file's first bytes. */
int pv_image_read(const char *path, pv_image *out, pv_error *err);
/* Writes PNG or PGM, chosen by the path's extension (.png / .pgm). */
int pv_image_write(const char *path, const pv_image *img, pv_error *err);

/* ---- constants -------------------------------------------------------- */

#define PV_IMAGE_MAX_DIM 16384
#define PV_IMAGE_MAX_PIXELS (64 * 1024 * 1024)

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_IMAGE_H */
