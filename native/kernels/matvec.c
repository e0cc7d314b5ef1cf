/*
 * Dense matrix-vector products y[r] = W[r,:] . x for rows [row_begin, row_end), with W stored
 * row-major in f32, f16, bf16, q8_0 or q4_0 and x, y in f32. Java splits the rows across threads.
 *
 * Each dtype has an AVX2+FMA+F16C path, chosen once at run time, and a portable scalar path
 * (the two differ in the last bits: FMA rounds once). Both sum a row in 8 lanes added in a fixed
 * order, so a row's result depends only on that row and x: the same on every call and for any
 * split into row ranges, which is what lets the sparse kernels reproduce the dense sums.
 */
#include "flashlm.h"
#include "kernels_internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define FLM_HAVE_X86 1
#endif

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

/* Sums 8 lanes in a fixed tree order (matches the AVX2 horizontal sum below). */
static inline float sum8(const float l[8])
{
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
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

/* ---- AVX2 paths ---- */
#ifdef FLM_HAVE_X86
#define FLM_AVX2 __attribute__((target("avx2,fma,f16c")))

FLM_AVX2 static inline float hsum8(__m256 v)
{
    /* lanes (0+4),(1+5),(2+6),(3+7), then (0+2),(1+3), then 0+1: the order of sum8(). */
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

FLM_AVX2 static float dot_f32_avx2(const float *w, const float *x, int64_t n)
{
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), acc);
    float l[8];
    _mm256_storeu_ps(l, acc);
    for (int k = 0; i < n; i++, k++)
        l[k] += w[i] * x[i];
    return sum8(l);
}

FLM_AVX2 static float dot_f16_avx2(const uint16_t *w, const float *x, int64_t n)
{
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i)));
        acc = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i), acc);
    }
    float l[8];
    _mm256_storeu_ps(l, acc);
    for (int k = 0; i < n; i++, k++)
        l[k] += kern_f16_to_f32(w[i]) * x[i];
    return sum8(l);
}

FLM_AVX2 static float dot_bf16_avx2(const uint16_t *w, const float *x, int64_t n)
{
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i wi = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + i))), 16);
        acc = _mm256_fmadd_ps(_mm256_castsi256_ps(wi), _mm256_loadu_ps(x + i), acc);
    }
    float l[8];
    _mm256_storeu_ps(l, acc);
    for (int k = 0; i < n; i++, k++)
        l[k] += bf16_to_f32(w[i]) * x[i];
    return sum8(l);
}

FLM_AVX2 static float dot_q8_0_avx2(const uint8_t *w, const float *x, int64_t n)
{
    __m256 total = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = w + b * 34;
        uint16_t d16;
        memcpy(&d16, blk, 2);
        const int8_t *q = (const int8_t *)(blk + 2);
        const float *xb = x + b * 32;
        __m256 acc = _mm256_setzero_ps();
        for (int i = 0; i < 32; i += 8) {
            __m256 qv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(q + i))));
            acc = _mm256_fmadd_ps(qv, _mm256_loadu_ps(xb + i), acc);
        }
        total = _mm256_fmadd_ps(_mm256_set1_ps(kern_f16_to_f32(d16)), acc, total);
    }
    return hsum8(total);
}

FLM_AVX2 static float dot_q4_0_avx2(const uint8_t *w, const float *x, int64_t n)
{
    __m256 total = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi32(8);
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = w + b * 18;
        uint16_t d16;
        memcpy(&d16, blk, 2);
        const uint8_t *q = blk + 2;
        const float *xb = x + b * 32;
        __m256 acc = _mm256_setzero_ps();
        for (int i = 0; i < 16; i += 8) {
            __m256i bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(q + i)));
            __m256i lo = _mm256_sub_epi32(_mm256_and_si256(bytes, _mm256_set1_epi32(0x0f)), eight);
            __m256i hi = _mm256_sub_epi32(_mm256_srli_epi32(bytes, 4), eight);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(lo), _mm256_loadu_ps(xb + i), acc);
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hi), _mm256_loadu_ps(xb + 16 + i), acc);
        }
        total = _mm256_fmadd_ps(_mm256_set1_ps(kern_f16_to_f32(d16)), acc, total);
    }
    return hsum8(total);
}
#endif

/* ---- dispatch ---- */

typedef float (*dot_fn)(const void *w, const float *x, int64_t n);

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
    int v = have_avx2();
    switch (dtype) {
#ifdef FLM_HAVE_X86
    case FLM_DTYPE_F32: return v ? (dot_fn)dot_f32_avx2 : (dot_fn)dot_f32_scalar;
    case FLM_DTYPE_F16: return v ? (dot_fn)dot_f16_avx2 : (dot_fn)dot_f16_scalar;
    case FLM_DTYPE_BF16: return v ? (dot_fn)dot_bf16_avx2 : (dot_fn)dot_bf16_scalar;
    case FLM_DTYPE_Q8_0: return v ? (dot_fn)dot_q8_0_avx2 : (dot_fn)dot_q8_0_scalar;
    case FLM_DTYPE_Q4_0: return v ? (dot_fn)dot_q4_0_avx2 : (dot_fn)dot_q4_0_scalar;
#else
    case FLM_DTYPE_F32: return (dot_fn)dot_f32_scalar;
    case FLM_DTYPE_F16: return (dot_fn)dot_f16_scalar;
    case FLM_DTYPE_BF16: return (dot_fn)dot_bf16_scalar;
    case FLM_DTYPE_Q8_0: return (dot_fn)dot_q8_0_scalar;
    case FLM_DTYPE_Q4_0: return (dot_fn)dot_q4_0_scalar;
#endif
    default: return NULL;
    }
}

FLM_EXPORT int64_t flm_row_bytes(int dtype, int64_t cols)
{
    switch (dtype) {
    case FLM_DTYPE_F32: return cols * 4;
    case FLM_DTYPE_F16:
    case FLM_DTYPE_BF16: return cols * 2;
    case FLM_DTYPE_Q8_0: return cols % 32 ? -1 : cols / 32 * 34;
    case FLM_DTYPE_Q4_0: return cols % 32 ? -1 : cols / 32 * 18;
    default: return -1;
    }
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
    for (int64_t r = row_begin; r < row_end; r++)
        y[r] = dot(base + r * stride, x, cols);
    return 0;
}

FLM_EXPORT int flm_kernels_simd(void)
{
    return have_avx2();
}
