/* Flash pack encoders and synthetic fill: f16 rounding against an exhaustive reference, q8_0 error
 * bounds, fill determinism under any row split, value statistics, and argument validation. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static double f16_value(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 31, man = h & 1023;
    double v = exp == 0 ? ldexp(man, -24) : exp == 31 ? (man ? NAN : INFINITY) : ldexp(1024 + man, exp - 25);
    return sign ? -v : v;
}

static uint16_t encode_f16(float f)
{
    uint16_t h;
    CHECK_MSG(flm_encode_f32(FLM_DTYPE_F16, &f, &h, 1) == 0, "encode");
    return h;
}

/* Every finite f16 round-trips; every midpoint between neighbours rounds to the even one. */
static void test_f16_rounding(void)
{
    for (uint32_t h = 0; h < 0x7c00; h++) {
        for (int s = 0; s < 2; s++) {
            uint16_t bits = (uint16_t)(h | (s ? 0x8000 : 0));
            float f = (float)f16_value(bits);
            CHECK_MSG(encode_f16(f) == bits, "round trip of 0x%04x", bits);
            if (h + 1 < 0x7c00) {
                double mid = (f16_value((uint16_t)h) + f16_value((uint16_t)(h + 1))) / 2;
                float fm = (float)(s ? -mid : mid); /* exact: f16 midpoints fit in f32 */
                uint16_t even = (uint16_t)(((h & 1) == 0 ? h : h + 1) | (s ? 0x8000 : 0));
                CHECK_MSG(encode_f16(fm) == even, "midpoint above 0x%04x -> 0x%04x", bits, even);
            }
        }
    }
    CHECK_MSG(encode_f16(65520.0f) == 0x7c00, "overflow to infinity");
    CHECK_MSG(encode_f16(65519.0f) == 0x7bff, "largest finite");
    CHECK_MSG(encode_f16(INFINITY) == 0x7c00, "infinity");
    CHECK_MSG((encode_f16(NAN) & 0x7c00) == 0x7c00 && (encode_f16(NAN) & 0x3ff) != 0, "nan");
    CHECK_MSG(encode_f16(1e-9f) == 0, "underflow to zero");
    uint32_t nan_bits = 0x7f812345u; /* a signalling NaN: quieted, top payload bits kept (as F16C does) */
    float nan;
    memcpy(&nan, &nan_bits, 4);
    CHECK_MSG(encode_f16(nan) == 0x7e09, "nan payload: 0x%04x", encode_f16(nan));
    /* A long vector takes the 8-wide path where there is one: same bits as one by one. */
    enum { V = 1000 };
    static float v[V];
    static uint16_t h[V];
    for (int i = 0; i < V; i++)
        v[i] = (float)f16_value((uint16_t)(i * 61)) * 1.0001f;
    CHECK_MSG(flm_encode_f32(FLM_DTYPE_F16, v, h, V) == 0, "vector");
    for (int i = 0; i < V; i++)
        CHECK_MSG(h[i] == encode_f16(v[i]), "vector element %d", i);
}

static void test_bf16(void)
{
    float in[3] = {1.0f, 1.00390625f, -3.0f}; /* 1 + 2^-8 is a tie: rounds to even (1.0) */
    uint16_t out[3];
    CHECK_MSG(flm_encode_f32(FLM_DTYPE_BF16, in, out, 3) == 0, "bf16");
    CHECK_MSG(out[0] == 0x3f80 && out[1] == 0x3f80 && out[2] == 0xc040, "bf16 bits %04x %04x %04x", out[0], out[1],
              out[2]);
}

