/* What matvec.c and matvec_k.c (the k-quant super-blocks) share: the lane sums, the AVX2 helpers and
 * the k-quant kernels matvec.c dispatches to. Not part of the ABI. */
#ifndef FLASHLM_MATVEC_INTERNAL_H
#define FLASHLM_MATVEC_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "kernels_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define FLM_HAVE_X86 1
#endif

/* Rows the AVX2 kernels compute at once. */
#define FLM_ROWS 4

/* A row's dot product (the portable paths). */
typedef float (*dot_fn)(const void *w, const float *x, int64_t n);
/* R rows at once, row r at w + r * step, its result to y[r * ystep] (the AVX2 paths). */
typedef void (*rows_fn)(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y, int64_t ystep);

/* Sums 8 lanes in a fixed tree order (matches hsum8 below). */
static inline float sum8(const float l[8])
{
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

#ifdef FLM_HAVE_X86
#define FLM_AVX2 __attribute__((target("avx2,fma,f16c")))
#define FLM_INLINE static inline __attribute__((always_inline))

FLM_AVX2 static inline float hsum8(__m256 v)
{
    /* lanes (0+4),(1+5),(2+6),(3+7), then (0+2),(1+3), then 0+1: the order of sum8(). */
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* The f16 at p, converted by F16C (exact, like kern_f16_to_f32, which is not called here: a call to
 * non-AVX code between AVX instructions costs hundreds of cycles on some CPUs). */
FLM_AVX2 FLM_INLINE float scale_f16(const uint8_t *p)
{
    uint16_t d16;
    memcpy(&d16, p, 2);
    return _cvtsh_ss(d16);
}
#endif

/* IQ4_NL's (and IQ4_XS's) fixed non-linear grid: the value of each 4-bit index (matvec.c). */
extern const int8_t kern_iq4nl_grid[16];

/* ---- the k-quant super-blocks of 256 values (matvec_k.c) ---- */

/* Bytes of one super-block of dtype, or -1 when dtype is not a k-quant. */
int64_t kern_k_block_bytes(int dtype);
/* The portable dot of a k-quant dtype, or NULL. */
dot_fn kern_k_dot(int dtype);
/* The AVX2 kernels of a k-quant dtype for one row and for FLM_ROWS rows; 0 when it has none (the
 * caller has checked that the CPU runs AVX2, FMA and F16C). */
int kern_k_rows(int dtype, rows_fn *one, rows_fn *many);

#endif
