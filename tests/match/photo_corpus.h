/* The matcher's real-photograph corpus: scenes made from the photographs
 * that Debian's python3-skimage ships (scripts/fetch-photos puts them in
 * $PV_PHOTO_DIR, else $HOME/.cache/probevision/photos), and an exact
 * exhaustive TM_CCOEFF_NORMED reference computed independently of the
 * matcher (FFT cross-correlation in double, window statistics from int64
 * integral images). Header-only: used by tests/match/test_global_max.c and
 * bench/bench_match.c. Nothing here is thread-safe (one caller at a time);
 * every function that returns an image or a buffer gives it to the caller.
 *
 * A scene (pc_make, deterministic for a seed): the photograph tiled
 * periodically from a random origin over the frame (so every part of it
 * repeats: repeated structure, near-tied candidates), the template cut
 * clean from that canvas, the canvas seen with an illumination change
 * (gain 0.75..1.25 varying linearly across the frame, offset -25..25) and
 * sensor noise (sigma 2..7 grey levels), and the template pasted once more
 * somewhere else with its own gain, offset and noise. A region (a disc of
 * radius 40..160 px near the pasted copy) exercises pv_matcher_find_in.
 */
#ifndef PV_TEST_PHOTO_CORPUS_H
#define PV_TEST_PHOTO_CORPUS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probevision/core.h"
#include "probevision/image.h"
#include "probevision/match.h"

#define PC_NPHOTOS 15
#define PC_NSIZES 8
static const char *const pc_photos[PC_NPHOTOS] = {
    "astronaut", "brick", "camera", "chelsea", "coffee",
    "coins", "grass", "gravel", "ihc", "moon",
    "motorcycle_left", "motorcycle_right", "page", "text", "cell"};
static const int pc_sizes[PC_NSIZES] = {24, 32, 48, 64, 96, 128, 192, 256};

/* The photo folder (static buffer). */
static inline const char *pc_dir(void) {
  static char buf[1024];
  const char *d = getenv("PV_PHOTO_DIR");
  if (d != NULL && d[0] != '\0') return d;
  const char *home = getenv("HOME");
  snprintf(buf, sizeof buf, "%s/.cache/probevision/photos",
           home != NULL ? home : "/tmp");
  return buf;
}

/* Reads photograph i as luma into out; on failure writes why into msg. */
static inline int pc_load(int i, pv_image *out, char *msg, size_t n) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s.png", pc_dir(), pc_photos[i]);
  pv_error err;
  memset(&err, 0, sizeof err);
  int rc = pv_png_read(path, out, &err);
  if (rc != PV_OK)
    snprintf(msg, n,
             "cannot read %s: the real-photograph corpus is missing; run "
             "scripts/fetch-photos (it fills $PV_PHOTO_DIR, else "
             "$HOME/.cache/probevision/photos)",
             path);
  return rc;
}

typedef struct pc_scene {
  pv_image img, templ;   /* owned (malloc) */
  int cut_u, cut_v;      /* where the template was cut from the canvas */
  int paste_u, paste_v;  /* where it was pasted again */
  pv_match_region region;
} pc_scene;

static uint64_t pc_rng;
static inline double pc_rand(void) {
  pc_rng ^= pc_rng << 13;
  pc_rng ^= pc_rng >> 7;
  pc_rng ^= pc_rng << 17;
  return (double)(pc_rng >> 11) * (1.0 / 9007199254740992.0);
}
static inline double pc_gauss(void) { /* Irwin-Hall of 4, sigma 1 */
  double s = pc_rand() + pc_rand() + pc_rand() + pc_rand();
  return (s - 2.0) * 1.7320508075688772;
}
static inline uint8_t pc_clamp(double v) {
  return v < 0 ? 0 : (v > 255 ? 255 : (uint8_t)lround(v));
}

