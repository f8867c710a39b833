/* The stage wrapper: owns a driver object and dispatches through its table.
 * Like the drivers, not thread-safe: one thread (the stepper) owns a stage. */
#include <stdlib.h>

#include "stage_internal.h"

/* Takes ownership of self (destroyed through drv->destroy, also when this
 * fails). */
int pv_stage_create(const pv_stage_driver *drv, void *self, pv_stage **out) {
  *out = NULL;
  if (drv == NULL) return PV_EINVAL;
  pv_stage *st = calloc(1, sizeof *st);
  if (st == NULL) {
    if (drv->destroy) drv->destroy(self);
    return PV_ENOMEM;
  }
  st->drv = drv;
  st->self = self;
  *out = st;
  return PV_OK;
}

void pv_stage_destroy(pv_stage *st) {
  if (st == NULL) return;
  if (st->drv->destroy) st->drv->destroy(st->self);
  free(st);
}

const char *pv_stage_driver_name(const pv_stage *st) { return st->drv->name; }

int pv_stage_connect(pv_stage *st, pv_error *err) {
  return st->drv->connect ? st->drv->connect(st->self, err) : PV_OK;
}

int pv_stage_move_abs(pv_stage *st, double x_um, double y_um, pv_error *err) {
  return st->drv->move_abs(st->self, x_um, y_um, err);
}

int pv_stage_move_rel(pv_stage *st, double dx_um, double dy_um,
                      pv_error *err) {
  return st->drv->move_rel(st->self, dx_um, dy_um, err);
}

int pv_stage_wait_settled(pv_stage *st, int64_t *t_settled_ns, pv_error *err) {
  return st->drv->wait_settled(st->self, t_settled_ns, err);
}

int pv_stage_get_position(pv_stage *st, double *x_um, double *y_um,
                          pv_error *err) {
  return st->drv->get_position(st->self, x_um, y_um, err);
}

int pv_stage_get_truth(pv_stage *st, double *x_um, double *y_um) {
  if (st->drv->get_truth == NULL) return PV_EUNSUPPORTED;
  return st->drv->get_truth(st->self, x_um, y_um);
}

void *pv_stage_driver_self(const pv_stage *st, const pv_stage_driver *drv) {
  if (st == NULL || st->drv != drv) return NULL;
  return st->self;
}

static int unsupported(const pv_stage *st, const char *what, pv_error *err) {
  return pv_error_set(err, PV_EUNSUPPORTED, "stage %s: has no %s", st->drv->name, what);
}

int pv_stage_contact(pv_stage *st, double *z_um, pv_error *err) {
  if (st->drv->contact == NULL) return unsupported(st, "Z (contact)", err);
  return st->drv->contact(st->self, z_um, err);
}

int pv_stage_separate(pv_stage *st, double *z_um, pv_error *err) {
  if (st->drv->separate == NULL) return unsupported(st, "Z (separation)", err);
  return st->drv->separate(st->self, z_um, err);
}

int pv_stage_get_z(pv_stage *st, double *z_um, pv_stage_z *where, pv_error *err) {
  if (st->drv->get_z == NULL) return unsupported(st, "Z", err);
  return st->drv->get_z(st->self, z_um, where, err);
}

int pv_stage_map_step(pv_stage *st, pv_map_step_kind kind, int col, int row, int site,
                      pv_map_die *out, pv_error *err) {
  if (st->drv->map_step == NULL) return unsupported(st, "wafer map stepping", err);
  return st->drv->map_step(st->self, kind, col, row, site, out, err);
}

int pv_stage_has_z(const pv_stage *st) {
  return st->drv->contact != NULL && st->drv->separate != NULL && st->drv->get_z != NULL;
}

int pv_stage_has_map(const pv_stage *st) { return st->drv->map_step != NULL; }
