/* The legacy GGUF blocks q4_1, q5_0, q5_1, iq4_nl and the k-quant super-blocks in flm_matvec: hand-made
 * blocks whose values are worked out from the format in the comments, every dtype against a
 * double-precision reference decoded here, row-range splits giving the same bits, and the AVX2 path
 * against the portable one (computed by a child process started with FLASHLM_NO_SIMD=1) within the
 * rounding bound stated below. q8_0, q4_0, q4_1, q5_0, q5_1 and iq4_nl dot with x quantized to int8 (the
 * integer kernels): their bound adds x's quantization, their two paths give the same bits, and x's
 * extremes (zero, huge, tiny, non-finite blocks) and the bound's tightness have tests of their own. */
#define _GNU_SOURCE

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

/* f16 bit patterns of the scales the hand blocks use. */
#define H_0_25 0x3400
#define H_0_5 0x3800
#define H_1 0x3c00
#define H_1_5 0x3e00
#define H_2 0x4000
#define H_M0_25 0xb400
#define H_M1 0xbc00
#define H_M2 0xc000
#define H_M4 0xc400
#define H_M8 0xc800

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* y = the value at column col of a one-row matrix of two blocks (64 columns, or 512 for a k-quant),
 * picked by x = e_col. */
static float pick(int dtype, const uint8_t *row, int col)
{
    int cols = flm_row_bytes(dtype, 32) > 0 ? 64 : 512;
    float x[512] = {0}, y[1] = {-999};
    x[col] = 1.0f;
    CHECK_MSG(flm_matvec(dtype, row, 1, cols, x, y, 0, 1) == 0, "matvec dtype %d", dtype);
    return y[0];
}

struct expect {
    int col;
    float value;
};

static int int8_x(int dtype);
static double decode(int dtype, const uint8_t *row, int c, double *mag);

/* The float kernels pick a value exactly. The integer kernels see x = e_col as q = 127 with the step
 * d_x = 1 / 127 (rounded to float): value = d * q_w or d * q_w + m comes out of the products
 * (d * d_x) * (127 q_w) and (m * d_x) * 127 and their sum, a few roundings, within 4 ulps of
 * |d q_w| + |m| (decode's mag). */
static void check_picks(const char *name, int dtype, const uint8_t *row, const struct expect *e, int n)
{
    for (int i = 0; i < n; i++) {
        float v = pick(dtype, row, e[i].col);
        double tol = 0;
        if (int8_x(dtype)) {
            double mag;
            decode(dtype, row, e[i].col, &mag);
            tol = ldexp(mag, -22);
        }
        CHECK_MSG(fabs((double)v - e[i].value) <= tol, "%s value %d: %.9g, expected %g", name, e[i].col, v,
                  e[i].value);
    }
}

/* qs[j] = j | (15 - j) << 4: value j has nibble j, value 16 + j nibble 15 - j. */
static void ramp_nibbles(uint8_t *qs)
{
    for (int j = 0; j < 16; j++)
        qs[j] = (uint8_t)(j | (15 - j) << 4);
}

/* The fifth bits of the first 5-bit blocks: qh = a5 0f f0 81, so (bit j = value j) values 0, 2, 5, 7
 * (a5 = 1010 0101), 8..11 (0f), 20..23 (f0), 24 and 31 (81) have it, the others not. */
static const uint8_t QH_A[4] = {0xa5, 0x0f, 0xf0, 0x81};

static void test_q4_1_blocks(void)
{
    uint8_t row[40] = {0};
    /* Block 0: d = 0.5, m = -4, ramp nibbles: value j = 0.5 j - 4, value 16 + j = 0.5 (15 - j) - 4. */
    put16(row, H_0_5);
    put16(row + 2, H_M4);
    ramp_nibbles(row + 4);
    /* Block 1: d = -2, m = 1.5; qs[0] = f0 (value 0: q 0, value 16: q 15), qs[1] = 3c (value 1: q 12,
     * value 17: q 3), the rest 0 (value 1.5). */
    put16(row + 20, H_M2);
    put16(row + 22, H_1_5);
    row[24] = 0xf0;
    row[25] = 0x3c;
    struct expect e[] = {{0, -4.0f},  {1, -3.5f},   {15, 3.5f},   {16, 3.5f},  {17, 3.0f},   {31, -4.0f},
                         {32, 1.5f},  {48, -28.5f}, {33, -22.5f}, {49, -4.5f}, {34, 1.5f},   {63, 1.5f}};
    check_picks("q4_1", FLM_DTYPE_Q4_1, row, e, (int)(sizeof e / sizeof e[0]));
}

static void test_q5_0_blocks(void)
{
    uint8_t row[44] = {0};
    /* Block 0: d = 0.25, QH_A, ramp nibbles; value = 0.25 ((nibble | fifth << 4) - 16). */
    put16(row, H_0_25);
    memcpy(row + 2, QH_A, 4);
    ramp_nibbles(row + 6);
    /* Block 1: d = -1; qs[0] = f0, qs[1] = 0f, the rest 0; fifth bits 1 and 16 only (qh = 02 00 01 00):
     * value 0: q 0 -> -16 -> 16; value 16: q 15 | 16 -> 15 -> -15; value 1: q 31 -> -15; value 17:
     * q 0 -> 16; every other value q 0 -> 16. */
    put16(row + 22, H_M1);
    row[24] = 0x02;
    row[26] = 0x01;
    row[28] = 0xf0;
    row[29] = 0x0f;
    struct expect e[] = {{0, 0.0f},    {1, -3.75f},  {2, 0.5f},    {7, 1.75f},   {8, 2.0f},    {12, -1.0f},
                         {15, -0.25f}, {16, -0.25f}, {20, 2.75f},  {23, 2.0f},   {24, 1.75f},  {30, -3.75f},
                         {31, 0.0f},   {32, 16.0f},  {48, -15.0f}, {33, -15.0f}, {49, 16.0f},  {40, 16.0f}};
    check_picks("q5_0", FLM_DTYPE_Q5_0, row, e, (int)(sizeof e / sizeof e[0]));
}

static void test_q5_1_blocks(void)
{
    uint8_t row[48] = {0};
    /* Block 0: d = 0.5, m = -8, QH_A, ramp nibbles; value = 0.5 (nibble | fifth << 4) - 8. */
    put16(row, H_0_5);
    put16(row + 2, H_M8);
    memcpy(row + 4, QH_A, 4);
    ramp_nibbles(row + 8);
    /* Block 1: d = -0.25, m = 2; qs and qh as q5_0's block 1: q 0 -> 2, q 31 -> -5.75. */
    put16(row + 24, H_M0_25);
    put16(row + 26, H_2);
    row[28] = 0x02;
    row[30] = 0x01;
    row[32] = 0xf0;
    row[33] = 0x0f;
    struct expect e[] = {{0, 0.0f},   {1, -7.5f},   {7, 3.5f},    {12, -2.0f}, {15, -0.5f}, {20, 5.5f},
                         {30, -7.5f}, {31, 0.0f},   {32, 2.0f},   {48, -5.75f}, {33, -5.75f}, {49, 2.0f},
                         {63, 2.0f}};
    check_picks("q5_1", FLM_DTYPE_Q5_1, row, e, (int)(sizeof e / sizeof e[0]));
}

static void test_iq4_nl_blocks(void)
{
    uint8_t row[36] = {0};
    /* Block 0: d = 0.5, ramp nibbles: value j = 0.5 T[j], value 16 + j = 0.5 T[15 - j], with the
     * format's grid T = -127 -104 -83 -65 -49 -35 -22 -10 1 13 25 38 53 69 89 113. */
    put16(row, H_0_5);
    ramp_nibbles(row + 2);
    /* Block 1: d = -1, every byte 80: low nibble 0 (T = -127 -> 127), high 8 (T = 1 -> -1). */
    put16(row + 18, H_M1);
    memset(row + 20, 0x80, 16);
    struct expect e[] = {{0, -63.5f}, {7, -5.0f},  {8, 0.5f},  {15, 56.5f}, {16, 56.5f}, {20, 19.0f},
                         {31, -63.5f}, {32, 127.0f}, {47, 127.0f}, {48, -1.0f}, {63, -1.0f}};
    check_picks("iq4_nl", FLM_DTYPE_IQ4_NL, row, e, (int)(sizeof e / sizeof e[0]));
}

