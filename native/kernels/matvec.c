/*
 * Dense matrix-vector products y[r] = W[r,:] . x for rows [row_begin, row_end), with W stored
 * row-major in f32, f16, bf16, one of GGUF's legacy blocks of 32 (q8_0, q4_0, q4_1, q5_0, q5_1,
 * iq4_nl) or one of its k-quant super-blocks of 256 (matvec_k.c), and x, y in f32. Java splits the
 * rows across threads.
 *
 * Each dtype has an AVX2+FMA+F16C path, chosen once at run time, and a portable scalar path
 * (the two differ in the last bits: FMA rounds once). Both sum a row in 8 lanes added in a fixed
 * order, so a row's result depends only on that row and x: the same on every call and for any
 * split into row ranges, which is what lets the sparse kernels reproduce the dense sums. The AVX2
 * path computes four rows at a time (see below) without changing any row's arithmetic.
 */
#include "flashlm.h"
#include "matvec_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- scalar element decoding ---- */

float kern_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while ((man & 0x400u) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline float bf16_to_f32(uint16_t b)
{
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- portable paths ---- */

static float dot_f32_scalar(const float *w, const float *x, int64_t n)
{
    float l[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            l[k] += w[i + k] * x[i + k];
    for (int k = 0; i < n; i++, k++)
        l[k] += w[i] * x[i];
    return sum8(l);
}

static float dot_f16_scalar(const uint16_t *w, const float *x, int64_t n)
{
    float l[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            l[k] += kern_f16_to_f32(w[i + k]) * x[i + k];
    for (int k = 0; i < n; i++, k++)
        l[k] += kern_f16_to_f32(w[i]) * x[i];
    return sum8(l);
}

static float dot_bf16_scalar(const uint16_t *w, const float *x, int64_t n)
{
    float l[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++)
            l[k] += bf16_to_f32(w[i + k]) * x[i + k];
    for (int k = 0; i < n; i++, k++)
        l[k] += bf16_to_f32(w[i]) * x[i];
    return sum8(l);
}

/* q8_0: blocks of 32 int8 with one f16 scale in front (34 bytes). */
static float dot_q8_0_scalar(const uint8_t *w, const float *x, int64_t n)
{
    float total = 0;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = w + b * 34;
        uint16_t d16;
        memcpy(&d16, blk, 2);
        const int8_t *q = (const int8_t *)(blk + 2);
        const float *xb = x + b * 32;
        float l[8] = {0};
        for (int i = 0; i < 32; i += 8)
            for (int k = 0; k < 8; k++)
                l[k] += (float)q[i + k] * xb[i + k];
        total += kern_f16_to_f32(d16) * sum8(l);
    }
    return total;
}

/* q4_0: blocks of 32 values, f16 scale then 16 bytes; low nibbles are values 0..15, high 16..31. */
static float dot_q4_0_scalar(const uint8_t *w, const float *x, int64_t n)
{
    float total = 0;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = w + b * 18;
        uint16_t d16;
        memcpy(&d16, blk, 2);
        const uint8_t *q = blk + 2;
        const float *xb = x + b * 32;
        float l[8] = {0};
        for (int i = 0; i < 16; i += 8)
            for (int k = 0; k < 8; k++) {
                l[k] += (float)((q[i + k] & 0x0f) - 8) * xb[i + k];
                l[k] += (float)((q[i + k] >> 4) - 8) * xb[16 + i + k];
            }
        total += kern_f16_to_f32(d16) * sum8(l);
    }
    return total;
}

/* ---- the other legacy blocks: q4_1, q5_0, q5_1, iq4_nl ----
 * Each block is an f16 scale d (q4_1 and q5_1: then an f16 min m), for the 5-bit types 32 fifth
 * bits qh, then 16 bytes qs: value j is the low nibble of qs[j], value j + 16 the high one, and
 * bit j of qh (little-endian) is value j's fifth bit. A block's dot is d * sum(q * x), plus
 * m * sum(x) for the types with a min, with q the small integers below. Both paths accumulate
 * per lane over the whole row and sum the lanes once; they differ only in FMA's single rounding. */

/* IQ4_NL's fixed non-linear grid, indexed by a nibble (IQ4_XS's too, in matvec_k.c). */
const int8_t kern_iq4nl_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

static int64_t legacy_block_bytes(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q4_1: return 20;
    case FLM_DTYPE_Q5_0: return 22;
    case FLM_DTYPE_Q5_1: return 24;
    default: return 18; /* iq4_nl */
    }
}

static int legacy_has_min(int dtype)
{
    return dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1;
}

/* The 32 quants of a block as integers: q4_1 0..15, q5_0 -16..15, q5_1 0..31, iq4_nl the grid. */
static void legacy_quants(int dtype, const uint8_t *blk, int8_t q[32])
{
    const uint8_t *qs = blk + (dtype == FLM_DTYPE_Q4_1 ? 4 : dtype == FLM_DTYPE_Q5_0 ? 6
                               : dtype == FLM_DTYPE_Q5_1 ? 8 : 2);
    for (int j = 0; j < 16; j++) {
        q[j] = (int8_t)(qs[j] & 0x0f);
        q[j + 16] = (int8_t)(qs[j] >> 4);
    }
    if (dtype == FLM_DTYPE_Q5_0 || dtype == FLM_DTYPE_Q5_1) {
        const uint8_t *qh = blk + (dtype == FLM_DTYPE_Q5_0 ? 2 : 4);
        uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
        int offset = dtype == FLM_DTYPE_Q5_0 ? 16 : 0;
        for (int j = 0; j < 32; j++)
            q[j] = (int8_t)((q[j] | (int)((h >> j) & 1u) << 4) - offset);
    } else if (dtype == FLM_DTYPE_IQ4_NL) {
        for (int j = 0; j < 32; j++)
            q[j] = kern_iq4nl_grid[q[j]];
    }
}

static float legacy_f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return kern_f16_to_f32(h);
}

