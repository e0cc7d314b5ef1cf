/* flm_matmul against flm_matvec: for every dtype, batch 1..9, odd row counts and row ranges, each
 * y[t * rows + r] must be flm_matvec's y[r] for x_t bit for bit (memcmp); then the argument checks.
 * ctest runs it four times: on the SIMD kernels (AVX-512 float tiles and VNNI tiles where the CPU has them),
 * with FLASHLM_NO_VNNI=1 (the AVX2 integer tiles), with FLASHLM_NO_AVX512=1 (the AVX2 float tiles) and with
 * FLASHLM_NO_SIMD=1 (the portable kernels). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const int DTYPES[] = {FLM_DTYPE_F32,  FLM_DTYPE_F16,  FLM_DTYPE_BF16, FLM_DTYPE_Q8_0,  FLM_DTYPE_Q4_0,
                             FLM_DTYPE_Q4_1, FLM_DTYPE_Q5_0, FLM_DTYPE_Q5_1, FLM_DTYPE_IQ4_NL, FLM_DTYPE_Q2_K,
                             FLM_DTYPE_Q3_K, FLM_DTYPE_Q4_K, FLM_DTYPE_Q5_K, FLM_DTYPE_Q6_K,  FLM_DTYPE_IQ4_XS};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static float frand(void)
{
    return (float)((tu_rand(&rng) >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static int is_k(int dtype)
{
    return dtype >= FLM_DTYPE_Q6_K && dtype <= FLM_DTYPE_IQ4_XS;
}

/* W (rows x cols of dtype, synthetic), X (batch x cols): matmul over [rb, re) against matvec per token. */
static void check_case(int dtype, int64_t rows, int64_t cols, int64_t batch, int64_t rb, int64_t re)
{
    int64_t stride = flm_row_bytes(dtype, cols);
    CHECK_MSG(stride > 0, "dtype %d cols %lld", dtype, (long long)cols);
    if (stride <= 0)
        return;
    uint8_t *w = malloc((size_t)(stride * rows + 1));
    float *x = malloc(sizeof(float) * (size_t)(batch * cols));
    float *y = malloc(sizeof(float) * (size_t)(batch * rows));
    float *ref = malloc(sizeof(float) * (size_t)(batch * rows));
    int mean_ok = dtype <= FLM_DTYPE_Q8_0;
    CHECK(flm_synth_fill(dtype, w, rows, cols, stride, mean_ok ? 0.01f : 0.0f, 0.5f, 42 + (uint64_t)dtype, 0) == 0);
    for (int64_t i = 0; i < batch * cols; i++)
        x[i] = frand() * (i % 97 == 0 ? 30.0f : 1.0f);
    /* a token of zeros and one with a tiny block: kern_quantize_x's special cases */
    if (batch > 2)
        memset(x + 2 * cols, 0, sizeof(float) * (size_t)cols);
    if (batch > 3)
        for (int64_t i = 0; i < 32; i++)
            x[3 * cols + i] = 1e-30f * (float)(i - 16);
    /* untouched entries must stay as they were: both outputs start as the same pattern */
    for (int64_t i = 0; i < batch * rows; i++)
        y[i] = ref[i] = -7.0f - (float)i;
    for (int64_t t = 0; t < batch; t++)
        CHECK(flm_matvec(dtype, w, rows, cols, x + t * cols, ref + t * rows, rb, re) == 0);
    int rc = flm_matmul(dtype, w, rows, cols, x, batch, y, rb, re);
    CHECK_MSG(rc == 0, "dtype %d rc %d", dtype, rc);
    int64_t bad = -1;
    for (int64_t i = 0; i < batch * rows && bad < 0; i++)
        if (memcmp(&y[i], &ref[i], sizeof(float)) != 0)
            bad = i;
    CHECK_MSG(bad < 0, "dtype %d rows %lld cols %lld batch %lld [%lld,%lld): token %lld row %lld: %.9g vs matvec %.9g",
              dtype, (long long)rows, (long long)cols, (long long)batch, (long long)rb, (long long)re,
              (long long)(bad / rows), (long long)(bad % rows), bad >= 0 ? y[bad] : 0.0, bad >= 0 ? ref[bad] : 0.0);
    /* the same rows stride + 40 bytes apart (as the parts of bundled records): the same bits */
    int64_t wide = stride + 40;
    uint8_t *spread = malloc((size_t)(wide * rows + 1));
    for (int64_t r = 0; r < rows; r++)
        memcpy(spread + r * wide, w + r * stride, (size_t)stride);
    for (int64_t i = 0; i < batch * rows; i++)
        y[i] = -7.0f - (float)i;
    rc = flm_matmul_strided(dtype, spread, wide, rows, cols, x, batch, y, rb, re);
    CHECK_MSG(rc == 0, "strided: dtype %d rc %d", dtype, rc);
    CHECK_MSG(memcmp(y, ref, sizeof(float) * (size_t)(batch * rows)) == 0,
              "strided: dtype %d rows %lld cols %lld batch %lld differs from matvec", dtype, (long long)rows,
              (long long)cols, (long long)batch);
    free(spread);
    free(w);
    free(x);
    free(y);
    free(ref);
}

