/* probevision scene: a synthetic wafer and the camera's view of it.
 *
 * The wafer is a grid of identical dies (cols x rows, pitch_x by pitch_y
 * micrometres). Die (c, r) has its lower corner at (c * pitch_x, r * pitch_y)
 * in wafer coordinates; each die carries bond pads, some circuitry texture
 * and one distinctive alignment mark centred at (mark_x, mark_y) inside the
 * die. Outside the dies' grid lies plain (textured) wafer.
 *
 * Camera geometry: a stage position (x, y) in micrometres means the image
 * centre ((W-1)/2, (H-1)/2) looks at wafer point (x, y); image pixel (i, j)
 * sees wafer point (x + (i - (W-1)/2) * um_per_px, y + (j - (H-1)/2) *
 * um_per_px). So moving the stage by (+dx, +dy) moves the picture by
 * (-dx/um_per_px, -dy/um_per_px) pixels. "The mark of die k is centred" means
 * the stage is at pv_scene_die_mark(k).
 *
 * A scene is immutable after creation: rendering from several threads at once
 * is safe. Rendering allocates nothing.
 */
#ifndef PROBEVISION_SCENE_H
#define PROBEVISION_SCENE_H

#include <stdint.h>

#include "probevision/core.h"
#include "probevision/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types ------------------------------------------------------------ */

typedef struct pv_wafer_params {
  int cols, rows;          /* dies (default 10 x 8) */
  double pitch_x_um;       /* die pitch (default 1000) */
  double pitch_y_um;       /* (default 900) */
  double mark_x_um;        /* alignment mark centre inside the die */
  double mark_y_um;        /*   (defaults: 250, 220) */
  double um_per_px;        /* camera scale (default 1.5) */
  double noise;            /* sensor noise, grey levels (sigma, default 3) */
  double gradient;         /* illumination fall-off across the view (0..1,
                              default 0.25) */
  double blur_px;          /* optical blur sigma in pixels (default 0.8) */
  uint64_t seed;           /* texture and noise seed (default 1) */
} pv_wafer_params;

typedef struct pv_scene pv_scene;

/* ---- functions -------------------------------------------------------- */

void pv_wafer_params_default(pv_wafer_params *p);

/* Checks p against the PV_SCENE_* ranges below (and 0 <= mark <= pitch).
 * PV_EINVAL with a message naming the field, its value and the range
 * (e.g. "pitch_x_um 350 is outside 400..100000") when one fails; err may be
 * NULL. Thread-safe. */
int pv_wafer_params_check(const pv_wafer_params *p, pv_error *err);

/* Builds the scene (pre-renders the die pattern; tens of MB at most).
 * PV_EINVAL when pv_wafer_params_check fails. */
int pv_scene_create(const pv_wafer_params *p, pv_scene **out);
void pv_scene_destroy(pv_scene *s);
const pv_wafer_params *pv_scene_params(const pv_scene *s);

/* Renders the view centred at stage (x_um, y_um) as a w x h frame in format
 * fmt (Mono8 or a Bayer 8-bit order) into out (rows of `stride` bytes).
 * Sub-pixel exact: the picture moves continuously with the position.
 * frame_seed selects the noise of this frame. Allocates nothing;
 * thread-safe. Typical cost at 2448 x 2048: tens of milliseconds. */
int pv_scene_render(const pv_scene *s, double x_um, double y_um,
                    uint64_t frame_seed, pv_pixfmt fmt, uint8_t *out, int w,
                    int h, int stride);

/* Number of dies, and the stage position that centres die k's alignment
 * mark (k = r * cols + c, 0 <= k < count). */
int pv_scene_die_count(const pv_scene *s);
int pv_scene_die_mark(const pv_scene *s, int k, double *x_um, double *y_um);
/* The stage position of the die mark nearest to (x_um, y_um). */
void pv_scene_nearest_mark(const pv_scene *s, double x_um, double y_um,
                           double *mark_x_um, double *mark_y_um);

/* The alignment template: the noise-free luma view of the mark region,
 * PV_SCENE_TEMPLATE_PX square, whose centre is the mark centre. Allocates
 * out (free with pv_image_free). */
int pv_scene_template(const pv_scene *s, pv_image *out);

/* ---- constants -------------------------------------------------------- */

#define PV_SCENE_TEMPLATE_PX 128

/* The ranges pv_scene_create accepts, inclusive. The configuration's keys
 * that build the simulated wafer (sim.*, camera.um_per_px) use these same
 * numbers, so a configuration that loads always builds its scene. */
#define PV_SCENE_DIES_MAX 1000           /* cols and rows: 1..this */
#define PV_SCENE_PITCH_MIN_UM 400.0      /* pitch_x_um, pitch_y_um: the die
                                            pattern (pads, seal ring,
                                            circuitry inset 130 um from
                                            each edge, the mark's keep-out)
                                            needs this much */
#define PV_SCENE_PITCH_MAX_UM 100000.0
#define PV_SCENE_UM_PER_PX_MIN 0.05
#define PV_SCENE_UM_PER_PX_MAX 100.0
#define PV_SCENE_NOISE_MAX 100.0         /* noise: 0..this grey levels */
#define PV_SCENE_BLUR_MAX_PX 20.0        /* blur_px: 0..this (gradient: 0..1) */

#ifdef __cplusplus
}
#endif
#endif /* PROBEVISION_SCENE_H */
