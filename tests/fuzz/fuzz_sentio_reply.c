/* libFuzzer target: the SENTIO reply codec (probevision/sentio.h).
 * The input is a byte stream as a server might send it, split into reads
 * of a size taken from its first byte; every line the assembler yields is
 * parsed as a reply, as "x, y" and as a number, and escaped into buffers of
 * several sizes. Contracts checked: lines are at most PV_SENTIO_LINE_MAX
 * bytes and NUL-terminated; a parsed reply's code fits the 10-bit mask and
 * its message lies inside the line; a failed parse says why; an escaped
 * message is terminated within its capacity. */
#include <string.h>

#include "fuzz_input.h"
#include "probevision/sentio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *line, size_t len) {
  pv_sentio_reply r;
  pv_error err = {{0}};
  int rc = pv_sentio_parse_reply(line, len, "fuzz:1", &r, &err);
  if (rc == PV_OK) {
    FUZZ_CHECK(r.code >= 0 && r.code <= PV_SENTIO_CODE_MASK);
    FUZZ_CHECK(r.cmd_id >= 0);
    FUZZ_CHECK(r.msg > line && r.msg <= line + len);
    FUZZ_CHECK(strlen(r.msg) <= (size_t)(line + len - r.msg));
  } else {
    FUZZ_CHECK(rc == PV_EPARSE);
    FUZZ_CHECK(err.msg[0] != '\0');
  }
  double x, y, v;
  (void)pv_sentio_parse_xy(line, &x, &y);
  (void)pv_sentio_parse_number(line, len, &v);
  static const size_t caps[] = {1, 2, 4, 5, 16, 160};
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    char esc[160];
    memset(esc, 'Z', sizeof esc);
    pv_sentio_escape(line, len, esc, caps[i]);
    FUZZ_CHECK(memchr(esc, '\0', caps[i]) != NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static pv_sentio_lines lb;
  static char line[PV_SENTIO_LINE_MAX + 1];
  if (size == 0) return 0;
  size_t chunk = (size_t)data[0] % 64 + 1; /* bytes per simulated read */
  data++;
  size--;
  pv_sentio_lines_reset(&lb);
  size_t off = 0;
  int guard = 0;
  while (off < size || guard == 0) {
    if (off >= size) guard = 1; /* one last drain after the input ends */
    size_t cap = 0;
    char *space = pv_sentio_lines_space(&lb, &cap);
    size_t n = size - off < chunk ? size - off : chunk;
    if (n > cap) n = cap;
    if (n > 0) {
      memcpy(space, data + off, n);
      pv_sentio_lines_added(&lb, n);
      off += n;
    }
    for (;;) {
      size_t len = 0;
      pv_sentio_line_event ev = pv_sentio_lines_next(&lb, line, &len);
      if (ev == PV_SENTIO_NONE) break;
      if (ev == PV_SENTIO_LINE) {
        FUZZ_CHECK(len <= PV_SENTIO_LINE_MAX && line[len] == '\0');
        check_line(line, len);
      } else {
        FUZZ_CHECK(ev == PV_SENTIO_OVERLONG);
      }
    }
    /* "*cap > 0 whenever no line is pending": after draining, room. */
    (void)pv_sentio_lines_space(&lb, &cap);
    FUZZ_CHECK(cap > 0);
  }
  return 0;
}
