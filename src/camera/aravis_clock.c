/* The pure timing parts of the aravis driver: the device clock -> host
 * monotonic clock mapping built from timestamp latches, and the guard that
 * decides which frames' reception-based times cannot be trusted (a wall
 * clock step, a resent or missing packet). No Aravis call, no allocation:
 * unit-testable without a camera (tests/camera/test_aravis_status.c).
 *
 * Clock mapping. A latch gives the device clock's value d (ns) at an
 * instant h of the host monotonic clock known only to lie between two host
 * readings [before, after]; we use the midpoint m and the half width w/2:
 * |m - h| <= w/2. Between latches the two clocks are modelled as affine,
 * h = a + r d (two crystals; r within PV__ARAVIS_CLOCK_MAX_PPM of 1), plus a
 * slow wander of the rate (temperature), PV__ARAVIS_CLOCK_WANDER_PPM. Two
 * estimates of h(d), each with a bound that holds under that model:
 * - the newest latch and the nominal rate: h = m_n + (d - d_n), bound
 *   w_n/2 + MAX_PPM * |d - d_n|;
 * - the least-squares line through the last PV__ARAVIS_CLOCK_SAMPLES
 *   latches. Its slope is sum c_i m_i with c_i = (d_i - dbar) / Sxx, so its
 *   error is at most sum |c_i| w_i/2; its value at dbar errs by at most the
 *   mean of w_i/2; at d the bound is mean(w_i/2) + slope error * |d - dbar|
 *   + WANDER * (|d - d_n| + span of the latches).
 * The tighter one is used, and the mapped time is the estimate minus its
 * bound minus 1 us (rounding): never later than the truth while the model
 * holds. A latch that contradicts the model (the device clock went back or
 * jumped: reset, power cycle) restarts the fit from that latch.
 */
#include <math.h>
#include <string.h>

#include "aravis_internal.h"

void pv__aravis_clock_reset(pv__aravis_clock *c) { memset(c, 0, sizeof *c); }

static const pv__aravis_latch *newest(const pv__aravis_clock *c) {
  return &c->s[(c->next + PV__ARAVIS_CLOCK_SAMPLES - 1) % PV__ARAVIS_CLOCK_SAMPLES];
}

int pv__aravis_clock_add(pv__aravis_clock *c, int64_t dev_ns, int64_t before_ns,
                         int64_t after_ns) {
  if (after_ns < before_ns || dev_ns <= 0) return PV_EINVAL;
  pv__aravis_latch l = {.dev_ns = dev_ns,
                        .mid_ns = before_ns + (after_ns - before_ns) / 2,
                        .half_ns = (after_ns - before_ns + 1) / 2};
  int restarted = 0;
  if (c->n > 0) {
    const pv__aravis_latch *p = newest(c);
    /* both clocks advance; by the same amount within the rate bound and the
     * two brackets */
    double dd = (double)(l.dev_ns - p->dev_ns), dh = (double)(l.mid_ns - p->mid_ns);
    double slack = fabs(dd) * PV__ARAVIS_CLOCK_MAX_PPM * 1e-6 + (double)(l.half_ns + p->half_ns);
    if (l.dev_ns <= p->dev_ns || fabs(dh - dd) > slack) {
      pv__aravis_clock_reset(c);
      restarted = 1;
    }
  }
  c->s[c->next] = l;
  c->next = (c->next + 1) % PV__ARAVIS_CLOCK_SAMPLES;
  if (c->n < PV__ARAVIS_CLOCK_SAMPLES) c->n++;
  return restarted;
}

