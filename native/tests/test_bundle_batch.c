/* flm_bundle_ffn_up_batch and flm_bundle_ffn_down_batch against the one-input kernels: for row and down
 * dtypes, gated and ReLU (with biases, so that many h are exactly 0), dims that are and are not multiples
 * of 8, each input's h and y must be flm_bundle_ffn_up's and flm_bundle_ffn_down's bit for bit (memcmp), for
 * a column range split in two as the Java side splits it across threads; then the argument checks. ctest
 * runs it on the SIMD kernels and with FLASHLM_NO_SIMD=1. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static uint64_t rng = 0x51ed270b2a7c4f1dULL;

static float frand(void)
{
    return (float)((tu_rand(&rng) >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static void check_case(int row_dtype, int down_dtype, int gated, int activation, int64_t dim, int64_t count,
                       int64_t batch, int with_bias)
{
    int64_t rp = flm_row_bytes(row_dtype, dim), dp = flm_row_bytes(down_dtype, dim);
    CHECK_MSG(rp > 0 && dp > 0, "dtypes %d/%d dim %lld", row_dtype, down_dtype, (long long)dim);
    if (rp <= 0 || dp <= 0)
        return;
    int64_t rec = (gated ? 2 : 1) * rp + dp + 24; /* padded, as aligned records are */
    uint8_t *rows = calloc((size_t)(rec * count), 1);
    int parts = gated ? 2 : 1;
    for (int p = 0; p < parts; p++)
        CHECK(flm_synth_fill(row_dtype, rows + p * rp, count, dim, rec, 0.0f, 0.4f, 7 + (uint64_t)p, 0) == 0);
    CHECK(flm_synth_fill(down_dtype, rows + parts * rp, count, dim, rec, 0.0f, 0.4f, 9, 0) == 0);
    float *bias = malloc(sizeof(float) * (size_t)count);
    for (int64_t r = 0; r < count; r++)
        bias[r] = frand() * 0.5f - 0.2f;
    float *x = malloc(sizeof(float) * (size_t)(batch * dim));
    for (int64_t i = 0; i < batch * dim; i++)
        x[i] = frand();
    int32_t *order = malloc(sizeof(int32_t) * (size_t)count);
    for (int64_t r = 0; r < count; r++)
        order[r] = (int32_t)r;
    float *h = malloc(sizeof(float) * (size_t)(batch * count)), *g = malloc(sizeof(float) * (size_t)(batch * count));
    float *href = malloc(sizeof(float) * (size_t)(batch * count));
    float *y = calloc((size_t)(batch * dim), sizeof(float)), *yref = calloc((size_t)(batch * dim), sizeof(float));
    const float *b = with_bias ? bias : NULL;
    for (int64_t t = 0; t < batch; t++) {
        CHECK(flm_bundle_ffn_up(row_dtype, down_dtype, rows, count, rec, dim, gated, activation, b, x + t * dim, NULL,
                                0, count, href + t * count) == 0);
        CHECK(flm_bundle_ffn_down(row_dtype, down_dtype, rows, count, rec, dim, gated, href + t * count, order, count,
                                  yref + t * dim, 0, dim) == 0);
    }
    /* the rows in two ranges, the columns in two ranges */
    int64_t rs = count / 3;
    CHECK(flm_bundle_ffn_up_batch(row_dtype, down_dtype, rows, count, rec, dim, gated, activation, b, x, batch, h, g, 0,
                                  rs) == 0);
    CHECK(flm_bundle_ffn_up_batch(row_dtype, down_dtype, rows, count, rec, dim, gated, activation, b, x, batch, h, g,
                                  rs, count) == 0);
    CHECK_MSG(memcmp(h, href, sizeof(float) * (size_t)(batch * count)) == 0,
              "h: rows %d down %d gated %d dim %lld batch %lld", row_dtype, down_dtype, gated, (long long)dim,
              (long long)batch);
    int64_t cs = dim / 32 / 2 * 32;
    CHECK(flm_bundle_ffn_down_batch(row_dtype, down_dtype, rows, count, rec, dim, gated, h, batch, order, count, y, 0,
                                    cs) == 0);
    CHECK(flm_bundle_ffn_down_batch(row_dtype, down_dtype, rows, count, rec, dim, gated, h, batch, order, count, y, cs,
                                    dim) == 0);
    CHECK_MSG(memcmp(y, yref, sizeof(float) * (size_t)(batch * dim)) == 0,
              "y: rows %d down %d gated %d dim %lld batch %lld", row_dtype, down_dtype, gated, (long long)dim,
              (long long)batch);
    free(rows);
    free(bias);
    free(x);
    free(order);
    free(h);
    free(g);
    free(href);
    free(y);
    free(yref);
}