/* Builds a w x h scene with a tw x th template from photo (see the top). */
static inline void pc_make(const pv_image *photo, int w, int h, int tw, int th,
                           uint64_t seed, pc_scene *s) {
  pc_rng = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
  int pw = photo->width, ph = photo->height;
  int ox = (int)(pc_rand() * pw), oy = (int)(pc_rand() * ph);
  uint8_t *canvas = malloc((size_t)w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      canvas[(size_t)y * w + x] =
          photo->data[(size_t)((y + oy) % ph) * photo->stride + (x + ox) % pw];
  s->cut_u = (int)(pc_rand() * (w - tw + 1));
  s->cut_v = (int)(pc_rand() * (h - th + 1));
  s->templ = (pv_image){tw, th, tw, malloc((size_t)tw * th)};
  for (int y = 0; y < th; y++)
    memcpy(s->templ.data + (size_t)y * tw,
           canvas + (size_t)(s->cut_v + y) * w + s->cut_u, (size_t)tw);
  double g0 = 0.75 + 0.5 * pc_rand(), g1 = 0.75 + 0.5 * pc_rand();
  double off = (pc_rand() - 0.5) * 50.0, sigma = 2.0 + 5.0 * pc_rand();
  s->img = (pv_image){w, h, w, malloc((size_t)w * h)};
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double g = g0 + (g1 - g0) * x / w;
      s->img.data[(size_t)y * w + x] =
          pc_clamp(g * canvas[(size_t)y * w + x] + off + sigma * pc_gauss());
    }
  s->paste_u = (int)(pc_rand() * (w - tw + 1));
  s->paste_v = (int)(pc_rand() * (h - th + 1));
  double pg = 0.8 + 0.4 * pc_rand(), po = (pc_rand() - 0.5) * 40.0;
  double ps = 2.0 + 5.0 * pc_rand();
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++)
      s->img.data[(size_t)(s->paste_v + y) * w + s->paste_u + x] = pc_clamp(
          pg * s->templ.data[(size_t)y * tw + x] + po + ps * pc_gauss());
  double r = 40.0 + 120.0 * pc_rand();
  double cx = s->paste_u + (tw - 1) / 2.0 + (pc_rand() - 0.5) * r;
  double cy = s->paste_v + (th - 1) / 2.0 + (pc_rand() - 0.5) * r;
  s->region = (pv_match_region){cx - r, cy - r, cx + r, cy + r, 1, 0};
  free(canvas);
}

static inline void pc_free(pc_scene *s) {
  free(s->img.data);
  free(s->templ.data);
  s->img.data = s->templ.data = NULL;
}

/* ---- exact reference: every placement's score, by FFT ------------------ */

/* In-place radix-2 FFT of n contiguous complex values (re, im); inverse
 * without the 1/n scale when inv. cs, sn: cos, sin of 2 pi k / n, k < n/2. */
static inline void pc_fft(double *re, double *im, int n, const double *cs,
                          const double *sn, int inv) {
  for (int i = 1, j = 0; i < n; i++) {
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      double t = re[i];
      re[i] = re[j], re[j] = t;
      t = im[i];
      im[i] = im[j], im[j] = t;
    }
  }
  double sg = inv ? 1.0 : -1.0;
  for (int len = 2; len <= n; len <<= 1) {
    int half = len / 2, step = n / len;
    for (int i = 0; i < n; i += len)
      for (int k = 0; k < half; k++) {
        double wr = cs[k * step], wi = sg * sn[k * step];
        int p = i + k, q = p + half;
        double xr = re[q] * wr - im[q] * wi, xi = re[q] * wi + im[q] * wr;
        re[q] = re[p] - xr, im[q] = im[p] - xi;
        re[p] += xr, im[p] += xi;
      }
  }
}

/* 2-D FFT of nx x ny values (row-major): rows, then columns through a
 * contiguous copy. */
static inline void pc_fft2(double *re, double *im, int nx, int ny, int inv) {
  int nm = nx > ny ? nx : ny;
  double *cs = malloc((size_t)nm * 4 * sizeof(double));
  double *sn = cs + nm, *cr = sn + nm, *ci = cr + nm;
  for (int pass = 0; pass < 2; pass++) {
    int n = pass ? ny : nx;
    for (int k = 0; k < n / 2; k++) {
      cs[k] = cos(2.0 * M_PI * k / n);
      sn[k] = sin(2.0 * M_PI * k / n);
    }
    if (pass == 0) {
      for (int y = 0; y < ny; y++)
        pc_fft(re + (size_t)y * nx, im + (size_t)y * nx, nx, cs, sn, inv);
      continue;
    }
    for (int x = 0; x < nx; x++) {
      for (int y = 0; y < ny; y++)
        cr[y] = re[(size_t)y * nx + x], ci[y] = im[(size_t)y * nx + x];
      pc_fft(cr, ci, ny, cs, sn, inv);
      for (int y = 0; y < ny; y++)
        re[(size_t)y * nx + x] = cr[y], im[(size_t)y * nx + x] = ci[y];
    }
  }
  free(cs);
}

/* Every placement's exact TM_CCOEFF_NORMED of templ on img, into a new
 * array of (w-tw+1)*(h-th+1) doubles, row-major (caller frees). */
