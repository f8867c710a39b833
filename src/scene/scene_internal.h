/* Internal layout of a pv_scene, shared by scene.c, pattern.c, render.c. */
#ifndef PV_SCENE_INTERNAL_H
#define PV_SCENE_INTERNAL_H

#include <stdint.h>

#include "probevision/scene.h"

/* Noise table: PV__NOISE_LEN samples plus one maximal row of wrap-around, so
 * a row of up to PV_IMAGE_MAX_DIM pixels reads it contiguously. */
#define PV__NOISE_LEN (1 << 20)

struct pv_scene {
  pv_wafer_params p;
  int nx, ny;       /* texels per die tile (one die pitch) */
  double sx, sy;    /* micrometres per texel: pitch_x / nx, pitch_y / ny */
  /* die and bare-wafer rasters, (nx + 1) x (ny + 1), row stride nx + 1;
   * texel (k, l) shows die point ((k + 0.5) sx, (l + 0.5) sy); the last
   * column and row repeat the first (the tile is periodic) so bilinear
   * sampling never wraps. Blur already applied. */
  uint8_t *die;
  uint8_t *bare;
  int16_t *noise;   /* Gaussian noise, sigma in 1/16 grey levels */
};

/* Paints one die (into a float nx x ny raster), resp. the bare wafer,
 * deterministic from p.seed. pattern.c. */
void pv__scene_paint_die(const pv_scene *s, float *raster);
void pv__scene_paint_bare(const pv_scene *s, float *raster);
/* Periodic separable Gaussian blur of a nx x ny raster; line has room for
 * 2 * max(nx, ny) + 128 floats (scratch; the blur radius is at most 63). */
void pv__scene_blur(float *raster, int nx, int ny, double sigma_x,
                    double sigma_y, float *line);

/* pv_scene_render, optionally clean (no noise, no illumination gradient). */
int pv__scene_render_ex(const pv_scene *s, double x_um, double y_um,
                        uint64_t frame_seed, pv_pixfmt fmt, uint8_t *out,
                        int w, int h, int stride, int clean);


#endif
