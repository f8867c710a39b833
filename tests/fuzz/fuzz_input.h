/* Shared by the fuzz targets whose parser takes a path: the input bytes go
 * into one memfd (created on first use, truncated and rewritten for each
 * input) and the parser opens it as "/proc/self/fd/N", so an execution
 * costs no file system write. Aborts if the memfd cannot be written (the
 * fuzzer would otherwise test nothing). */
#ifndef PROBEVISION_FUZZ_INPUT_H
#define PROBEVISION_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static inline const char *fuzz_input_path(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("pv-fuzz-input", MFD_CLOEXEC);
    if (fd < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0) abort();
  size_t done = 0;
  while (done < size) {
    ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
    if (n <= 0) abort();
    done += (size_t)n;
  }
  return path;
}

/* Fuzz oracle: a broken contract is a crash libFuzzer records. */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__,      \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

#endif