/* ---- the k-quant super-blocks of 256 ---- */

/* Two q6_k super-blocks: 16 sub-blocks of 16 under int8 scales, 6-bit quants q (value = d * sc * (q - 32))
 * whose low 4 bits are in ql[128] and high 2 bits in qh[64]. Value i = 128 h + 32 k + l (h half, k quarter,
 * l 0..31): low bits the low (k < 2) or high (k >= 2) nibble of ql[64 h + 32 (k % 2) + l], high bits
 * (qh[32 h + l] >> 2k) & 3; sub-block i / 16. */
static void test_q6_k_blocks(void)
{
    uint8_t row[420] = {0};
    /* Super-block 0: d = 0.5; scales by sub-block 1 -1 2 127 -128 3 -2 4 1 -3 5 -4 6 -5 7 -6. Every quant
     * is 0 (q - 32 = -32) except where the bytes below set bits. */
    static const int8_t sc0[16] = {1, -1, 2, 127, -128, 3, -2, 4, 1, -3, 5, -4, 6, -5, 7, -6};
    memcpy(row + 192, sc0, 16);
    put16(row + 208, H_0_5);
    row[0] = 0x5a;      /* value 0 low bits 10, value 64 low bits 5 */
    row[32] = 0xf3;     /* value 32 low 3, value 96 low 15 */
    row[17] = 0x0f;     /* value 17 low 15, value 81 low 0 */
    row[64 + 5] = 0x21; /* value 133 low 1, value 197 low 2 */
    row[127] = 0xff;    /* value 191 low 15, value 255 low 15 */
    row[128] = 0xe4;    /* qh[0] = 11 10 01 00: high bits of value 0: 0, 32: 1, 64: 2, 96: 3 */
    row[128 + 17] = 0x03; /* value 17: 3; 49, 81, 113: 0 */
    row[128 + 37] = 0xff; /* values 133, 165, 197, 229: 3 */
    row[128 + 63] = 0xff; /* values 159, 191, 223, 255: 3 */
    /* Super-block 1: d = -0.25, every ql and qh byte ff (q = 63 - 32 = 31); scale -128 for sub-block 0,
     * 127 for sub-block 15, 1 for the others. */
    memset(row + 210, 0xff, 192);
    memset(row + 210 + 192, 1, 16);
    row[210 + 192] = 0x80;
    row[210 + 207] = 0x7f;
    put16(row + 210 + 208, H_M0_25);
    struct expect e[] = {
        {0, -11.0f},    /* sc 1: q 10 - 32 = -22 */
        {32, -13.0f},   /* sc 2: (3 | 1 << 4) - 32 = -13 */
        {64, -320.0f},  /* sc -128: (5 | 2 << 4) - 32 = 5 */
        {96, -31.0f},   /* sc -2: (15 | 3 << 4) - 32 = 31 */
        {17, -15.5f},   /* sc -1: 63 - 32 = 31 */
        {81, -48.0f},   /* sc 3: 0 - 32 */
        {49, -2032.0f}, /* sc 127: 0 - 32 */
        {1, -16.0f},    /* sc 1: -32 */
        {133, 8.5f},    /* sc 1: (1 | 3 << 4) - 32 = 17 */
        {197, 54.0f},   /* sc 6: (2 | 3 << 4) - 32 = 18 */
        {165, 40.0f},   /* sc 5: (0 | 3 << 4) - 32 = 16 */
        {229, 56.0f},   /* sc 7: 16 */
        {191, -62.0f},  /* sc -4: 31 */
        {255, -93.0f},  /* sc -6: 31 */
        {159, -24.0f},  /* sc -3: 16 */
        {223, -40.0f},  /* sc -5: 16 */
        {200, -96.0f},  /* sc 6: -32 */
        {256, 992.0f},  /* -0.25 * -128 * 31 */
        {271, 992.0f},
        {272, -7.75f},  /* -0.25 * 1 * 31 */
        {400, -7.75f},
        {496, -984.25f}, /* -0.25 * 127 * 31 */
        {511, -984.25f},
    };
    check_picks("q6_k", FLM_DTYPE_Q6_K, row, e, (int)(sizeof e / sizeof e[0]));
}

/* Two q4_k super-blocks: f16 d and dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; 8
 * sub-blocks of 32, value = d * sc * q - dmin * m, with value i the low (i % 64 < 32) or high nibble of
 * qs[32 (i / 64) + i % 32]. Sub-block j's scale and min: j < 4 the low 6 bits of bytes j and j + 4, j >= 4
 * the low and high nibble of byte j + 4 under the top 2 bits of bytes j - 4 and j. */
static void test_q4_k_blocks(void)
{
    uint8_t row[288] = {0};
    /* Super-block 0: d = 0.5, dmin = 1; scales 1 63 0 5 17 63 2 40, mins 0 63 3 7 33 63 1 16:
     * bytes 0..3 = sc0..3 | (sc4..7 >> 4) << 6: 41 ff 00 85; bytes 4..7 = m0..3 | (m4..7 >> 4) << 6: 80 ff 03 47;
     * bytes 8..11 = (sc4..7 & 15) | (m4..7 & 15) << 4: 11 ff 12 08. qs[32 c + l] = (l % 16) | (15 - l % 16) << 4:
     * value i (l = i % 32) is l % 16 in the even sub-blocks, 15 - l % 16 in the odd ones. */
    put16(row, H_0_5);
    put16(row + 2, H_1);
    static const uint8_t sm[12] = {0x41, 0xff, 0x00, 0x85, 0x80, 0xff, 0x03, 0x47, 0x11, 0xff, 0x12, 0x08};
    memcpy(row + 4, sm, 12);
    for (int i = 0; i < 128; i++)
        row[16 + i] = (uint8_t)((i % 16) | (15 - i % 16) << 4);
    /* Super-block 1: d = -2, dmin = -0.25, scale and min bytes all ff (every scale and min 63), qs all ff
     * (q 15) but qs[0] = 0f (value 256: q 15, value 288: q 0). */
    put16(row + 144, H_M2);
    put16(row + 146, H_M0_25);
    memset(row + 148, 0xff, 140);
    row[160] = 0x0f;
    struct expect e[] = {
        {0, 0.0f},       /* sc 1, m 0: q 0 */
        {15, 7.5f},      /* q 15 */
        {32, 409.5f},    /* sc 63, m 63: 0.5 * 63 * 15 - 63 */
        {47, -63.0f},    /* q 0 */
        {64, -3.0f},     /* sc 0, m 3 */
        {79, -3.0f},
        {100, 20.5f},    /* sc 5, m 7: q 15 - 4 = 11 -> 27.5 - 7 */
        {133, 9.5f},     /* sc 17, m 33: q 5 -> 42.5 - 33 */
        {160, 409.5f},   /* sc 63, m 63: q 15 */
        {175, -63.0f},   /* q 0 */
        {200, 7.0f},     /* sc 2, m 1: q 8 */
        {240, 284.0f},   /* sc 40, m 16: q 15 -> 300 - 16 */
        {255, -16.0f},   /* q 0 */
        {256, -1874.25f}, /* -2 * 63 * 15 + 0.25 * 63 */
        {288, 15.75f},    /* q 0 */
        {289, -1874.25f},
        {511, -1874.25f},
    };
    check_picks("q4_k", FLM_DTYPE_Q4_K, row, e, (int)(sizeof e / sizeof e[0]));
}

