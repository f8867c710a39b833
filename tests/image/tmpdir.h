/* tests/image: a fresh temporary directory per test group (cmocka group
 * setup/teardown) and paths inside it. */
#ifndef PV_TESTS_IMAGE_TMPDIR_H
#define PV_TESTS_IMAGE_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char dir[64];
static char path_buf[128];

static const char *tmp_path(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
  return path_buf;
}

static int setup(void **state) {
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/pv-test-image-XXXXXX");
  return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd);
}

#endif
