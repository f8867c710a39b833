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