/* Two q5_k super-blocks: q4_k's block (d, dmin, scales and mins, the nibbles now at 48) with the fifth bits
 * qh[32] at 16: bit i / 32 of qh[i % 32] is bit 4 of value i's quant. */
static void test_q5_k_blocks(void)
{
    uint8_t row[352] = {0};
    /* Super-block 0: q4_k's super-block 0 (scales 1 63 0 5 17 63 2 40, mins 0 63 3 7 33 63 1 16, d 0.5, dmin 1,
     * nibbles l % 16 in the even sub-blocks and 15 - l % 16 in the odd ones, l = i % 32) and qh[l] = ff for
     * l < 8 (every value's fifth bit), 55 for l < 16 (the even sub-blocks'), aa for l < 24 (the odd ones'),
     * 00 above. */
    put16(row, H_0_5);
    put16(row + 2, H_1);
    static const uint8_t sm[12] = {0x41, 0xff, 0x00, 0x85, 0x80, 0xff, 0x03, 0x47, 0x11, 0xff, 0x12, 0x08};
    memcpy(row + 4, sm, 12);
    for (int l = 0; l < 32; l++)
        row[16 + l] = l < 8 ? 0xff : l < 16 ? 0x55 : l < 24 ? 0xaa : 0x00;
    for (int i = 0; i < 128; i++)
        row[48 + i] = (uint8_t)((i % 16) | (15 - i % 16) << 4);
    /* Super-block 1: d = -2, dmin = -0.25, scales, mins, qh and qs bytes ff (q 31), but qs[0] = 0f (value 288:
     * nibble 0, q 16) and qh[0] = fe (value 256: no fifth bit, q 15). */
    put16(row + 176, H_M2);
    put16(row + 178, H_M0_25);
    memset(row + 180, 0xff, 172);
    row[176 + 16] = 0xfe;
    row[176 + 48] = 0x0f;
    struct expect e[] = {
        {0, 8.0f},        /* sc 1, m 0: q 0 | 16 */
        {15, 15.5f},      /* q 15 | 16 (55: bit 0) */
        {32, 913.5f},     /* sc 63, m 63: 0.5 * 63 * 31 - 63 */
        {47, -63.0f},     /* q 0 (55: not bit 1) */
        {64, -3.0f},      /* sc 0, m 3 */
        {100, 60.5f},     /* sc 5, m 7: q 11 | 16 -> 67.5 - 7 */
        {133, 145.5f},    /* sc 17, m 33: q 5 | 16 -> 178.5 - 33 */
        {180, 787.5f},    /* sc 63, m 63: q 11 | 16 (aa: bit 5) */
        {200, 23.0f},     /* sc 2, m 1: q 8 | 16 (55: bit 6) */
        {210, 1.0f},      /* q 2 (aa: not bit 6) */
        {240, 604.0f},    /* sc 40, m 16: q 15 | 16 (aa: bit 7) -> 620 - 16 */
        {255, -16.0f},    /* q 0 */
        {256, -1874.25f}, /* -2 * 63 * 15 + 0.25 * 63 */
        {288, -2000.25f}, /* q 16 */
        {289, -3890.25f}, /* q 31 */
        {511, -3890.25f},
    };
    check_picks("q5_k", FLM_DTYPE_Q5_K, row, e, (int)(sizeof e / sizeof e[0]));
}

/* Two q3_k super-blocks: hmask[32], qs[64], 12 bytes of 6-bit scales, f16 d; value i = 128 h + 32 j + l has
 * q = ((qs[32 h + l] >> 2 j) & 3 | ((hmask[l] >> (4 h + j)) & 1) << 2) - 4 and sub-block i / 16, whose
 * scale is its 6 bits - 32: the low 4 from the low (s < 8) or high nibble of byte s % 8, the high 2 from
 * bits 2 (s / 4).. of byte 8 + s % 4. */
static void test_q3_k_blocks(void)
{
    uint8_t row[220] = {0};
    /* Super-block 0: d = 0.5; 6-bit scales 33 31 63 0 32 40 20 1 62 34 30 48 16 35 29 45 (scales 1 -1 31 -32
     * 0 8 -12 -31 30 2 -2 16 -16 3 -3 13): low nibbles in bytes 0..7 = e1 2f ef 00 00 38 d4 d1, high 2 bits
     * in bytes 8..11 = 7a a9 57 b0. qs all e4 (low bits of quarter j: j) and hmask[l] = 0f for l < 16
     * (third bit in the first half), f0 above (in the second): q = j + 4 (that bit) - 4. */
    static const uint8_t sc0[12] = {0xe1, 0x2f, 0xef, 0x00, 0x00, 0x38, 0xd4, 0xd1, 0x7a, 0xa9, 0x57, 0xb0};
    for (int l = 0; l < 32; l++)
        row[l] = l < 16 ? 0x0f : 0xf0;
    memset(row + 32, 0xe4, 64);
    memcpy(row + 96, sc0, 12);
    put16(row + 108, H_0_5);
    /* Super-block 1: d = -2, qs ff (low bits 3), hmask 00 (q 3 - 4 = -1) but hmask[0] = 01 (value 256: q 3);
     * scale bytes ff (6 bits 63, scale 31) but byte 0 = f0 and byte 8 = fc (sub-block 0: 0, scale -32). */
    memset(row + 142, 0xff, 64);
    row[110] = 0x01;
    memset(row + 206, 0xff, 12);
    row[206] = 0xf0;
    row[214] = 0xfc;
    put16(row + 218, H_M2);
    struct expect e[] = {
        {0, 0.0f},     /* scale 1: q 0 */
        {16, 2.0f},    /* scale -1: q -4 */
        {32, 15.5f},   /* scale 31: q 1 */
        {48, 48.0f},   /* scale -32: q -3 */
        {64, 0.0f},    /* scale 0 */
        {80, -8.0f},   /* scale 8: q -2 */
        {96, -18.0f},  /* scale -12: q 3 */
        {127, 15.5f},  /* scale -31: q -1 */
        {128, -60.0f}, /* scale 30: q -4 */
        {144, 0.0f},   /* scale 2: q 0 */
        {160, 3.0f},   /* scale -2: q -3 */
        {176, 8.0f},   /* scale 16: q 1 */
        {200, 16.0f},  /* scale -16: q -2 */
        {220, 3.0f},   /* scale 3: q 2 */
        {230, 1.5f},   /* scale -3: q -1 */
        {255, 19.5f},  /* scale 13: q 3 */
        {256, 192.0f}, /* -2 * -32 * 3 */
        {257, -64.0f}, /* -2 * -32 * -1 */
        {272, 62.0f},  /* -2 * 31 * -1 */
        {511, 62.0f},
    };
    check_picks("q3_k", FLM_DTYPE_Q3_K, row, e, (int)(sizeof e / sizeof e[0]));
}

/* Two q2_k super-blocks: scales[16] (sub-block s: scale in the low nibble of byte s, min in the high), qs[64],
 * f16 d, f16 dmin; value i = 128 h + 32 j + l has q = (qs[32 h + l] >> 2 j) & 3, value d * sc * q - dmin * m. */
