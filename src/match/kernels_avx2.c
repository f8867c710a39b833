/* AVX2 + FMA versions of the matcher's hot loops, chosen at run time.
 *
 * Each function computes the same quantity as its portable twin in ncc.c or
 * pyramid.c (see match_internal.h): the pyramid levels are bit-identical
 * (sums of at most 4^l bytes times 4^-l are exact in float), level-0 window
 * sums of I and I^2 are exact integers, and correlation sums differ from the
 * portable ones only by float rounding (lanes and rows are added in double).
 * The file is compiled for the baseline target; only these functions carry
 * target("avx2,fma"), and they are called only when pv__simd_detect() said
 * the CPU has both. On other architectures the file is empty.
 */
#include "match_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma")))
/* Rows summed in vector lanes before the lanes are added up in double (or
 * int64): few enough that float sums stay accurate and the 32-bit integer
 * sums of squares cannot overflow (8 rows of 1024 bytes: 8.4e6 per lane). */
#define FLUSH_ROWS 8

int pv__simd_detect(void) {
  const char *env = getenv("PV_MATCH_SIMD");
  if (env != NULL && strcmp(env, "portable") == 0) return PV__SIMD_PORTABLE;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return PV__SIMD_AVX2;
  return PV__SIMD_PORTABLE;
}

AVX2 static double hsum8(__m256 v) {
  __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
  __m256d b = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  __m256d s = _mm256_add_pd(a, b);
  __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
  return _mm_cvtsd_f64(t) + _mm_cvtsd_f64(_mm_unpackhi_pd(t, t));
}

AVX2 static int64_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v),
                            _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

AVX2 void pv__down_u8_rows_avx2(const uint8_t *src, int w, int stride,
                                pv__fimg *dst, int y0, int y1) {
  int dw = w / 2;
  const __m256i ones = _mm256_set1_epi8(1);
  const __m256 q = _mm256_set1_ps(0.25f), k = _mm256_set1_ps(-128.0f);
  for (int y = y0; y < y1; y++) {
    const uint8_t *a = src + (size_t)(2 * y) * (size_t)stride;
    const uint8_t *b = a + stride;
    float *d = dst->px + (size_t)y * (size_t)dw;
    int x = 0;
    for (; 2 * (x + 16) <= w; x += 16) {
      __m256i va = _mm256_loadu_si256((const __m256i *)(a + 2 * x));
      __m256i vb = _mm256_loadu_si256((const __m256i *)(b + 2 * x));
      __m256i s = _mm256_add_epi16(_mm256_maddubs_epi16(va, ones),
                                   _mm256_maddubs_epi16(vb, ones));
      __m256 lo = _mm256_cvtepi32_ps(
          _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s)));
      __m256 hi = _mm256_cvtepi32_ps(
          _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s, 1)));
      _mm256_storeu_ps(d + x, _mm256_fmadd_ps(lo, q, k));
      _mm256_storeu_ps(d + x + 8, _mm256_fmadd_ps(hi, q, k));
    }
    for (; x < dw; x++) {
      int s = a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1];
      d[x] = (float)s * 0.25f - 128.0f;
    }
  }
}

AVX2 void pv__down_f_rows_avx2(const pv__fimg *src, pv__fimg *dst, int y0,
                               int y1) {
  int dw = src->w / 2;
  const __m256 q = _mm256_set1_ps(0.25f);
  for (int y = y0; y < y1; y++) {
    const float *a = src->px + (size_t)(2 * y) * (size_t)src->w;
    const float *b = a + src->w;
    float *d = dst->px + (size_t)y * (size_t)dw;
    int x = 0;
    for (; 2 * (x + 8) <= src->w; x += 8) {
      __m256 r0 = _mm256_add_ps(_mm256_loadu_ps(a + 2 * x),
                                _mm256_loadu_ps(b + 2 * x));
      __m256 r1 = _mm256_add_ps(_mm256_loadu_ps(a + 2 * x + 8),
                                _mm256_loadu_ps(b + 2 * x + 8));
      __m256 hs = _mm256_hadd_ps(r0, r1); /* pairs, lanes interleaved */
      hs = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(hs), 0xD8));
      _mm256_storeu_ps(d + x, _mm256_mul_ps(hs, q));
    }
    for (; x < dw; x++)
      d[x] = ((a[2 * x] + b[2 * x]) + (a[2 * x + 1] + b[2 * x + 1])) * 0.25f;
  }
}

