/* Internal to src/stage: the stage wrapper object, shared by stage.c and
 * the drivers that need to recognise their own stage (sim_stage.c). */
#ifndef PROBEVISION_STAGE_INTERNAL_H
#define PROBEVISION_STAGE_INTERNAL_H

#include "probevision/stage.h"

struct pv_stage {
  const pv_stage_driver *drv;
  void *self;
};

/* The simulated stage's driver table (sim_stage.c). */
extern const pv_stage_driver pv__sim_stage_driver;
/* The truth source of a simulated stage's driver object. */
pv_truth_source pv__sim_stage_truth_of(void *self);

#endif