/* |x - d q| <= d / 2 (plus the scale's f16 rounding), and the largest |x| maps to +-127. */
static void test_q8_0(void)
{
    enum { N = 32 * 64 };
    static float x[N];
    static uint8_t q[N / 32 * 34];
    uint64_t s = 99;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1) * (float)(1 + i / 32);
    }
    for (int i = 0; i < 32; i++)
        x[32 * 5 + i] = 0; /* an all-zero block */
    CHECK_MSG(flm_encode_f32(FLM_DTYPE_Q8_0, x, q, N) == 0, "q8_0");
    for (int b = 0; b < N / 32; b++) {
        uint16_t d16;
        memcpy(&d16, q + b * 34, 2);
        double d = f16_value(d16);
        double amax = 0;
        for (int i = 0; i < 32; i++)
            amax = fmax(amax, fabs(x[b * 32 + i]));
        const int8_t *qs = (const int8_t *)(q + b * 34 + 2);
        int maxq = 0;
        for (int i = 0; i < 32; i++) {
            double err = fabs(x[b * 32 + i] - d * qs[i]);
            CHECK_MSG(err <= amax / 254 + amax * 0x1p-11 + 1e-12, "block %d value %d: error %g, amax %g", b, i, err,
                      amax);
            maxq = abs(qs[i]) > maxq ? abs(qs[i]) : maxq;
        }
        CHECK_MSG(b == 5 ? maxq == 0 && d == 0 : maxq == 127, "block %d: largest |q| %d", b, maxq);
    }
    CHECK_MSG(flm_encode_f32(FLM_DTYPE_Q8_0, x, q, 31) == FLM_E_BAD_ARG, "q8_0 needs whole blocks");
    CHECK_MSG(flm_encode_f32(FLM_DTYPE_Q4_0, x, q, 32) == FLM_E_BAD_ARG, "q4_0 is not an encoder");
    CHECK_MSG(flm_encode_f32(FLM_DTYPE_F16, NULL, q, 4) == FLM_E_BAD_ARG, "null source");
}

/* One call, or rows split at odd places into a strided buffer, give the same row bytes. */
static void test_fill_splits(int dtype, int64_t cols, float mean)
{
    const int64_t rows = 37;
    int64_t rb = flm_row_bytes(dtype, cols);
    int64_t stride = rb + 100;
    uint8_t *a = calloc((size_t)(rows * rb), 1);
    uint8_t *b = calloc((size_t)(rows * stride), 1);
    CHECK_MSG(flm_synth_fill(dtype, a, rows, cols, rb, mean, 0.25f, 7, 100) == 0, "fill");
    int64_t cuts[] = {0, 1, 13, 14, 30, rows};
    for (int i = 0; i + 1 < 6; i++)
        CHECK_MSG(flm_synth_fill(dtype, b + cuts[i] * stride, cuts[i + 1] - cuts[i], cols, stride, mean, 0.25f, 7,
                                 100 + cuts[i]) == 0, "fill part");
    for (int64_t r = 0; r < rows; r++) {
        CHECK_MSG(memcmp(a + r * rb, b + r * stride, (size_t)rb) == 0, "dtype %d row %lld differs", dtype,
                  (long long)r);
        for (int64_t k = rb; k < stride; k++)
            CHECK_MSG(b[r * stride + k] == 0, "padding written at row %lld", (long long)r);
    }
    /* Another seed, or another first row, gives other values. */
    uint8_t *c = calloc((size_t)rb, 1);
    flm_synth_fill(dtype, c, 1, cols, rb, mean, 0.25f, 8, 100);
    CHECK_MSG(memcmp(a, c, (size_t)rb) != 0, "seed changes the values");
    flm_synth_fill(dtype, c, 1, cols, rb, mean, 0.25f, 7, 101);
    CHECK_MSG(memcmp(a, c, (size_t)rb) != 0, "rows differ");
    free(a);
    free(b);
    free(c);
}

static void test_fill_statistics(void)
{
    enum { N = 1 << 20 };
    float *v = malloc(N * sizeof(float));
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_F32, v, 1, N, N * 4, -1.5f, 0.1f, 3, 0) == 0, "fill");
    double sum = 0, sq = 0, lo = 1e9, hi = -1e9;
    for (int i = 0; i < N; i++) {
        sum += v[i];
        sq += (double)v[i] * v[i];
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    double mean = sum / N, std = sqrt(sq / N - mean * mean);
    CHECK_MSG(fabs(mean + 1.5) < 1e-3, "mean %f", mean);
    CHECK_MSG(fabs(std - 0.1) < 1e-3, "std %f", std);
    CHECK_MSG(lo >= -1.5 - 0.347 && hi <= -1.5 + 0.347 && lo < -1.5 - 0.25 && hi > -1.5 + 0.25, "range %f..%f", lo, hi);
    free(v);
}