/* Inclusive prefix sums of 4 doubles: [a, a+b, a+b+c, a+b+c+d]. */
AVX2 static inline __m256d prefix4(__m256d x) {
  __m256d z = _mm256_setzero_pd();
  x = _mm256_add_pd(x, _mm256_blend_pd(_mm256_permute4x64_pd(x, 0x90), z, 1)); /* + [0,a,b,c] */
  return _mm256_add_pd(x, _mm256_permute2f128_pd(x, x, 0x08));                 /* + [0,0,x0,x1] */
}

AVX2 void pv__integral_row_avx2(const float *row, int w, const double *sa, const double *qa,
                                double *s, double *q) {
  __m256d cs = _mm256_setzero_pd(), cq = cs; /* the running sums, all lanes */
  s[0] = q[0] = 0.0;
  int x = 0;
  for (; x + 4 <= w; x += 4) {
    __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(row + x));
    __m256d rs = _mm256_add_pd(prefix4(v), cs), rq = _mm256_add_pd(prefix4(_mm256_mul_pd(v, v)), cq);
    cs = _mm256_permute4x64_pd(rs, 0xff);
    cq = _mm256_permute4x64_pd(rq, 0xff);
    if (sa) {
      rs = _mm256_add_pd(rs, _mm256_loadu_pd(sa + x + 1));
      rq = _mm256_add_pd(rq, _mm256_loadu_pd(qa + x + 1));
    }
    _mm256_storeu_pd(s + x + 1, rs);
    _mm256_storeu_pd(q + x + 1, rq);
  }
  double ts = _mm256_cvtsd_f64(cs), tq = _mm256_cvtsd_f64(cq);
  for (; x < w; x++) {
    double v = row[x];
    ts += v;
    tq += v * v;
    s[x + 1] = sa ? sa[x + 1] + ts : ts;
    q[x + 1] = qa ? qa[x + 1] + tq : tq;
  }
}

AVX2 void pv__cross_row_avx2(const pv__fimg *img, const pv__tlevel *tl,
                             int v, int nu, float *acc) {
  /* 64 placements per block, eight accumulators: an FMA's latency is four
   * cycles and two issue per cycle, so fewer chains leave the units idle.
   * Each placement's sum runs over the taps in the same order whatever the
   * block: the same bits as one chain per placement. */
  int tw = tl->w, th = tl->h;
  for (int u = 0; u < nu; u += 64) { /* levels are padded: see alloc */
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256 a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int r = 0; r < th; r++) {
      const float *p = img->px + (size_t)(v + r) * (size_t)img->w + u;
      const float *t = tl->zm + (size_t)r * (size_t)tw;
      for (int c = 0; c < tw; c++, p++) {
        __m256 tc = _mm256_broadcast_ss(t + c);
        a0 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p), a0);
        a1 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p + 8), a1);
        a2 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p + 16), a2);
        a3 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p + 24), a3);
        a4 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p + 32), a4);
        a5 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p + 40), a5);
        a6 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p + 48), a6);
        a7 = _mm256_fmadd_ps(tc, _mm256_loadu_ps(p + 56), a7);
      }
    }
    _mm256_storeu_ps(acc + u, a0);
    _mm256_storeu_ps(acc + u + 8, a1);
    _mm256_storeu_ps(acc + u + 16, a2);
    _mm256_storeu_ps(acc + u + 24, a3);
    _mm256_storeu_ps(acc + u + 32, a4);
    _mm256_storeu_ps(acc + u + 40, a5);
    _mm256_storeu_ps(acc + u + 48, a6);
    _mm256_storeu_ps(acc + u + 56, a7);
  }
}

