/* stage: the SENTIO line codec: reply parsing (valid, error codes with
 * status bits, malformed, truncated, oversized, binary, random bytes), line
 * assembly (CRLF, split reads, overlong lines), numbers and escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/sentio.h"

static int parse(const char *line, pv_sentio_reply *r, pv_error *err) {
  return pv_sentio_parse_reply(line, strlen(line), "peer:1", r, err);
}

static void valid_replies_parse(void **state) {
  (void)state;
  pv_sentio_reply r;
  assert_int_equal(parse("0,0,OK", &r, NULL), PV_OK);
  assert_int_equal(r.code, 0);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.cmd_id, 0);
  assert_string_equal(r.msg, "OK");
  assert_int_equal(parse("0,0,1000.0,2000.0", &r, NULL), PV_OK);
  double x, y;
  assert_int_equal(pv_sentio_parse_xy(r.msg, &x, &y), 0);
  assert_true(x == 1000.0 && y == 2000.0);
  assert_int_equal(parse(" 0 , 17 ,  -5.5, 3e2 ", &r, NULL), PV_OK);
  assert_int_equal(r.cmd_id, 17);
  assert_int_equal(pv_sentio_parse_xy(r.msg, &x, &y), 0);
  assert_true(x == -5.5 && y == 300.0);
  assert_int_equal(parse("0,0,", &r, NULL), PV_OK); /* empty message */
  assert_string_equal(r.msg, "");
}

static void error_code_is_the_low_ten_bits(void **state) {
  (void)state;
  pv_sentio_reply r;
  /* status flags 1 and 2 (bits 10, 11) with error 4 */
  char line[64];
  snprintf(line, sizeof line, "%u,0,out of range", (3u << 10) | 4u);
  assert_int_equal(parse(line, &r, NULL), PV_OK);
  assert_int_equal(r.code, 4);
  assert_int_equal(r.status, 3);
  assert_string_equal(r.msg, "out of range");
  /* status bits only: success */
  snprintf(line, sizeof line, "%u,3,done", 1u << 12);
  assert_int_equal(parse(line, &r, NULL), PV_OK);
  assert_int_equal(r.code, 0);
  assert_int_equal(r.status, 4);
  assert_int_equal(parse("4294967295,0,x", &r, NULL), PV_OK);
  assert_int_equal(r.code, 1023);
}

static void malformed_replies_are_errors_naming_peer_and_line(void **state) {
  (void)state;
  static const char *bad[] = {
      "",          "OK",        "0,0",        "0",        ",0,x",
      "0,,x",      "a,0,x",     "0,b,x",      "-1,0,x",   "0x1,0,x",
      "1.5,0,x",   "0 0,0,x",   "99999999999,0,x", "4294967296,0,x",
      "0,0,caf\xc3\xa9", "0,0,a\x01b", "\x7f,0,x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pv_sentio_reply r;
    pv_error err = {{0}};
    assert_int_equal(parse(bad[i], &r, &err), PV_EPARSE);
    assert_non_null(strstr(err.msg, "peer:1"));
    assert_non_null(strstr(err.msg, "malformed"));
  }
  /* The offending line is quoted, escaped. */
  pv_error err;
  pv_sentio_reply r;
  assert_int_equal(parse("zz\x01,0,x", &r, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "\"zz\\x01,0,x\""));
  /* A line with a NUL byte inside is binary, not a shorter line. */
  assert_int_equal(pv_sentio_parse_reply("0,0,a\0b", 7, "p", &r, NULL), PV_EPARSE);
}

static void oversized_reply_is_rejected_and_message_truncated(void **state) {
  (void)state;
  size_t n = PV_SENTIO_LINE_MAX + 10;
  char *line = malloc(n + 1);
  memset(line, 'x', n);
  memcpy(line, "0,0,", 4);
  line[n] = '\0';
  pv_sentio_reply r;
  pv_error err;
  assert_int_equal(pv_sentio_parse_reply(line, n, "p", &r, &err), PV_EPARSE);
  assert_true(strlen(err.msg) < sizeof err.msg);
  assert_non_null(strstr(err.msg, "...\""));
  free(line);
}

static void random_bytes_never_crash(void **state) {
  (void)state;
  uint64_t seed = 12345;
  char buf[PV_SENTIO_LINE_MAX + 40];
  int valid = 0;
  for (int i = 0; i < 5000; i++) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    size_t len = (size_t)(seed >> 33) % sizeof buf;
    for (size_t k = 0; k < len; k++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      unsigned v = (unsigned)(seed >> 40);
      /* half the inputs from a protocol-like alphabet, half any byte */
      buf[k] = (i & 1) ? "0123456789,,, .-eOKx"[v % 20] : (char)v;
    }
    pv_sentio_reply r;
    pv_error err = {{0}};
    int rc = pv_sentio_parse_reply(buf, len, "p", &r, &err);
    assert_true(rc == PV_OK || rc == PV_EPARSE);
    if (rc == PV_OK) {
      valid++;
      assert_true(r.code >= 0 && r.code <= 1023);
      assert_true(r.msg >= buf && r.msg <= buf + len);
    } else {
      assert_true(strlen(err.msg) > 0);
    }
    double x, y;
    char tmp[sizeof buf + 1];
    memcpy(tmp, buf, len);
    tmp[len] = '\0';
    (void)pv_sentio_parse_xy(tmp, &x, &y);
  }
  assert_true(valid > 0); /* the protocol-like half sometimes parses */
}

