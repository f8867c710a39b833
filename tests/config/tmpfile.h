/* tests/config: writes test input into a fresh temporary file. */
#ifndef PV_TESTS_CONFIG_TMPFILE_H
#define PV_TESTS_CONFIG_TMPFILE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes len bytes of data to a new file; its path goes to path (>= 64
 * bytes). The caller unlinks it. Aborts the test run on failure. */
static inline void write_tmp(char *path, const void *data, size_t len) {
  strcpy(path, "/tmp/pv-config-test-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0 || write(fd, data, len) != (ssize_t)len) abort();
  close(fd);
}

static inline void write_tmp_str(char *path, const char *text) {
  write_tmp(path, text, strlen(text));
}

#endif
