/* Shared by the PNG and PGM fuzz targets: the reader's contract on any
 * input. Success: dimensions within the limits, stride >= width, every
 * pixel readable (ASan catches a short buffer). Failure: a zeroed image
 * and a message. */
#ifndef PROBEVISION_FUZZ_IMAGE_COMMON_H
#define PROBEVISION_FUZZ_IMAGE_COMMON_H

#include "fuzz_input.h"
#include "probevision/image.h"

typedef int (*fuzz_image_reader)(const char *path, pv_image *out,
                                 pv_error *err);

static inline int fuzz_image_reader_once(fuzz_image_reader read, const uint8_t *data,
                                  size_t size) {
  static int quiet;
  if (!quiet) {
    pv_log_set_level(PV_LOG_ERROR);
    quiet = 1;
  }
  pv_image img = {0, 0, 0, NULL};
  pv_error err = {{0}};
  int rc = read(fuzz_input_path(data, size), &img, &err);
  if (rc == PV_OK) {
    FUZZ_CHECK(img.width >= 1 && img.width <= PV_IMAGE_MAX_DIM);
    FUZZ_CHECK(img.height >= 1 && img.height <= PV_IMAGE_MAX_DIM);
    FUZZ_CHECK((long long)img.width * img.height <= PV_IMAGE_MAX_PIXELS);
    FUZZ_CHECK(img.stride >= img.width && img.data != NULL);
    unsigned sum = 0;
    for (int y = 0; y < img.height; y++) {
      const uint8_t *row = img.data + (size_t)y * (size_t)img.stride;
      sum += row[0] + row[img.width - 1];
    }
    volatile unsigned sink = sum;
    (void)sink;
  } else {
    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(img.data == NULL);
    FUZZ_CHECK(err.msg[0] != '\0');
  }
  pv_image_free(&img);
  return 0;
}

#endif
