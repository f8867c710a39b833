/* Scene creation (parameter checks, pre-rendered rasters, noise table),
 * die geometry and the alignment template. See render.c for frames. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scene_internal.h"

/* Largest raster per tile, in texels (two tiles of bytes are kept). */
#define MAX_TILE_TEXELS (4 * 1024 * 1024)

void pv_wafer_params_default(pv_wafer_params *p) {
  if (p == NULL) return;
  *p = (pv_wafer_params){.cols = 10,
                         .rows = 8,
                         .pitch_x_um = 1000,
                         .pitch_y_um = 900,
                         .mark_x_um = 250,
                         .mark_y_um = 220,
                         .um_per_px = 1.5,
                         .noise = 3,
                         .gradient = 0.25,
                         .blur_px = 0.8,
                         .seed = 1};
}

/* 1 when lo <= v <= hi (NaN never is); else sets err naming the field. */
static int in_range(double v, double lo, double hi, const char *field, pv_error *err) {
  if (v >= lo && v <= hi) return 1;
  pv_error_set(err, PV_EINVAL, "%s %g is outside %g..%g", field, v, lo, hi);
  return 0;
}

int pv_wafer_params_check(const pv_wafer_params *p, pv_error *err) {
  if (p == NULL) return pv_error_set(err, PV_EINVAL, "no wafer parameters");
  int ok = in_range(p->cols, 1, PV_SCENE_DIES_MAX, "cols", err) &&
           in_range(p->rows, 1, PV_SCENE_DIES_MAX, "rows", err) &&
           in_range(p->pitch_x_um, PV_SCENE_PITCH_MIN_UM, PV_SCENE_PITCH_MAX_UM, "pitch_x_um",
                    err) &&
           in_range(p->pitch_y_um, PV_SCENE_PITCH_MIN_UM, PV_SCENE_PITCH_MAX_UM, "pitch_y_um",
                    err) &&
           in_range(p->mark_x_um, 0, p->pitch_x_um, "mark_x_um", err) &&
           in_range(p->mark_y_um, 0, p->pitch_y_um, "mark_y_um", err) &&
           in_range(p->um_per_px, PV_SCENE_UM_PER_PX_MIN, PV_SCENE_UM_PER_PX_MAX, "um_per_px",
                    err) &&
           in_range(p->noise, 0, PV_SCENE_NOISE_MAX, "noise", err) &&
           in_range(p->gradient, 0, 1, "gradient", err) &&
           in_range(p->blur_px, 0, PV_SCENE_BLUR_MAX_PX, "blur_px", err);
  return ok ? PV_OK : PV_EINVAL;
}

/* Gaussian-ish noise (Irwin-Hall sum of 4 uniforms), sigma in 1/16 levels. */
static void fill_noise(int16_t *t, double sigma, uint64_t seed) {
  uint64_t st = seed ^ UINT64_C(0xD1B54A32D192ED03);
  for (int i = 0; i < PV__NOISE_LEN; i++) {
    uint64_t r = pv_rng_next(&st);
    double sum = (double)(r & 0xffff) + (double)((r >> 16) & 0xffff) +
                 (double)((r >> 32) & 0xffff) + (double)(r >> 48);
    double g = (sum / 65536.0 - 2.0) * sqrt(3.0);
    double v = round(g * sigma * 16);
    t[i] = (int16_t)(v > 32767 ? 32767 : v < -32767 ? -32767 : v);
  }
  memcpy(t + PV__NOISE_LEN, t, PV_IMAGE_MAX_DIM * sizeof *t);
}

