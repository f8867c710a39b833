/* Bayer 8-bit (and Mono8) frames -> 8-bit luma, full size and 2x2-binned.
 *
 * Bilinear demosaic followed by Y = 0.299 R + 0.587 G + 0.114 B is a linear
 * filter of the raw mosaic whose 3x3 weights depend only on the colour of the
 * centre site, so each output pixel is
 *   (kc*centre + kh*(left+right) + kv*(up+down) + kd*(4 diagonals)) / 2^18
 * with integer weights (luma weights scaled to 2^16, times 4 for the bilinear
 * averages). A row holds two site kinds (even and odd x); the interior loop
 * handles pairs with the row's two weight sets, the border pixels reflect
 * (index -1 -> 1, w -> w-2), which keeps the Bayer phase of the neighbours.
 * Nothing is allocated.
 */
#include <string.h>

#include "probevision/image.h"

enum { COL_R = 0, COL_G = 1, COL_B = 2 };

/* Luma weights scaled to 2^16 (sum 65536). */
static const int lw[3] = {19595, 38470, 7471};

/* Colour of site (x & 1, y & 1) as index [(y & 1) * 2 + (x & 1)]. */
static const unsigned char bayer_sites[PV_PIXFMT_COUNT][4] = {
    [PV_PIXFMT_BAYER_BG8] = {COL_B, COL_G, COL_G, COL_R},
    [PV_PIXFMT_BAYER_GB8] = {COL_G, COL_B, COL_R, COL_G},
    [PV_PIXFMT_BAYER_GR8] = {COL_G, COL_R, COL_B, COL_G},
    [PV_PIXFMT_BAYER_RG8] = {COL_R, COL_G, COL_G, COL_B},
};

typedef struct site_weights {
  int kc, kh, kv, kd;
} site_weights;

static int is_bayer(pv_pixfmt fmt) {
  return fmt == PV_PIXFMT_BAYER_BG8 || fmt == PV_PIXFMT_BAYER_GB8 ||
         fmt == PV_PIXFMT_BAYER_GR8 || fmt == PV_PIXFMT_BAYER_RG8;
}

static site_weights weights_for(const unsigned char *sites, int x, int y) {
  int c = sites[(y & 1) * 2 + (x & 1)];
  site_weights k;
  if (c == COL_G) {
    int hc = sites[(y & 1) * 2 + ((x + 1) & 1)];
    int vc = sites[((y + 1) & 1) * 2 + (x & 1)];
    k.kc = 4 * lw[COL_G];
    k.kh = 2 * lw[hc];
    k.kv = 2 * lw[vc];
    k.kd = 0;
  } else {
    k.kc = 4 * lw[c];
    k.kh = k.kv = lw[COL_G];
    k.kd = lw[c == COL_R ? COL_B : COL_R];
  }
  return k;
}