static void test_q2_k_blocks(void)
{
    uint8_t row[168] = {0};
    /* Super-block 0: d = 0.5, dmin = 0.25; scales 1 15 0 7 3 15 2 9 4 5 6 11 12 13 14 8, mins 0 15 3 1 7 0 2 15
     * 4 6 5 8 9 10 11 12; qs all e4 (quarter j: q = j). */
    static const uint8_t sm[16] = {0x01, 0xff, 0x30, 0x17, 0x73, 0x0f, 0x22, 0xf9,
                                   0x44, 0x65, 0x56, 0x8b, 0x9c, 0xad, 0xbe, 0xc8};
    memcpy(row, sm, 16);
    memset(row + 16, 0xe4, 64);
    put16(row + 80, H_0_5);
    put16(row + 82, H_0_25);
    /* Super-block 1: d = -1, dmin = -0.5, scales ff (scale 15, min 15), qs ff (q 3) but qs[0] = 1b (value 256:
     * q 3, 288: 2, 320: 1, 352: 0). */
    memset(row + 84, 0xff, 80);
    row[100] = 0x1b;
    put16(row + 164, H_M1);
    put16(row + 166, 0xb800); /* -0.5 */
    struct expect e[] = {
        {0, 0.0f},     /* scale 1, min 0: q 0 */
        {16, -3.75f},  /* scale 15, min 15: q 0 */
        {32, -0.75f},  /* scale 0, min 3 */
        {48, 3.25f},   /* scale 7, min 1: q 1 */
        {64, 1.25f},   /* scale 3, min 7: q 2 */
        {80, 15.0f},   /* scale 15, min 0: q 2 */
        {96, 2.5f},    /* scale 2, min 2: q 3 */
        {127, 9.75f},  /* scale 9, min 15: q 3 */
        {128, -1.0f},  /* scale 4, min 4: q 0 */
        {176, 3.5f},   /* scale 11, min 8: q 1 */
        {255, 9.0f},   /* scale 8, min 12: q 3 */
        {256, -37.5f}, /* -1 * 15 * 3 + 0.5 * 15 */
        {288, -22.5f}, /* q 2 */
        {320, -7.5f},  /* q 1 */
        {352, 7.5f},   /* q 0 */
        {511, -37.5f},
    };
    check_picks("q2_k", FLM_DTYPE_Q2_K, row, e, (int)(sizeof e / sizeof e[0]));
}

/* Two iq4_xs super-blocks: f16 d, scales_h (uint16), scales_l[4], qs[128]; sub-block b (32 values) has the
 * scale (6 bits) - 32, its low 4 bits the low (b even) or high nibble of scales_l[b / 2], its high 2 bits bits
 * 2b.. of scales_h; value 32 b + j = d * scale * T[the low (j < 16) or high nibble of qs[16 b + j % 16]], T
 * the iq4_nl grid -127 -104 -83 -65 -49 -35 -22 -10 1 13 25 38 53 69 89 113. */
static void test_iq4_xs_blocks(void)
{
    uint8_t row[272] = {0};
    /* Super-block 0: d = 0.5; 6-bit scales 33 31 63 0 32 40 1 62 (scales 1 -1 31 -32 0 8 -31 30): scales_l =
     * f1 0f 80 e1, scales_h = ca36 (2 | 1 << 2 | 3 << 4 | 0 << 6 | 2 << 8 | 2 << 10 | 0 << 12 | 3 << 14); ramp
     * nibbles (qs[16 b + j] = j | (15 - j) << 4): value 32 b + j has nibble j, 32 b + 16 + j nibble 15 - j. */
    put16(row, H_0_5);
    put16(row + 2, 0xca36);
    static const uint8_t sl[4] = {0xf1, 0x0f, 0x80, 0xe1};
    memcpy(row + 4, sl, 4);
    for (int b = 0; b < 8; b++)
        ramp_nibbles(row + 8 + 16 * b);
    /* Super-block 1: d = -1, scales all ff (scale 31), qs 88 (T[8] = 1) but qs[0] = 0f (value 256: T[15] = 113,
     * value 272: T[0] = -127). */
    put16(row + 136, H_M1);
    memset(row + 138, 0xff, 6);
    memset(row + 144, 0x88, 128);
    row[144] = 0x0f;
    struct expect e[] = {
        {0, -63.5f},     /* scale 1: T[0] */
        {31, -63.5f},    /* T[0] */
        {32, 63.5f},     /* scale -1: T[0] */
        {47, -56.5f},    /* T[15] */
        {72, 15.5f},     /* scale 31: T[8] = 1 */
        {96, 2032.0f},   /* scale -32: T[0] */
        {111, -1808.0f}, /* T[15] */
        {128, 0.0f},     /* scale 0 */
        {160, -508.0f},  /* scale 8: T[0] */
        {200, -15.5f},   /* scale -31: T[8] */
        {240, 1695.0f},  /* scale 30: T[15] */
        {255, -1905.0f}, /* T[0] */
        {256, -3503.0f}, /* -1 * 31 * 113 */
        {272, 3937.0f},  /* -1 * 31 * -127 */
        {257, -31.0f},   /* T[8] */
        {511, -31.0f},
    };
    check_picks("iq4_xs", FLM_DTYPE_IQ4_XS, row, e, (int)(sizeof e / sizeof e[0]));
}

/* ---- random matrices of every dtype ---- */

enum { ROWS = 13, COLS = 1024 };
static const int DTYPES[] = {FLM_DTYPE_F32,  FLM_DTYPE_F16,  FLM_DTYPE_BF16, FLM_DTYPE_Q8_0,   FLM_DTYPE_Q4_0,
                             FLM_DTYPE_Q4_1, FLM_DTYPE_Q5_0, FLM_DTYPE_Q5_1, FLM_DTYPE_IQ4_NL, FLM_DTYPE_Q6_K,
                             FLM_DTYPE_Q4_K, FLM_DTYPE_Q5_K, FLM_DTYPE_Q3_K,
                             FLM_DTYPE_Q2_K, FLM_DTYPE_IQ4_XS};
#define NTYPES ((int)(sizeof DTYPES / sizeof DTYPES[0]))

