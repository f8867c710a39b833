/* The die pattern and the bare wafer, painted once at scene creation.
 *
 * Everything is an axis-aligned rectangle painted with exact area coverage
 * (a texel partly covered blends in proportion), so edges are anti-aliased
 * and sit at their true sub-texel positions. Painting order gives the layers:
 * street, die body, seal ring, bond pads, circuitry (random cells, from the
 * seed), the mark's keep-out, the mark. The mark (dark field with a bright
 * frame, a cross, a square in one quadrant and an L in the opposite one) is
 * the only large dark square in the die, which keeps the template
 * distinctive: test_geometry checks that no other place in a die correlates
 * with it above 0.6.
 */
#include <math.h>
#include <stdlib.h>

#include "scene_internal.h"

/* Grey levels */
#define LV_STREET 70.0f
#define LV_BODY 100.0f
#define LV_SEAL 150.0f
#define LV_PAD_RIM 195.0f
#define LV_PAD 225.0f
#define LV_MARK_FIELD 30.0f
#define LV_MARK 235.0f
#define LV_BARE 85.0f

/* Layout in micrometres */
#define STREET_HALF 30.0
#define PAD_SIZE 64.0
#define PAD_INSET 50.0 /* from the tile edge */
#define PAD_PITCH 100.0
#define CIRCUIT_INSET 130.0
#define CELL 80.0
#define MARK_KEEPOUT 88.0
#define MARK_FIELD 84.0

typedef struct canvas {
  float *r;
  int nx, ny;
  double sx, sy;
} canvas;


/* Coverage of texel k ([k s, (k+1) s)) by [a, b), as a fraction. */
static double cover(int k, double s, double a, double b) {
  double lo = fmax(a, k * s), hi = fmin(b, (k + 1) * s);
  return hi > lo ? (hi - lo) / s : 0.0;
}

static void rect(canvas *c, double x0, double y0, double x1, double y1,
                 float level) {
  if (x1 <= x0 || y1 <= y0) return;
  int k0 = (int)floor(x0 / c->sx), k1 = (int)ceil(x1 / c->sx) - 1;
  int l0 = (int)floor(y0 / c->sy), l1 = (int)ceil(y1 / c->sy) - 1;
  if (k0 < 0) k0 = 0;
  if (l0 < 0) l0 = 0;
  if (k1 > c->nx - 1) k1 = c->nx - 1;
  if (l1 > c->ny - 1) l1 = c->ny - 1;
  for (int l = l0; l <= l1; l++) {
    double cy = cover(l, c->sy, y0, y1);
    float *row = c->r + (size_t)l * c->nx;
    for (int k = k0; k <= k1; k++) {
      float a = (float)(cy * cover(k, c->sx, x0, x1));
      row[k] += (level - row[k]) * a;
    }
  }
}

static void pad(canvas *c, double cx, double cy) {
  double h = PAD_SIZE / 2;
  rect(c, cx - h, cy - h, cx + h, cy + h, LV_PAD_RIM);
  rect(c, cx - h + 6, cy - h + 6, cx + h - 6, cy + h - 6, LV_PAD);
}

static void pads(canvas *c, double px, double py) {
  double lo = PAD_INSET + PAD_SIZE / 2;
  for (double x = 150; x + 150 <= px + 1e-9; x += PAD_PITCH) {
    pad(c, x, lo);
    pad(c, x, py - lo);
  }
  for (double y = 150; y + 150 <= py + 1e-9; y += PAD_PITCH) {
    pad(c, lo, y);
    pad(c, px - lo, y);
  }
}

/* One circuitry cell [x0, x0 + CELL) x [y0, y0 + CELL) of a random kind. */
static void cell(canvas *c, double x0, double y0, uint64_t *st) {
  int kind = (int)(pv_rng_uniform(st) * 5);
  float level = (float)(135 + 50 * pv_rng_uniform(st));
  double x1 = x0 + CELL - 4, y1 = y0 + CELL - 4;
  switch (kind) {
  case 0:   /* horizontal wires */
  case 1: { /* vertical wires */
    double p = 6 + 2 * (int)(pv_rng_uniform(st) * 3);
    for (double t = 0; t + p / 2 <= CELL - 4; t += p) {
      double a = pv_rng_uniform(st) * 20, b = CELL - 4 - pv_rng_uniform(st) * 20;
      if (kind == 0)
        rect(c, x0 + a, y0 + t, x0 + b, y0 + t + p / 2, level);
      else
        rect(c, x0 + t, y0 + a, x0 + t + p / 2, y0 + b, level);
    }
    break;
  }
  case 2: /* random blocks */
    for (int n = 6 + (int)(pv_rng_uniform(st) * 6); n > 0; n--) {
      double w = 4 + 26 * pv_rng_uniform(st), h = 4 + 26 * pv_rng_uniform(st);
      double x = x0 + pv_rng_uniform(st) * (CELL - 4 - w), y = y0 + pv_rng_uniform(st) * (CELL - 4 - h);
      rect(c, x, y, x + w, y + h, (float)(125 + 70 * pv_rng_uniform(st)));
    }
    break;
  case 3: /* memory array */
    for (double y = y0 + 2; y + 3 <= y1; y += 6)
      for (double x = x0 + 2; x + 3 <= x1; x += 6) rect(c, x, y, x + 3, y + 3, level);
    break;
  default: /* a bus: a few wide lines */
    for (int n = 1 + (int)(pv_rng_uniform(st) * 3); n > 0; n--) {
      double y = y0 + pv_rng_uniform(st) * (CELL - 16);
      rect(c, x0, y, x1, y + 8 + 6 * pv_rng_uniform(st), level);
    }
    break;
  }
}

