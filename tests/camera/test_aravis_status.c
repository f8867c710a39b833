/* camera/aravis: the pure parts of the aravis driver: every ArvBufferStatus
 * maps onto the worker's classes (only SUCCESS is a good frame), pixel
 * formats map both ways, command errors are classified, the exposure start
 * estimated from a buffer's system timestamp is never later than the true
 * exposure start or else UNCERTAIN (no clamp), device timestamps map to
 * host times never later than the truth for random rates and latch
 * brackets within the stated bounds, and a stepped wall clock or lost
 * packets make the frames at risk UNCERTAIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "aravis_internal.h" /* white-box: src/camera is on this test's include path */

static void only_success_is_a_good_frame(void **state) {
  (void)state;
  assert_int_equal(pv__aravis_status(ARV_BUFFER_STATUS_SUCCESS), PV_OK);
  const ArvBufferStatus partial[] = {
      ARV_BUFFER_STATUS_MISSING_PACKETS, ARV_BUFFER_STATUS_SIZE_MISMATCH,
      ARV_BUFFER_STATUS_ABORTED,         ARV_BUFFER_STATUS_FILLING,
      ARV_BUFFER_STATUS_TIMEOUT,         ARV_BUFFER_STATUS_CLEARED,
      ARV_BUFFER_STATUS_WRONG_PACKET_ID, ARV_BUFFER_STATUS_UNKNOWN};
  for (size_t i = 0; i < sizeof partial / sizeof partial[0]; i++)
    assert_int_equal(pv__aravis_status(partial[i]), PV_EINCOMPLETE);
  /* a status a later Aravis might add is not a good frame either */
  assert_int_equal(pv__aravis_status((ArvBufferStatus)42), PV_EINCOMPLETE);
}

static void pixel_formats_round_trip(void **state) {
  (void)state;
  for (int f = 0; f < PV_PIXFMT_COUNT; f++) {
    ArvPixelFormat a = pv__aravis_pixfmt_to_arv((pv_pixfmt)f);
    assert_true(a != 0);
    assert_int_equal(pv__aravis_pixfmt_from_arv(a), f);
  }
  assert_int_equal(pv__aravis_pixfmt_to_arv(PV_PIXFMT_BAYER_BG8), ARV_PIXEL_FORMAT_BAYER_BG_8);
  assert_int_equal(pv__aravis_pixfmt_to_arv(PV_PIXFMT_BAYER_RG8), ARV_PIXEL_FORMAT_BAYER_RG_8);
  assert_int_equal(pv__aravis_pixfmt_from_arv(ARV_PIXEL_FORMAT_MONO_16), -1);
  assert_int_equal(pv__aravis_pixfmt_from_arv(ARV_PIXEL_FORMAT_RGB_8_PACKED), -1);
}