/* The portable dot: the arithmetic of rows_legacy_avx2 below with every fused operation split in two. */
static float dot_legacy_scalar(int dtype, const uint8_t *w, const float *x, int64_t n)
{
    const int64_t bytes = legacy_block_bytes(dtype);
    float t[8] = {0};
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = w + b * bytes;
        const float *xb = x + b * 32;
        int8_t q[32];
        legacy_quants(dtype, blk, q);
        float d = legacy_f16_at(blk);
        for (int k = 0; k < 8; k++) {
            /* lane k: values k, 16 + k, 8 + k, 24 + k, as the AVX2 kernel pairs its vectors */
            float a = (float)q[k] * xb[k];
            a += (float)q[16 + k] * xb[16 + k];
            a += (float)q[8 + k] * xb[8 + k];
            a += (float)q[24 + k] * xb[24 + k];
            t[k] += d * a;
        }
        if (legacy_has_min(dtype)) {
            float m = legacy_f16_at(blk + 2);
            for (int k = 0; k < 8; k++)
                t[k] += m * ((xb[k] + xb[8 + k]) + (xb[16 + k] + xb[24 + k]));
        }
    }
    return sum8(t);
}

static float dot_q4_1_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_legacy_scalar(FLM_DTYPE_Q4_1, w, x, n);
}

static float dot_q5_0_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_legacy_scalar(FLM_DTYPE_Q5_0, w, x, n);
}

static float dot_q5_1_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_legacy_scalar(FLM_DTYPE_Q5_1, w, x, n);
}

static float dot_iq4_nl_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_legacy_scalar(FLM_DTYPE_IQ4_NL, w, x, n);
}

