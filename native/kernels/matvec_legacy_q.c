/*
 * The integer kernels (matvec_internal.h, "the integer kernels") of GGUF's legacy blocks of 32 values:
 * q8_0, q4_0, q4_1, q5_0, q5_1 and iq4_nl, dotted with x quantized to int8 in blocks of 32 (kern_qx).
 *
 * A block of the weights is an f16 scale d (q4_1, q5_1: then an f16 min m), for the 5-bit types 32
 * fifth bits qh (a little-endian uint32, bit j for value j), then 16 bytes qs: value j (0..15) is the
 * low nibble of qs[j], value 16 + j the high one; q8_0's block is d, then 32 signed bytes qs, value j
 * the byte qs[j]. As integers w_j (exact):
 *     q8_0  w = (int8_t) qs[j]              value d * w   (-128..127)
 *     q4_0  w = nibble - 8                  value d * w
 *     q4_1  w = nibble                      value d * w + m
 *     q5_0  w = (nibble | fifth << 4) - 16  value d * w
 *     q5_1  w = nibble | fifth << 4         value d * w + m
 *     iq4_nl w = T[nibble]                  value d * w   (T = kern_iq4nl_grid, -127..113)
 * and x's block b is d_x * q_j (kern_quantize_x). The dot of a weight block with x's block b is then
 *     d * d_x * sum_j w_j q_j  +  m * d_x * sum_j q_j,
 * where the sums are exact integers. Each half h (values 16 h .. 16 h + 15) of a block keeps its own
 * integer sum
 *     I_h = sum_{j in half h} w_j q_j          (|I_h| <= 16 * 128 * 127 < 2^24, exact in int32 and float)
 *     S_h = sum_{j in half h} q_j  = kern_qx.sum16[2 b + h]
 * and a row is summed in two float lanes per term (h = 0, 1), over the blocks b in order:
 *     s   = f16(d) * d_x[b]                     (one float product, rounded)
 *     A_h = fma(s, (float) I_h, A_h)            (one rounding)
 * and for q4_1 and q5_1 also, in lanes of their own (so that the two chains run in parallel):
 *     sm  = f16(m) * d_x[b]
 *     M_h = fma(sm, (float) S_h, M_h)
 * and finally  y = A_0 + A_1  (no min), or  y = (A_0 + M_0) + (A_1 + M_1)  (with a min).
 * These operations, in this order, are the definition: the AVX2 kernels compute them in vector lanes
 * (lane r of a vector for row r's A_0, lane 4 + r for its A_1), the portable kernels one row at a time
 * with fmaf, and both get the same bits (the integer sums are exact whatever their order, every float
 * operation is a single IEEE operation with round-to-nearest, and C's fmaf rounds once as FMA does).
 * A row's result depends only on that row and x: not on R, the other rows or the row ranges.
 *
 * The error against the f32 dot is x's quantization (matvec_internal.h: at most
 * sum_b d_x[b] / 2 * sum_{j in b} |value_j|) plus the float roundings above: the products s and sm and
 * at most n / 32 + 1 roundings per lane.
 *
 * The AVX2 integer products: _mm256_maddubs_epi16 multiplies unsigned bytes by signed bytes and adds
 * pairs into int16 with saturation, _mm256_madd_epi16 by ones adds pairs of those into int32. The
 * pairs stay far from saturation (32767):
 *   q4_0, q4_1: nibble (0..15) x q (-127..127): |pair| <= 2 * 15 * 127 = 3810; q4_0's -8 is taken off
 *     afterwards as 8 * S_h (I_h = sum nibble q - 8 S_h, exact).
 *   q5_0, q5_1: 0..31 x q: |pair| <= 2 * 31 * 127 = 7874; q5_0's -16 as 16 * S_h.
 *   iq4_nl: |q| (0..127, shared by the rows) x (T[nibble] with q's sign) (-127..127):
 *     |pair| <= 2 * 127 * 127 = 32258 (q is never -128: kern_quantize_x clamps to -127).
 *   q8_0: |w| (0..128 as an unsigned byte: _mm256_sign_epi8(w, w) turns -128 into the byte 0x80 = 128)
 *     x (q with w's sign: -127..127, 0 where w is 0; q is never -128, so negating it is exact):
 *     |pair| <= 2 * 128 * 127 = 32512 (2 * 127 * 127 = 32258 for ggml's quantizer, which never writes
 *     -128). The sign goes on q rather than on w because w may be -128, whose negation wraps.
 */
#include "flashlm.h"
#include "matvec_internal.h"
#include "quant_blocks.h"

#include <math.h>
#include <stddef.h>
#include <string.h>


/* ---- portable ---- */

static inline float lq_f16(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return kern_f16_to_f32(h);
}