static void test_bit_equality(void)
{
    int floats[] = {FLM_DTYPE_F32, FLM_DTYPE_F16};
    for (int a = 0; a < 2; a++)
        for (int d = 0; d < 2; d++)
            for (int gated = 0; gated <= 1; gated++) {
                int act = gated ? FLM_ACT_SILU : FLM_ACT_RELU;
                check_case(floats[a], floats[d], gated, act, 64, 37, 5, !gated);
                check_case(floats[a], floats[d], gated, act, 40, 21, 3, 1);  /* a column tail of 8 */
                check_case(floats[a], floats[d], gated, act, 1056, 19, 9, 0); /* more than one column chunk */
                check_case(floats[a], floats[d], gated, act, 96, 8, 1, 1);
            }
    check_case(FLM_DTYPE_Q8_0, FLM_DTYPE_Q8_0, 1, FLM_ACT_SILU, 96, 23, 4, 0);
    check_case(FLM_DTYPE_Q4_K, FLM_DTYPE_Q6_K, 1, FLM_ACT_GELU, 256, 13, 6, 0);
    check_case(FLM_DTYPE_Q4_0, FLM_DTYPE_F16, 0, FLM_ACT_RELU, 64, 17, 3, 1);
    check_case(FLM_DTYPE_F16, FLM_DTYPE_F32, 1, FLM_ACT_GELU_TANH, 32, 70, 7, 1);
}

static void test_bad_args(void)
{
    float rows[64] = {0}, x[8] = {0}, h[16] = {0}, g[16], y[16];
    int32_t order[2] = {0, 1};
    /* 2 f32 records of [up | down] at dim 4: 32 bytes */
    CHECK_EQ(flm_bundle_ffn_up_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 32, 4, 0, FLM_ACT_RELU, NULL, x, 2, h, NULL,
                                     0, 2), 0);
    CHECK_EQ(flm_bundle_ffn_up_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 31, 4, 0, FLM_ACT_RELU, NULL, x, 2, h, NULL,
                                     0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_up_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 48, 4, 1, FLM_ACT_SILU, NULL, x, 2, h, NULL,
                                     0, 2), FLM_E_BAD_ARG); /* gated without scratch */
    CHECK_EQ(flm_bundle_ffn_up_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 48, 4, 1, 9, NULL, x, 2, h, g, 0, 2),
             FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_up_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 32, 4, 0, FLM_ACT_RELU, NULL, x, 2, h, NULL,
                                     1, 3), FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_down_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 32, 4, 0, h, 2, order, 2, y, 0, 4), 0);
    CHECK_EQ(flm_bundle_ffn_down_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 32, 4, 0, h, 2, order, 3, y, 0, 4),
             FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_down_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 32, 4, 0, h, 2, order, 2, y, 0, 5),
             FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_down_batch(FLM_DTYPE_F32, FLM_DTYPE_F32, rows, 2, 32, 4, 0, h, -1, order, 2, y, 0, 4),
             FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_down_batch(FLM_DTYPE_BF16, FLM_DTYPE_F32, rows, 2, 32, 4, 0, h, 2, order, 2, y, 0, 4),
             FLM_E_BAD_ARG);
}

int main(void)
{
    printf("kernels: %s\n", flm_kernels_simd() ? "avx2" : "portable");
    test_bit_equality();
    test_bad_args();
    return tu_finish("bundle_batch");
}