static const char *dtype_name(int d)
{
    static const char *names[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl", "q6_k", "q4_k", "q5_k", "q3_k", "q2_k", "iq4_xs"};
    return d >= 0 && d < (int)(sizeof names / sizeof names[0]) ? names[d] : "?";
}

static uint8_t *weights[NTYPES];

/* Where a k-quant super-block keeps its f16 scale d and min scale dmin (-1: none). */
struct k_layout {
    int dtype, bytes, d, dmin;
};
static const struct k_layout K_LAYOUTS[] = {{FLM_DTYPE_Q6_K, 210, 208, -1}, {FLM_DTYPE_Q4_K, 144, 0, 2},
                                             {FLM_DTYPE_Q5_K, 176, 0, 2}, {FLM_DTYPE_Q3_K, 110, 108, -1},
                                             {FLM_DTYPE_Q2_K, 84, 80, 82}, {FLM_DTYPE_IQ4_XS, 136, 0, -1}};

static const struct k_layout *k_layout(int dtype)
{
    for (size_t i = 0; i < sizeof K_LAYOUTS / sizeof K_LAYOUTS[0]; i++)
        if (K_LAYOUTS[i].dtype == dtype)
            return &K_LAYOUTS[i];
    return NULL;
}

static int is_k(int dtype)
{
    return k_layout(dtype) != NULL;
}

static double f16_value(const uint8_t *p);

/* Value i (0..255) of the k-quant super-block at blk, read from the format's definitions:
 * (d * scale) * q - dmin * min, with *mag = |d * scale * q| + |dmin * min|. */
static double k_decode(int dtype, const uint8_t *blk, int i, double *mag)
{
    double scale = 0, min = 0;
    int q = 0;
    if (dtype == FLM_DTYPE_Q6_K) {
        /* ql (128 bytes): value i's low 4 bits; qh (64): its high 2 bits; int8 scales[16]; f16 d */
        int half = i / 128, quarter = i % 128 / 32, l = i % 32;
        int low = blk[64 * half + 32 * (quarter & 1) + l];
        low = quarter < 2 ? low & 15 : low >> 4;
        int high = blk[128 + 32 * half + l] >> (2 * quarter) & 3;
        q = (low + 16 * high) - 32;
        scale = f16_value(blk + 208) * (int8_t)blk[192 + i / 16];
    } else if (dtype == FLM_DTYPE_Q4_K || dtype == FLM_DTYPE_Q5_K) {
        /* f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, (q5_k: qh[32],) qs[128] */
        int j = i / 32, sc, m;
        const uint8_t *p = blk + 4;
        if (j < 4) {
            sc = p[j] % 64;
            m = p[j + 4] % 64;
        } else {
            sc = p[j + 4] % 16 + p[j - 4] / 64 * 16;
            m = p[j + 4] / 16 + p[j] / 64 * 16;
        }
        int five = dtype == FLM_DTYPE_Q5_K;
        int byte = blk[(five ? 48 : 16) + 32 * (i / 64) + i % 32];
        q = i % 64 < 32 ? byte % 16 : byte / 16;
        if (five && blk[16 + i % 32] & 1 << (i / 32))
            q += 16;
        scale = f16_value(blk) * sc;
        min = f16_value(blk + 2) * m;
    } else if (dtype == FLM_DTYPE_Q3_K) {
        /* hmask[32], qs[64], 12 bytes of scales, f16 d */
        int s = i / 16, half = i / 128, quarter = i % 128 / 32, l = i % 32;
        int low4 = s < 8 ? blk[96 + s] % 16 : blk[96 + s - 8] / 16;
        int high2 = blk[104 + s % 4] >> (2 * (s / 4)) & 3;
        int two = blk[32 + 32 * half + l] >> (2 * quarter) & 3;
        int third = blk[l] >> (4 * half + quarter) & 1;
        q = two + 4 * third - 4;
        scale = f16_value(blk + 108) * (low4 + 16 * high2 - 32);
    } else if (dtype == FLM_DTYPE_Q2_K) {
        /* scales[16] (scale low nibble, min high), qs[64], f16 d, f16 dmin */
        int s = i / 16, half = i / 128, quarter = i % 128 / 32, l = i % 32;
        q = blk[16 + 32 * half + l] >> (2 * quarter) & 3;
        scale = f16_value(blk + 80) * (blk[s] % 16);
        min = f16_value(blk + 82) * (blk[s] / 16);
    } else if (dtype == FLM_DTYPE_IQ4_XS) {
        /* f16 d, uint16 scales_h, scales_l[4], qs[128] */
        static const int grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        int b = i / 32, j = i % 32;
        int low4 = blk[4 + b / 2] >> (4 * (b % 2)) & 15;
        int high2 = (blk[2] | blk[3] << 8) >> (2 * b) & 3;
        int byte = blk[8 + 16 * b + j % 16];
        q = grid[j < 16 ? byte % 16 : byte / 16];
        scale = f16_value(blk) * (low4 + 16 * high2 - 32);
    }
    *mag = fabs(scale * q) + fabs(min);
    return scale * q - min;
}
static float xvec[COLS];

/* A normal f16 of magnitude in [2^-6, 2^1), random sign and mantissa. */
static uint16_t random_f16(uint64_t *rng)
{
    uint64_t r = tu_rand(rng);
    return (uint16_t)((r & 1) << 15 | (uint64_t)(9 + (r >> 1) % 7) << 10 | (r >> 8) % 1024);
}

static double f16_value(const uint8_t *p)
{
    unsigned h = (unsigned)p[0] | (unsigned)p[1] << 8;
    double v = ldexp(1.0 + (h & 0x3ff) / 1024.0, (int)((h >> 10) & 0x1f) - 15);
    return h & 0x8000 ? -v : v;
}

static void fill_random(int dtype, uint8_t *w, int64_t bytes, uint64_t *rng)
{
    for (int64_t i = 0; i < bytes; i++)
        w[i] = (uint8_t)tu_rand(rng);
    if (dtype == FLM_DTYPE_F32) {
        for (int64_t i = 0; i < bytes / 4; i++) {
            float f = (float)((double)(int64_t)(tu_rand(rng) >> 11) / 9007199254740992.0 - 0.5);
            memcpy(w + 4 * i, &f, 4);
        }
    } else if (dtype == FLM_DTYPE_F16) {
        for (int64_t i = 0; i < bytes / 2; i++)
            put16(w + 2 * i, random_f16(rng));
    } else if (dtype == FLM_DTYPE_BF16) {
        for (int64_t i = 0; i < bytes / 2; i++)
            w[2 * i + 1] = (uint8_t)(0x3c + tu_rand(rng) % 4) | (w[2 * i + 1] & 0x80); /* |v| about 2^-7..2^1 */
    } else if (is_k(dtype)) {
        /* random quants and sub-block scales; random normal f16 super-block scales */
        const struct k_layout *k = k_layout(dtype);
        for (int64_t b = 0; b < bytes / k->bytes; b++) {
            put16(w + b * k->bytes + k->d, random_f16(rng));
            if (k->dmin >= 0)
                put16(w + b * k->bytes + k->dmin, random_f16(rng));
        }
    } else {
        int64_t block = flm_row_bytes(dtype, 32);
        int scales = dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1 ? 2 : 1;
        for (int64_t b = 0; b < bytes / block; b++)
            for (int s = 0; s < scales; s++)
                put16(w + b * block + 2 * s, random_f16(rng));
    }
}

/* Value c of a row of dtype, by the GGUF block definitions, as scale * q + min; *mag gets
 * |scale * q| + |min|, the size of the terms a kernel adds for it. */
static double decode(int dtype, const uint8_t *row, int c, double *mag)
{
    if (is_k(dtype))
        return k_decode(dtype, row + c / 256 * k_layout(dtype)->bytes, c % 256, mag);
    static const int grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
    double v, min = 0;
    if (dtype == FLM_DTYPE_F32) {
        float f;
        memcpy(&f, row + 4 * c, 4);
        v = f;
    } else if (dtype == FLM_DTYPE_F16) {
        v = f16_value(row + 2 * c);
    } else if (dtype == FLM_DTYPE_BF16) {
        uint32_t bits = (uint32_t)row[2 * c] << 16 | (uint32_t)row[2 * c + 1] << 24;
        float f;
        memcpy(&f, &bits, 4);
        v = f;
    } else {
        const uint8_t *blk = row + (c / 32) * flm_row_bytes(dtype, 32);
        int j = c % 32, q;
        double d = f16_value(blk);
        if (dtype == FLM_DTYPE_Q8_0) {
            q = (int8_t)blk[2 + j];
        } else {
            int qs = dtype == FLM_DTYPE_Q4_0 || dtype == FLM_DTYPE_IQ4_NL ? 2 : dtype == FLM_DTYPE_Q4_1 ? 4
                     : dtype == FLM_DTYPE_Q5_0 ? 6 : 8;
            q = j < 16 ? blk[qs + j] & 0x0f : blk[qs + j - 16] >> 4;
            if (dtype == FLM_DTYPE_Q5_0 || dtype == FLM_DTYPE_Q5_1) {
                const uint8_t *qh = blk + (dtype == FLM_DTYPE_Q5_0 ? 2 : 4);
                q |= (qh[j / 8] >> (j % 8) & 1) << 4;
            }
            if (dtype == FLM_DTYPE_Q4_0)
                q -= 8;
            else if (dtype == FLM_DTYPE_Q5_0)
                q -= 16;
            else if (dtype == FLM_DTYPE_IQ4_NL)
                q = grid[q];
            if (dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1)
                min = f16_value(blk + 2);
        }
        *mag = fabs(d * q) + fabs(min);
        return d * q + min;
    }
    *mag = fabs(v);
    return v;
}

/* The types whose kernels dot with x quantized to int8 (kern_quantize_x). */
static int int8_x(int dtype)
{
    return dtype == FLM_DTYPE_Q8_0 || dtype == FLM_DTYPE_Q4_0 || dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_0 ||
           dtype == FLM_DTYPE_Q5_1 || dtype == FLM_DTYPE_IQ4_NL || is_k(dtype);
}

/* x's quantization step in block b of x, computed as kern_quantize_x does: the block's largest |x| / 127
 * in float. */
static double x_step(const float *x, int b)
{
    float amax = 0;
    for (int i = 0; i < 32; i++)
        amax = fmaxf(amax, fabsf(x[32 * b + i]));
    return amax / 127.0f;
}

/*
 * Both paths add, per row, at most COLS / 8 products per lane, two block terms per block (scale and
 * min), the x sums of a block and the final lanes: every term reaches y through at most
 * k = COLS / 8 + 2 * COLS / 32 + 16 roundings, so |y - exact| <= k * 2^-24 * S, with S the sum over the
 * row of (|scale * q| + |min|) * |x|. The tests hold each path to that bound against the double
 * reference, and the two paths to twice it against each other.
 *
 * The int8-x types (int8_x) also carry x's quantization, |x_i - d_x q_i| <= d_x / 2 in each block:
 *     Q = sum_b d_x[b] / 2 * sum_{i in b} |w_i|     (w_i the weight value, d * q + m)
 * and their float roundings act on d_x q_i, up to |x_i| + d_x / 2, rather than on x_i, so S takes
 * |x_i| + d_x / 2. Where d_x is subnormal (|x| below 2^-126 * 127) d_x and d * d_x round to 2^-149
 * absolute, not 2^-24 relative: 2^-130 * (the sum of the |scale * q| + |min|) covers that (and is far
 * below Q otherwise). Their bound is Q plus those terms; quant_bound() returns Q alone.
 */
/* ---- k-quants: the integer path, x quantized to int8 ----
 * flm_matvec dots the k-quants with x quantized as kern_quantize_x does (blocks of 32, d[b] = amax / 127,
 * q = rint(x * (127 / amax)) clamped to 127), which moves x[c] by at most d[b] / 2 (times 1 + 2^-12 for the
 * float steps of the quantization): bound() adds sum_b d[b] / 2 * sum_{c in b} (|scale * q| + |min|). The
 * integer sums are exact, so against the reference with the quantized x the kernels are within
 * (2 COLS / 256 + 8) 2^-24 sum (|scale * q| + |min|) |d[b] q[c]| (two fma and a product per super-block
 * and lane, sum8); and the AVX2 and portable paths give the same bits. */
static int int_x(int dtype)
{
    return is_k(dtype);
}

static float xd[COLS / 32];
static int8_t xq[COLS];

/* x quantized as kern_quantize_x does it. */
static void quantize_x(void)
{
    for (int b = 0; b < COLS / 32; b++) {
        float amax = 0.0f;
        for (int i = 0; i < 32; i++)
            amax = fmaxf(amax, fabsf(xvec[32 * b + i]));
        float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        xd[b] = amax / 127.0f;
        for (int i = 0; i < 32; i++) {
            float v = rintf(xvec[32 * b + i] * inv);
            xq[32 * b + i] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : v);
        }
    }
}