/* The block types without an encoder: random quants under fixed scales, split-invariant like the
 * others, with values (read back by flm_matvec against unit vectors) within [-a, a], a = std sqrt(3)
 * (slack for the f16 rounding of d and the unit vector's quantization), and a spread near std. */
static void test_fill_blocks(void)
{
    const int types[] = {FLM_DTYPE_Q4_0, FLM_DTYPE_Q4_1, FLM_DTYPE_Q5_0, FLM_DTYPE_Q5_1, FLM_DTYPE_IQ4_NL,
                         FLM_DTYPE_Q6_K, FLM_DTYPE_Q4_K, FLM_DTYPE_Q5_K, FLM_DTYPE_Q3_K, FLM_DTYPE_Q2_K,
                         FLM_DTYPE_IQ4_XS};
    enum { COLS = 512 };
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        test_fill_splits(types[t], COLS, 0.0f);
        uint8_t row[COLS * 2];
        CHECK_MSG(flm_synth_fill(types[t], row, 1, COLS, sizeof row, 0.0f, 0.25f, 5, 0) == 0, "fill");
        float x[COLS] = {0}, v;
        double sq = 0, a = 0.25 * sqrt(3.0);
        for (int j = 0; j < COLS; j++) {
            x[j] = 1.0f;
            CHECK_MSG(flm_matvec(types[t], row, 1, COLS, x, &v, 0, 1) == 0, "matvec");
            x[j] = 0.0f;
            CHECK_MSG(fabs(v) <= a * 1.002, "dtype %d value %d: %g outside [-%g, %g]", types[t], j, v, a, a);
            sq += (double)v * v;
        }
        double std = sqrt(sq / COLS);
        CHECK_MSG(std > 0.15 && std < 0.35, "dtype %d: spread %g, expected about 0.25", types[t], std);
    }
}

static void test_fill_arguments(void)
{
    float buf[64];
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_F32, buf, 1, 64, 255, 0, 1, 1, 0) == FLM_E_BAD_ARG, "stride below the row");
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_Q8_0, buf, 1, 40, 200, 0, 1, 1, 0) == FLM_E_BAD_ARG, "partial q8_0 block");
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_Q4_0, buf, 1, 32, 200, 0.5f, 1, 1, 0) == FLM_E_BAD_ARG, "q4_0 with a mean");
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_Q4_K, buf, 1, 32, 200, 0, 1, 1, 0) == FLM_E_BAD_ARG, "partial q4_k block");
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_F32, NULL, 1, 8, 32, 0, 1, 1, 0) == FLM_E_BAD_ARG, "null");
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_F32, buf, 1, 8, 32, NAN, 1, 1, 0) == FLM_E_BAD_ARG, "nan mean");
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_F32, buf, -1, 8, 32, 0, 1, 1, 0) == FLM_E_BAD_ARG, "negative rows");
    CHECK_MSG(flm_synth_fill(FLM_DTYPE_F32, NULL, 0, 8, 32, 0, 1, 1, 0) == 0, "nothing to fill");
}

int main(void)
{
    test_f16_rounding();
    test_bf16();
    test_q8_0();
    test_fill_splits(FLM_DTYPE_F32, 100, 0.5f);
    test_fill_splits(FLM_DTYPE_F16, 300, 0.5f);
    test_fill_splits(FLM_DTYPE_BF16, 17, 0.5f);
    test_fill_splits(FLM_DTYPE_Q8_0, 288, 0.5f);
    test_fill_blocks();
    test_fill_statistics();
    test_fill_arguments();
    return tu_finish("pack");
}
