/*
 * The sparse FFN over bundled records for a batch of inputs (a prompt chunk with every neuron resident: the
 * engine's dense mode), with each input's result bit for bit what bundle_ffn.c gives it alone:
 *
 * - up: the gate and up parts of consecutive records are matrices whose rows lie record_bytes apart, so
 *   flm_matmul_strided computes every (row, input) dot with flm_matvec's bits, which are the bits
 *   flm_bundle_ffn_up's dots have; h is the same kern_neuron_h of those dots.
 * - down: y_t[j] = fma(h_t[r], down_r[j], y_t[j]) over the rows in the caller's order, skipping h == 0,
 *   per input: the sequence flm_bundle_ffn_down applies. On the SIMD path for f32 and f16 down parts the
 *   rows go in groups of DB_GROUP: a group's parts, converted to f32 once (exactly: f16 widens), stay in L1
 *   while every input applies them, so the weights are read from memory once per chunk instead of once
 *   per input. The fmas of each element stay in row order, so the grouping changes no bit.
 */
#include "flashlm.h"
#include "bundle_ffn_internal.h"
#include "kernels_internal.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define DB_HAVE_X86 1
#define DB_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

/* Rows applied together, and the columns of a pass: DB_GROUP x DB_CHUNK f32 weights = 16 KiB (L1). */
#define DB_GROUP 8
#define DB_CHUNK 512

FLM_EXPORT int flm_bundle_ffn_up_batch(int row_dtype, int down_dtype, const void *rows, int64_t count,
                                       int64_t record_bytes, int64_t dim, int gated, int activation, const float *bias,
                                       const float *x, int64_t batch, float *h, float *g, int64_t row_begin,
                                       int64_t row_end)
{
    struct kern_bundle_geometry geo;
    int rc = kern_bundle_check_geometry(row_dtype, down_dtype, rows, count, record_bytes, dim, gated, &geo);
    if (rc != 0)
        return rc;
    if (activation < FLM_ACT_RELU || activation > FLM_ACT_GELU_TANH || !x || !h || (gated && !g) || batch < 0 ||
        row_begin < 0 || row_begin > row_end || row_end > count)
        return FLM_E_BAD_ARG;
    if (batch == 0 || row_begin == row_end)
        return 0;
    const uint8_t *base = (const uint8_t *)rows;
    rc = flm_matmul_strided(row_dtype, base + geo.up_off, record_bytes, count, dim, x, batch, h, row_begin, row_end);
    if (rc == 0 && gated)
        rc = flm_matmul_strided(row_dtype, base, record_bytes, count, dim, x, batch, g, row_begin, row_end);
    if (rc != 0)
        return rc;
    for (int64_t t = 0; t < batch; t++) {
        float *ht = h + t * count;
        const float *gt = gated ? g + t * count : NULL;
        for (int64_t r = row_begin; r < row_end; r++)
            ht[r] = kern_neuron_h(gated, activation, bias, r, ht[r], gated ? gt[r] : 0.0f);
    }
    return 0;
}

#ifdef DB_HAVE_X86
/* One input's y[c0..c1) (c1 - c0 a multiple of 8) += the group's rows whose bit is set in mask, in order. */
DB_AVX2 static void apply_group(const float w[DB_GROUP][DB_CHUNK], int R, unsigned mask, const float *hv, float *y,
                                int64_t c0, int64_t c1)
{
    if (R == DB_GROUP && mask == (1u << DB_GROUP) - 1) {
        __m256 hb[DB_GROUP];
        for (int r = 0; r < DB_GROUP; r++)
            hb[r] = _mm256_set1_ps(hv[r]);
        for (int64_t j = c0; j < c1; j += 8) {
            __m256 acc = _mm256_loadu_ps(y + j);
#pragma GCC unroll 8
            for (int r = 0; r < DB_GROUP; r++)
                acc = _mm256_fmadd_ps(hb[r], _mm256_loadu_ps(&w[r][j - c0]), acc);
            _mm256_storeu_ps(y + j, acc);
        }
        return;
    }
    for (int64_t j = c0; j < c1; j += 8) {
        __m256 acc = _mm256_loadu_ps(y + j);
        for (int r = 0; r < R; r++)
            if (mask >> r & 1)
                acc = _mm256_fmadd_ps(_mm256_set1_ps(hv[r]), _mm256_loadu_ps(&w[r][j - c0]), acc);
        _mm256_storeu_ps(y + j, acc);
    }
}