/* The reference with the quantized x and its rounding bound (int_x types). */
static double bound_quantized(int dtype, const uint8_t *row, double *ref)
{
    double s = 0, sum = 0;
    for (int c = 0; c < COLS; c++) {
        double mag, xv = (double)xd[c / 32] * xq[c];
        sum += decode(dtype, row, c, &mag) * xv;
        s += mag * fabs(xv);
    }
    *ref = sum;
    return (2 * COLS / 256 + 8) * ldexp(s, -24);
}

static double bound_x(int dtype, const uint8_t *row, const float *x, double *ref, double *quant)
{
    double s = 0, sum = 0, q = 0, mags = 0;
    for (int b = 0; b < COLS / 32; b++) {
        double step = int8_x(dtype) ? x_step(x, b) : 0, wsum = 0;
        for (int c = 32 * b; c < 32 * b + 32; c++) {
            double mag, v = decode(dtype, row, c, &mag);
            sum += v * x[c];
            s += mag * (fabs(x[c]) + step / 2);
            wsum += fabs(v);
            mags += mag;
        }
        q += step / 2 * wsum;
    }
    *ref = sum;
    if (quant)
        *quant = q;
    double rounding = (COLS / 8 + 2 * COLS / 32 + 16) * ldexp(s, -24);
    return int8_x(dtype) ? q + rounding + ldexp(mags, -130) : rounding;
}

static double bound(int dtype, const uint8_t *row, double *ref)
{
    return bound_x(dtype, row, xvec, ref, NULL);
}

static void make_matrices(void)
{
    uint64_t rng = 77;
    for (int c = 0; c < COLS; c++)
        xvec[c] = (float)((double)(int64_t)(tu_rand(&rng) >> 11) / 4503599627370496.0 - 1.0);
    for (int t = 0; t < NTYPES; t++) {
        int64_t bytes = ROWS * flm_row_bytes(DTYPES[t], COLS);
        weights[t] = malloc((size_t)bytes);
        fill_random(DTYPES[t], weights[t], bytes, &rng);
    }
    quantize_x();
}

static void test_against_reference(const float *y, int t)
{
    int dtype = DTYPES[t];
    int64_t stride = flm_row_bytes(dtype, COLS);
    for (int r = 0; r < ROWS; r++) {
        double ref, b = bound(dtype, weights[t] + r * stride, &ref);
        CHECK_MSG(fabs(y[r] - ref) <= b, "%s row %d: %.9g vs %.9g (bound %.3g)", dtype_name(dtype), r, y[r], ref, b);
        if (int_x(dtype)) {
            b = bound_quantized(dtype, weights[t] + r * stride, &ref);
            CHECK_MSG(fabs(y[r] - ref) <= b, "%s row %d: %.9g vs %.9g with the quantized x (bound %.3g)",
                      dtype_name(dtype), r, y[r], ref, b);
        }
    }
    /* any split of the rows gives the same bits */
    float y2[ROWS];
    int cuts[] = {0, 1, 6, 11, ROWS};
    for (int i = 0; i < 4; i++)
        CHECK(flm_matvec(dtype, weights[t], ROWS, COLS, xvec, y2, cuts[i], cuts[i + 1]) == 0);
    CHECK_MSG(memcmp(y, y2, sizeof y2) == 0, "%s: a split changes the bits", dtype_name(dtype));
}

/* The portable results of every dtype, from a child that runs with FLASHLM_NO_SIMD=1 (the choice is
 * made once per process, on the first kernel call, so it must be the child's first). 0 on success. */
