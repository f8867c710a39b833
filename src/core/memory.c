/* Pre-faulting: memory allocated at start is backed at start. */
#include <stdint.h>
#include <unistd.h>

#include "probevision/core.h"

void pv_prefault(void *p, size_t n) {
  if (p == NULL || n == 0) return;
  long page = sysconf(_SC_PAGESIZE);
  size_t step = page > 0 ? (size_t)page : 4096;
  /* A read then a write of the same byte keeps the content; volatile keeps
   * the compiler from dropping the store (a zero page read is not enough:
   * only a write makes the kernel back the page). */
  volatile uint8_t *b = p;
  for (size_t off = 0; off < n; off += step) b[off] = b[off];
  b[n - 1] = b[n - 1]; /* the last page, when p is not page-aligned */
}