static inline double *pc_scores(const pv_image *img, const pv_image *t) {
  int w = img->width, h = img->height, tw = t->width, th = t->height;
  int nu = w - tw + 1, nv = h - th + 1, nx = 1, ny = 1;
  while (nx < w) nx <<= 1;
  while (ny < h) ny <<= 1;
  size_t N = (size_t)nx * ny;
  double *re = calloc(N, sizeof(double)), *im = calloc(N, sizeof(double));
  double tm = 0.0, tssq = 0.0, n = (double)tw * th;
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++) tm += t->data[(size_t)y * t->stride + x];
  tm /= n;
  /* Z = I + i T': one transform gives both spectra */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      re[(size_t)y * nx + x] = img->data[(size_t)y * img->stride + x];
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++) {
      double d = t->data[(size_t)y * t->stride + x] - tm;
      im[(size_t)y * nx + x] = d;
      tssq += d * d;
    }
  pc_fft2(re, im, nx, ny, 0);
  /* cross = IFFT(F(I) conj(F(T'))); F(I)[k] = (Z[k] + conj Z[-k]) / 2,
   * F(T')[k] = (Z[k] - conj Z[-k]) / 2i. Pairs (k, -k) done together. */
  for (int ky = 0; ky < ny; ky++)
    for (int kx = 0; kx < nx; kx++) {
      size_t a = (size_t)ky * nx + kx;
      size_t b = (size_t)((ny - ky) % ny) * nx + (size_t)((nx - kx) % nx);
      if (b < a) continue;
      double zr = re[a], zi = im[a], cr = re[b], ci = -im[b]; /* conj Z[-k] */
      double ir = (zr + cr) / 2, ii = (zi + ci) / 2;          /* F(I)[k] */
      double tr = (zi - ci) / 2, ti = -(zr - cr) / 2;         /* F(T')[k] */
      /* P[k] = F(I)[k] conj F(T')[k]; P[-k] = conj P[k] (real signals) */
      double pr = ir * tr + ii * ti, pi = ii * tr - ir * ti;
      re[a] = pr, im[a] = pi;
      re[b] = pr, im[b] = -pi;
    }
  pc_fft2(re, im, nx, ny, 1);
  /* window sums from exact int64 integral images */
  size_t iw = (size_t)w + 1;
  int64_t *is = calloc(iw * (h + 1), sizeof(int64_t));
  int64_t *iq = calloc(iw * (h + 1), sizeof(int64_t));
  for (int y = 0; y < h; y++) {
    int64_t rs = 0, rq = 0;
    for (int x = 0; x < w; x++) {
      int64_t p = img->data[(size_t)y * img->stride + x];
      rs += p, rq += p * p;
      is[(y + 1) * iw + x + 1] = is[y * iw + x + 1] + rs;
      iq[(y + 1) * iw + x + 1] = iq[y * iw + x + 1] + rq;
    }
  }
  double *out = malloc((size_t)nu * nv * sizeof(double));
  int64_t ni = (int64_t)tw * th;
  for (int v = 0; v < nv; v++)
    for (int u = 0; u < nu; u++) {
      size_t a = (size_t)v * iw + u, b = a + (size_t)th * iw;
      int64_t s = is[b + tw] - is[b] - is[a + tw] + is[a];
      int64_t q = iq[b + tw] - iq[b] - iq[a + tw] + iq[a];
      int64_t nvar = ni * q - s * s;
      double cross = re[(size_t)v * nx + u] / (double)N, r = 0.0;
      if (nvar > 0 && tssq > 0) r = cross / sqrt(tssq * ((double)nvar / n));
      out[(size_t)v * nu + u] = r > 1 ? 1 : (r < -1 ? -1 : r);
    }
  free(re), free(im), free(is), free(iq);
  return out;
}

/* Argmax of the scores (first one on ties) over the placements whose
 * centre lies in region (NULL: all), as pv_match_region defines it. */
static inline double pc_argmax(const double *sc, const pv_image *img,
                               const pv_image *t,
                               const pv_match_region *region, int *bu,
                               int *bv) {
  int nu = img->width - t->width + 1, nv = img->height - t->height + 1;
  double best = -3.0, hx = (t->width - 1) / 2.0, hy = (t->height - 1) / 2.0;
  *bu = *bv = -1;
  for (int v = 0; v < nv; v++)
    for (int u = 0; u < nu; u++) {
      if (region != NULL) {
        double cx = u + hx, cy = v + hy;
        if (cx < region->x0 || cx > region->x1 || cy < region->y0 ||
            cy > region->y1)
          continue;
        if (region->ellipse) {
          double rx = (region->x1 - region->x0) / 2;
          double ry = (region->y1 - region->y0) / 2;
          double ex = (cx - (region->x0 + region->x1) / 2) / rx;
          double ey = (cy - (region->y0 + region->y1) / 2) / ry;
          if (ex * ex + ey * ey > 1.0) continue;
        }
      }
      if (sc[(size_t)v * nu + u] > best) {
        best = sc[(size_t)v * nu + u];
        *bu = u, *bv = v;
      }
    }
  return best;
}

/* Whether the found placement (fu, fv) is the global maximum (ru, rv):
 * within 1 px, or its exact score (pv_ncc_at) ties within 1e-4. */
static inline int pc_agrees(const pv_image *img, const pv_image *t, int fu,
                            int fv, int ru, int rv) {
  if (abs(fu - ru) <= 1 && abs(fv - rv) <= 1) return 1;
  return pv_ncc_at(img, t, fu, fv) >= pv_ncc_at(img, t, ru, rv) - 1e-4;
}

#endif
