/* Kernel tests: every dtype against a double-precision reference, hand-made quantized blocks,
 * row-range splits giving the same bits as one call, and argument validation. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static uint64_t rng = 0x1234567;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* f32 -> f16 by truncating exactness is not needed: test values are chosen representable. */
static uint16_t f16_of_small_int(int v) /* exact for |v| <= 2048 */
{
    if (v == 0)
        return 0;
    uint16_t sign = v < 0 ? 0x8000 : 0;
    unsigned a = (unsigned)abs(v);
    int e = 0;
    while ((a >> e) > 1)
        e++;
    unsigned man = (a << (10 - e)) & 0x3ff;
    return sign | (uint16_t)((e + 15) << 10) | (uint16_t)man;
}

static void test_f32_and_splits(void)
{
    enum { R = 37, C = 75 };
    static float w[R * C], x[C], y[R], y2[R];
    for (int i = 0; i < R * C; i++)
        w[i] = frand();
    for (int i = 0; i < C; i++)
        x[i] = frand();
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, R, C, x, y, 0, R) == 0, "f32 matvec");
    for (int r = 0; r < R; r++) {
        double ref = 0;
        for (int c = 0; c < C; c++)
            ref += (double)w[r * C + c] * x[c];
        CHECK_MSG(fabs(y[r] - ref) < 1e-4, "row %d: %f vs %f", r, y[r], ref);
    }
    /* Any split into ranges gives the same bits. */
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, R, C, x, y2, 0, 11) == 0, "range 1");
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, R, C, x, y2, 11, 30) == 0, "range 2");
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, R, C, x, y2, 30, R) == 0, "range 3");
    CHECK_MSG(memcmp(y, y2, sizeof y) == 0, "split results differ");
}

static void test_f16_bf16(void)
{
    enum { R = 3, C = 20 };
    uint16_t wh[R * C], wb[R * C];
    float x[C], y[R];
    for (int i = 0; i < R * C; i++) {
        int v = (i % 7) - 3;
        wh[i] = f16_of_small_int(v);
        float f = (float)v;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        wb[i] = (uint16_t)(bits >> 16);
    }
    for (int i = 0; i < C; i++)
        x[i] = 0.5f * (float)i;
    for (int t = 0; t < 2; t++) {
        CHECK_MSG(flm_matvec(t ? FLM_DTYPE_BF16 : FLM_DTYPE_F16, t ? (void *)wb : (void *)wh, R, C, x, y, 0, R) == 0,
                  "16-bit matvec");
        for (int r = 0; r < R; r++) {
            double ref = 0;
            for (int c = 0; c < C; c++)
                ref += (double)((r * C + c) % 7 - 3) * x[c];
            CHECK_MSG(fabs(y[r] - ref) < 1e-4, "%s row %d: %f vs %f", t ? "bf16" : "f16", r, y[r], ref);
        }
    }
}

static void test_q8_0_block(void)
{
    /* One row, one block: scale 0.5 (f16 0x3800), q[i] = i - 16. x[i] = 1 for all i.
     * Expected: 0.5 * sum(i - 16, i = 0..31) = 0.5 * (496 - 512) = -8. */
    uint8_t blk[34];
    blk[0] = 0x00;
    blk[1] = 0x38;
    for (int i = 0; i < 32; i++)
        blk[2 + i] = (uint8_t)(int8_t)(i - 16);
    float x[32], y[1];
    for (int i = 0; i < 32; i++)
        x[i] = 1.0f;
    CHECK_MSG(flm_matvec(FLM_DTYPE_Q8_0, blk, 1, 32, x, y, 0, 1) == 0, "q8_0 matvec");
    CHECK_MSG(y[0] == -8.0f, "q8_0: %f, expected -8", y[0]);
    /* x = e_5: picks value 5 = 0.5 * (5 - 16) = -5.5 */
    memset(x, 0, sizeof x);
    x[5] = 1.0f;
    flm_matvec(FLM_DTYPE_Q8_0, blk, 1, 32, x, y, 0, 1);
    CHECK_MSG(y[0] == -5.5f, "q8_0 element 5: %f, expected -5.5", y[0]);
}

static void test_q4_0_block(void)
{
    /* Scale 2.0 (f16 0x4000); byte j = (lo = j) | (hi = 15 - j) << 4.
     * value j = 2 * (j - 8), value 16 + j = 2 * (15 - j - 8) = 2 * (7 - j). */
    uint8_t blk[18];
    blk[0] = 0x00;
    blk[1] = 0x40;
    for (int j = 0; j < 16; j++)
        blk[2 + j] = (uint8_t)(j | ((15 - j) << 4));
    float x[32], y[1];
    memset(x, 0, sizeof x);
    x[3] = 1.0f;  /* 2 * (3 - 8) = -10 */
    flm_matvec(FLM_DTYPE_Q4_0, blk, 1, 32, x, y, 0, 1);
    CHECK_MSG(y[0] == -10.0f, "q4_0 element 3: %f, expected -10", y[0]);
    memset(x, 0, sizeof x);
    x[16 + 3] = 1.0f;  /* 2 * (7 - 3) = 8 */
    flm_matvec(FLM_DTYPE_Q4_0, blk, 1, 32, x, y, 0, 1);
    CHECK_MSG(y[0] == 8.0f, "q4_0 element 19: %f, expected 8", y[0]);
    for (int i = 0; i < 32; i++)
        x[i] = 1.0f; /* sum over j of 2(j-8) + 2(7-j) = 16 * 2 * (-1) = -32 */
    flm_matvec(FLM_DTYPE_Q4_0, blk, 1, 32, x, y, 0, 1);
    CHECK_MSG(y[0] == -32.0f, "q4_0 sum: %f, expected -32", y[0]);
}

static void test_bad_arguments(void)
{
    float w[64], x[32], y[2];
    memset(w, 0, sizeof w);
    memset(x, 0, sizeof x);
    CHECK_MSG(flm_matvec(99, w, 2, 32, x, y, 0, 2) == FLM_E_BAD_ARG, "unknown dtype");
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, NULL, 2, 32, x, y, 0, 2) == FLM_E_BAD_ARG, "null w");
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, 2, 32, NULL, y, 0, 2) == FLM_E_BAD_ARG, "null x");
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, 2, 32, x, NULL, 0, 2) == FLM_E_BAD_ARG, "null y");
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, 2, 32, x, y, 0, 3) == FLM_E_BAD_ARG, "range past rows");
    CHECK_MSG(flm_matvec(FLM_DTYPE_F32, w, 2, 32, x, y, 2, 1) == FLM_E_BAD_ARG, "inverted range");
    CHECK_MSG(flm_matvec(FLM_DTYPE_Q8_0, w, 1, 33, x, y, 0, 1) == FLM_E_BAD_ARG, "q8_0 cols not a multiple of 32");
    CHECK_MSG(flm_row_bytes(FLM_DTYPE_Q4_0, 64) == 36, "q4_0 row bytes");
    CHECK_MSG(flm_row_bytes(FLM_DTYPE_Q8_0, 64) == 68, "q8_0 row bytes");
    CHECK_MSG(flm_row_bytes(FLM_DTYPE_F16, 10) == 20, "f16 row bytes");
}

int main(void)
{
    test_f32_and_splits();
    test_f16_bf16();
    test_q8_0_block();
    test_q4_0_block();
    test_bad_arguments();
    return tu_finish(flm_kernels_simd() ? "kernels (simd)" : "kernels (portable)");
}
