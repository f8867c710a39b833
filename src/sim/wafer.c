/* The simulated wafer a configuration describes: its [sim] keys and the
 * camera's scale, as the scene module's parameters. */
#include "probevision/config.h"
#include "probevision/sim.h"

void pv_sim_wafer_params(const pv_config *c, pv_wafer_params *w) {
  pv_wafer_params_default(w);
  w->cols = c->sim_cols;
  w->rows = c->sim_rows;
  w->pitch_x_um = c->sim_pitch_x_um;
  w->pitch_y_um = c->sim_pitch_y_um;
  w->mark_x_um = c->sim_mark_x_um;
  w->mark_y_um = c->sim_mark_y_um;
  w->um_per_px = c->camera_um_per_px;
  w->noise = c->sim_noise;
  w->gradient = c->sim_gradient;
  w->blur_px = c->sim_blur_px;
  w->seed = (uint64_t)c->sim_seed;
}
