/* Bayer -> luma, AVX-512BW kernels (64 pixels per step): bayer_simd.h with
 * 512-bit vectors. Compiled for AVX-512BW by target pragma; bayer.c calls
 * them only when the CPU has AVX-512BW. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx512f,avx512bw")
#endif
#include <immintrin.h>

#include "bayer_internal.h"

#define VT __m512i
#define VW 64
#define V_LOAD(p) _mm512_loadu_si512((const __m512i *)(const void *)(p))
#define V_STORE(p, v) _mm512_storeu_si512((__m512i *)(void *)(p), (v))
#define V_STORE_A(p, v) _mm512_store_si512((__m512i *)(void *)(p), (v))
#define V_SET16(k) _mm512_set1_epi16((short)(k))
#define V_SLL8(v) _mm512_slli_epi16((v), 8)
#define V_SRL8(v) _mm512_srli_epi16((v), 8)
#define V_SRL2(v) _mm512_srli_epi16((v), 2)
#define V_AND(a, b) _mm512_and_si512((a), (b))
#define V_OR(a, b) _mm512_or_si512((a), (b))
#define V_ADD(a, b) _mm512_add_epi16((a), (b))
#define V_AVG(a, b) _mm512_avg_epu16((a), (b))
#define V_MULHI(a, b) _mm512_mulhi_epu16((a), (b))
/* packus works per 128-bit quarter; the permute puts the quarters in order */
#define V_PACK(a, b)                                                           \
  _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7),          \
                           _mm512_packus_epi16((a), (b)))
#define KNAME(x) pv__luma_##x##_avx512

#include "bayer_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#endif