static void test_bit_equality(void)
{
    for (size_t d = 0; d < sizeof DTYPES / sizeof DTYPES[0]; d++) {
        int dtype = DTYPES[d];
        int64_t cols = is_k(dtype) ? 512 : dtype <= FLM_DTYPE_BF16 ? 96 : 128;
        for (int64_t batch = 1; batch <= 9; batch++) {
            check_case(dtype, 1, cols, batch, 0, 1);
            check_case(dtype, 13, cols, batch, 0, 13);
            check_case(dtype, 37, cols, batch, 3, 30);
        }
        /* a tile boundary (more rows than one tile of about 128 KiB) and an empty range */
        check_case(dtype, 301, is_k(dtype) ? 1024 : 1024, 5, 1, 300);
        check_case(dtype, 9, cols, 4, 5, 5);
    }
    /* f32/f16/bf16 rows not a multiple of 8 (the scalar tails), and a row of 1 value */
    int floats[] = {FLM_DTYPE_F32, FLM_DTYPE_F16, FLM_DTYPE_BF16};
    for (int i = 0; i < 3; i++) {
        check_case(floats[i], 11, 75, 7, 0, 11);
        check_case(floats[i], 6, 1, 3, 0, 6);
        /* rows longer than the float path's column chunk (1024 f32, 2048 f16/bf16 values), and more tokens
         * than one pass of its accumulators (192) */
        check_case(floats[i], 9, 4104, 7, 0, 9);
        check_case(floats[i], 5, 16, 200, 0, 5);
        /* the AVX-512 tiles (8 rows x 6 tokens): row pairs, then AVX2 rows after the last 8; a pass of 192
         * tokens and a short last tile; rows over several column chunks (512 f32, 1024 f16/bf16 values) */
        check_case(floats[i], 21, 40, 203, 1, 20);
        check_case(floats[i], 17, 2056, 13, 0, 17);
    }
    /* the integer tiles: more tokens than one group, a short last group */
    check_case(FLM_DTYPE_Q4_K, 6, 256, 203, 1, 6);
    check_case(FLM_DTYPE_Q8_0, 6, 64, 203, 0, 5);
}

static void test_bad_args(void)
{
    float w[64] = {0}, x[64] = {0}, y[64];
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, NULL, 2, 4, x, 2, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, NULL, 2, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, 2, NULL, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, -1, 4, x, 2, y, 0, 0), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 0, x, 2, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, -1, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, INT64_C(1) << 40, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, INT64_C(1) << 50, 4, x, 1 << 20, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, INT64_C(1) << 40, x, 1 << 20, y, 0, 2), FLM_E_BAD_ARG); /* x: 2^62 B */
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, 2, y, -1, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, 2, y, 0, 3), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, 2, y, 2, 1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(99, w, 2, 4, x, 2, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_Q8_0, w, 1, 31, x, 2, y, 0, 1), FLM_E_BAD_ARG); /* not whole blocks */
    CHECK_EQ(flm_matmul(FLM_DTYPE_Q4_K, w, 1, 32, x, 2, y, 0, 1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, INT64_C(1) << 41, x, 2, y, 0, 2), FLM_E_BAD_ARG);
    /* a stride shorter than a row */
    CHECK_EQ(flm_matmul_strided(FLM_DTYPE_F32, w, 15, 2, 4, x, 2, y, 0, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matmul_strided(FLM_DTYPE_F32, w, 16, 2, 4, x, 2, y, 0, 2), 0);
    /* batch 0 and an empty range write nothing */
    y[0] = 5.0f;
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, 0, y, 0, 2), 0);
    CHECK_EQ(flm_matmul(FLM_DTYPE_F32, w, 2, 4, x, 3, y, 1, 1), 0);
    CHECK(y[0] == 5.0f);
}

int main(void)
{
    printf("kernels: %s\n", flm_kernels_simd() ? "avx2" : "portable");
    test_bit_equality();
    test_bad_args();
    return tu_finish("matmul");
}
