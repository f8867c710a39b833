/* libFuzzer target: the PNG reader (pv_png_read); see fuzz_image_common.h. */
#include "fuzz_image_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_image_reader_once(pv_png_read, data, size);
}