/* ---- AVX2 paths ----
 * Each kernel computes R rows at once (R = FLM_ROWS for the bulk, 1 for the rest of a range): row
 * r at w + r * step, its result to y[r * ystep]. The R rows share every load of x and keep R
 * independent FMA chains in flight, where one row alone waits on the latency of its single chain.
 * Every row still goes through exactly the operations of the one-row case in the same order, so
 * its result does not depend on how rows are grouped. */
#ifdef FLM_HAVE_X86
FLM_AVX2 FLM_INLINE void rows_f32_avx2(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y,
                                        int64_t ystep, const int R)
{
    __m256 acc[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(w + r * step) + i), xv, acc[r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        const float *wr = (const float *)(w + r * step);
        float l[8];
        _mm256_storeu_ps(l, acc[r]);
        for (int64_t j = i, k = 0; j < n; j++, k++)
            l[k] += wr[j] * x[j];
        y[r * ystep] = sum8(l);
    }
}

FLM_AVX2 FLM_INLINE void rows_f16_avx2(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y,
                                        int64_t ystep, const int R)
{
    __m256 acc[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint16_t *wr = (const uint16_t *)(w + r * step);
            __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wr + i)));
            acc[r] = _mm256_fmadd_ps(wv, xv, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        const uint16_t *wr = (const uint16_t *)(w + r * step);
        float l[8];
        _mm256_storeu_ps(l, acc[r]);
        for (int64_t j = i, k = 0; j < n; j++, k++)
            l[k] += _cvtsh_ss(wr[j]) * x[j];
        y[r * ystep] = sum8(l);
    }
}

FLM_AVX2 FLM_INLINE void rows_bf16_avx2(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y,
                                         int64_t ystep, const int R)
{
    __m256 acc[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint16_t *wr = (const uint16_t *)(w + r * step);
            __m256i wi = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(wr + i))), 16);
            acc[r] = _mm256_fmadd_ps(_mm256_castsi256_ps(wi), xv, acc[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        const uint16_t *wr = (const uint16_t *)(w + r * step);
        float l[8];
        _mm256_storeu_ps(l, acc[r]);
        for (int64_t j = i, k = 0; j < n; j++, k++)
            l[k] += bf16_to_f32(wr[j]) * x[j];
        y[r * ystep] = sum8(l);
    }
}

/* Eight int8 quants as floats (exact). */
FLM_AVX2 FLM_INLINE __m256 q8_0_values(const int8_t *q)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)));
}