/* float nx x ny -> bytes (nx+1) x (ny+1) with the periodic copy. */
static void quantize(const float *src, uint8_t *dst, int nx, int ny) {
  for (int l = 0; l <= ny; l++) {
    const float *s = src + (size_t)(l % ny) * nx;
    uint8_t *d = dst + (size_t)l * (nx + 1);
    for (int k = 0; k <= nx; k++) {
      float v = s[k % nx] + 0.5f;
      d[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
}

int pv_scene_create(const pv_wafer_params *p, pv_scene **out) {
  if (out == NULL) return PV_EINVAL;
  *out = NULL;
  if (pv_wafer_params_check(p, NULL) != PV_OK) return PV_EINVAL;
  pv_scene *s = calloc(1, sizeof *s);
  if (s == NULL) return PV_ENOMEM;
  s->p = *p;
  /* texels of half a camera pixel, coarser if the tile would be too big */
  double t = p->um_per_px / 2;
  double min_t = sqrt(p->pitch_x_um * p->pitch_y_um / MAX_TILE_TEXELS);
  if (t < min_t) t = min_t;
  s->nx = (int)ceil(p->pitch_x_um / t);
  s->ny = (int)ceil(p->pitch_y_um / t);
  s->sx = p->pitch_x_um / s->nx;
  s->sy = p->pitch_y_um / s->ny;
  size_t n = (size_t)s->nx * s->ny, n1 = (size_t)(s->nx + 1) * (s->ny + 1);
  int m = s->nx > s->ny ? s->nx : s->ny;
  float *raster = malloc(n * sizeof *raster);
  float *line = malloc((2 * (size_t)m + 128) * sizeof *line);
  s->die = malloc(n1);
  s->bare = malloc(n1);
  s->noise = malloc((PV__NOISE_LEN + PV_IMAGE_MAX_DIM) * sizeof *s->noise);
  if (raster == NULL || line == NULL || s->die == NULL || s->bare == NULL ||
      s->noise == NULL) {
    free(raster);
    free(line);
    pv_scene_destroy(s);
    return PV_ENOMEM;
  }
  double bx = p->blur_px * p->um_per_px / s->sx;
  double by = p->blur_px * p->um_per_px / s->sy;
  pv__scene_paint_die(s, raster);
  pv__scene_blur(raster, s->nx, s->ny, bx, by, line);
  quantize(raster, s->die, s->nx, s->ny);
  pv__scene_paint_bare(s, raster);
  pv__scene_blur(raster, s->nx, s->ny, bx, by, line);
  quantize(raster, s->bare, s->nx, s->ny);
  fill_noise(s->noise, p->noise, p->seed);
  free(raster);
  free(line);
  *out = s;
  return PV_OK;
}

void pv_scene_destroy(pv_scene *s) {
  if (s == NULL) return;
  free(s->die);
  free(s->bare);
  free(s->noise);
  free(s);
}

const pv_wafer_params *pv_scene_params(const pv_scene *s) {
  return s ? &s->p : NULL;
}

int pv_scene_die_count(const pv_scene *s) {
  return s ? s->p.cols * s->p.rows : 0;
}

int pv_scene_die_mark(const pv_scene *s, int k, double *x_um, double *y_um) {
  if (s == NULL || k < 0 || k >= s->p.cols * s->p.rows) return PV_EINVAL;
  int c = k % s->p.cols, r = k / s->p.cols;
  if (x_um) *x_um = c * s->p.pitch_x_um + s->p.mark_x_um;
  if (y_um) *y_um = r * s->p.pitch_y_um + s->p.mark_y_um;
  return PV_OK;
}

static int nearest_index(double v, double pitch, int n) {
  double i = round(v / pitch);
  if (isnan(i)) return 0;
  return i < 0 ? 0 : i > n - 1 ? n - 1 : (int)i;
}

void pv_scene_nearest_mark(const pv_scene *s, double x_um, double y_um,
                           double *mark_x_um, double *mark_y_um) {
  if (s == NULL) return;
  const pv_wafer_params *p = &s->p;
  int c = nearest_index(x_um - p->mark_x_um, p->pitch_x_um, p->cols);
  int r = nearest_index(y_um - p->mark_y_um, p->pitch_y_um, p->rows);
  pv_scene_die_mark(s, r * p->cols + c, mark_x_um, mark_y_um);
}

int pv_scene_template(const pv_scene *s, pv_image *out) {
  if (s == NULL || out == NULL) return PV_EINVAL;
  int rc = pv_image_alloc(out, PV_SCENE_TEMPLATE_PX, PV_SCENE_TEMPLATE_PX);
  if (rc != PV_OK) return rc;
  double x = 0, y = 0;
  pv_scene_die_mark(s, 0, &x, &y);
  rc = pv__scene_render_ex(s, x, y, 0, PV_PIXFMT_MONO8, out->data, out->width,
                           out->height, out->stride, 1);
  if (rc != PV_OK) pv_image_free(out);
  return rc;
}
