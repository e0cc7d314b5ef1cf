/*
 * Dense matrix-vector products y[r] = W[r,:] . x for rows [row_begin, row_end), with W stored
 * row-major in f32, f16, bf16, one of GGUF's legacy blocks of 32 (q8_0, q4_0, q4_1, q5_0, q5_1,
 * iq4_nl) or one of its k-quant super-blocks of 256 (matvec_k.c), and x, y in f32. Java splits the
 * rows across threads.
 *
 * q8_0, q4_0, q4_1, q5_0, q5_1 and iq4_nl run on the integer kernels (x quantized to int8, matvec_q
 * below, the kernels in matvec_legacy_q.c); f32, f16 and bf16 on the float kernels here.
 *
 * Each dtype has an AVX2+FMA+F16C path, chosen once at run time, and a portable scalar path
 * (the two differ in the last bits: FMA rounds once). Both sum a row in 8 lanes added in a fixed
 * order, so a row's result depends only on that row and x: the same on every call and for any
 * split into row ranges, which is what lets the sparse kernels reproduce the dense sums. The AVX2
 * path computes four rows at a time (see below) without changing any row's arithmetic.
 */
#include "flashlm.h"
#include "matvec_internal.h"

#include <float.h>
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

/* IQ4_NL's fixed non-linear grid, indexed by a nibble (iq4_nl's integer kernels in matvec_legacy_q.c,
 * IQ4_XS in matvec_k.c). */
const int8_t kern_iq4nl_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

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
    default: return NULL; /* the block types run on the integer kernels */
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
    default: return 0;
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

#ifdef FLM_HAVE_X86
/* Block b of kern_quantize_x in AVX2, the same operations on 8 lanes: max is exact, x * scale * inv is
 * the same two products, round-to-nearest-even is rintf's default, the clamp and the integer sums are
 * exact, so the bits are those of the scalar code. 0 when the block has a NaN or an infinity (the caller
 * then takes the scalar path). */
FLM_AVX2 static int quantize_block_avx2(const float *xb, int8_t *q, float *d, int16_t *sum16)
{
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 v[4], a[4];
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(xb + 8 * k);
        a[k] = _mm256_and_ps(v[k], abs_mask);
    }
    const __m256 big = _mm256_set1_ps(FLT_MAX);
    __m256 finite = _mm256_and_ps(_mm256_and_ps(_mm256_cmp_ps(a[0], big, _CMP_LE_OQ), _mm256_cmp_ps(a[1], big, _CMP_LE_OQ)),
                                  _mm256_and_ps(_mm256_cmp_ps(a[2], big, _CMP_LE_OQ), _mm256_cmp_ps(a[3], big, _CMP_LE_OQ)));
    if (_mm256_movemask_ps(finite) != 0xff)
        return 0;
    __m256 m = _mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3]));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float scale = amax < 0x1p-60f ? 0x1p64f : 1.0f;
    const float inv = amax > 0.0f ? 127.0f / (amax * scale) : 0.0f;
    *d = amax / 127.0f;
    const __m256 vs = _mm256_set1_ps(scale), vi = _mm256_set1_ps(inv);
    const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    __m256i qi[4];
    for (int k = 0; k < 4; k++) {
        __m256 r = _mm256_round_ps(_mm256_mul_ps(_mm256_mul_ps(v[k], vs), vi), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        qi[k] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(r, lo), hi));
    }
    /* int32 -> int8 in order: the packs interleave 4-value groups (0a 1a 2a 3a | 0b 1b 2b 3b), the permute
     * puts them back */
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(qi[0], qi[1]), _mm256_packs_epi32(qi[2], qi[3]));
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)q, p);
    __m256i s = _mm256_hadd_epi32(_mm256_add_epi32(qi[0], qi[1]), _mm256_add_epi32(qi[2], qi[3]));
    s = _mm256_hadd_epi32(s, s); /* lanes 0, 4: the sums of values 0..15 (halves); 1, 5: of 16..31 */
    int32_t l[8];
    _mm256_storeu_si256((__m256i *)l, s);
    sum16[0] = (int16_t)(l[0] + l[4]);
    sum16[1] = (int16_t)(l[1] + l[5]);
    return 1;
}
#endif

void kern_quantize_x(const float *x, int64_t n, int8_t *q, float *d, int16_t *sum16)
{
#ifdef FLM_HAVE_X86
    const int simd = have_avx2();
#endif
    for (int64_t b = 0; b < n / 32; b++) {
#ifdef FLM_HAVE_X86
        if (simd && quantize_block_avx2(x + b * 32, q + b * 32, d + b, sum16 + 2 * b))
            continue;
#endif
        const float *xb = x + b * 32;
        float amax = 0.0f;
        int finite = 1;
        for (int i = 0; i < 32; i++) {
            float a = fabsf(xb[i]);
            finite &= a <= FLT_MAX; /* false for inf and NaN */
            amax = fmaxf(amax, a);
        }
        if (!finite) {
            /* a NaN or an infinity: the block's scale is NaN, so every row's result is NaN, as a NaN
             * or an infinity in x makes the float dot NaN or infinite (never a conversion of NaN) */
            d[b] = NAN;
            memset(q + b * 32, 0, 32);
            sum16[2 * b] = sum16[2 * b + 1] = 0;
            continue;
        }
        /* a block below 2^-60 is scaled by 2^64 (exactly) first, so that 127 / amax stays finite
         * (for the subnormals); other blocks are not scaled */
        const float scale = amax < 0x1p-60f ? 0x1p64f : 1.0f;
        const float inv = amax > 0.0f ? 127.0f / (amax * scale) : 0.0f;
        d[b] = amax / 127.0f;
        for (int h = 0; h < 2; h++) {
            int sum = 0;
            for (int i = 16 * h; i < 16 * h + 16; i++) {
                float v = rintf(xb[i] * scale * inv);
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
    case FLM_DTYPE_Q8_0:
    case FLM_DTYPE_Q4_0:
    case FLM_DTYPE_Q4_1:
    case FLM_DTYPE_Q5_0:
    case FLM_DTYPE_Q5_1:
    case FLM_DTYPE_IQ4_NL: return kern_legacy_q_rows(dtype, simd, one, many);
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
    if (!w || !x || !y || rows < 0 || cols <= 0 || cols > (INT64_C(1) << 40) || row_begin < 0 ||
        row_end > rows || row_begin > row_end)
        return FLM_E_BAD_ARG;
    /* -1 for an unknown dtype, or cols that are not whole blocks */
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
    dot_fn dot = pick_dot(dtype);
    if (!dot)
        return FLM_E_BAD_ARG;
    for (int64_t r = row_begin; r < row_end; r++)
        y[r] = dot(base + r * stride, x, cols);
    return 0;
}

FLM_EXPORT int flm_kernels_simd(void)
{
    return have_avx2();
}