static inline int reflect(int i, int n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

static inline uint8_t pixel_at(const uint8_t *up, const uint8_t *mid,
                               const uint8_t *dn, int x, int w,
                               const site_weights *k) {
  int l = reflect(x - 1, w), r = reflect(x + 1, w);
  int s = k->kc * mid[x] + k->kh * (mid[l] + mid[r]) +
          k->kv * (up[x] + dn[x]) + k->kd * (up[l] + up[r] + dn[l] + dn[r]);
  return (uint8_t)((s + (1 << 17)) >> 18);
}

static void demosaic_row(const uint8_t *up, const uint8_t *mid,
                         const uint8_t *dn, uint8_t *out, int w,
                         site_weights k0, site_weights k1) {
  out[0] = pixel_at(up, mid, dn, 0, w, &k0);
  int x = 1;
  /* interior pairs: odd x uses k1, the following even x uses k0 */
  for (; x + 1 < w - 1; x += 2) {
    int s1 = k1.kc * mid[x] + k1.kh * (mid[x - 1] + mid[x + 1]) +
             k1.kv * (up[x] + dn[x]) +
             k1.kd * (up[x - 1] + up[x + 1] + dn[x - 1] + dn[x + 1]);
    int s0 = k0.kc * mid[x + 1] + k0.kh * (mid[x] + mid[x + 2]) +
             k0.kv * (up[x + 1] + dn[x + 1]) +
             k0.kd * (up[x] + up[x + 2] + dn[x] + dn[x + 2]);
    out[x] = (uint8_t)((s1 + (1 << 17)) >> 18);
    out[x + 1] = (uint8_t)((s0 + (1 << 17)) >> 18);
  }
  for (; x < w; x++)
    out[x] = pixel_at(up, mid, dn, x, w, (x & 1) ? &k1 : &k0);
}

static int check_args(const uint8_t *src, int w, int h, int stride,
                      pv_pixfmt fmt, const pv_image *dst, int ow, int oh) {
  if (src == NULL || dst == NULL || dst->data == NULL) return PV_EINVAL;
  if (w < 1 || h < 1 || stride < w) return PV_EINVAL;
  if (fmt != PV_PIXFMT_MONO8 && !is_bayer(fmt)) return PV_EINVAL;
  if (is_bayer(fmt) && (w < 2 || h < 2)) return PV_EINVAL;
  if (ow < 1 || oh < 1) return PV_EINVAL;
  if (dst->width != ow || dst->height != oh || dst->stride < ow)
    return PV_EINVAL;
  return PV_OK;
}

int pv_frame_to_luma(const uint8_t *src, int w, int h, int stride,
                     pv_pixfmt fmt, pv_image *dst) {
  int rc = check_args(src, w, h, stride, fmt, dst, w, h);
  if (rc != PV_OK) return rc;
  if (fmt == PV_PIXFMT_MONO8) {
    for (int y = 0; y < h; y++)
      memcpy(dst->data + (size_t)y * dst->stride, src + (size_t)y * stride,
             (size_t)w);
    return PV_OK;
  }
  const unsigned char *sites = bayer_sites[fmt];
  for (int y = 0; y < h; y++) {
    const uint8_t *up = src + (size_t)reflect(y - 1, h) * stride;
    const uint8_t *mid = src + (size_t)y * stride;
    const uint8_t *dn = src + (size_t)reflect(y + 1, h) * stride;
    demosaic_row(up, mid, dn, dst->data + (size_t)y * dst->stride, w,
                 weights_for(sites, 0, y), weights_for(sites, 1, y));
  }
  return PV_OK;
}

int pv_frame_to_luma_bin2(const uint8_t *src, int w, int h, int stride,
                          pv_pixfmt fmt, pv_image *dst) {
  int rc = check_args(src, w, h, stride, fmt, dst, w / 2, h / 2);
  if (rc != PV_OK) return rc;
  int ow = w / 2, oh = h / 2;
  if (fmt == PV_PIXFMT_MONO8) {
    for (int y = 0; y < oh; y++) {
      const uint8_t *a = src + (size_t)(2 * y) * stride;
      const uint8_t *b = a + stride;
      uint8_t *o = dst->data + (size_t)y * dst->stride;
      for (int x = 0; x < ow; x++)
        o[x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] +
                          2) >> 2);
    }
    return PV_OK;
  }
  /* weights with denominator 2^17: G sites count half each */
  int k[4];
  for (int i = 0; i < 4; i++) {
    int c = bayer_sites[fmt][i];
    k[i] = c == COL_G ? lw[COL_G] : 2 * lw[c];
  }
  for (int y = 0; y < oh; y++) {
    const uint8_t *a = src + (size_t)(2 * y) * stride;
    const uint8_t *b = a + stride;
    uint8_t *o = dst->data + (size_t)y * dst->stride;
    for (int x = 0; x < ow; x++) {
      int s = k[0] * a[2 * x] + k[1] * a[2 * x + 1] + k[2] * b[2 * x] +
              k[3] * b[2 * x + 1];
      o[x] = (uint8_t)((s + (1 << 16)) >> 17);
    }
  }
  return PV_OK;
}

int pv_bayer_site_colour(pv_pixfmt fmt, int x, int y) {
  if (!is_bayer(fmt)) return -1;
  return bayer_sites[fmt][(y & 1) * 2 + (x & 1)];
}
