/* libFuzzer target: the targets CSV parser (pv_targets_load). Checks its
 * contract on every input: success gives a list of unique indices >= 0 with
 * NUL-terminated names and finite coordinates; failure gives an empty list
 * and a message. */
#include <math.h>
#include <string.h>

#include "fuzz_input.h"
#include "probevision/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int quiet;
  if (!quiet) {
    pv_log_set_level(PV_LOG_ERROR);
    quiet = 1;
  }
  pv_targets t = {0};
  pv_error err = {{0}};
  int rc = pv_targets_load(fuzz_input_path(data, size), &t, &err);
  if (rc == PV_OK) {
    FUZZ_CHECK(t.count >= 0);
    FUZZ_CHECK(t.count == 0 || t.items != NULL);
    for (int i = 0; i < t.count; i++) {
      const pv_target *p = &t.items[i];
      FUZZ_CHECK(p->index >= 0);
      FUZZ_CHECK(isfinite(p->x_um) && isfinite(p->y_um));
      FUZZ_CHECK(memchr(p->name, '\0', sizeof p->name) != NULL);
      /* Uniqueness: quadratic, but fuzz inputs are small. */
      for (int j = 0; j < i && t.count <= 4096; j++)
        FUZZ_CHECK(t.items[j].index != p->index);
    }
    (void)pv_targets_hash(&t);
  } else {
    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(t.items == NULL && t.count == 0);
    FUZZ_CHECK(err.msg[0] != '\0');
  }
  pv_targets_free(&t);
  return 0;
}
