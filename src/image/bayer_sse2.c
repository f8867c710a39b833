/* Bayer -> luma, SSE2 kernels (16 pixels per step): bayer_simd.h with
 * 128-bit vectors. SSE2 is part of x86-64, so no target attribute. */
#include <emmintrin.h>

#include "bayer_internal.h"

#define VT __m128i
#define VW 16
#define V_LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define V_STORE(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))
#define V_STORE_A(p, v) _mm_store_si128((__m128i *)(void *)(p), (v))
#define V_SET16(k) _mm_set1_epi16((short)(k))
#define V_SLL8(v) _mm_slli_epi16((v), 8)
#define V_SRL8(v) _mm_srli_epi16((v), 8)
#define V_SRL2(v) _mm_srli_epi16((v), 2)
#define V_AND(a, b) _mm_and_si128((a), (b))
#define V_OR(a, b) _mm_or_si128((a), (b))
#define V_ADD(a, b) _mm_add_epi16((a), (b))
#define V_AVG(a, b) _mm_avg_epu16((a), (b))
#define V_MULHI(a, b) _mm_mulhi_epu16((a), (b))
#define V_PACK(a, b) _mm_packus_epi16((a), (b))
#define KNAME(x) pv__luma_##x##_sse2

#include "bayer_simd.h"