/* xorshift64*: a repeatable generator for the property tests */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dULL;
}
/* uniform in [lo, hi] */
static int64_t rnd_in(int64_t lo, int64_t hi) {
  return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* A frame exposed at mono time T for E ns, read out and sent for R ns, its
 * leader received at T + E + R: the estimate must not be after T, and not
 * far before it when the allowance matches the link. */
static void estimate_is_never_late(void **state) {
  (void)state;
  const int64_t wall_offset = INT64_C(1700000000) * PV_NS_PER_S; /* wall - mono */
  const int64_t t = 5 * PV_NS_PER_S;
  const int64_t e = 10 * PV_NS_PER_MS;
  size_t payloads[] = {512 * 512, 2048 * 2048, 2448 * 2048};
  for (size_t i = 0; i < 3; i++) {
    int64_t allowance = pv__transfer_allowance_ns(payloads[i]);
    /* the real transfer at GigE wire speed takes at most payload / 125 MB/s */
    int64_t wire = (int64_t)((double)payloads[i] / 125e6 * 1e9);
    assert_true(allowance >= wire);
    int64_t received = t + e + wire;
    int64_t now = received + 7 * PV_NS_PER_MS; /* popped a bit later */
    int64_t est = 0;
    assert_int_equal(pv__aravis_estimate((uint64_t)(received + wall_offset), now + wall_offset,
                                         now, e, allowance, PV__ARAVIS_STEP_NS, &est),
                     PV_FRAME_TIME_ESTIMATE);
    assert_true(est <= t);
    assert_true(t - est <= allowance - wire + PV__ARAVIS_STEP_NS + PV_NS_PER_MS);
  }
}

/* No clamp to "now": a stamp in the future of the wall clock (the clock
 * stepped back after the frame arrived; the buffer may have waited in the
 * queue since) or no stamp at all gives no bound: UNCERTAIN, *out unset. */
static void estimate_without_bound_is_uncertain(void **state) {
  (void)state;
  const int64_t mono = 100 * PV_NS_PER_S, wall = INT64_C(1800000000) * PV_NS_PER_S;
  int64_t out = 12345;
  assert_int_equal(pv__aravis_estimate((uint64_t)(wall + 1), wall, mono, 0, 0, 0, &out),
                   PV_FRAME_TIME_UNCERTAIN);
  assert_int_equal(pv__aravis_estimate((uint64_t)(wall + PV_NS_PER_S), wall, mono, 0, 0, 0, &out),
                   PV_FRAME_TIME_UNCERTAIN);
  assert_int_equal(pv__aravis_estimate(0, wall, mono, 0, 0, 0, &out), PV_FRAME_TIME_UNCERTAIN);
  assert_int_equal(pv__aravis_estimate(UINT64_MAX, wall, mono, 0, 0, 0, &out),
                   PV_FRAME_TIME_UNCERTAIN);
  assert_int_equal(out, 12345);
  /* exposure, allowance and margin all subtract; negative ones are ignored */
  assert_int_equal(pv__aravis_estimate((uint64_t)(wall - 3), wall, mono, 10, 20, 40, &out),
                   PV_FRAME_TIME_ESTIMATE);
  assert_int_equal(out, mono - 73);
  assert_int_equal(pv__aravis_estimate((uint64_t)wall, wall, mono, -5, -5, -5, &out),
                   PV_FRAME_TIME_ESTIMATE);
  assert_int_equal(out, mono);
}

static void command_errors_are_classified(void **state) {
  (void)state;
  assert_int_equal(pv__aravis_command_status(ARV_DEVICE_ERROR, ARV_DEVICE_ERROR_NOT_CONNECTED),
                   PV_EDISCONNECTED);
  assert_int_equal(pv__aravis_command_status(ARV_DEVICE_ERROR, ARV_DEVICE_ERROR_TIMEOUT),
                   PV_ETIMEDOUT);
  assert_int_equal(pv__aravis_command_status(ARV_DEVICE_ERROR, ARV_DEVICE_ERROR_TRANSFER_ERROR),
                   PV_ETIMEDOUT);
  assert_int_equal(
      pv__aravis_command_status(ARV_DEVICE_ERROR, ARV_DEVICE_ERROR_FEATURE_NOT_FOUND), PV_EFATAL);
  assert_int_equal(pv__aravis_command_status(G_IO_ERROR, G_IO_ERROR_TIMED_OUT), PV_ETIMEDOUT);
}

/* Device clock model of a test: host = a + r * dev, dev in ns. */
typedef struct truth_clock {
  double rate;    /* host ns per device ns */
  int64_t a_ns;   /* host time at dev = dev0 */
  int64_t dev0;
} truth_clock;

static int64_t truth_host(const truth_clock *t, int64_t dev) {
  return t->a_ns + (int64_t)((double)(dev - t->dev0) * t->rate);
}

/* Latches the true clock at device time dev: the host instant lies at a
 * random place in a bracket of random width up to max_width. */
static void latch(pv__aravis_clock *c, const truth_clock *t, int64_t dev, int64_t max_width) {
  int64_t h = truth_host(t, dev);
  int64_t w = rnd_in(0, max_width);
  int64_t before = h - rnd_in(0, w);
  assert_true(pv__aravis_clock_add(c, dev, before, before + w) >= 0);
}

/* For random rates within the stated bound, random offsets and random
 * brackets, a device time between the latches or up to one latch period
 * after the newest maps to a host time never later than the truth, and
 * close to it (tighter once several latches fit the rate). */
static void device_times_map_early_and_close(void **state) {
  (void)state;
  int64_t worst_single = 0, worst_fit = 0;
  for (int trial = 0; trial < 2000; trial++) {
    truth_clock t = {.rate = 1.0 + (double)rnd_in(-480, 480) * 1e-6,
                     .a_ns = rnd_in(1, 1000) * PV_NS_PER_S,
                     .dev0 = rnd_in(1, INT64_C(1) << 60)};
    int64_t max_width = rnd_in(0, 3 * PV_NS_PER_MS);
    pv__aravis_clock c;
    pv__aravis_clock_reset(&c);
    int64_t dev = t.dev0;
    int latches = 1 + (int)(trial % 6);
    for (int k = 0; k < latches; k++) {
      latch(&c, &t, dev, max_width);
      if (k + 1 < latches) dev += PV__ARAVIS_LATCH_PERIOD_NS + rnd_in(0, PV_NS_PER_S);
    }
    for (int f = 0; f < 20; f++) {
      int64_t fd = dev + rnd_in(-2 * PV_NS_PER_S, PV__ARAVIS_LATCH_PERIOD_NS);
      int64_t host = 0;
      assert_int_equal(pv__aravis_clock_map(&c, fd, &host), PV_OK);
      int64_t truth = truth_host(&t, fd);
      assert_true(host <= truth);
      int64_t err = truth - host;
      if (latches == 1 && err > worst_single) worst_single = err;
      if (latches >= 3 && err > worst_fit) worst_fit = err;
    }
  }
  /* one latch: its bracket + 500 ppm of 10 s, twice (estimate and bound) */
  assert_true(worst_single <= 2 * (3 * PV_NS_PER_MS / 2 + 5 * PV_NS_PER_MS) + PV_NS_PER_MS);
  /* a fitted rate does better than the nominal one */
  assert_true(worst_fit < 10 * PV_NS_PER_MS);
  assert_true(worst_fit < worst_single);
}

/* A device clock that goes back (reset, power cycle) or jumps restarts the
 * fit from the new latch, and the mapping is still early afterwards. */
static void device_clock_jump_restarts_the_fit(void **state) {
  (void)state;
  truth_clock t = {.rate = 1.0001, .a_ns = 50 * PV_NS_PER_S, .dev0 = 900 * PV_NS_PER_S};
  pv__aravis_clock c;
  pv__aravis_clock_reset(&c);
  for (int k = 0; k < 4; k++) latch(&c, &t, t.dev0 + k * PV__ARAVIS_LATCH_PERIOD_NS, PV_NS_PER_MS);
  assert_int_equal(c.n, 4);
  /* the camera restarted: its clock counts from 1 s again, 45 s later */
  truth_clock t2 = {.rate = 1.0001, .a_ns = truth_host(&t, t.dev0 + 75 * PV_NS_PER_S),
                    .dev0 = PV_NS_PER_S};
  assert_int_equal(pv__aravis_clock_add(&c, t2.dev0, t2.a_ns - 100, t2.a_ns + 100), 1);
  assert_int_equal(c.n, 1);
  int64_t host = 0;
  assert_int_equal(pv__aravis_clock_map(&c, t2.dev0 + 3 * PV_NS_PER_S, &host), PV_OK);
  assert_true(host <= truth_host(&t2, t2.dev0 + 3 * PV_NS_PER_S));
  /* a forward jump of the device clock by 1 s restarts it as well */
  assert_int_equal(pv__aravis_clock_add(&c, t2.dev0 + 12 * PV_NS_PER_S,
                                        truth_host(&t2, t2.dev0 + 11 * PV_NS_PER_S),
                                        truth_host(&t2, t2.dev0 + 11 * PV_NS_PER_S)), 1);
}

static void device_times_without_a_bound_are_refused(void **state) {
  (void)state;
  pv__aravis_clock c;
  pv__aravis_clock_reset(&c);
  int64_t host = 7;
  assert_int_equal(pv__aravis_clock_map(&c, PV_NS_PER_S, &host), PV_ENOTFOUND);
  assert_int_equal(pv__aravis_clock_add(&c, PV_NS_PER_S, 10, 5), PV_EINVAL); /* after < before */
  assert_int_equal(pv__aravis_clock_add(&c, 0, 5, 10), PV_EINVAL);
  assert_int_equal(c.n, 0);
  assert_int_equal(pv__aravis_clock_add(&c, PV_NS_PER_S, PV_NS_PER_S, PV_NS_PER_S + 1000), 0);
  assert_int_equal(pv__aravis_clock_map(&c, 0, &host), PV_ENOTFOUND); /* no timestamp */
  /* 100 s from the only latch: 500 ppm is 50 ms, more than a usable bound */
  assert_int_equal(pv__aravis_clock_map(&c, 101 * PV_NS_PER_S, &host), PV_ERANGE);
  assert_int_equal(host, 7);
}

static void wall_steps_are_detected_slews_are_not(void **state) {
  (void)state;
  pv__aravis_wallstep w = {0};
  const int64_t off = INT64_C(1700000000) * PV_NS_PER_S;
  int64_t mono = PV_NS_PER_S, slew = 0;
  assert_int_equal(pv__aravis_wall_check(&w, mono + off, mono), 0); /* first: nothing to compare */
  for (int i = 0; i < 100; i++) { /* NTP slewing at its fastest, plus jitter */
    mono += 62 * PV_NS_PER_MS;
    slew += 62 * PV_NS_PER_MS / 1000000 * 500;
    assert_int_equal(pv__aravis_wall_check(&w, mono + off + slew + rnd_in(0, 200000), mono), 0);
  }
  int64_t steps[] = {2 * PV_NS_PER_MS, -2 * PV_NS_PER_MS, 3600 * PV_NS_PER_S, -PV_NS_PER_S};
  for (size_t i = 0; i < 4; i++) {
    mono += 62 * PV_NS_PER_MS;
    slew += steps[i];
    assert_int_equal(pv__aravis_wall_check(&w, mono + off + slew, mono), 1);
    assert_true(w.allowed_ns >= PV__ARAVIS_STEP_NS);
    mono += 62 * PV_NS_PER_MS;
    assert_int_equal(pv__aravis_wall_check(&w, mono + off + slew, mono), 0);
  }
}

/* A simulated stream: frames exposed every period, their leaders stamped
 * with the wall clock on arrival, popped after a random queueing delay
 * (up to `buffers` frames behind), while the wall clock is stepped once,
 * forward or back, by a random amount at a random time. Every frame that
 * the guard lets through with an ESTIMATE must be early; frames stamped
 * before the step and popped after it are the ones at risk. */
static void stepped_wall_clock_makes_frames_uncertain(void **state) {
  (void)state;
  enum { FRAMES = 200, BUFFERS = 4 };
  const int64_t period = 62500000, e = 10 * PV_NS_PER_MS, allowance = 5 * PV_NS_PER_MS;
  const int64_t off = INT64_C(1700000000) * PV_NS_PER_S;
  const int64_t sizes[] = {PV_NS_PER_S,      -PV_NS_PER_S,         3 * PV_NS_PER_MS,
                           -3 * PV_NS_PER_MS, -1500 * 1000,         -60 * PV_NS_PER_S,
                           120 * PV_NS_PER_MS, -120 * PV_NS_PER_MS};
  int total_uncertain = 0;
  for (int trial = 0; trial < 400; trial++) {
    int64_t step = sizes[trial % 8];
    int64_t step_at = PV_NS_PER_S + rnd_in(20, FRAMES - 20) * period + rnd_in(0, period);
    int64_t expo[FRAMES], recv[FRAMES], pop[FRAMES];
    for (int i = 0; i < FRAMES; i++) {
      expo[i] = PV_NS_PER_S + i * period;
      recv[i] = expo[i] + e + rnd_in(100000, 4 * PV_NS_PER_MS); /* within the allowance */
    }
    for (int i = 0; i < FRAMES; i++) {
      int64_t p = recv[i] + rnd_in(0, 2 * period);
      if (i > 0 && p < pop[i - 1]) p = pop[i - 1] + 1000;
      if (i + BUFFERS - 1 < FRAMES && p > recv[i + BUFFERS - 1]) p = recv[i + BUFFERS - 1];
      if (i > 0 && p < pop[i - 1]) p = pop[i - 1] + 1000;
      pop[i] = p;
    }
    pv__aravis_guard g;
    pv__aravis_guard_reset(&g);
    int uncertain = 0, after_step_ok = 0;
    for (int i = 0; i < FRAMES; i++) {
      int64_t sys = recv[i] + off + (recv[i] >= step_at ? step : 0);
      int64_t wall = pop[i] + off + (pop[i] >= step_at ? step : 0);
      int in_flight = 0;
      for (int j = i + 1; j < FRAMES && recv[j] <= pop[i]; j++) in_flight++;
      in_flight++; /* a frame being received */
      int doubtful = pv__aravis_guard_frame(&g, wall, pop[i], in_flight, 0);
      int64_t est = 0;
      pv_frame_time kind = PV_FRAME_TIME_UNCERTAIN;
      if (!doubtful)
        kind = pv__aravis_estimate((uint64_t)sys, wall, pop[i], e, allowance,
                                   pv__aravis_guard_margin(&g), &est);
      if (kind == PV_FRAME_TIME_UNCERTAIN) {
        uncertain++;
        continue;
      }
      assert_true(est <= expo[i]);
      if (pop[i] > step_at + 10 * period) after_step_ok++;
    }
    /* the step cost a few frames, not the stream */
    assert_true(uncertain >= 1);
    assert_true(uncertain <= BUFFERS + 2 + PV__ARAVIS_GUARD_MARGIN + 1);
    assert_true(after_step_ok > 0);
    assert_int_equal(g.steps, 1);
    total_uncertain += uncertain;
  }
  assert_true(total_uncertain > 0);
}

/* Resent packets or missing frames since the last pop: the frame popped now
 * and every frame that was in flight are uncertain (a resent leader is
 * stamped at the resend), then frames are trusted again. */
static void lost_packets_make_frames_uncertain(void **state) {
  (void)state;
  pv__aravis_guard g;
  pv__aravis_guard_reset(&g);
  const int64_t off = INT64_C(1700000000) * PV_NS_PER_S;
  int64_t mono = PV_NS_PER_S;
  uint64_t loss = 7; /* counters already non-zero at open: no loss yet */
  int marks[40];
  for (int i = 0; i < 40; i++) {
    mono += 62 * PV_NS_PER_MS;
    if (i == 10) loss += 1;
    if (i == 30) loss += 5;
    marks[i] = pv__aravis_guard_frame(&g, mono + off, mono, 3, loss);
  }
  int expected = 3 + 1 + PV__ARAVIS_GUARD_MARGIN;
  for (int i = 0; i < 40; i++) {
    int in_window = (i >= 10 && i < 10 + expected) || (i >= 30 && i < 30 + expected);
    assert_int_equal(marks[i], in_window);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(only_success_is_a_good_frame),
      cmocka_unit_test(pixel_formats_round_trip),
      cmocka_unit_test(estimate_is_never_late),
      cmocka_unit_test(estimate_without_bound_is_uncertain),
      cmocka_unit_test(command_errors_are_classified),
      cmocka_unit_test(device_times_map_early_and_close),
      cmocka_unit_test(device_clock_jump_restarts_the_fit),
      cmocka_unit_test(device_times_without_a_bound_are_refused),
      cmocka_unit_test(wall_steps_are_detected_slews_are_not),
      cmocka_unit_test(stepped_wall_clock_makes_frames_uncertain),
      cmocka_unit_test(lost_packets_make_frames_uncertain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
