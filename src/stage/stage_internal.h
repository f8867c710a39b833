/* Internal to src/stage: the stage wrapper object (stage.c). Drivers in
 * other modules recognise their own stages with pv_stage_driver_self. */
#ifndef PROBEVISION_STAGE_INTERNAL_H
#define PROBEVISION_STAGE_INTERNAL_H

#include "probevision/stage.h"

struct pv_stage {
  const pv_stage_driver *drv;
  void *self;
};

#endif
