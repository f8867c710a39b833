/* libFuzzer target: the INI config loader (pv_config_load). Checks its
 * contract on every input: failure leaves the config unchanged and says
 * why; success leaves a config that passes pv_config_check(). */
#include <string.h>

#include "fuzz_input.h"
#include "probevision/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static pv_config before, c;
  static int ready;
  if (!ready) {
    pv_log_set_level(PV_LOG_ERROR);
    memset(&before, 0, sizeof before);
    pv_config_default(&before);
    ready = 1;
  }
  memcpy(&c, &before, sizeof c);
  pv_error err = {{0}};
  int rc = pv_config_load(&c, fuzz_input_path(data, size), &err);
  if (rc == PV_OK) {
    pv_error check = {{0}};
    FUZZ_CHECK(pv_config_check(&c, &check) == PV_OK);
  } else {
    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(err.msg[0] != '\0');
    FUZZ_CHECK(memcmp(&c, &before, sizeof c) == 0);
  }
  return 0;
}