static void mark(canvas *c, double mx, double my) {
  double f = MARK_FIELD;
  rect(c, mx - MARK_KEEPOUT, my - MARK_KEEPOUT, mx + MARK_KEEPOUT,
       my + MARK_KEEPOUT, LV_BODY);
  rect(c, mx - f, my - f, mx + f, my + f, LV_MARK);
  rect(c, mx - f + 6, my - f + 6, mx + f - 6, my + f - 6, LV_MARK_FIELD);
  rect(c, mx - 60, my - 7, mx + 60, my + 7, LV_MARK);          /* cross */
  rect(c, mx - 7, my - 60, mx + 7, my + 60, LV_MARK);
  rect(c, mx + 24, my + 24, mx + 52, my + 52, LV_MARK);        /* square */
  rect(c, mx - 56, my - 56, mx - 28, my - 48, LV_MARK);        /* L */
  rect(c, mx - 56, my - 56, mx - 48, my - 28, LV_MARK);
}

void pv__scene_paint_die(const pv_scene *s, float *raster) {
  const pv_wafer_params *p = &s->p;
  canvas c = {raster, s->nx, s->ny, s->sx, s->sy};
  double px = p->pitch_x_um, py = p->pitch_y_um;
  for (size_t i = 0; i < (size_t)c.nx * c.ny; i++) raster[i] = LV_STREET;
  rect(&c, STREET_HALF, STREET_HALF, px - STREET_HALF, py - STREET_HALF, LV_BODY);
  double si = STREET_HALF + 6; /* seal ring, 6 um wide */
  rect(&c, si, si, px - si, py - si, LV_SEAL);
  rect(&c, si + 6, si + 6, px - si - 6, py - si - 6, LV_BODY);
  pads(&c, px, py);
  uint64_t st = p->seed * UINT64_C(0x2545F4914F6CDD1D) + 17;
  for (double y = CIRCUIT_INSET; y + CELL <= py - CIRCUIT_INSET; y += CELL)
    for (double x = CIRCUIT_INSET; x + CELL <= px - CIRCUIT_INSET; x += CELL)
      cell(&c, x, y, &st);
  mark(&c, p->mark_x_um, p->mark_y_um);
}

void pv__scene_paint_bare(const pv_scene *s, float *raster) {
  uint64_t st = s->p.seed * UINT64_C(0x9E3779B97F4A7C15) + 3;
  double ph[6], f[6];
  for (int n = 0; n < 6; n++) {
    ph[n] = 2 * M_PI * pv_rng_uniform(&st);
    f[n] = 1 + (int)(pv_rng_uniform(&st) * 3); /* whole periods per tile: periodic */
  }
  const int nx = s->nx, ny = s->ny;
  /* faint waves along x (kept in row 0) plus waves along y plus grain;
   * rows from the last to the first so row 0 is read before it is written */
  for (int k = 0; k < nx; k++) {
    double v = 0;
    for (int n = 0; n < 3; n++) v += 2.5 * sin(2 * M_PI * f[n] * k / nx + ph[n]);
    raster[k] = (float)v;
  }
  for (int l = ny - 1; l >= 0; l--) {
    double ry = LV_BARE;
    for (int n = 3; n < 6; n++) ry += 2.5 * sin(2 * M_PI * f[n] * l / ny + ph[n]);
    float *row = raster + (size_t)l * nx;
    for (int k = 0; k < nx; k++)
      row[k] = raster[k] + (float)(ry + 3 * (pv_rng_uniform(&st) - 0.5));
  }
}

/* v: n values; tmp: room for n + 2 rad (periodic padding). */
static void blur_line(float *v, int n, const float *kern, int rad, float *tmp) {
  for (int i = -rad; i < n + rad; i++) tmp[i + rad] = v[((i % n) + n) % n];
  const float *c = tmp + rad;
  for (int i = 0; i < n; i++) {
    float acc = kern[0] * c[i];
    for (int t = 1; t <= rad; t++) acc += kern[t] * (c[i - t] + c[i + t]);
    v[i] = acc;
  }
}

static int make_kernel(double sigma, float *kern, int max_rad) {
  int rad = (int)ceil(3 * sigma);
  if (rad > max_rad) rad = max_rad;
  double sum = 0;
  for (int t = 0; t <= rad; t++) {
    double g = exp(-0.5 * t * t / (sigma * sigma));
    kern[t] = (float)g;
    sum += t ? 2 * g : g;
  }
  for (int t = 0; t <= rad; t++) kern[t] = (float)(kern[t] / sum);
  return rad;
}

void pv__scene_blur(float *raster, int nx, int ny, double sigma_x,
                    double sigma_y, float *line) {
  enum { MAX_RAD = 63 }; /* line: 2 max(nx, ny) floats, >= n + 2 rad */
  float kern[MAX_RAD + 1];
  int n = nx > ny ? nx : ny;
  float *tmp = line + n;
  if (sigma_x > 0.05) {
    int rad = make_kernel(sigma_x, kern, MAX_RAD);
    for (int l = 0; l < ny; l++) blur_line(raster + (size_t)l * nx, nx, kern, rad, tmp);
  }
  if (sigma_y > 0.05) {
    int rad = make_kernel(sigma_y, kern, MAX_RAD);
    for (int k = 0; k < nx; k++) {
      for (int l = 0; l < ny; l++) line[l] = raster[(size_t)l * nx + k];
      blur_line(line, ny, kern, rad, tmp);
      for (int l = 0; l < ny; l++) raster[(size_t)l * nx + k] = line[l];
    }
  }
}