static void lines_assemble_across_reads_and_accept_crlf(void **state) {
  (void)state;
  pv_sentio_lines lb;
  pv_sentio_lines_reset(&lb);
  char out[PV_SENTIO_LINE_MAX + 1];
  size_t len, cap;
  const char *in = "0,0,O";
  memcpy(pv_sentio_lines_space(&lb, &cap), in, strlen(in));
  pv_sentio_lines_added(&lb, strlen(in));
  assert_int_equal(pv_sentio_lines_next(&lb, out, &len), PV_SENTIO_NONE);
  in = "K\r\n\n1,0,x\n";
  memcpy(pv_sentio_lines_space(&lb, &cap), in, strlen(in));
  pv_sentio_lines_added(&lb, strlen(in));
  assert_int_equal(pv_sentio_lines_next(&lb, out, &len), PV_SENTIO_LINE);
  assert_string_equal(out, "0,0,OK");
  assert_int_equal(len, 6);
  assert_int_equal(pv_sentio_lines_next(&lb, out, &len), PV_SENTIO_LINE);
  assert_int_equal(len, 0);
  assert_int_equal(pv_sentio_lines_next(&lb, out, &len), PV_SENTIO_LINE);
  assert_string_equal(out, "1,0,x");
  assert_int_equal(pv_sentio_lines_next(&lb, out, &len), PV_SENTIO_NONE);
}

static void overlong_line_is_reported_once_and_skipped(void **state) {
  (void)state;
  pv_sentio_lines lb;
  pv_sentio_lines_reset(&lb);
  char out[PV_SENTIO_LINE_MAX + 1];
  size_t len, cap;
  int overlong = 0, lines = 0;
  /* 5000 bytes of one line, fed in chunks, then a good line. */
  for (int fed = 0; fed < 5000;) {
    char *sp = pv_sentio_lines_space(&lb, &cap);
    assert_true(cap > 0);
    size_t n = cap < 300 ? cap : 300;
    memset(sp, 'a', n);
    pv_sentio_lines_added(&lb, n);
    fed += (int)n;
    pv_sentio_line_event ev;
    while ((ev = pv_sentio_lines_next(&lb, out, &len)) != PV_SENTIO_NONE)
      ev == PV_SENTIO_OVERLONG ? overlong++ : lines++;
  }
  const char *tail = "aaa\n0,0,OK\n";
  memcpy(pv_sentio_lines_space(&lb, &cap), tail, strlen(tail));
  pv_sentio_lines_added(&lb, strlen(tail));
  pv_sentio_line_event ev;
  while ((ev = pv_sentio_lines_next(&lb, out, &len)) != PV_SENTIO_NONE)
    ev == PV_SENTIO_OVERLONG ? overlong++ : lines++;
  assert_int_equal(overlong, 1);
  assert_int_equal(lines, 1);
  assert_string_equal(out, "0,0,OK");
  /* Exactly the maximum is a line; one byte more is not. */
  char *big = malloc(PV_SENTIO_LINE_MAX + 2);
  for (int extra = 0; extra <= 1; extra++) {
    size_t n = PV_SENTIO_LINE_MAX + (size_t)extra;
    memset(big, 'b', n);
    big[n] = '\n';
    pv_sentio_lines_reset(&lb);
    char *sp = pv_sentio_lines_space(&lb, &cap);
    assert_true(cap >= n + 1);
    memcpy(sp, big, n + 1);
    pv_sentio_lines_added(&lb, n + 1);
    ev = pv_sentio_lines_next(&lb, out, &len);
    assert_int_equal(ev, extra ? PV_SENTIO_OVERLONG : PV_SENTIO_LINE);
    assert_int_equal(pv_sentio_lines_next(&lb, out, &len), PV_SENTIO_NONE);
  }
  free(big);
}

static void numbers_are_strict(void **state) {
  (void)state;
  double v;
  assert_int_equal(pv_sentio_parse_number(" -12.5 ", 7, &v), 0);
  assert_true(v == -12.5);
  static const char *bad[] = {"", " ", "1x", "0x10", "inf", "nan", "1e999",
                              "1 2", "--1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(pv_sentio_parse_number(bad[i], strlen(bad[i]), &v), -1);
  double x, y;
  assert_int_equal(pv_sentio_parse_xy("1,2,3", &x, &y), -1);
  assert_int_equal(pv_sentio_parse_xy("1", &x, &y), -1);
}

static void escape_truncates_within_capacity(void **state) {
  (void)state;
  char out[12];
  pv_sentio_escape("ab\"\n\xff", 5, out, sizeof out);
  assert_string_equal(out, "ab\\\"\\n...");
  pv_sentio_escape("abc", 3, out, sizeof out);
  assert_string_equal(out, "abc");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_replies_parse),
      cmocka_unit_test(error_code_is_the_low_ten_bits),
      cmocka_unit_test(malformed_replies_are_errors_naming_peer_and_line),
      cmocka_unit_test(oversized_reply_is_rejected_and_message_truncated),
      cmocka_unit_test(random_bytes_never_crash),
      cmocka_unit_test(lines_assemble_across_reads_and_accept_crlf),
      cmocka_unit_test(overlong_line_is_reported_once_and_skipped),
      cmocka_unit_test(numbers_are_strict),
      cmocka_unit_test(escape_truncates_within_capacity),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
