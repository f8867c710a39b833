/* Bayer -> luma, AVX2 kernels (32 pixels per step): bayer_simd.h with
 * 256-bit vectors. Compiled for AVX2 by target pragma; bayer.c calls them
 * only when the CPU has AVX2. */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx2")
#endif
#include <immintrin.h>

#include "bayer_internal.h"

#define VT __m256i
#define VW 32
#define V_LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define V_STORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define V_STORE_A(p, v) _mm256_store_si256((__m256i *)(void *)(p), (v))
#define V_SET16(k) _mm256_set1_epi16((short)(k))
#define V_SLL8(v) _mm256_slli_epi16((v), 8)
#define V_SRL8(v) _mm256_srli_epi16((v), 8)
#define V_SRL2(v) _mm256_srli_epi16((v), 2)
#define V_AND(a, b) _mm256_and_si256((a), (b))
#define V_OR(a, b) _mm256_or_si256((a), (b))
#define V_ADD(a, b) _mm256_add_epi16((a), (b))
#define V_AVG(a, b) _mm256_avg_epu16((a), (b))
#define V_MULHI(a, b) _mm256_mulhi_epu16((a), (b))
/* packus works per 128-bit half; the permute puts the halves in order */
#define V_PACK(a, b) _mm256_permute4x64_epi64(_mm256_packus_epi16((a), (b)), 0xd8)
#define KNAME(x) pv__luma_##x##_avx2

#include "bayer_simd.h"

#if defined(__clang__)
#pragma clang attribute pop
#endif