FLM_AVX2 FLM_INLINE void rows_q8_0_avx2(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y,
                                         int64_t ystep, const int R)
{
    __m256 total[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        total[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8);
        __m256 x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * step + b * 34;
            const int8_t *q = (const int8_t *)(blk + 2);
            __m256 acc = _mm256_setzero_ps();
            acc = _mm256_fmadd_ps(q8_0_values(q), x0, acc);
            acc = _mm256_fmadd_ps(q8_0_values(q + 8), x1, acc);
            acc = _mm256_fmadd_ps(q8_0_values(q + 16), x2, acc);
            acc = _mm256_fmadd_ps(q8_0_values(q + 24), x3, acc);
            total[r] = _mm256_fmadd_ps(_mm256_set1_ps(scale_f16(blk)), acc, total[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        y[r * ystep] = hsum8(total[r]);
}

FLM_AVX2 FLM_INLINE void rows_q4_0_avx2(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y,
                                         int64_t ystep, const int R)
{
    const __m256i eight = _mm256_set1_epi32(8);
    const __m256i low4 = _mm256_set1_epi32(0x0f);
    __m256 total[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        total[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8);
        __m256 x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * step + b * 18;
            const uint8_t *q = blk + 2;
            /* values 0..7 and 16..23 from bytes 0..7, then 8..15 and 24..31 from bytes 8..15 */
            __m256i b0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)q));
            __m256i b1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + 8)));
            __m256 acc = _mm256_setzero_ps();
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(b0, low4), eight)), x0, acc);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b0, 4), eight)), x2, acc);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_and_si256(b1, low4), eight)), x1, acc);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(b1, 4), eight)), x3, acc);
            total[r] = _mm256_fmadd_ps(_mm256_set1_ps(scale_f16(blk)), acc, total[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        y[r * ystep] = hsum8(total[r]);
}

/* The 16 bytes at qs as nibbles: *lo = values 0..15 (low nibbles), *hi = values 16..31 (high). */
FLM_AVX2 FLM_INLINE void nibbles_avx2(const uint8_t *qs, __m128i *lo, __m128i *hi)
{
    const __m128i low4 = _mm_set1_epi8(0x0f);
    __m128i b = _mm_loadu_si128((const __m128i *)qs);
    *lo = _mm_and_si128(b, low4);
    *hi = _mm_and_si128(_mm_srli_epi16(b, 4), low4);
}

/* 0x10 in byte j where bit j of the 32 little-endian bits at qh is set: values 0..15 in *lo, 16..31 in *hi. */
FLM_AVX2 FLM_INLINE void fifth_bits_avx2(const uint8_t *qh, __m128i *lo, __m128i *hi)
{
    uint32_t h;
    memcpy(&h, qh, 4);
    const __m128i bit = _mm_set1_epi64x((long long)0x8040201008040201ULL); /* byte j: 1 << (j % 8) */
    const __m128i sixteen = _mm_set1_epi8(0x10);
    __m128i hv = _mm_cvtsi32_si128((int)h);
    /* byte j of each half gets the byte of qh that holds its bit */
    __m128i h01 = _mm_shuffle_epi8(hv, _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    __m128i h23 = _mm_shuffle_epi8(hv, _mm_setr_epi8(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    *lo = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(h01, bit), bit), sixteen);
    *hi = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(h23, bit), bit), sixteen);
}

/* The quants of legacy_quants() as int8: values 0..15 in *lo, 16..31 in *hi. */
FLM_AVX2 FLM_INLINE void legacy_quants_avx2(const int dtype, const uint8_t *blk, __m128i *lo, __m128i *hi)
{
    if (dtype == FLM_DTYPE_Q4_1) {
        nibbles_avx2(blk + 4, lo, hi);
    } else if (dtype == FLM_DTYPE_IQ4_NL) {
        const __m128i grid = _mm_loadu_si128((const __m128i *)kern_iq4nl_grid);
        nibbles_avx2(blk + 2, lo, hi);
        *lo = _mm_shuffle_epi8(grid, *lo);
        *hi = _mm_shuffle_epi8(grid, *hi);
    } else { /* q5_0, q5_1 */
        const int q5_0 = dtype == FLM_DTYPE_Q5_0;
        __m128i hlo, hhi;
        nibbles_avx2(blk + (q5_0 ? 6 : 8), lo, hi);
        fifth_bits_avx2(blk + (q5_0 ? 2 : 4), &hlo, &hhi);
        *lo = _mm_or_si128(*lo, hlo);
        *hi = _mm_or_si128(*hi, hhi);
        if (q5_0) {
            const __m128i sixteen = _mm_set1_epi8(16);
            *lo = _mm_sub_epi8(*lo, sixteen);
            *hi = _mm_sub_epi8(*hi, sixteen);
        }
    }
}

/* Eight int8 quants (the low 8 bytes of v) as floats (exact). */
FLM_AVX2 FLM_INLINE __m256 i8_values(__m128i v)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
}

