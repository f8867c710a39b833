/* image: PNG read/write through libspng, colour and 16-bit input, and the
 * errors for truncated, foreign and oversized files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <spng.h>
#include <cmocka.h>

#include "probevision/image.h"

#include "tmpdir.h"

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* Encodes raw pixels of the given PNG colour type and depth with spng. */
static void write_png_raw(const char *path, int w, int h, int color_type,
                          int depth, const void *px, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
  struct spng_ihdr ihdr = {.width = (uint32_t)w, .height = (uint32_t)h,
                           .bit_depth = (uint8_t)depth,
                           .color_type = (uint8_t)color_type};
  assert_int_equal(spng_set_png_file(ctx, f), 0);
  assert_int_equal(spng_set_ihdr(ctx, &ihdr), 0);
  assert_int_equal(spng_encode_image(ctx, px, len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE), 0);
  spng_ctx_free(ctx);
  fclose(f);
}

static void grey_round_trip_with_stride(void **state) {
  (void)state;
  pv_image big, view, back;
  pv_error err;
  assert_int_equal(pv_image_alloc(&big, 50, 40), PV_OK);
  for (int i = 0; i < 50 * 40; i++) big.data[i] = (uint8_t)(i * 31 + i / 50);
  assert_int_equal(pv_image_view(&big, 5, 4, 37, 29, &view), PV_OK);
  const char *p = tmp_path("a.png");
  assert_int_equal(pv_png_write(p, &view, &err), PV_OK);
  assert_int_equal(pv_png_read(p, &back, &err), PV_OK);
  assert_int_equal(back.width, 37);
  assert_int_equal(back.height, 29);
  for (int y = 0; y < 29; y++)
    assert_memory_equal(back.data + y * back.stride, view.data + y * view.stride, 37);
  pv_image_free(&back);
  /* the generic entry points pick PNG by extension and by signature */
  assert_int_equal(pv_image_write(tmp_path("b.PNG"), &view, &err), PV_OK);
  assert_int_equal(pv_image_read(tmp_path("b.PNG"), &back, &err), PV_OK);
  assert_memory_equal(back.data, view.data, 37);
  pv_image_free(&back);
  assert_int_equal(pv_image_write(tmp_path("c.bmp"), &view, &err), PV_EINVAL);
  assert_non_null(strstr(err.msg, "c.bmp"));
  pv_image_free(&big);
}

static void colour_and_16_bit_become_luma(void **state) {
  (void)state;
  pv_image img;
  pv_error err;
  /* RGB8: two pixels */
  const uint8_t rgb[6] = {200, 100, 50, 30, 180, 220};
  write_png_raw(tmp_path("rgb.png"), 2, 1, SPNG_COLOR_TYPE_TRUECOLOR, 8, rgb, sizeof rgb);
  assert_int_equal(pv_png_read(tmp_path("rgb.png"), &img, &err), PV_OK);
  assert_in_range(img.data[0], 124, 126); /* 0.299*200+0.587*100+0.114*50 = 124.2 */
  assert_in_range(img.data[1], 139, 141); /* 9 + 105.66 + 25.08 = 139.7 */
  pv_image_free(&img);
  /* 16-bit grey, big-endian samples v * 257 -> v */
  uint8_t g16[8];
  const int v[4] = {0, 77, 128, 255};
  for (int i = 0; i < 4; i++) {
    g16[2 * i] = (uint8_t)(v[i] * 257 >> 8);
    g16[2 * i + 1] = (uint8_t)(v[i] * 257 & 255);
  }
  write_png_raw(tmp_path("g16.png"), 4, 1, SPNG_COLOR_TYPE_GRAYSCALE, 16, g16, sizeof g16);
  assert_int_equal(pv_png_read(tmp_path("g16.png"), &img, &err), PV_OK);
  for (int i = 0; i < 4; i++) assert_int_equal(img.data[i], v[i]);
  pv_image_free(&img);
  /* grey + alpha: alpha ignored */
  const uint8_t ga[4] = {90, 0, 160, 255};
  write_png_raw(tmp_path("ga.png"), 2, 1, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 8, ga, sizeof ga);
  assert_int_equal(pv_png_read(tmp_path("ga.png"), &img, &err), PV_OK);
  assert_int_equal(img.data[0], 90);
  assert_int_equal(img.data[1], 160);
  pv_image_free(&img);
}

static void truncated_and_foreign_files_name_the_file(void **state) {
  (void)state;
  pv_image img, good;
  pv_error err;
  assert_int_equal(pv_image_alloc(&good, 64, 64), PV_OK);
  for (int i = 0; i < 64 * 64; i++) good.data[i] = (uint8_t)(rand() & 255);
  const char *p = tmp_path("whole.png");
  assert_int_equal(pv_png_write(p, &good, &err), PV_OK);
  FILE *f = fopen(p, "rb");
  uint8_t buf[8192];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  assert_true(n > 200);
  write_bytes(tmp_path("cut.png"), buf, n / 2);
  int rc = pv_png_read(tmp_path("cut.png"), &img, &err);
  assert_true(rc == PV_EPARSE || rc == PV_EIO);
  assert_non_null(strstr(err.msg, "cut.png"));
  assert_null(img.data);

  write_bytes(tmp_path("text.png"), "hello, this is not a PNG\n", 25);
  assert_int_equal(pv_png_read(tmp_path("text.png"), &img, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "text.png"));
  assert_int_equal(pv_image_read(tmp_path("text.png"), &img, &err), PV_EPARSE);
  assert_non_null(strstr(err.msg, "text.png"));

  assert_int_equal(pv_png_read(tmp_path("missing.png"), &img, &err), PV_EIO);
  assert_non_null(strstr(err.msg, "missing.png"));
  pv_image_free(&good);
}

static uint32_t crc32_png(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
  }
  return c ^ 0xffffffffu;
}

/* A signature and an IHDR claiming w x h, nothing else: refused from the
 * header alone. */
static void write_fake_header(const char *path, uint32_t w, uint32_t h) {
  uint8_t b[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                   'I', 'H', 'D', 'R'};
  const uint32_t v[2] = {w, h};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 4; i++) b[16 + 4 * k + i] = (uint8_t)(v[k] >> (24 - 8 * i));
  b[24] = 8; /* depth; colour type 0, compression, filter, interlace 0 */
  uint32_t crc = crc32_png(b + 12, 17);
  for (int i = 0; i < 4; i++) b[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
  write_bytes(path, b, sizeof b);
}

static void oversized_images_are_refused_before_decoding(void **state) {
  (void)state;
  pv_image img;
  pv_error err;
  write_fake_header(tmp_path("wide.png"), PV_IMAGE_MAX_DIM + 1, 10);
  assert_int_equal(pv_png_read(tmp_path("wide.png"), &img, &err), PV_ERANGE);
  assert_non_null(strstr(err.msg, "wide.png"));
  write_fake_header(tmp_path("many.png"), 16000, 16000);
  assert_int_equal(pv_png_read(tmp_path("many.png"), &img, &err), PV_ERANGE);
  assert_non_null(strstr(err.msg, "many.png"));
  /* a sane header without data is a parse error, not a range error */
  write_fake_header(tmp_path("nodata.png"), 10, 10);
  assert_int_equal(pv_png_read(tmp_path("nodata.png"), &img, &err), PV_EPARSE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(grey_round_trip_with_stride),
      cmocka_unit_test(colour_and_16_bit_become_luma),
      cmocka_unit_test(truncated_and_foreign_files_name_the_file),
      cmocka_unit_test(oversized_images_are_refused_before_decoding),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