/* The 32 integers w_j of a block (the table at the top). */
static inline void lq_decode(int dtype, const uint8_t *blk, int w[32])
{
    const uint8_t *qs = blk + lq_qs(dtype);
    if (dtype == FLM_DTYPE_Q8_0) {
        for (int j = 0; j < 32; j++)
            w[j] = (int8_t)qs[j];
        return;
    }
    for (int j = 0; j < 16; j++) {
        w[j] = qs[j] & 0x0f;
        w[j + 16] = qs[j] >> 4;
    }
    switch (dtype) {
    case FLM_DTYPE_Q4_0:
        for (int j = 0; j < 32; j++)
            w[j] -= 8;
        break;
    case FLM_DTYPE_Q5_0:
    case FLM_DTYPE_Q5_1: {
        const uint8_t *qh = blk + (dtype == FLM_DTYPE_Q5_0 ? 2 : 4);
        uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 | (uint32_t)qh[3] << 24;
        int offset = dtype == FLM_DTYPE_Q5_0 ? 16 : 0;
        for (int j = 0; j < 32; j++)
            w[j] = (w[j] | (int)((h >> j) & 1u) << 4) - offset;
        break;
    }
    case FLM_DTYPE_IQ4_NL:
        for (int j = 0; j < 32; j++)
            w[j] = kern_iq4nl_grid[w[j]];
        break;
    default: break;
    }
}

/* One row, the operations of the definition above in plain C. */
static float lq_row_portable(int dtype, const uint8_t *row, const kern_qx *x, int64_t n)
{
    const int64_t bytes = lq_block_bytes(dtype);
    const int with_min = lq_has_min(dtype);
    float a0 = 0.0f, a1 = 0.0f, m0 = 0.0f, m1 = 0.0f;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = row + b * bytes;
        const int8_t *q = x->q + b * 32;
        int w[32];
        lq_decode(dtype, blk, w);
        int32_t i0 = 0, i1 = 0;
        for (int j = 0; j < 16; j++) {
            i0 += w[j] * q[j];
            i1 += w[16 + j] * q[16 + j];
        }
        const float s = lq_f16(blk) * x->d[b];
        a0 = fmaf(s, (float)i0, a0);
        a1 = fmaf(s, (float)i1, a1);
        if (with_min) {
            const float sm = lq_f16(blk + 2) * x->d[b];
            m0 = fmaf(sm, (float)x->sum16[2 * b], m0);
            m1 = fmaf(sm, (float)x->sum16[2 * b + 1], m1);
        }
    }
    return with_min ? (a0 + m0) + (a1 + m1) : a0 + a1;
}

static inline void lq_rows_portable(int dtype, const uint8_t *const *w, const kern_qx *x, int64_t n, float *y,
                                    int64_t ystep, int R)
{
    for (int r = 0; r < R; r++)
        y[r * ystep] = lq_row_portable(dtype, w[r], x, n);
}

#define LQ_PORTABLE(name, code)                                                                              \
    static void name##_p1(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y, int64_t ystep)     \
    {                                                                                                        \
        lq_rows_portable(code, w, x, n, y, ystep, 1);                                                        \
    }                                                                                                        \
    static void name##_p4(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y, int64_t ystep)     \
    {                                                                                                        \
        lq_rows_portable(code, w, x, n, y, ystep, FLM_ROWS);                                                 \
    }
LQ_PORTABLE(q8_0, FLM_DTYPE_Q8_0)
LQ_PORTABLE(q4_0, FLM_DTYPE_Q4_0)
LQ_PORTABLE(q4_1, FLM_DTYPE_Q4_1)
LQ_PORTABLE(q5_0, FLM_DTYPE_Q5_0)
LQ_PORTABLE(q5_1, FLM_DTYPE_Q5_1)
LQ_PORTABLE(iq4_nl, FLM_DTYPE_IQ4_NL)

/* ---- AVX2 ----
 * Per block, every row: the 16 bytes qs loaded into both 128-bit halves, the high half shifted right
 * by 4 and both masked to 4 bits, so byte j of the vector is value j's nibble (values 0..15 low,
 * 16..31 high, the order of x's 32 bytes); the 5-bit types OR in their fifth bits (q8_0: its 32 bytes
 * as they are, |w| times q with w's sign); maddubs + madd give 8 int32 lanes (lane k: values 4k..4k+3). Then for the R rows together: three hadds (q4_0, q4_1,
 * q5_0, q5_1: three packs + madds, lq_rows4_packed) reduce lanes 0..3 and 4..7 of each row into lane r
 * (I_0 of row r) and lane 4 + r (I_1), one cvt, one FMA with
 * the rows' scales in lanes r and 4 + r. The R rows share x's loads and the float step. */
#ifdef FLM_HAVE_X86


