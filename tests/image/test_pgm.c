/* image: PGM (P5 and P2) read/write and strict header checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probevision/image.h"

#include "tmpdir.h"

static const char *write_file(const char *name, const void *data, size_t n) {
  const char *p = tmp_path(name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
  return p;
}

static void p5_round_trip(void **state) {
  (void)state;
  pv_image img, view, back;
  pv_error err;
  assert_int_equal(pv_image_alloc(&img, 21, 13), PV_OK);
  for (int i = 0; i < 21 * 13; i++) img.data[i] = (uint8_t)(i * 13 + 5);
  assert_int_equal(pv_image_view(&img, 1, 2, 17, 9, &view), PV_OK);
  assert_int_equal(pv_image_write(tmp_path("a.pgm"), &view, &err), PV_OK);
  assert_int_equal(pv_image_read(tmp_path("a.pgm"), &back, &err), PV_OK);
  assert_int_equal(back.width, 17);
  assert_int_equal(back.height, 9);
  for (int y = 0; y < 9; y++)
    assert_memory_equal(back.data + y * back.stride, view.data + y * view.stride, 17);
  pv_image_free(&back);
  pv_image_free(&img);
}

static void p2_and_wide_maxval_are_scaled(void **state) {
  (void)state;
  pv_image img;
  pv_error err;
  const char p2[] = "P2\n# a comment\n3 2 # another\n100\n0 50 100\n25#x\n 75 1\n";
  assert_int_equal(pv_pgm_read(write_file("a2.pgm", p2, sizeof p2 - 1), &img, &err), PV_OK);
  const uint8_t want[6] = {0, 128, 255, 64, 191, 3};
  assert_memory_equal(img.data, want, 6);
  pv_image_free(&img);
  /* P5 with maxval 65535: big-endian 16-bit samples */
  const uint8_t p5[] = {'P', '5', ' ', '2', ' ', '1', ' ', '6', '5', '5', '3',
                        '5', '\n', 0xff, 0xff, 0x80, 0x80};
  assert_int_equal(pv_pgm_read(write_file("a16.pgm", p5, sizeof p5), &img, &err), PV_OK);
  assert_int_equal(img.data[0], 255);
  assert_int_equal(img.data[1], 128);
  pv_image_free(&img);
}

typedef struct bad_case {
  const char *name;
  const char *text;
  int status;
  const char *says; /* expected in the message, besides the file name */
} bad_case;

static void malformed_files_are_refused_with_reasons(void **state) {
  (void)state;
  const bad_case cases[] = {
      {"magic.pgm", "P6\n2 2\n255\n....", PV_EPARSE, "magic"},
      {"empty.pgm", "", PV_EPARSE, "magic"},
      {"width.pgm", "P5\n2x 2\n255\n....", PV_EPARSE, "width"},
      {"height.pgm", "P5\n2 -2\n255\n....", PV_EPARSE, "height"},
      {"nomax.pgm", "P5\n2 2\n", PV_EPARSE, "maxval"},
      {"digits.pgm", "P5\n12345678901 2\n255\n", PV_EPARSE, "width"},
      {"bigmax.pgm", "P5\n2 2\n70000\n....", PV_ERANGE, "maxval"},
      {"zeromax.pgm", "P5\n2 2\n0\n....", PV_ERANGE, "maxval"},
      {"huge.pgm", "P5\n100000 10\n255\n", PV_ERANGE, "100000x10"},
      {"pixels.pgm", "P5\n16000 16000\n255\n", PV_ERANGE, "16000x16000"},
      {"zero.pgm", "P5\n0 5\n255\n", PV_ERANGE, "0x5"},
      {"short.pgm", "P5\n4 4\n255\nabc", PV_EPARSE, "truncated"},
      {"short16.pgm", "P5\n2 1\n1000\n\x01\x02\x03", PV_EPARSE, "truncated"},
      {"over.pgm", "P5\n2 1\n100\n\x10\xc8", PV_EPARSE, "exceeds maxval"},
      {"shortp2.pgm", "P2\n2 2\n255\n1 2 3", PV_EPARSE, "pixel 3"},
      {"junkp2.pgm", "P2\n2 1\n255\n1 x", PV_EPARSE, "pixel 1"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pv_image img;
    pv_error err = {{0}};
    const char *p = write_file(cases[i].name, cases[i].text, strlen(cases[i].text));
    int rc = pv_pgm_read(p, &img, &err);
    if (rc != cases[i].status || !strstr(err.msg, cases[i].name) ||
        !strstr(err.msg, cases[i].says))
      fail_msg("%s: got %s '%s'", cases[i].name, pv_status_name(rc), err.msg);
    assert_null(img.data);
  }
  pv_image img;
  pv_error err;
  assert_int_equal(pv_pgm_read(tmp_path("absent.pgm"), &img, &err), PV_EIO);
  assert_non_null(strstr(err.msg, "absent.pgm"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(p5_round_trip),
      cmocka_unit_test(p2_and_wide_maxval_are_scaled),
      cmocka_unit_test(malformed_files_are_refused_with_reasons),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