AVX2 float pv__ncc_f_avx2(const pv__fimg *img, const pv__tlevel *tl, int x,
                          int y) {
  int tw = tl->w, th = tl->h, w8 = tw & ~7;
  double cross = 0.0, s = 0.0, ss = 0.0;
  __m256 ac = _mm256_setzero_ps(), as = ac, aq = ac;
  for (int r = 0; r < th; r++) {
    const float *p = img->px + (size_t)(y + r) * (size_t)img->w + x;
    const float *t = tl->zm + (size_t)r * (size_t)tw;
    for (int c = 0; c < w8; c += 8) {
      __m256 pv = _mm256_loadu_ps(p + c);
      ac = _mm256_fmadd_ps(_mm256_loadu_ps(t + c), pv, ac);
      as = _mm256_add_ps(as, pv);
      aq = _mm256_fmadd_ps(pv, pv, aq);
    }
    for (int c = w8; c < tw; c++) {
      cross += (double)t[c] * p[c];
      s += p[c];
      ss += (double)p[c] * p[c];
    }
    if ((r & (FLUSH_ROWS - 1)) == FLUSH_ROWS - 1 || r == th - 1) {
      cross += hsum8(ac); /* lanes go to double every few rows */
      s += hsum8(as);
      ss += hsum8(aq);
      ac = as = aq = _mm256_setzero_ps();
    }
  }
  if (tl->flat) return 0.0f;
  return (float)pv__ncc_score(cross, s, ss, (double)tw * th, tl->ssq);
}

AVX2 double pv__ncc_u8_avx2(const pv_image *img, const pv__tlevel *tl, int x,
                            int y) {
  int tw = tl->w, th = tl->h, w16 = tw & ~15;
  double cross = 0.0;
  int64_t s = 0, ss = 0;
  const __m256 k128 = _mm256_set1_ps(128.0f);
  __m256 ac = _mm256_setzero_ps();
  __m256i aq = _mm256_setzero_si256(); /* per lane <= 8 * 64 * 2 * 65025 */
  __m128i as = _mm_setzero_si128();
  for (int r = 0; r < th; r++) {
    const uint8_t *p = img->data + (size_t)(y + r) * (size_t)img->stride + x;
    const float *t = tl->zm + (size_t)r * (size_t)tw;
    for (int c = 0; c < w16; c += 16) {
      __m128i b = _mm_loadu_si128((const __m128i *)(p + c));
      __m256i b16 = _mm256_cvtepu8_epi16(b);
      aq = _mm256_add_epi32(aq, _mm256_madd_epi16(b16, b16));
      as = _mm_add_epi64(as, _mm_sad_epu8(b, _mm_setzero_si128()));
      __m256 lo = _mm256_sub_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)), k128);
      __m256 hi = _mm256_sub_ps(
          _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8))), k128);
      ac = _mm256_fmadd_ps(_mm256_loadu_ps(t + c), lo, ac);
      ac = _mm256_fmadd_ps(_mm256_loadu_ps(t + c + 8), hi, ac);
    }
    for (int c = w16; c < tw; c++) {
      cross += (double)t[c] * (p[c] - 128);
      s += p[c];
      ss += p[c] * p[c];
    }
    if ((r & (FLUSH_ROWS - 1)) == FLUSH_ROWS - 1 || r == th - 1) {
      cross += hsum8(ac); /* lanes go to double / int64 every few rows */
      s += _mm_cvtsi128_si64(as) + _mm_extract_epi64(as, 1);
      ss += hsum_epi32(aq);
      ac = _mm256_setzero_ps();
      aq = _mm256_setzero_si256();
      as = _mm_setzero_si128();
    }
  }
  int64_t n = (int64_t)tw * th;
  int64_t nvar = n * ss - s * s; /* exact: zero iff the window is flat */
  if (tl->flat || nvar <= 0) return 0.0;
  double rr = cross / sqrt(tl->ssq * ((double)nvar / (double)n));
  return rr > 1.0 ? 1.0 : (rr < -1.0 ? -1.0 : rr);
}

#else /* not x86: only the portable kernels exist */

int pv__simd_detect(void) { return PV__SIMD_PORTABLE; }

#endif