/* k * S_0 in lanes 0..3, k * S_1 in lanes 4..7 (int32), from kern_qx's sum16 of block b: the pair
 * (S_0, S_1) in every 32-bit lane, times (k, 0) or (0, k) by madd. */
FLM_AVX2 FLM_INLINE __m256i lq_sums(const int16_t *sum16, const int k)
{
    int32_t s;
    memcpy(&s, sum16, 4);
    const __m256i pick = _mm256_setr_epi16((short)k, 0, (short)k, 0, (short)k, 0, (short)k, 0, 0, (short)k, 0,
                                           (short)k, 0, (short)k, 0, (short)k);
    return _mm256_madd_epi16(_mm256_set1_epi32(s), pick);
}


/* Four rows' int32 lanes l[r] (madd of the pairs by ones: lane k of row r the sum of values 4k..4k+3)
 * reduced to I_0 of row r in lane r and I_1 in lane 4 + r, for the types whose sums of 8 products fit
 * in int16 (q4_0, q4_1: 8 * 15 * 127; q5_0, q5_1: 8 * 31 * 127 = 31496 < 2^15): packs_epi32 (exact)
 * then madd by ones adds neighbours, pack(x, y) = [x0 + x1, x2 + x3, y0 + y1, y2 + y3] in each 128-bit
 * half, and pack(pack(l0, l1), pack(l2, l3)) = [l0, l1, l2, l3 summed]: six ops against hadd's nine. */
FLM_AVX2 FLM_INLINE __m256i lq_pack(__m256i x, __m256i y)
{
    return _mm256_madd_epi16(_mm256_packs_epi32(x, y), _mm256_set1_epi16(1));
}

FLM_AVX2 FLM_INLINE __m256i lq_rows4_packed(const __m256i l[FLM_ROWS])
{
    return lq_pack(lq_pack(l[0], l[1]), lq_pack(l[2], l[3]));
}

/* The four f16 at p[r] + at (r = 0..3) gathered in scalar registers (the integer ports are idle here,
 * the vector ones are not) as one 64-bit word, f16 r in bits 16r..16r+15. */
FLM_AVX2 FLM_INLINE uint64_t lq_f16x4(const uint8_t *const p[FLM_ROWS], const int at)
{
    uint16_t h[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < FLM_ROWS; r++)
        memcpy(&h[r], p[r] + at, 2);
    return (uint64_t)h[0] | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 32 | (uint64_t)h[3] << 48;
}

/* The f16 at p0..p3 (4 rows), converted, in lanes r and 4 + r; with the min (the f16 after each) too. */
FLM_AVX2 FLM_INLINE void lq_scales4(const uint8_t *const p[FLM_ROWS], const int with_min, __m256 *d, __m256 *m)
{
    *d = _mm256_cvtph_ps(_mm_set1_epi64x((long long)lq_f16x4(p, 0)));
    *m = with_min ? _mm256_cvtph_ps(_mm_set1_epi64x((long long)lq_f16x4(p, 2))) : *d;
}

/* The kernel of dtype for R rows. (AVX-VNNI's dpbusd in place of maddubs + madd, and for q4_0 and q4_1
 * the high nibbles kept as 16 * nibble, made no measurable difference on a Zen 5 against memory: it is
 * not used.) */