FLM_AVX2 FLM_INLINE void rows_legacy_avx2(const int dtype, const uint8_t *w, int64_t step, const float *x, int64_t n,
                                           float *y, int64_t ystep, const int R)
{
    const int64_t bytes = legacy_block_bytes(dtype);
    const int with_min = legacy_has_min(dtype);
    __m256 total[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        total[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8);
        __m256 x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
        __m256 xsum = with_min ? _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)) : x0;
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *blk = w + r * step + b * bytes;
            __m128i lo, hi;
            legacy_quants_avx2(dtype, blk, &lo, &hi);
            __m256 acc = _mm256_mul_ps(i8_values(lo), x0);
            acc = _mm256_fmadd_ps(i8_values(hi), x2, acc);
            acc = _mm256_fmadd_ps(i8_values(_mm_srli_si128(lo, 8)), x1, acc);
            acc = _mm256_fmadd_ps(i8_values(_mm_srli_si128(hi, 8)), x3, acc);
            total[r] = _mm256_fmadd_ps(_mm256_set1_ps(scale_f16(blk)), acc, total[r]);
            if (with_min)
                total[r] = _mm256_fmadd_ps(_mm256_set1_ps(scale_f16(blk + 2)), xsum, total[r]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        y[r * ystep] = hsum8(total[r]);
}

#define FLM_LEGACY_ROWS(name, code)                                                                        \
    FLM_AVX2 FLM_INLINE void rows_##name##_avx2(const uint8_t *w, int64_t step, const float *x, int64_t n, \
                                                float *y, int64_t ystep, const int R)                      \
    {                                                                                                      \
        rows_legacy_avx2(code, w, step, x, n, y, ystep, R);                                                \
    }
FLM_LEGACY_ROWS(q4_1, FLM_DTYPE_Q4_1)
FLM_LEGACY_ROWS(q5_0, FLM_DTYPE_Q5_0)
FLM_LEGACY_ROWS(q5_1, FLM_DTYPE_Q5_1)
FLM_LEGACY_ROWS(iq4_nl, FLM_DTYPE_IQ4_NL)

/* One function per dtype and row count, so that R is a constant the loops over rows unroll on. */
#define FLM_ROW_KERNELS(name)                                                                              \
    FLM_AVX2 static void name##_x1(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y, \
                                   int64_t ystep)                                                        \
    {                                                                                                    \
        rows_##name(w, step, x, n, y, ystep, 1);                                                         \
    }                                                                                                    \
    FLM_AVX2 static void name##_x4(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y, \
                                   int64_t ystep)                                                        \
    {                                                                                                    \
        rows_##name(w, step, x, n, y, ystep, FLM_ROWS);                                                  \
    }
FLM_ROW_KERNELS(f32_avx2)
FLM_ROW_KERNELS(f16_avx2)
FLM_ROW_KERNELS(bf16_avx2)
FLM_ROW_KERNELS(q8_0_avx2)
FLM_ROW_KERNELS(q4_0_avx2)
FLM_ROW_KERNELS(q4_1_avx2)
FLM_ROW_KERNELS(q5_0_avx2)
FLM_ROW_KERNELS(q5_1_avx2)
FLM_ROW_KERNELS(iq4_nl_avx2)
#endif

/* ---- dispatch ---- */

static int use_avx2 = -1;

static int have_avx2(void)
{
#ifdef FLM_HAVE_X86
    if (use_avx2 < 0) {
        /* FLASHLM_NO_SIMD=1 forces the portable paths (their tests, and comparisons). */
        const char *off = getenv("FLASHLM_NO_SIMD");
        __builtin_cpu_init();
        use_avx2 = !(off && off[0] == '1') && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   __builtin_cpu_supports("f16c");
    }
    return use_avx2;
#else
    return 0;
#endif
}

static dot_fn pick_dot(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_F32: return (dot_fn)dot_f32_scalar;
    case FLM_DTYPE_F16: return (dot_fn)dot_f16_scalar;
    case FLM_DTYPE_BF16: return (dot_fn)dot_bf16_scalar;
    case FLM_DTYPE_Q8_0: return (dot_fn)dot_q8_0_scalar;
    case FLM_DTYPE_Q4_0: return (dot_fn)dot_q4_0_scalar;
    case FLM_DTYPE_Q4_1: return (dot_fn)dot_q4_1_scalar;
    case FLM_DTYPE_Q5_0: return (dot_fn)dot_q5_0_scalar;
    case FLM_DTYPE_Q5_1: return (dot_fn)dot_q5_1_scalar;
    case FLM_DTYPE_IQ4_NL: return (dot_fn)dot_iq4_nl_scalar;
    default: return kern_k_dot(dtype);
    }
}

