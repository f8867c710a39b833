/* sim: parsing of fault specs "NAME:VALUE" (see pv_sim_faults in sim.h). */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/sim.h"

#define MAX_SECONDS 3600.0

enum kind { PROBABILITY, SECONDS, PER_THOUSAND, MILLISECONDS, FRAMES, SEED };

static const struct {
  const char *name;
  enum kind kind;
  size_t offset; /* of the double field (unused for SEED) */
} specs[] = {
    {"nodata", PROBABILITY, offsetof(pv_sim_faults, nodata)},
    {"stall", SECONDS, offsetof(pv_sim_faults, stall_s)},
    {"packet-loss", PER_THOUSAND, offsetof(pv_sim_faults, packet_loss)},
    {"disconnect", SECONDS, offsetof(pv_sim_faults, disconnect_s)},
    {"stage-timeout", PROBABILITY, offsetof(pv_sim_faults, stage_timeout)},
    {"stage-error", PROBABILITY, offsetof(pv_sim_faults, stage_error)},
    {"leader-delay", MILLISECONDS, offsetof(pv_sim_faults, leader_delay_ms)},
    {"queue", FRAMES, offsetof(pv_sim_faults, queue_frames)},
    {"seed", SEED, 0},
};

static const char allowed[] =
    "nodata:P, stall:T, packet-loss:R, disconnect:T, leader-delay:MS, queue:N, "
    "stage-timeout:P, stage-error:P or seed:N (P a probability in [0,1], T seconds in "
    "(0,3600], R packets per thousand in [0,1000], MS milliseconds in (0,10000], N frames "
    "1 to 8 for queue, a non-negative integer for seed)";

static int range_error(pv_error *err, const char *spec, const char *what) {
  return pv_error_set(err, PV_EPARSE, "fault '%s': the value must be %s", spec, what);
}

int pv_sim_fault_parse(const char *spec, pv_sim_faults *f, pv_error *err) {
  if (spec == NULL || f == NULL) return pv_error_set(err, PV_EINVAL, "fault: no spec");
  const char *colon = strchr(spec, ':');
  if (colon == NULL)
    return pv_error_set(err, PV_EPARSE, "fault '%s': want NAME:VALUE, one of %s", spec, allowed);
  size_t n = (size_t)(colon - spec);
  const char *value = colon + 1;
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    if (strlen(specs[i].name) != n || strncmp(spec, specs[i].name, n) != 0) continue;
    if (*value == '\0' || *value == ' ' || *value == '\t' || *value == '+')
      return pv_error_set(err, PV_EPARSE, "fault '%s': missing or malformed value", spec);
    char *end;
    errno = 0;
    if (specs[i].kind == SEED) {
      if (*value == '-') return range_error(err, spec, "a non-negative integer");
      unsigned long long v = strtoull(value, &end, 10);
      if (end == value || *end != '\0' || errno != 0)
        return pv_error_set(err, PV_EPARSE, "fault '%s': '%s' is not an integer", spec, value);
      f->seed = (uint64_t)v;
      return PV_OK;
    }
    double v = pv_strtod_c(value, &end); /* '.' under any LC_NUMERIC */
    if (end == value || *end != '\0' || errno != 0 || !isfinite(v))
      return pv_error_set(err, PV_EPARSE, "fault '%s': '%s' is not a number", spec, value);
    switch (specs[i].kind) {
    case PROBABILITY:
      if (!(v >= 0 && v <= 1)) return range_error(err, spec, "a probability in [0,1]");
      break;
    case SECONDS:
      if (!(v > 0 && v <= MAX_SECONDS)) return range_error(err, spec, "seconds in (0,3600]");
      break;
    case PER_THOUSAND:
      if (!(v >= 0 && v <= 1000)) return range_error(err, spec, "per thousand in [0,1000]");
      break;
    case MILLISECONDS:
      if (!(v > 0 && v <= 10000)) return range_error(err, spec, "milliseconds in (0,10000]");
      break;
    case FRAMES:
      if (!(v >= 1 && v <= 8 && v == floor(v))) return range_error(err, spec, "1 to 8 frames");
      break;
    case SEED:
      break;
    }
    *(double *)((char *)f + specs[i].offset) = v;
    return PV_OK;
  }
  return pv_error_set(err, PV_EPARSE, "fault '%s': unknown fault '%.*s'; want %s", spec, (int)n,
                      spec, allowed);
}