FLM_AVX2 FLM_INLINE void lq_rows_avx2(const int dtype, const uint8_t *const *w, const kern_qx *x, int64_t n,
                                      float *y, int64_t ystep, const int R)
{
    const int64_t bytes = lq_block_bytes(dtype);
    const int with_min = lq_has_min(dtype);
    const int iq4 = dtype == FLM_DTYPE_IQ4_NL;
    const int q8 = dtype == FLM_DTYPE_Q8_0;
    /* q4_0 and q5_0: I_h = sum u q - offset * S_h, offset = 8 or 16 */
    const int offset = dtype == FLM_DTYPE_Q4_0 ? 8 : dtype == FLM_DTYPE_Q5_0 ? 16 : 0;
    const __m256i ones16 = _mm256_set1_epi16(1);
    const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kern_iq4nl_grid));
    /* the types whose 4 rows reduce through int16 (lq_rows4_packed) */
    const int packed = !iq4 && !q8;
    const uint8_t *p[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        p[r] = w[r];
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / 32; b++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(x->q + b * 32));
        const __m256i aq = iq4 ? _mm256_sign_epi8(q, q) : q; /* |q| for iq4_nl */
        __m256i lanes[FLM_ROWS];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m256i pairs;
            if (q8) { /* |w| (unsigned) times q with w's sign */
                const __m256i v = _mm256_loadu_si256((const __m256i *)(p[r] + 2));
                pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(v, v), _mm256_sign_epi8(q, v));
                lanes[r] = _mm256_madd_epi16(pairs, ones16);
                continue;
            }
            __m256i u = lq_unsigned(dtype, p[r]);
            if (iq4) /* |q| times T[nibble] with q's sign (0 where q is 0) */
                pairs = _mm256_maddubs_epi16(aq, _mm256_sign_epi8(_mm256_shuffle_epi8(grid, u), q));
            else
                pairs = _mm256_maddubs_epi16(u, q);
            lanes[r] = _mm256_madd_epi16(pairs, ones16);
        }
        /* lane r: I_0 of row r, lane 4 + r: its I_1 (R = 1: lanes 0..3 and 4..7 all row 0's) */
        __m256i isum;
        if (R == FLM_ROWS) {
            isum = packed ? lq_rows4_packed(lanes)
                         : _mm256_hadd_epi32(_mm256_hadd_epi32(lanes[0], lanes[1]),
                                             _mm256_hadd_epi32(lanes[2], lanes[3]));
        } else {
            __m256i t = _mm256_hadd_epi32(lanes[0], lanes[0]);
            isum = _mm256_hadd_epi32(t, t);
        }
        if (offset)
            isum = _mm256_sub_epi32(isum, lq_sums(x->sum16 + 2 * b, offset));
        const __m256 dx = _mm256_set1_ps(x->d[b]);
        __m256 sd, sm;
        if (R == FLM_ROWS) {
            lq_scales4(p, with_min, &sd, &sm);
        } else {
            sd = _mm256_set1_ps(scale_f16(p[0]));
            sm = with_min ? _mm256_set1_ps(scale_f16(p[0] + 2)) : sd;
        }
        acc = _mm256_fmadd_ps(_mm256_mul_ps(sd, dx), _mm256_cvtepi32_ps(isum), acc);
        if (with_min)
            accm = _mm256_fmadd_ps(_mm256_mul_ps(sm, dx), _mm256_cvtepi32_ps(lq_sums(x->sum16 + 2 * b, 1)), accm);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            p[r] += bytes;
    }
    float a[8], m[8];
    _mm256_storeu_ps(a, acc);
    _mm256_storeu_ps(m, accm);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        y[r * ystep] = with_min ? (a[r] + m[r]) + (a[4 + r] + m[4 + r]) : a[r] + a[4 + r];
}

/* One function per type and row count, so that R is a constant. */
#define LQ_KERNEL(name, code, R)                                                                             \
    FLM_AVX2 static void name(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y, int64_t ystep) \
    {                                                                                                        \
        lq_rows_avx2(code, w, x, n, y, ystep, R);                                                            \
    }
#define LQ_KERNELS(name, code) LQ_KERNEL(name##_a1, code, 1) LQ_KERNEL(name##_a4, code, FLM_ROWS)
LQ_KERNELS(q8_0, FLM_DTYPE_Q8_0)
LQ_KERNELS(q4_0, FLM_DTYPE_Q4_0)
LQ_KERNELS(q4_1, FLM_DTYPE_Q4_1)
LQ_KERNELS(q5_0, FLM_DTYPE_Q5_0)
LQ_KERNELS(q5_1, FLM_DTYPE_Q5_1)
LQ_KERNELS(iq4_nl, FLM_DTYPE_IQ4_NL)
#endif

int kern_legacy_q_rows(int dtype, int simd, qrows_fn *one, qrows_fn *many)
{
#ifdef FLM_HAVE_X86
    if (simd) {
        switch (dtype) {
        case FLM_DTYPE_Q8_0: *one = q8_0_a1; *many = q8_0_a4; return 1;
        case FLM_DTYPE_Q4_0: *one = q4_0_a1; *many = q4_0_a4; return 1;
        case FLM_DTYPE_Q4_1: *one = q4_1_a1; *many = q4_1_a4; return 1;
        case FLM_DTYPE_Q5_0: *one = q5_0_a1; *many = q5_0_a4; return 1;
        case FLM_DTYPE_Q5_1: *one = q5_1_a1; *many = q5_1_a4; return 1;
        case FLM_DTYPE_IQ4_NL: *one = iq4_nl_a1; *many = iq4_nl_a4; return 1;
        default: return 0;
        }
    }
#else
    (void)simd;
#endif
    switch (dtype) {
    case FLM_DTYPE_Q8_0: *one = q8_0_p1; *many = q8_0_p4; return 1;
    case FLM_DTYPE_Q4_0: *one = q4_0_p1; *many = q4_0_p4; return 1;
    case FLM_DTYPE_Q4_1: *one = q4_1_p1; *many = q4_1_p4; return 1;
    case FLM_DTYPE_Q5_0: *one = q5_0_p1; *many = q5_0_p4; return 1;
    case FLM_DTYPE_Q5_1: *one = q5_1_p1; *many = q5_1_p4; return 1;
    case FLM_DTYPE_IQ4_NL: *one = iq4_nl_p1; *many = iq4_nl_p4; return 1;
    default: return 0;
    }
}