/* Columns [j0, j1) (a multiple of 8 wide) of every input, f32 or f16 down parts. */
DB_AVX2 static void down_batch_avx2(int dtype, const uint8_t *base, int64_t record_bytes, int64_t down_off,
                                    const float *h, int64_t count, int64_t batch, const int32_t *order, int64_t n,
                                    float *y, int64_t dim, int64_t j0, int64_t j1)
{
    _Alignas(32) float w[DB_GROUP][DB_CHUNK];
    float hv[DB_GROUP];
    for (int64_t c0 = j0; c0 < j1; c0 += DB_CHUNK) {
        int64_t c1 = c0 + DB_CHUNK < j1 ? c0 + DB_CHUNK : j1;
        for (int64_t k0 = 0; k0 < n; k0 += DB_GROUP) {
            int R = n - k0 < DB_GROUP ? (int)(n - k0) : DB_GROUP;
            for (int r = 0; r < R; r++) {
                const uint8_t *p = base + order[k0 + r] * record_bytes + down_off;
                for (int64_t j = c0; j < c1; j += 8)
                    _mm256_storeu_ps(&w[r][j - c0],
                                     dtype == FLM_DTYPE_F32
                                         ? _mm256_loadu_ps((const float *)p + j)
                                         : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + j))));
            }
            for (int64_t t = 0; t < batch; t++) {
                const float *ht = h + t * count;
                unsigned mask = 0;
                for (int r = 0; r < R; r++) {
                    hv[r] = ht[order[k0 + r]];
                    if (hv[r] != 0.0f)
                        mask |= 1u << r;
                }
                if (mask != 0)
                    apply_group((const float(*)[DB_CHUNK])w, R, mask, hv, y + t * dim, c0, c1);
            }
        }
    }
}
#endif

FLM_EXPORT int flm_bundle_ffn_down_batch(int row_dtype, int down_dtype, const void *rows, int64_t count,
                                         int64_t record_bytes, int64_t dim, int gated, const float *h, int64_t batch,
                                         const int32_t *order, int64_t n, float *y, int64_t col_begin,
                                         int64_t col_end)
{
    struct kern_bundle_geometry geo;
    int rc = kern_bundle_check_geometry(row_dtype, down_dtype, rows, count, record_bytes, dim, gated, &geo);
    if (rc != 0)
        return rc;
    if (!y || batch < 0 || (n > 0 && batch > 0 && !h) || col_begin < 0 || col_begin > col_end || col_end > dim)
        return FLM_E_BAD_ARG;
    if (kern_bundle_check_order(order, n, count) != 0)
        return FLM_E_BAD_ARG;
    const uint8_t *base = (const uint8_t *)rows;
    const int is_float = down_dtype == FLM_DTYPE_F32 || down_dtype == FLM_DTYPE_F16;
#ifdef DB_HAVE_X86
    if (is_float && flm_kernels_simd()) {
        int64_t b = col_begin + (col_end - col_begin) / 8 * 8;
        down_batch_avx2(down_dtype, base, record_bytes, geo.down_off, h, count, batch, order, n, y, dim, col_begin,
                        b);
        for (int64_t t = 0; t < batch && b < col_end; t++)
            kern_bundle_down_scalar(down_dtype, base, record_bytes, geo.down_off, h + t * count, order, n,
                                    y + t * dim, b, col_end);
        return 0;
    }
#endif
    (void)is_float;
    for (int64_t t = 0; t < batch; t++) {
        rc = flm_bundle_ffn_down(row_dtype, down_dtype, rows, count, record_bytes, dim, gated, h + t * count, order,
                                 n, y + t * dim, col_begin, col_end);
        if (rc != 0)
            return rc;
    }
    return 0;
}
