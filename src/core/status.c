/* Status names and messages, generated from PV_STATUS_MAP. */
#include <stdio.h>
#include <stdarg.h>

#include "probevision/core.h"

const char *pv_status_name(int status) {
  switch (status) {
#define PV__STATUS_NAME(name, value, msg) \
  case PV_##name:                         \
    return "PV_" #name;
    PV_STATUS_MAP(PV__STATUS_NAME)
#undef PV__STATUS_NAME
  }
  return "PV_UNKNOWN";
}

const char *pv_strerror(int status) {
  switch (status) {
#define PV__STATUS_MSG(name, value, msg) \
  case PV_##name:                        \
    return msg;
    PV_STATUS_MAP(PV__STATUS_MSG)
#undef PV__STATUS_MSG
  }
  return "unknown status";
}

int pv_error_set(pv_error *err, int status, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    va_start(ap, fmt);
    pv_vsnprintf_c(err->msg, sizeof err->msg, fmt, ap); /* '.' in numbers */
    va_end(ap);
  }
  return status;
}
