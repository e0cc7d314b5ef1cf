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
/* ---- blocks decoded to floats (decode_block.c), for the sparse FFN's down columns ---- */

/* Values per block of a block-quantized dtype (32 or 256), or -1. */
int64_t kern_block_values(int dtype);
/* One block of dtype at blk decoded to out[0 .. kern_block_values(dtype)), with the arithmetic of the
 * Java decoders (tensor/QuantBlocks, SuperBlocks); the AVX2 path (where the CPU has it) gives the same bits. */
void kern_decode_block(int dtype, const uint8_t *blk, float *out);
void kern_decode_block_portable(int dtype, const uint8_t *blk, float *out);

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
/* ---- blocks decoded to floats (decode_block.c), for the sparse FFN's down columns ---- */

/* Values per block of a block-quantized dtype (32 or 256), or -1. */
int64_t kern_block_values(int dtype);
/* One block of dtype at blk decoded to out[0 .. kern_block_values(dtype)), with the arithmetic of the
 * Java decoders (tensor/QuantBlocks, SuperBlocks); the AVX2 path (where the CPU has it) gives the same bits. */
void kern_decode_block(int dtype, const uint8_t *blk, float *out);
void kern_decode_block_portable(int dtype, const uint8_t *blk, float *out);

#endif

/* IQ4_NL's (and IQ4_XS's) fixed non-linear grid: the value of each 4-bit index (matvec.c). */
extern const int8_t kern_iq4nl_grid[16];

/* ---- the k-quant super-blocks of 256 values (matvec_k.c) ---- */

/* Bytes of one super-block of dtype, or -1 when dtype is not a k-quant. */
int64_t kern_k_block_bytes(int dtype);

/* ---- the integer kernels: x quantized to int8 (q8_0 and the types of at most 6 bits) ----
 *
 * The types whose values are small integers times a scale (q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl and
 * the k-quants) are dotted with x quantized to int8, as native engines do: the products of the quants are
 * exact integer sums, and only the per-block scales are floats. Quantizing x is the only extra error:
 * x is cut into blocks of 32, and value i becomes d[b] * q[i] with
 *     b = i / 32,  d[b] = amax_b / 127,  q[i] = rint(x[i] * (127 / amax_b)) clamped to [-127, 127]
 * (amax_b the largest |x| of the block; d = 0 and q = 0 for a block of zeros), so
 *     |x[i] - d[b] q[i]| <= d[b] / 2   (plus an ulp of the float products),
 * and a row's dot moves by at most  sum_b d[b] / 2 * sum_{i in b} |w[i]|  from the dot with f32 x.
 * The quantization is scalar C, the same on every path, so the AVX2 and portable kernels see the same
 * q and d; threads quantize x each for itself and get the same bits. */
typedef struct {
    const int8_t *q;      /* n values */
    const float *d;       /* n / 32 block scales */
    const int16_t *sum16; /* n / 16 sums of q over 16 consecutive values (for the types with a min) */
} kern_qx;

/* Quantizes x[0..n), n a multiple of 32, into q[n], d[n / 32] and sum16[n / 16]. */
void kern_quantize_x(const float *x, int64_t n, int8_t *q, float *d, int16_t *sum16);

/* x quantized where the kernels need it: on the stack up to FLM_QX_STACK values (20 KiB), else on the
 * heap. kern_qx_init returns 0 or FLM_E_NO_MEMORY; kern_qx_release frees what init took. */
#define FLM_QX_STACK 16384
struct kern_qx_buf {
    _Alignas(32) int8_t q[FLM_QX_STACK];
    float d[FLM_QX_STACK / 32];
    int16_t sum16[FLM_QX_STACK / 16];
    void *heap;
    kern_qx qx;
};
int kern_qx_init(struct kern_qx_buf *b, const float *x, int64_t n);
void kern_qx_release(struct kern_qx_buf *b);

/* R rows of dtype at the addresses w[0..R) (R = 1 or FLM_ROWS) dotted with x, row r's result to
 * y[r * ystep]. A row's bits do not depend on R or on the other rows. */
typedef void (*qrows_fn)(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y, int64_t ystep);

/* The integer kernels of dtype for one row (*one) and FLM_ROWS rows (*many): AVX2 where the CPU has
 * it (and FLASHLM_NO_SIMD is not set), else portable. Returns 0 when dtype has no integer kernels
 * (f32, f16 and bf16 dot with f32 x). matvec.c; the bundle kernels use the same functions, so
 * that a row's dot there has exactly flm_matvec's bits. */
int kern_q_rows(int dtype, qrows_fn *one, qrows_fn *many);
/* The part of kern_q_rows for q8_0, q4_0, q4_1, q5_0, q5_1 and iq4_nl (matvec_legacy_q.c); simd says whether
 * AVX2 may be used. */
int kern_legacy_q_rows(int dtype, int simd, qrows_fn *one, qrows_fn *many);
/* The k-quant part of kern_q_rows (matvec_k.c); simd says whether AVX2 may be used. */
int kern_k_q_rows(int dtype, int simd, qrows_fn *one, qrows_fn *many);

/* ---- blocks decoded to floats (decode_block.c), for the sparse FFN's down columns ---- */

/* Values per block of a block-quantized dtype (32 or 256), or -1. */
int64_t kern_block_values(int dtype);
/* One block of dtype at blk decoded to out[0 .. kern_block_values(dtype)), with the arithmetic of the
 * Java decoders (tensor/QuantBlocks, SuperBlocks); the AVX2 path (where the CPU has it) gives the same bits. */
void kern_decode_block(int dtype, const uint8_t *blk, float *out);
void kern_decode_block_portable(int dtype, const uint8_t *blk, float *out);

#endif