/* The AVX2 kernels for one row (*one) and for FLM_ROWS rows (*many); 0 when the portable path runs. */
static int pick_rows(int dtype, rows_fn *one, rows_fn *many)
{
#ifdef FLM_HAVE_X86
    if (!have_avx2())
        return 0;
    switch (dtype) {
    case FLM_DTYPE_F32: *one = f32_avx2_x1; *many = f32_avx2_x4; return 1;
    case FLM_DTYPE_F16: *one = f16_avx2_x1; *many = f16_avx2_x4; return 1;
    case FLM_DTYPE_BF16: *one = bf16_avx2_x1; *many = bf16_avx2_x4; return 1;
    case FLM_DTYPE_Q8_0: *one = q8_0_avx2_x1; *many = q8_0_avx2_x4; return 1;
    case FLM_DTYPE_Q4_0: *one = q4_0_avx2_x1; *many = q4_0_avx2_x4; return 1;
    case FLM_DTYPE_Q4_1: *one = q4_1_avx2_x1; *many = q4_1_avx2_x4; return 1;
    case FLM_DTYPE_Q5_0: *one = q5_0_avx2_x1; *many = q5_0_avx2_x4; return 1;
    case FLM_DTYPE_Q5_1: *one = q5_1_avx2_x1; *many = q5_1_avx2_x4; return 1;
    case FLM_DTYPE_IQ4_NL: *one = iq4_nl_avx2_x1; *many = iq4_nl_avx2_x4; return 1;
    default: return kern_k_rows(dtype, one, many);
    }
#else
    (void)dtype;
    (void)one;
    (void)many;
    return 0;
#endif
}

FLM_EXPORT int64_t flm_row_bytes(int dtype, int64_t cols)
{
    switch (dtype) {
    case FLM_DTYPE_F32: return cols * 4;
    case FLM_DTYPE_F16:
    case FLM_DTYPE_BF16: return cols * 2;
    case FLM_DTYPE_Q8_0: return cols % 32 ? -1 : cols / 32 * 34;
    case FLM_DTYPE_Q4_0:
    case FLM_DTYPE_IQ4_NL: return cols % 32 ? -1 : cols / 32 * 18;
    case FLM_DTYPE_Q4_1: return cols % 32 ? -1 : cols / 32 * 20;
    case FLM_DTYPE_Q5_0: return cols % 32 ? -1 : cols / 32 * 22;
    case FLM_DTYPE_Q5_1: return cols % 32 ? -1 : cols / 32 * 24;
    default: {
        int64_t bytes = kern_k_block_bytes(dtype);
        return bytes < 0 || cols % 256 ? -1 : cols / 256 * bytes;
    }
    }
}

void kern_quantize_x(const float *x, int64_t n, int8_t *q, float *d, int16_t *sum16)
{
    for (int64_t b = 0; b < n / 32; b++) {
        const float *xb = x + b * 32;
        float amax = 0.0f;
        for (int i = 0; i < 32; i++)
            amax = fmaxf(amax, fabsf(xb[i]));
        const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        d[b] = amax / 127.0f;
        for (int h = 0; h < 2; h++) {
            int sum = 0;
            for (int i = 16 * h; i < 16 * h + 16; i++) {
                float v = rintf(xb[i] * inv);
                int qi = v > 127.0f ? 127 : v < -127.0f ? -127 : (int)v;
                q[b * 32 + i] = (int8_t)qi;
                sum += qi;
            }
            sum16[2 * b + h] = (int16_t)sum;
        }
    }
}

