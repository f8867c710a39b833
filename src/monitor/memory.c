/* Process memory from /proc/self/status and total RAM from sysinfo, read
 * without allocating so the monitor can run it forever. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "probevision/monitor.h"

/* Value in bytes of a "Name:   1234 kB" line of buf, or 0 if absent. */
static uint64_t status_kb_field(const char *buf, const char *name) {
  size_t len = strlen(name);
  for (const char *p = buf; p != NULL && *p != '\0';) {
    if (strncmp(p, name, len) == 0 && p[len] == ':')
      return strtoull(p + len + 1, NULL, 10) * 1024u;
    p = strchr(p, '\n');
    if (p != NULL) p++;
  }
  return 0;
}

int pv_mem_usage(uint64_t *rss_bytes, uint64_t *peak_bytes, uint64_t *ram_bytes) {
  char buf[8192];
  size_t used = 0;
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PV_EIO;
  while (used < sizeof buf - 1) {
    ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
  }
  close(fd);
  buf[used] = '\0';
  uint64_t rss = status_kb_field(buf, "VmRSS");
  if (rss == 0) return PV_EIO;
  if (rss_bytes != NULL) *rss_bytes = rss;
  if (peak_bytes != NULL) {
    uint64_t peak = status_kb_field(buf, "VmHWM");
    *peak_bytes = peak > rss ? peak : rss;
  }
  if (ram_bytes != NULL) {
    struct sysinfo si;
    if (sysinfo(&si) != 0) return PV_EIO;
    *ram_bytes = (uint64_t)si.totalram * si.mem_unit;
  }
  return PV_OK;
}