static int portable_results(float out[NTYPES][ROWS])
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        setenv("FLASHLM_NO_SIMD", "1", 1);
        static float y[NTYPES][ROWS];
        int ok = !flm_kernels_simd();
        for (int t = 0; t < NTYPES; t++)
            ok &= flm_matvec(DTYPES[t], weights[t], ROWS, COLS, xvec, y[t], 0, ROWS) == 0;
        ssize_t n = ok ? write(fds[1], y, sizeof y) : 0;
        _exit(n == (ssize_t)sizeof y ? 0 : 1);
    }
    close(fds[1]);
    size_t got = 0;
    while (got < sizeof(float) * NTYPES * ROWS) {
        ssize_t n = read(fds[0], (char *)out + got, sizeof(float) * NTYPES * ROWS - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == sizeof(float) * NTYPES * ROWS && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void test_paths(float portable[NTYPES][ROWS], int have_portable)
{
    int simd = flm_kernels_simd();
    for (int t = 0; t < NTYPES; t++) {
        int dtype = DTYPES[t];
        float y[ROWS];
        CHECK(flm_matvec(dtype, weights[t], ROWS, COLS, xvec, y, 0, ROWS) == 0);
        test_against_reference(y, t);
        if (!have_portable)
            continue;
        int64_t stride = flm_row_bytes(dtype, COLS);
        for (int r = 0; r < ROWS; r++) {
            double ref, b = bound(dtype, weights[t] + r * stride, &ref);
            if (simd && int8_x(dtype)) /* the integer kernels: the same operations on both paths */
                CHECK_MSG(y[r] == portable[t][r], "%s row %d: avx2 %.9g, portable %.9g (not the same bits)",
                          dtype_name(dtype), r, y[r], portable[t][r]);
            else if (simd)
                CHECK_MSG(fabs((double)y[r] - portable[t][r]) <= 2 * b, "%s row %d: avx2 %.9g, portable %.9g",
                          dtype_name(dtype), r, y[r], portable[t][r]);
            else
                CHECK_MSG(y[r] == portable[t][r], "%s row %d: two portable runs differ", dtype_name(dtype), r);
        }
    }
}

/* The integer kernels' int16 bounds at their worst: every quant byte 0x00 or 0xff (the largest quants,
 * scales and mins of every type, iq4's grid -127 or 113; q8_0 0 or -1) against x all +1 or all -1 (q = 127
 * or -127 everywhere, every product of a block the same sign), the f16 scales 1. The AVX2 path keeps
 * int16 partial sums (maddubs pairs, packs, the int16 sub-block sums of q2_k and q3_k) that would
 * saturate or wrap here first; it must give the portable path's bits. 5 rows: the 4-row kernel and the
 * one-row kernel. */
enum { XROWS = 5 };

/* Rows of dtype with every byte fill, the f16 scales (and mins) 1; malloc'd. */
static uint8_t *extreme_matrix(int dtype, int fill)
{
    int64_t bytes = XROWS * flm_row_bytes(dtype, COLS);
    uint8_t *w = malloc((size_t)bytes);
    memset(w, fill, (size_t)bytes);
    const struct k_layout *k = k_layout(dtype);
    int64_t block = k ? k->bytes : flm_row_bytes(dtype, 32);
    for (int64_t b = 0; b < bytes / block; b++) {
        put16(w + b * block + (k ? k->d : 0), 0x3c00);
        if (k ? k->dmin >= 0 : dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1)
            put16(w + b * block + (k ? k->dmin : 2), 0x3c00);
    }
    return w;
}

/* y[t][fill][sign] of every integer dtype t for the extreme matrices (fill 0x00, 0xff) and x all +1, -1. */
static void extreme_matvecs(float y[NTYPES][2][2][XROWS])
{
    static float x[COLS];
    for (int t = 0; t < NTYPES; t++) {
        if (!int8_x(DTYPES[t]))
            continue;
        for (int f = 0; f < 2; f++) {
            uint8_t *w = extreme_matrix(DTYPES[t], f ? 0xff : 0x00);
            for (int sign = 0; sign < 2; sign++) {
                for (int c = 0; c < COLS; c++)
                    x[c] = sign ? -1.0f : 1.0f;
                CHECK(flm_matvec(DTYPES[t], w, XROWS, COLS, x, y[t][f][sign], 0, XROWS) == 0);
            }
            free(w);
        }
    }
}

/* The portable extreme_matvecs, from a child that runs with FLASHLM_NO_SIMD=1 (as portable_results:
 * before any kernel call of this process). 0 on success. */
static int portable_extremes(float out[NTYPES][2][2][XROWS])
{
    const size_t size = sizeof(float) * NTYPES * 2 * 2 * XROWS;
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        setenv("FLASHLM_NO_SIMD", "1", 1);
        static float y[NTYPES][2][2][XROWS];
        int ok = !flm_kernels_simd();
        extreme_matvecs(y);
        ssize_t n = ok ? write(fds[1], y, size) : 0;
        _exit(n == (ssize_t)size ? 0 : 1);
    }
    close(fds[1]);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fds[0], (char *)out + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == size && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void test_int16_extremes(float portable[NTYPES][2][2][XROWS])
{
    static float y[NTYPES][2][2][XROWS];
    extreme_matvecs(y);
    for (int t = 0; t < NTYPES; t++)
        for (int f = 0; f < 2 && int8_x(DTYPES[t]); f++)
            for (int sign = 0; sign < 2; sign++)
                for (int r = 0; r < XROWS; r++)
                    CHECK_MSG(y[t][f][sign][r] == portable[t][f][sign][r],
                              "%s bytes 0x%02x, x %+d, row %d: this path %.9g, portable %.9g",
                              dtype_name(DTYPES[t]), f ? 0xff : 0, sign ? -1 : 1, r, y[t][f][sign][r],
                              portable[t][f][sign][r]);
}

/* ---- x quantized to int8: extremes, and how tight the bound is ---- */

/* Row r of type t against the reference within bound_x, for an x of COLS values; *err and *quant get
 * y - reference and the quantization part Q of the bound. */
static void check_row_x(int t, int r, const float *x, const char *what, double *err, double *quant)
{
    int dtype = DTYPES[t];
    const uint8_t *row = weights[t] + r * flm_row_bytes(dtype, COLS);
    float y[1] = {-999};
    CHECK(flm_matvec(dtype, row, 1, COLS, x, y, 0, 1) == 0);
    double ref, q, b = bound_x(dtype, row, x, &ref, &q);
    CHECK_MSG(isfinite(y[0]) && fabs(y[0] - ref) <= b, "%s, %s row %d: %.9g vs %.9g (bound %.3g)", what,
              dtype_name(dtype), r, y[0], ref, b);
    if (err)
        *err = y[0] - ref;
    if (quant)
        *quant = q;
}

/* Blocks of zeros, of huge values, of tiny ones (127 / amax overflows float below about 3.7e-37: the
 * quantization scales such blocks first) and subnormal ones, a lone value; each within the bound,
 * and a NaN or an infinity in x gives NaN, never a quant made of a NaN. */
static void test_x_extremes(void)
{
    static float x[5][COLS];
    uint64_t rng = 5;
    for (int c = 0; c < COLS; c++) {
        float u = (float)((double)(int64_t)(tu_rand(&rng) >> 11) / 4503599627370496.0 - 1.0);
        int b = c / 32;
        /* 0: every third block zero, the others random; 1: one block up to 1e30, one more mixing 1e30 with
         * 1; 2: blocks up to 1e-37 and 1e-38 (normal) and 1e-41 (subnormal); 3: one value in one block;
         * 4: huge, tiny and zero blocks next to normal ones */
        x[0][c] = b % 3 == 0 ? 0.0f : u;
        x[1][c] = b == 3 ? 1e30f * u : b == 7 ? (c % 32 == 5 ? 1e30f : u) : 0.0f;
        x[2][c] = b == 1 ? 1e-37f * u : b == 2 ? 1e-38f * u : b == 9 ? 1e-41f * u : 0.0f;
        x[3][c] = c == 100 ? -0.75f : 0.0f;
        x[4][c] = b == 0 ? 1e30f * u : b == 1 ? 1e-37f * u : b == 2 ? 0.0f : u;
    }
    static const char *what[5] = {"zero blocks", "huge blocks", "tiny blocks", "one value", "mixed blocks"};
    for (int t = 0; t < NTYPES; t++) {
        if (!int8_x(DTYPES[t]))
            continue;
        for (int k = 0; k < 5; k++)
            for (int r = 0; r < ROWS; r++)
                check_row_x(t, r, x[k], what[k], NULL, NULL);
        /* tiny values are not lost: blocks 1 and 2 of x[2] alone (|x| up to 1e-37, 1e-38: steps d_x
         * below FLT_MIN) give the reference within Q alone, without the bound's 2^-130 term, which is
         * as large as these results */
        float y[1];
        static float tiny[COLS];
        memcpy(tiny, x[2], sizeof tiny);
        for (int c = 96; c < COLS; c++)
            tiny[c] = 0;
        CHECK(flm_matvec(DTYPES[t], weights[t], 1, COLS, tiny, y, 0, 1) == 0);
        double ref, q;
        bound_x(DTYPES[t], weights[t], tiny, &ref, &q);
        CHECK_MSG(y[0] != 0 && fabs(y[0] - ref) <= q, "%s: tiny x gives %g, reference %g (Q %g)",
                  dtype_name(DTYPES[t]), y[0], ref, q);
        /* NaN and infinity */
        static float bad[COLS];
        memcpy(bad, x[0], sizeof bad);
        bad[40] = NAN;
        float yr[ROWS];
        CHECK(flm_matvec(DTYPES[t], weights[t], ROWS, COLS, bad, yr, 0, ROWS) == 0);
        for (int r = 0; r < ROWS; r++)
            CHECK_MSG(isnan(yr[r]), "%s row %d: x with a NaN gives %g", dtype_name(DTYPES[t]), r, yr[r]);
        bad[40] = -INFINITY;
        CHECK(flm_matvec(DTYPES[t], weights[t], ROWS, COLS, bad, yr, 0, ROWS) == 0);
        for (int r = 0; r < ROWS; r++)
            CHECK_MSG(isnan(yr[r]), "%s row %d: x with an infinity gives %g", dtype_name(DTYPES[t]), r, yr[r]);
    }
}

/*
 * The quantization bound Q is reached, not only respected. An x built against row r: every block's
 * first value 127, so d_x = 1 and q = rint(x) exactly; every other value k + 1/2, a tie that rint rounds
 * to the even neighbour: k odd (q = x + 1/2) where the weight is positive, k even (q = x - 1/2) where it
 * is negative, so every term's error w_i (q_i - x_i) is +|w_i| / 2 and y - reference = Q minus the
 * first values' share (|w| / 2 each), to within the float roundings: at least 0.9 Q here.
 * On random x (xvec, fixed seed) the error is a sum of terms of either sign, about sqrt(n) times
 * smaller than Q; the test prints the largest ratio and asks for at least 1% of Q on some row, so
 * that a bound grown loose by orders of magnitude, or an x not quantized at all, would fail.
 */
static void test_x_bound_tight(void)
{
    static float x[COLS];
    uint64_t rng = 11;
    for (int t = 0; t < NTYPES; t++) {
        int dtype = DTYPES[t];
        if (!int8_x(dtype))
            continue;
        const uint8_t *row0 = weights[t];
        int64_t stride = flm_row_bytes(dtype, COLS);
        double worst = 1, most = 0;
        for (int r = 0; r < ROWS; r++) {
            for (int c = 0; c < COLS; c++) {
                double mag, w = decode(dtype, row0 + r * stride, c, &mag);
                int k = (int)tu_rand_range(&rng, -60, 60) * 2 + (w > 0); /* odd where w > 0 */
                x[c] = c % 32 == 0 ? 127.0f : (float)k + 0.5f;
            }
            double err, q;
            check_row_x(t, r, x, "ties", &err, &q);
            worst = fmin(worst, err / q);
            double rerr, rq;
            check_row_x(t, r, xvec, "random", &rerr, &rq);
            most = fmax(most, fabs(rerr) / rq);
        }
        CHECK_MSG(worst >= 0.9, "%s: the ties reach only %.3f of the bound", dtype_name(dtype), worst);
        CHECK_MSG(most >= 0.01, "%s: random x errs by at most %.4f of the bound", dtype_name(dtype), most);
        printf("%s: ties %.3f of the quantization bound (worst row), random x up to %.3f\n", dtype_name(dtype),
               worst, most);
    }
}

static void test_row_bytes_and_arguments(void)
{
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q4_1, 64), 40);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q5_0, 64), 44);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q5_1, 64), 48);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_IQ4_NL, 64), 36);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q5_1, 48), -1);
    CHECK_EQ(flm_row_bytes(99, 64), -1);
    /* the k-quants: super-blocks of 256 values, and nothing else */
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q6_K, 512), 420);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q6_K, 288), -1);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q6_K, 32), -1);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q4_K, 768), 432);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q4_K, 128), -1);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q5_K, 256), 176);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q5_K, 257), -1);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q3_K, 1024), 440);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q3_K, 992), -1);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q2_K, 512), 168);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_Q2_K, 64), -1);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_IQ4_XS, 4096), 2176);
    CHECK_EQ(flm_row_bytes(FLM_DTYPE_IQ4_XS, 4064), -1);
    CHECK_EQ(flm_row_bytes(15, 256), -1);
    uint8_t w[48] = {0};
    float x[48] = {0}, y[1];
    CHECK_EQ(flm_matvec(FLM_DTYPE_Q6_K, w, 1, 32, x, y, 0, 1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matvec(FLM_DTYPE_Q5_0, w, 1, 48, x, y, 0, 1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_matvec(FLM_DTYPE_IQ4_NL, NULL, 1, 32, x, y, 0, 1), FLM_E_BAD_ARG);
    /* the encoder has no path for them, and says so by refusing; the synthetic filler writes them
     * (random quants, test_pack.c) but only centred on 0 */
    float src[32] = {0};
    CHECK_EQ(flm_encode_f32(FLM_DTYPE_Q4_1, src, w, 32), FLM_E_BAD_ARG);
    CHECK_EQ(flm_synth_fill(FLM_DTYPE_Q5_1, w, 1, 32, 24, 1, 1, 1, 0), FLM_E_BAD_ARG);
    /* the sparse kernels take them (test_bundle_ffn.c), but not records too short for their parts
     * (two q5_0 parts of 32 values are 44 bytes) or a dim that is not a multiple of the block */
    CHECK_EQ(flm_bundle_ffn_up(FLM_DTYPE_Q5_0, FLM_DTYPE_Q5_0, w, 1, 40, 32, 0, FLM_ACT_RELU, NULL, x, NULL, 0, 1, y),
             FLM_E_BAD_ARG);
    int32_t order[1] = {0};
    CHECK_EQ(flm_bundle_ffn_down(FLM_DTYPE_IQ4_NL, FLM_DTYPE_Q8_0, w, 1, 48, 32, 0, y, order, 1, x, 0, 32),
             FLM_E_BAD_ARG);
    static uint8_t big[4096];
    static float xs[256], ys[1];
    CHECK_EQ(flm_encode_f32(FLM_DTYPE_Q6_K, xs, big, 256), FLM_E_BAD_ARG);
    CHECK_EQ(flm_synth_fill(FLM_DTYPE_Q6_K, big, 1, 256, 210, 1, 1, 1, 0), FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_up(FLM_DTYPE_Q6_K, FLM_DTYPE_Q6_K, big, 1, 640, 128, 0, FLM_ACT_RELU, NULL, xs, NULL, 0, 1,
                               ys),
             FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_up(FLM_DTYPE_Q6_K, FLM_DTYPE_BF16, big, 1, 640, 256, 0, FLM_ACT_RELU, NULL, xs, NULL, 0, 1,
                               ys),
             FLM_E_BAD_ARG);
    CHECK_EQ(flm_bundle_ffn_up(FLM_DTYPE_Q6_K, FLM_DTYPE_Q6_K, big, 1, 420, 256, 0, FLM_ACT_RELU, NULL, xs, NULL, 0, 1,
                               ys),
             0);
}

int main(void)
{
    static float portable[NTYPES][ROWS];
    make_matrices();
    int have_portable = portable_results(portable) == 0;
    CHECK_MSG(have_portable, "the portable child failed");
    static float portable_x[NTYPES][2][2][XROWS];
    int have_extremes = portable_extremes(portable_x) == 0;
    CHECK_MSG(have_extremes, "the portable child (extremes) failed");
    test_paths(portable, have_portable);
    test_q4_1_blocks();
    test_q5_0_blocks();
    test_q5_1_blocks();
    test_iq4_nl_blocks();
    test_q6_k_blocks();
    test_q4_k_blocks();
    test_q5_k_blocks();
    test_q3_k_blocks();
    test_q2_k_blocks();
    test_iq4_xs_blocks();
    test_row_bytes_and_arguments();
    test_x_extremes();
    test_x_bound_tight();
    if (have_extremes)
        test_int16_extremes(portable_x);
    for (int t = 0; t < NTYPES; t++)
        free(weights[t]);
    return tu_finish(flm_kernels_simd() ? "quants (simd)" : "quants (portable)");
}