int pv__aravis_clock_map(const pv__aravis_clock *c, int64_t dev_ns, int64_t *host_ns) {
  if (c->n == 0 || dev_ns <= 0) return PV_ENOTFOUND;
  const pv__aravis_latch *ln = newest(c);
  /* coordinates relative to the newest latch: small, exact in a double */
  double x = (double)(dev_ns - ln->dev_ns);
  double est = x, bound = (double)ln->half_ns + fabs(x) * PV__ARAVIS_CLOCK_MAX_PPM * 1e-6;
  if (c->n >= 2) {
    double xs[PV__ARAVIS_CLOCK_SAMPLES], ys[PV__ARAVIS_CLOCK_SAMPLES], hs[PV__ARAVIS_CLOCK_SAMPLES];
    double xbar = 0, ybar = 0, hbar = 0, xmin = 0, xmax = 0;
    for (int i = 0; i < c->n; i++) {
      xs[i] = (double)(c->s[i].dev_ns - ln->dev_ns);
      ys[i] = (double)(c->s[i].mid_ns - ln->mid_ns);
      hs[i] = (double)c->s[i].half_ns;
      xbar += xs[i];
      ybar += ys[i];
      hbar += hs[i];
      xmin = xs[i] < xmin ? xs[i] : xmin;
      xmax = xs[i] > xmax ? xs[i] : xmax;
    }
    xbar /= c->n;
    ybar /= c->n;
    hbar /= c->n;
    double sxx = 0, sxy = 0, serr = 0;
    for (int i = 0; i < c->n; i++) {
      sxx += (xs[i] - xbar) * (xs[i] - xbar);
      sxy += (xs[i] - xbar) * (ys[i] - ybar);
      serr += fabs(xs[i] - xbar) * hs[i];
    }
    if (sxx > 0) {
      double slope = sxy / sxx, slope_err = serr / sxx;
      double fit = ybar + slope * (x - xbar);
      double fit_bound = hbar + slope_err * fabs(x - xbar) +
                         (fabs(x) + (xmax - xmin)) * PV__ARAVIS_CLOCK_WANDER_PPM * 1e-6;
      if (fit_bound < bound) {
        est = fit;
        bound = fit_bound;
      }
    }
  }
  if (bound > (double)PV__ARAVIS_CLOCK_MAX_BOUND_NS) return PV_ERANGE;
  *host_ns = ln->mid_ns + (int64_t)floor(est - bound) - PV__ARAVIS_CLOCK_ROUND_NS;
  return PV_OK;
}

int pv__aravis_wall_check(pv__aravis_wallstep *w, int64_t wall_ns, int64_t mono_ns) {
  int64_t offset = wall_ns - mono_ns;
  int stepped = 0;
  if (w->primed) {
    int64_t dmono = mono_ns - w->mono_ns;
    int64_t doff = offset - w->offset_ns;
    if (doff < 0) doff = -doff;
    int64_t allowed = PV__ARAVIS_STEP_NS + (dmono > 0 ? dmono / 1000000 * PV__ARAVIS_SLEW_PPM : 0);
    stepped = doff > allowed;
    w->allowed_ns = allowed;
  } else {
    w->allowed_ns = PV__ARAVIS_STEP_NS;
  }
  w->primed = 1;
  w->offset_ns = offset;
  w->mono_ns = mono_ns;
  return stepped;
}

void pv__aravis_guard_reset(pv__aravis_guard *g) { memset(g, 0, sizeof *g); }

int64_t pv__aravis_guard_margin(const pv__aravis_guard *g) {
  return g->wall.primed ? g->wall.allowed_ns : PV__ARAVIS_STEP_NS;
}

void pv__aravis_guard_mark(pv__aravis_guard *g, int in_flight) {
  int n = (in_flight > 0 ? in_flight : 0) + 1 + PV__ARAVIS_GUARD_MARGIN;
  if (g->uncertain_left < n) g->uncertain_left = n;
}

int pv__aravis_guard_frame(pv__aravis_guard *g, int64_t wall_ns, int64_t mono_ns, int in_flight,
                           uint64_t loss_count) {
  int stepped = pv__aravis_wall_check(&g->wall, wall_ns, mono_ns);
  int lost = g->loss_primed && loss_count != g->loss_count;
  g->loss_primed = 1;
  g->loss_count = loss_count;
  if (stepped) g->steps++;
  if (stepped || lost) pv__aravis_guard_mark(g, in_flight);
  if (g->uncertain_left > 0) {
    g->uncertain_left--;
    return 1;
  }
  return 0;
}
