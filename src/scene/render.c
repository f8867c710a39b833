/* Frame rendering: bilinear sampling of the pre-rendered die raster.
 *
 * For frame row j the wafer y is fixed, so the raster rows (and whether the
 * row lies inside the die grid) are fixed too. Along the row the raster x
 * advances by a constant step; it is kept as a 32.32 fixed-point position
 * inside the current die tile, and each time it passes the tile's end it
 * wraps and the die column increments. Between wraps (a "segment") the
 * source raster is fixed, so the inner loop has no branches: bilinear sample
 * (8-bit fractions), times illumination gain and the colour tint of the
 * pixel's Bayer site, plus noise from the precomputed table at a per-row
 * offset hashed from frame_seed. Nothing is allocated; the scene is only
 * read, so concurrent renders are safe.
 */
#include <math.h>

#include "scene_internal.h"

/* Colour tint of the wafer (R, G, B relative to grey). */
static const float tint_rgb[3] = {0.95f, 1.0f, 0.90f};
#define POS_LIMIT_UM 1e8

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

typedef struct row_ctx {
  const uint8_t *r0, *r1; /* raster rows of die or bare, by segment */
  int fy;                 /* vertical fraction, 0..256 */
  float gain_row;         /* 1 - g * dy^2 / rc^2 */
  float gain_k;           /* g / rc^2 */
  float cx;
  float tint[2];          /* by x parity; includes 1/65536 */
  const int16_t *noise;   /* NULL when clean */
} row_ctx;

static void segment(const row_ctx *rc, uint8_t *out, int i0, int i1,
                    uint64_t *lpos, uint64_t step) {
  const uint8_t *r0 = rc->r0, *r1 = rc->r1;
  int fy = rc->fy, gy = 256 - fy;
  uint64_t pos = *lpos;
  for (int i = i0; i < i1; i++, pos += step) {
    uint32_t k = (uint32_t)(pos >> 32);
    int fx = (int)((pos >> 24) & 255), gx = 256 - fx;
    int top = r0[k] * gx + r0[k + 1] * fx;
    int bot = r1[k] * gx + r1[k + 1] * fx;
    float v = (float)(top * gy + bot * fy);
    float dx = (float)i - rc->cx;
    v *= (rc->gain_row - rc->gain_k * dx * dx) * rc->tint[i & 1];
    if (rc->noise) v += (float)rc->noise[i] * (1.0f / 16);
    v = v < 0 ? 0 : v > 255 ? 255 : v;
    out[i] = (uint8_t)(v + 0.5f);
  }
  *lpos = pos;
}

static void site_tints(pv_pixfmt fmt, int j, float t[2]) {
  static const float luma[3] = {0.299f, 0.587f, 0.114f};
  for (int x = 0; x < 2; x++) {
    int c = pv_bayer_site_colour(fmt, x, j);
    if (c >= 0) {
      t[x] = tint_rgb[c];
    } else {
      t[x] = 0;
      for (int n = 0; n < 3; n++) t[x] += luma[n] * tint_rgb[n];
    }
    t[x] *= 1.0f / 65536;
  }
}

int pv__scene_render_ex(const pv_scene *s, double x_um, double y_um,
                        uint64_t frame_seed, pv_pixfmt fmt, uint8_t *out,
                        int w, int h, int stride, int clean) {
  if (s == NULL || out == NULL || w < 1 || h < 1 || w > PV_IMAGE_MAX_DIM ||
      h > PV_IMAGE_MAX_DIM || stride < w)
    return PV_EINVAL;
  if (fmt != PV_PIXFMT_MONO8 && pv_bayer_site_colour(fmt, 0, 0) < 0)
    return PV_EINVAL;
  if (!(fabs(x_um) < POS_LIMIT_UM) || !(fabs(y_um) < POS_LIMIT_UM))
    return PV_EINVAL; /* also NaN */
  const pv_wafer_params *p = &s->p;
  const double u = p->um_per_px, cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  const int nx = s->nx, ny = s->ny, ns = nx + 1;
  const uint64_t tile = (uint64_t)nx << 32;
  const uint64_t step = (uint64_t)llround(u / s->sx * 4294967296.0);
  const double g = clean ? 0.0 : p->gradient;
  row_ctx rc = {.cx = (float)cx, .gain_k = (float)(g / (cx * cx + cy * cy + 1))};

  /* start of every row in x: die column c0, fixed-point position lpos0 */
  double tx = (x_um - cx * u) / s->sx - 0.5;
  double fl = floor(tx);
  int64_t ix = (int64_t)fl;
  uint64_t frac = (uint64_t)llround((tx - fl) * 4294967296.0);
  if (frac >= (UINT64_C(1) << 32)) frac -= UINT64_C(1) << 32, ix++;
  int64_t c0 = floor_div(ix, nx);
  uint64_t lpos0 = ((uint64_t)(ix - c0 * nx) << 32) + frac;

  for (int j = 0; j < h; j++) {
    double dy = j - cy;
    double ty = (y_um + dy * u) / s->sy - 0.5;
    int64_t q = llround(ty * 256);
    int64_t iy = floor_div(q, 256);
    rc.fy = (int)(q - iy * 256);
    int64_t r = floor_div(iy, ny);
    size_t ly = (size_t)(iy - r * ny);
    int row_in = r >= 0 && r < p->rows;
    rc.gain_row = (float)(1.0 - rc.gain_k * dy * dy);
    site_tints(fmt, j, rc.tint);
    if (clean) {
      rc.noise = NULL;
    } else {
      uint64_t st = frame_seed * UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)j;
      rc.noise = s->noise + (pv_rng_next(&st) & (PV__NOISE_LEN - 1));
    }
    uint8_t *o = out + (size_t)j * stride;
    uint64_t lpos = lpos0;
    int64_t c = c0;
    int i = 0;
    while (i < w) {
      /* pixels until the position passes the tile end */
      uint64_t left = tile - lpos;
      int64_t n = (int64_t)((left + step - 1) / step);
      int i1 = n > w - i ? w : i + (int)n;
      const uint8_t *base = row_in && c >= 0 && c < p->cols ? s->die : s->bare;
      rc.r0 = base + ly * ns;
      rc.r1 = rc.r0 + ns;
      segment(&rc, o, i, i1, &lpos, step);
      i = i1;
      if (lpos >= tile) lpos -= tile, c++;
    }
  }
  return PV_OK;
}

int pv_scene_render(const pv_scene *s, double x_um, double y_um,
                    uint64_t frame_seed, pv_pixfmt fmt, uint8_t *out, int w,
                    int h, int stride) {
  return pv__scene_render_ex(s, x_um, y_um, frame_seed, fmt, out, w, h,
                             stride, 0);
}