int kern_q_rows(int dtype, qrows_fn *one, qrows_fn *many)
{
    int simd = have_avx2();
    switch (dtype) {
    default: return kern_k_q_rows(dtype, simd, one, many);
    }
}

int kern_qx_init(struct kern_qx_buf *b, const float *x, int64_t n)
{
    int8_t *q = b->q;
    float *d = b->d;
    int16_t *s = b->sum16;
    b->heap = NULL;
    if (n > FLM_QX_STACK) {
        b->heap = malloc((size_t)n + (size_t)(n / 32) * sizeof(float) + (size_t)(n / 16) * sizeof(int16_t));
        if (!b->heap)
            return FLM_E_NO_MEMORY;
        q = b->heap;
        d = (float *)(q + n);
        s = (int16_t *)(d + n / 32);
    }
    kern_quantize_x(x, n, q, d, s);
    b->qx = (kern_qx){q, d, s};
    return 0;
}

void kern_qx_release(struct kern_qx_buf *b)
{
    free(b->heap);
    b->heap = NULL;
}

/* flm_matvec for the types with integer kernels: quantizes x once, then the rows as below. */
static int matvec_q(qrows_fn one, qrows_fn many, const uint8_t *base, int64_t stride, int64_t cols, const float *x,
                    float *y, int64_t row_begin, int64_t row_end)
{
    struct kern_qx_buf buf;
    int rc = kern_qx_init(&buf, x, cols);
    if (rc != 0)
        return rc;
    /* the streams of flm_matvec's float path, below */
    int64_t part = (row_end - row_begin) / FLM_ROWS;
    for (int64_t i = 0; i < part; i++) {
        const uint8_t *w[FLM_ROWS];
        for (int r = 0; r < FLM_ROWS; r++)
            w[r] = base + (row_begin + i + r * part) * stride;
        many(w, &buf.qx, cols, y + row_begin + i, part);
    }
    for (int64_t r = row_begin + FLM_ROWS * part; r < row_end; r++) {
        const uint8_t *w1 = base + r * stride;
        one(&w1, &buf.qx, cols, y + r, 0);
    }
    kern_qx_release(&buf);
    return 0;
}

FLM_EXPORT int flm_matvec(int dtype, const void *w, int64_t rows, int64_t cols, const float *x, float *y,
                          int64_t row_begin, int64_t row_end)
{
    dot_fn dot = pick_dot(dtype);
    if (!dot || !w || !x || !y || rows < 0 || cols <= 0 || cols > (INT64_C(1) << 40) || row_begin < 0 ||
        row_end > rows || row_begin > row_end)
        return FLM_E_BAD_ARG;
    int64_t stride = flm_row_bytes(dtype, cols);
    if (stride <= 0)
        return FLM_E_BAD_ARG;
    const uint8_t *base = (const uint8_t *)w;
    qrows_fn qone, qmany;
    if (kern_q_rows(dtype, &qone, &qmany))
        return matvec_q(qone, qmany, base, stride, cols, x, y, row_begin, row_end);
    rows_fn one, many;
    if (pick_rows(dtype, &one, &many)) {
        /* FLM_ROWS streams: row i of each of FLM_ROWS equal parts of the range at once, so that
         * every stream walks consecutive rows, i.e. contiguous memory, which the hardware
         * prefetchers follow far better than FLM_ROWS adjacent rows sharing their pages. */
        int64_t part = (row_end - row_begin) / FLM_ROWS;
        for (int64_t i = 0; i < part; i++)
            many(base + (row_begin + i) * stride, part * stride, x, cols, y + row_begin + i, part);
        for (int64_t r = row_begin + FLM_ROWS * part; r < row_end; r++)
            one(base + r * stride, 0, x, cols, y + r, 0);
        return 0;
    }
    for (int64_t r = row_begin; r < row_end; r++)
        y[r] = dot(base + r * stride, x, cols);
    return 0;
}

FLM_EXPORT int flm_kernels_simd(void)
{
    return have_avx2();
}
