/* sim: the GigE Vision camera's control channel, spoken raw over UDP (no
 * Aravis): discovery is answered with the bootstrap identity; a client that
 * holds the control channel privilege (CCP) keeps others from writing
 * (ACCESS_DENIED) but not from reading; a controller that stops sending
 * commands for GevHeartbeatTimeout loses control and another client can
 * take it; a bad register value is refused and changes nothing. Runs in a
 * private network namespace (tests/netns-run). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "probevision/sim.h"
#include "scene_fixture.h"


static int client(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(fd >= 0);
  struct timeval tv = {.tv_sec = 1};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Sends a command (with ack required) and returns the ack's status; the
 * ack's data into out (up to cap bytes). -1 without an answer. */
static int command(int fd, int cmd, const uint8_t *data, int n, uint8_t *out, int cap) {
  static uint16_t id = 1;
  uint8_t p[600] = {0x42, 0x01, (uint8_t)(cmd >> 8), (uint8_t)cmd, (uint8_t)(n >> 8), (uint8_t)n,
                    (uint8_t)(id >> 8), (uint8_t)id};
  id++;
  if (n > 0) memcpy(p + 8, data, (size_t)n);
  struct sockaddr_in cam = {.sin_family = AF_INET, .sin_port = htons(3956)};
  inet_pton(AF_INET, "127.0.0.1", &cam.sin_addr);
  assert_int_equal(sendto(fd, p, 8 + (size_t)n, 0, (struct sockaddr *)&cam, sizeof cam), 8 + n);
  uint8_t a[600];
  ssize_t r = recv(fd, a, sizeof a, 0);
  if (r < 8) return -1;
  assert_int_equal((a[2] << 8 | a[3]), cmd + 1);
  if (out) memcpy(out, a + 8, (size_t)(r - 8 < cap ? r - 8 : cap));
  return a[0] << 8 | a[1];
}

static int write_reg(int fd, uint32_t addr, uint32_t v) {
  uint8_t d[8] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr,
                  (uint8_t)(v >> 24),    (uint8_t)(v >> 16),    (uint8_t)(v >> 8),    (uint8_t)v};
  return command(fd, 0x0082, d, 8, NULL, 0);
}

static uint32_t read_reg(int fd, uint32_t addr) {
  uint8_t d[4] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr};
  uint8_t v[4];
  assert_int_equal(command(fd, 0x0080, d, 4, v, 4), 0);
  return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

static pv_gv_camera *start(void) {
  pv_gv_camera *cam = NULL;
  pv_error err = {{0}};
  if (pv_gv_camera_start("127.0.0.1", "PVCTL01", scene, (pv_truth_source){0}, NULL, &cam, &err))
    fail_msg("start: %s", err.msg);
  return cam;
}

static void discovery_answers_with_the_identity(void **state) {
  (void)state;
  pv_gv_camera *cam = start();
  int fd = client();
  uint8_t d[0xf8] = {0};
  assert_int_equal(command(fd, 0x0002, NULL, 0, d, sizeof d), 0);
  assert_string_equal((char *)d + 0x48, "probevision");
  assert_string_equal((char *)d + 0xd8, "PVCTL01");
  assert_int_equal(d[0x24], 127); /* its address */
  close(fd);
  pv_gv_camera_stop(cam);
}

static void control_is_exclusive_until_the_heartbeat_stops(void **state) {
  (void)state;
  pv_gv_camera *cam = start();
  int a = client(), b = client();
  assert_int_equal(write_reg(a, 0x0a00, 2), 0);       /* a takes control */
  assert_int_equal(write_reg(a, 0x0938, 600), 0);     /* heartbeat timeout 600 ms */
  assert_int_equal(write_reg(b, 0x0a00, 2), 0x8006);  /* b may not */
  assert_int_equal(write_reg(b, 0x0d00, 5000), 0x8006);
  assert_int_equal(read_reg(b, 0x0a00), 2);            /* but may read */
  for (int i = 0; i < 6; i++) { /* a heartbeats for 1.2 s: keeps control */
    pv_sleep_ns(200 * PV_NS_PER_MS);
    assert_int_equal(read_reg(a, 0x0a00), 2);
  }
  assert_int_equal(write_reg(b, 0x0a00, 2), 0x8006);
  pv_sleep_ns(1000 * PV_NS_PER_MS); /* a falls silent past its timeout */
  assert_int_equal(read_reg(b, 0x0a00), 0);
  assert_int_equal(write_reg(b, 0x0a00, 2), 0);       /* b takes over */
  assert_int_equal(write_reg(a, 0x0d00, 5000), 0x8006);
  close(a);
  close(b);
  pv_gv_camera_stop(cam);
}

static void a_bad_value_is_refused_and_changes_nothing(void **state) {
  (void)state;
  pv_gv_camera *cam = start();
  int fd = client();
  assert_int_equal(write_reg(fd, 0x0a00, 2), 0);
  uint32_t width = read_reg(fd, 0x10000);
  assert_int_equal(width, 2448);
  assert_int_equal(write_reg(fd, 0x10008, 2000), 0x8002); /* OffsetX + Width > sensor */
  assert_int_equal(read_reg(fd, 0x10008), 0);
  assert_int_equal(write_reg(fd, 0x10000, 400), 0);
  assert_int_equal(write_reg(fd, 0x10008, 2000), 0);
  assert_int_equal(read_reg(fd, 0x10024), 400 * 2048); /* PayloadSize follows */
  assert_int_equal(write_reg(fd, 0x10010, 1), 0x8004);  /* SensorWidth is read-only */
  assert_int_equal(write_reg(fd, 0x10020, 0x12345678), 0x8002); /* not a pixel format */
  close(fd);
  pv_gv_camera_stop(cam);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(discovery_answers_with_the_identity),
      cmocka_unit_test(control_is_exclusive_until_the_heartbeat_stops),
      cmocka_unit_test(a_bad_value_is_refused_and_changes_nothing),
  };
  return cmocka_run_group_tests(tests, scene_setup, scene_teardown);
}
