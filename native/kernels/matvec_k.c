/*
 * flm_matvec for GGUF's k-quant super-blocks of 256 values. A super-block holds sub-blocks of 16 or
 * 32 values, each with a small integer scale sc[s] (and, in the types with a min, a small integer min
 * m[s]) relative to the super-block's f16 scale d (and dmin):
 *     value i = d * sc[s] * q[i] - dmin * m[s],   s = i / (the sub-block size),
 * with q[i] a small integer (q6_k: 6 bits - 32, q3_k: 3 bits - 4, iq4_xs: the iq4_nl grid).
 *
 * The integer path (kern_k_q_rows; matvec_internal.h describes x's quantization into int8 qx[i] in
 * blocks of 32 with float scales dx[b] and the sums sum16 of qx over 16 values). A super-block covers
 * x's blocks b = 8 t + j, j = 0..7. Per row and super-block, all in exact int32 arithmetic:
 *     T[j] = sum over the sub-blocks s in block j of  sc[s] * sum_{i in s} q[i] * qx[i]
 *     M[j] = sum over the sub-blocks s in block j of  m[s] * sum_{i in s} qx[i]        (the types with a min)
 * (|T[j]| < 2^24 for every type, so (float) T[j] is exact too; M[j] is far smaller.) Then the only float
 * operations, per lane j of 8 accumulators acc[j] (starting at +0):
 *     acc[j] = fma(d * dx[b], (float) T[j], acc[j])            d * dx[b]: one float multiply
 *     acc[j] = fma(-(dmin * dx[b]), (float) M[j], acc[j])      the types with a min
 * (fma: one rounding), and the row's result is sum8(acc) (the fixed tree of matvec_internal.h). A row's
 * bits therefore depend only on the row and x: not on the number of rows computed together, the other
 * rows, or the split of the rows into ranges (threads). The AVX2 kernels compute T and M with
 * _mm256_maddubs_epi16 (the quant, made unsigned, times qx; pair sums stay below 2^15) and
 * _mm256_madd_epi16, reduce them to one int32 per sub-block (packs + madd, or unpacks and adds), apply the scales with mullo and
 * the float steps with FMA; the portable kernels compute the same integers with plain loops and the same
 * float steps with fmaf: the two paths give identical bits.
 *
 * Rounding: each of the n / 256 super-blocks adds 2 (4 with a min) roundings of relative size 2^-24 to a
 * lane, and sum8 3 more, so the result is within about (2 (or 4) n / 256 + 3) 2^-24 sum |terms| of the
 * exact dot with the quantized x; x's quantization adds at most sum_b dx[b] / 2 * sum_{i in b} |w[i]|.
 *
 * The layouts, byte offsets within a super-block:
 *   q6_k (210 bytes): ql[128] at 0, qh[64] at 128, int8 scales[16] at 192, f16 d at 208. 16 sub-blocks
 *     of 16. Value i, with h = i / 128, k = i % 128 / 32, l = i % 32: low 4 bits from ql[64 h + 32 (k & 1)
 *     + l] (low nibble for k < 2, high for k >= 2), high 2 bits (qh[32 h + l] >> 2 k) & 3; q = that - 32.
 *   q4_k (144 bytes): f16 d at 0, f16 dmin at 2, 12 bytes of 6-bit scales and mins at 4, qs[128] at 16.
 *     8 sub-blocks of 32 with a min. Value i is the low (i % 64 < 32) or high nibble of qs[32 (i / 64) +
 *     i % 32]. Sub-block j's scale and min: for j < 4 the low 6 bits of bytes j and j + 4; for j >= 4 the
 *     low (scale) and high (min) nibble of byte j + 4 with the top 2 bits of bytes j - 4 (scale) and j
 *     (min) above them.
 *   q5_k (176 bytes): f16 d at 0, f16 dmin at 2, the 12 bytes of q4_k's scales and mins at 4, qh[32] at
 *     16, qs[128] at 48. As q4_k, with a fifth bit: bit i / 32 of qh[i % 32] is value i's bit 4.
 *   q3_k (110 bytes): hmask[32] at 0, qs[64] at 32, 12 bytes of 6-bit scales at 96, f16 d at 108. 16
 *     sub-blocks of 16 with signed scales sc = (6 bits) - 32. Value i (h = i / 128, j = i % 128 / 32,
 *     l = i % 32): 2 low bits (qs[32 h + l] >> 2 j) & 3, third bit (hmask[l] >> (4 h + j)) & 1; q = those
 *     3 bits - 4. Sub-block s's scale: its low 4 bits the low (s < 8) or high nibble of byte s % 8, its
 *     high 2 bits bits 2 (s / 4), 2 (s / 4) + 1 of byte 8 + s % 4.
 *   q2_k (84 bytes): scales[16] at 0, qs[64] at 16, f16 d at 80, f16 dmin at 82. 16 sub-blocks of 16 with
 *     a min: byte s of scales holds sub-block s's scale (low nibble) and min (high nibble). Value i's q is
 *     (qs[32 h + l] >> 2 j) & 3, with h, j, l as in q3_k.
 *   iq4_xs (136 bytes): f16 d at 0, scales_h (a little-endian uint16) at 2, scales_l[4] at 4, qs[128] at 8.
 *     8 sub-blocks of 32 with signed scales sc = (6 bits) - 32: sub-block b's low 4 bits the low (b even) or
 *     high nibble of scales_l[b / 2], its high 2 bits bits 2 b, 2 b + 1 of scales_h. Value 32 b + j is the
 *     iq4_nl grid's entry for the low (j < 16) or high nibble of qs[16 b + j % 16].
 */
#include "flashlm.h"
#include "matvec_internal.h"
#include "quant_blocks.h"

#include <math.h>
#include <stddef.h>

#define QK 256

/* Helpers the AVX2 kernels use too: always inlined there, never a call into non-AVX code. */
#define KQ_INLINE static inline __attribute__((always_inline))

int64_t kern_k_block_bytes(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q6_K: return 210;
    case FLM_DTYPE_Q4_K: return 144;
    case FLM_DTYPE_Q5_K: return 176;
    case FLM_DTYPE_Q3_K: return 110;
    case FLM_DTYPE_Q2_K: return 84;
    case FLM_DTYPE_IQ4_XS: return 136;
    default: return -1;
    }
}

/* Values per sub-block. */
KQ_INLINE int kq_sub(int dtype)
{
    return dtype == FLM_DTYPE_Q6_K || dtype == FLM_DTYPE_Q3_K || dtype == FLM_DTYPE_Q2_K ? 16 : 32;
}

KQ_INLINE int kq_has_min(int dtype)
{
    return dtype == FLM_DTYPE_Q4_K || dtype == FLM_DTYPE_Q5_K || dtype == FLM_DTYPE_Q2_K;
}

/* Byte offsets of the f16 d and dmin in a super-block (dmin: -1 when the type has no min). */
KQ_INLINE int kq_d_at(int dtype)
{
    return dtype == FLM_DTYPE_Q6_K ? 208 : dtype == FLM_DTYPE_Q3_K ? 108 : dtype == FLM_DTYPE_Q2_K ? 80 : 0;
}

KQ_INLINE int kq_dmin_at(int dtype)
{
    return dtype == FLM_DTYPE_Q2_K ? 82 : dtype == FLM_DTYPE_Q4_K || dtype == FLM_DTYPE_Q5_K ? 2 : -1;
}

/* The little-endian 32 bits at p: bytes 0..3 of a word are its bits 0..7, ..., 24..31. */
KQ_INLINE uint32_t u32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* q4_k's and q5_k's 12 bytes of 6-bit scales and mins as 8 scale bytes (sub-blocks 0..7) and 8 min
 * bytes, worked four at a time in 32-bit words (byte t of a word = sub-block t or 4 + t): bytes 0..3
 * and 4..7 hold the scales and mins of sub-blocks 0..3 in their low 6 bits and the top 2 bits of those
 * of 4..7 in their high 2; bytes 8..11 the low 4 bits of the scales (low nibble) and mins (high nibble)
 * of 4..7. Returned as two 64-bit words, byte j = sub-block j. */
KQ_INLINE void k4_scales_mins(const uint8_t *p, uint64_t *sc, uint64_t *mn)
{
    uint32_t a = u32_at(p), b = u32_at(p + 4), c = u32_at(p + 8);
    *sc = (a & 0x3f3f3f3fu) | (uint64_t)((c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u)) << 32;
    *mn = (b & 0x3f3f3f3fu) | (uint64_t)(((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u)) << 32;
}

/* q3_k's 12 bytes of scales as the 16 unsigned 6-bit values v[s] (scale v - 32): bytes 0..7 hold the
 * low 4 bits of sub-blocks 0..7 (low nibbles) and 8..15 (high nibbles); byte 8 + t the high 2 bits of
 * sub-blocks t, t + 4, t + 8, t + 12 in its bits 0-1, 2-3, 4-5, 6-7. */
static void q3_k_scales(const uint8_t *p, uint8_t v[16])
{
    for (int s = 0; s < 16; s++)
        v[s] = (uint8_t)(((p[s % 8] >> (4 * (s / 8))) & 0x0f) | ((p[8 + s % 4] >> (2 * (s / 4))) & 3) << 4);
}

/* iq4_xs's 8 signed sub-block scales (6 bits - 32). */
static void iq4_xs_scales(const uint8_t *blk, int sc[8])
{
    unsigned high = (unsigned)blk[2] | (unsigned)blk[3] << 8;
    for (int b = 0; b < 8; b++)
        sc[b] = ((((blk[4 + b / 2] >> (4 * (b % 2))) & 0x0f) | ((high >> (2 * b)) & 3) << 4)) - 32;
}

static inline float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return kern_f16_to_f32(h);
}

/* ---- portable: a super-block decoded to integers ---- */

/* The signed quants of one super-block in value order, its integer sub-block scales and mins. */
struct kq_int {
    int8_t q[QK];
    int sc[16];
    int mn[16];
};

static void kq_decode(int dtype, const uint8_t *blk, struct kq_int *o)
{
    switch (dtype) {
    case FLM_DTYPE_Q6_K:
        for (int i = 0; i < QK; i++) {
            int h = i / 128, k = i % 128 / 32, l = i % 32;
            int low = blk[64 * h + 32 * (k & 1) + l] >> (k < 2 ? 0 : 4) & 0x0f;
            int high = blk[128 + 32 * h + l] >> (2 * k) & 3;
            o->q[i] = (int8_t)((low | high << 4) - 32);
        }
        for (int s = 0; s < 16; s++)
            o->sc[s] = (int8_t)blk[192 + s];
        break;
    case FLM_DTYPE_Q4_K:
    case FLM_DTYPE_Q5_K: {
        const int five = dtype == FLM_DTYPE_Q5_K;
        const uint8_t *qs = blk + (five ? 48 : 16), *qh = blk + 16;
        for (int i = 0; i < QK; i++) {
            int q = qs[32 * (i / 64) + i % 32] >> (i % 64 < 32 ? 0 : 4) & 0x0f;
            if (five)
                q |= (qh[i % 32] >> (i / 32) & 1) << 4;
            o->q[i] = (int8_t)q;
        }
        uint64_t sc, mn;
        k4_scales_mins(blk + 4, &sc, &mn);
        for (int j = 0; j < 8; j++) {
            o->sc[j] = (int)(sc >> (8 * j) & 0xff);
            o->mn[j] = (int)(mn >> (8 * j) & 0xff);
        }
        break;
    }
    case FLM_DTYPE_Q3_K: {
        for (int i = 0; i < QK; i++) {
            int h = i / 128, j = i % 128 / 32, l = i % 32;
            int low = blk[32 + 32 * h + l] >> (2 * j) & 3, high = blk[l] >> (4 * h + j) & 1;
            o->q[i] = (int8_t)((low | high << 2) - 4);
        }
        uint8_t v[16];
        q3_k_scales(blk + 96, v);
        for (int s = 0; s < 16; s++)
            o->sc[s] = (int)v[s] - 32;
        break;
    }
    case FLM_DTYPE_Q2_K:
        for (int i = 0; i < QK; i++)
            o->q[i] = (int8_t)(blk[16 + 32 * (i / 128) + i % 32] >> (2 * (i % 128 / 32)) & 3);
        for (int s = 0; s < 16; s++) {
            o->sc[s] = blk[s] & 0x0f;
            o->mn[s] = blk[s] >> 4;
        }
        break;
    case FLM_DTYPE_IQ4_XS:
        for (int i = 0; i < QK; i++) {
            int b = i / 32, j = i % 32;
            o->q[i] = kern_iq4nl_grid[blk[8 + 16 * b + j % 16] >> (j < 16 ? 0 : 4) & 0x0f];
        }
        iq4_xs_scales(blk, o->sc);
        break;
    default: break;
    }
}

/* ---- the integer kernels, portable ---- */

/* T[j] and M[j] of the comment at the top for super-block blk against x's super-block (qx: its 256
 * quants, s16: its 16 sums). */
static void kq_sums(int dtype, const struct kq_int *blk, const int8_t *qx, const int16_t *s16, int32_t T[8],
                    int32_t M[8])
{
    const int sub = kq_sub(dtype), with_min = kq_has_min(dtype);
    for (int j = 0; j < 8; j++)
        T[j] = M[j] = 0;
    for (int s = 0; s < QK / sub; s++) {
        int32_t dot = 0;
        for (int i = s * sub; i < (s + 1) * sub; i++)
            dot += (int32_t)blk->q[i] * qx[i];
        T[s * sub / 32] += blk->sc[s] * dot;
        if (with_min)
            M[s * sub / 32] += blk->mn[s] * (sub == 16 ? s16[s] : s16[2 * s] + s16[2 * s + 1]);
    }
}

static void qrows_k_portable(int dtype, const uint8_t *const *w, const kern_qx *x, int64_t n, float *y,
                             int64_t ystep, int R)
{
    const int64_t bytes = kern_k_block_bytes(dtype);
    const int with_min = kq_has_min(dtype);
    struct kq_int blk;
    for (int r = 0; r < R; r++) {
        float acc[8] = {0};
        for (int64_t t = 0; t < n / QK; t++) {
            const uint8_t *p = w[r] + t * bytes;
            int32_t T[8], M[8];
            kq_decode(dtype, p, &blk);
            kq_sums(dtype, &blk, x->q + t * QK, x->sum16 + t * 16, T, M);
            const float d = f16_at(p + kq_d_at(dtype)), dmin = with_min ? f16_at(p + kq_dmin_at(dtype)) : 0.0f;
            const float *dx = x->d + t * 8;
            for (int j = 0; j < 8; j++) {
                acc[j] = fmaf(d * dx[j], (float)T[j], acc[j]);
                if (with_min)
                    acc[j] = fmaf(-(dmin * dx[j]), (float)M[j], acc[j]);
            }
        }
        y[r * ystep] = sum8(acc);
    }
}

#define FLM_KQ_PORTABLE(name, code)                                                                         \
    static void name##_q_x1(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y, int64_t ystep) \
    {                                                                                                       \
        qrows_k_portable(code, w, x, n, y, ystep, 1);                                                       \
    }                                                                                                       \
    static void name##_q_x4(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y, int64_t ystep) \
    {                                                                                                       \
        qrows_k_portable(code, w, x, n, y, ystep, FLM_ROWS);                                                \
    }
FLM_KQ_PORTABLE(q6_k, FLM_DTYPE_Q6_K)
FLM_KQ_PORTABLE(q4_k, FLM_DTYPE_Q4_K)
FLM_KQ_PORTABLE(q5_k, FLM_DTYPE_Q5_K)
FLM_KQ_PORTABLE(q3_k, FLM_DTYPE_Q3_K)
FLM_KQ_PORTABLE(q2_k, FLM_DTYPE_Q2_K)
FLM_KQ_PORTABLE(iq4_xs, FLM_DTYPE_IQ4_XS)

/* ---- the integer kernels, AVX2 ----
 * Per 32-value block j of a super-block: the quants as unsigned bytes u (q4_k, q5_k, q2_k: q itself;
 * q6_k: q + 32; q3_k: q + 4), then
 *     v_j = madd_epi16(maddubs_epi16(u, qx), 1):  8 int32 lanes, lane k the sum over values 4k..4k+3
 * (maddubs adds two products u * qx, at most 2 * 127 * 127 < 2^15: no saturation); iq4_xs takes |qx|
 * as the unsigned side and q with qx's sign as the signed one. The reduction of hsum_blocks gives one
 * int32 per sub-block of 16, the offsets (q6_k's 32) are taken off with sum16, the scales applied by
 * mullo, and the sub-blocks of a block added: exactly the T[j] and M[j] of the portable path. q2_k and
 * q3_k instead reduce their maddubs pairs in int16 to the 16 sub-block sums and apply the scales with
 * one madd (subblock_sums16), some of their blocks' quants kept at 4 or 2 times their value to share
 * shifts (the factor is taken off T exactly by an arithmetic shift); iq4_xs works on two blocks per
 * 32-byte load. Every variant gives the same integers T[j] and M[j]. */
#ifdef FLM_HAVE_X86


/* The int32 lanes of u (unsigned bytes) times qx (signed bytes), four products to a lane. */
FLM_AVX2 FLM_INLINE __m256i dot_u8s8(__m256i u, __m256i qx)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, qx), _mm256_set1_epi16(1));
}

FLM_AVX2 FLM_INLINE __m256i load_qx(const int8_t *qx, int j)
{
    return _mm256_loadu_si256((const __m256i *)(qx + 32 * j));
}


/* For the types with sub-blocks of 16 whose sub-block sums fit in int16: the maddubs pairs p_j of the
 * eight blocks (int16; low 128-bit half values 0..15 of block j = sub-block 2j, high half sub-block
 * 2j + 1) reduced in int16 to the 16 sub-block sums, lane s = sub-block s, so that one madd_epi16 with
 * the 16 scales (int16, lane s = sub-block s) gives T[j] = sc[2j] sum_2j + sc[2j + 1] sum_2j+1 in int32
 * lane j, with no madd by ones, no mullo and one multiply in all. red16(x, y) in each 128-bit half
 * = [x0 + x4, y0 + y4, x1 + x5, y1 + y5, x2 + x6, y2 + y6, x3 + x7, y3 + y7]; three levels over the
 * pairs (0, 4), (1, 5), (2, 6), (3, 7), then (04, 15), (26, 37), then the two, leave in each half
 * the words [0, 2, 1, 3] in qword 0 and [4, 6, 5, 7] in qword 1 (block numbers, of sub-block 2j in the
 * low half, 2j + 1 in the high one); a permute of qwords and a byte shuffle put them in order. Every
 * partial sum is a sum of pairs of one sub-block: the caller states the bound that keeps 8 pairs in
 * int16. */
FLM_AVX2 FLM_INLINE __m256i red16(__m256i x, __m256i y)
{
    return _mm256_add_epi16(_mm256_unpacklo_epi16(x, y), _mm256_unpackhi_epi16(x, y));
}

FLM_AVX2 FLM_INLINE __m256i subblock_sums16(const __m256i p[8])
{
    __m256i e = red16(red16(red16(p[0], p[4]), red16(p[1], p[5])), red16(red16(p[2], p[6]), red16(p[3], p[7])));
    /* qwords [lo 0213, lo 4657, hi 0213, hi 4657] -> [lo 0213, hi 0213 | lo 4657, hi 4657], then words
     * 0 4 2 6 1 5 3 7 of each half: (lo, hi) of blocks 0..3, then 4..7 */
    e = _mm256_permute4x64_epi64(e, 0xd8);
    return _mm256_shuffle_epi8(e, _mm256_setr_epi8(0, 1, 8, 9, 4, 5, 12, 13, 2, 3, 10, 11, 6, 7, 14, 15, 0, 1, 8, 9,
                                                   4, 5, 12, 13, 2, 3, 10, 11, 6, 7, 14, 15));
}


/* x's super-block, shared by the rows. */
struct kq_xs {
    __m256 dx;          /* the 8 block scales */
    __m256i s16;        /* the 16 sums of 16, int16 */
    __m256i sblk;       /* lane j: the sum of block j (s16[2j] + s16[2j + 1]) */
    __m256i offa, offb; /* offset * s16 in the lanes of hsum_blocks' a and b (q6_k: 32) */
    __m256i off16;      /* q3_k: 4 s16[s] in int16 lane s, 8 s16[s] for the odd blocks (kept twice) */
    __m256i xlo[4], xhi[4]; /* iq4_xs: x's blocks 2c and 2c + 1, values 0..15 (xlo) and 16..31 (xhi) */
    __m256i alo[4], ahi[4]; /* iq4_xs: their absolute values (|qx| <= 127: kern_quantize_x clamps) */
};

FLM_AVX2 FLM_INLINE void kq_xs_load(const int dtype, const kern_qx *x, int64_t t, struct kq_xs *o)
{
    o->dx = _mm256_loadu_ps(x->d + 8 * t);
    o->s16 = _mm256_loadu_si256((const __m256i *)(x->sum16 + 16 * t));
    o->sblk = _mm256_madd_epi16(o->s16, _mm256_set1_epi16(1));
    o->off16 = _mm256_setzero_si256();
    if (dtype == FLM_DTYPE_Q3_K) /* |8 s16| <= 8 * 16 * 127 < 2^15 */
        o->off16 = _mm256_mullo_epi16(o->s16, _mm256_setr_epi16(4, 4, 8, 8, 4, 4, 8, 8, 4, 4, 8, 8, 4, 4, 8, 8));
    if (dtype == FLM_DTYPE_IQ4_XS) {
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i a = load_qx(x->q + QK * t, 2 * c), b = load_qx(x->q + QK * t, 2 * c + 1);
            o->xlo[c] = _mm256_permute2x128_si256(a, b, 0x20);
            o->xhi[c] = _mm256_permute2x128_si256(a, b, 0x31);
            o->alo[c] = _mm256_abs_epi8(o->xlo[c]);
            o->ahi[c] = _mm256_abs_epi8(o->xhi[c]);
        }
    }
    if (dtype == FLM_DTYPE_Q6_K) {
        const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        const int shift = 5;
        __m256i lo = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(o->s16));
        __m256i hi = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(o->s16, 1));
        o->offa = _mm256_slli_epi32(_mm256_permutevar8x32_epi32(lo, order), shift);
        o->offb = _mm256_slli_epi32(_mm256_permutevar8x32_epi32(hi, order), shift);
    } else {
        o->offa = o->offb = _mm256_setzero_si256();
    }
}


/* T (lane j = T[j]) and, for the types with a min, M (lane j = M[j]) of super-block p. */
FLM_AVX2 FLM_INLINE void kq_sums_avx2(const int dtype, const uint8_t *p, const int8_t *qx, const struct kq_xs *xs,
                                       __m256i *T, __m256i *M)
{
    __m256i v[8], a, b;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    switch (dtype) {
    case FLM_DTYPE_Q6_K: {
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(p + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(p + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * h));
            /* the two high bits of quarter k (bits 2k, 2k + 1 of qh) moved to bits 4 and 5 */
            __m256i u0 = _mm256_or_si256(_mm256_and_si256(ql0, low4), KQ_FIELD(qh, 0, 4, 0x30));
            __m256i u1 = _mm256_or_si256(_mm256_and_si256(ql1, low4), KQ_FIELD(qh, 2, 4, 0x30));
            __m256i u2 = _mm256_or_si256(KQ_FIELD(ql0, 4, 0, 0x0f), KQ_FIELD(qh, 4, 4, 0x30));
            __m256i u3 = _mm256_or_si256(KQ_FIELD(ql1, 4, 0, 0x0f), KQ_FIELD(qh, 6, 4, 0x30));
            v[4 * h] = dot_u8s8(u0, load_qx(qx, 4 * h));
            v[4 * h + 1] = dot_u8s8(u1, load_qx(qx, 4 * h + 1));
            v[4 * h + 2] = dot_u8s8(u2, load_qx(qx, 4 * h + 2));
            v[4 * h + 3] = dot_u8s8(u3, load_qx(qx, 4 * h + 3));
        }
        __m256i sa, sb;
        scales16(_mm_loadu_si128((const __m128i *)(p + 192)), &sa, &sb);
        hsum_blocks(v, &a, &b, 0); /* 8 products reach 8 * 63 * 127 */
        *T = per_block(_mm256_mullo_epi32(_mm256_sub_epi32(a, xs->offa), sa),
                       _mm256_mullo_epi32(_mm256_sub_epi32(b, xs->offb), sb));
        break;
    }
    case FLM_DTYPE_Q4_K:
    case FLM_DTYPE_Q5_K: {
        const int five = dtype == FLM_DTYPE_Q5_K;
        const uint8_t *qs = p + (five ? 48 : 16);
        /* q5_k: bit j of qh[l] is the fifth bit of value 32 j + l */
        __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(p + 16)) : _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
            __m256i lo = _mm256_and_si256(q, low4), hi = KQ_FIELD(q, 4, 0, 0x0f);
            if (five) {
                lo = _mm256_or_si256(lo, KQ_FIELD(qh, 2 * c, 4, 0x10));
                hi = _mm256_or_si256(hi, KQ_FIELD(qh, 2 * c + 1, 4, 0x10));
            }
            v[2 * c] = dot_u8s8(lo, load_qx(qx, 2 * c));
            v[2 * c + 1] = dot_u8s8(hi, load_qx(qx, 2 * c + 1));
        }
        uint64_t sc, mn;
        uint32_t w[3];
        memcpy(w, p + 4, 12); /* x86: little-endian */
        sc = (w[0] & 0x3f3f3f3fu) | (uint64_t)((w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u)) << 32;
        mn = (w[1] & 0x3f3f3f3fu) | (uint64_t)(((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u)) << 32;
        hsum_blocks(v, &a, &b, 1); /* 8 products < 8 * 31 * 127 < 2^15 */
        *T = _mm256_mullo_epi32(per_block(a, b), _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc)));
        *M = _mm256_mullo_epi32(xs->sblk, _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn)));
        break;
    }
    case FLM_DTYPE_Q3_K: {
        /* Value 128 h + 32 k + l: its 2 low bits at bits 2k of q = qs[32 h + l], its third bit at bit
         * 4h + k of hm = hmask[l]. u = low | third << 2 (0..7) for even k and twice that for odd k, so that
         * the shifts are shared (16-bit shifts: the bits kept come from the same byte):
         *   k = 0: q & 3 | H & 4,  k = 1: (q >> 1) & 6 | H & 8,  H = hm << 2 (h = 0), hm >> 2 (h = 1);
         *   k = 2: (q >> 4) & 3 | G & 4,  k = 3: (q >> 5) & 6 | G & 8,  G = hm (h = 0), hm >> 4 (h = 1).
         * The odd blocks' sums are twice theirs, less 8 s16 (off16) rather than 4 s16; T's shift right by 1
         * takes the factor 2 off exactly. */
        __m256i hm = _mm256_loadu_si256((const __m256i *)p), pr[8];
        const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(4), m6 = _mm256_set1_epi8(6),
                      m8 = _mm256_set1_epi8(8);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(p + 32 + 32 * h));
            __m256i H = h == 0 ? _mm256_slli_epi16(hm, 2) : _mm256_srli_epi16(hm, 2);
            __m256i G = h == 0 ? hm : _mm256_srli_epi16(hm, 4);
            __m256i u0 = _mm256_or_si256(_mm256_and_si256(q, m3), _mm256_and_si256(H, m4));
            __m256i u1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 1), m6), _mm256_and_si256(H, m8));
            __m256i u2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m3), _mm256_and_si256(G, m4));
            __m256i u3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 5), m6), _mm256_and_si256(G, m8));
            pr[4 * h] = _mm256_maddubs_epi16(u0, load_qx(qx, 4 * h));
            pr[4 * h + 1] = _mm256_maddubs_epi16(u1, load_qx(qx, 4 * h + 1));
            pr[4 * h + 2] = _mm256_maddubs_epi16(u2, load_qx(qx, 4 * h + 2));
            pr[4 * h + 3] = _mm256_maddubs_epi16(u3, load_qx(qx, 4 * h + 3));
        }
        /* the 6-bit scales, in scalar registers (the integer ports are idle here): low 4 bits from the
         * nibbles of bytes 0..7 (low nibbles sub-blocks 0..7, high 8..15), high 2 bits from byte 8 + s % 4
         * shifted right by 2 (s / 4); byte s of (v0, v1) = sub-block s */
        uint64_t lo8;
        memcpy(&lo8, p + 96, 8); /* x86: little-endian */
        const uint32_t hb = u32_at(p + 104), m2 = 0x03030303u;
        const uint64_t nib = 0x0f0f0f0f0f0f0f0fULL;
        uint64_t v0 = (lo8 & nib) | ((uint64_t)(hb & m2) | (uint64_t)(hb >> 2 & m2) << 32) << 4;
        uint64_t v1 = (lo8 >> 4 & nib) | ((uint64_t)(hb >> 4 & m2) | (uint64_t)(hb >> 6 & m2) << 32) << 4;
        __m128i six = _mm_set_epi64x((long long)v1, (long long)v0);
        /* a sub-block's sum: 8 pairs <= 2 * (8 * 2 * 7 * 127) < 2^15; less the offset, |2 (I - 4 S)| <=
         * 2 * 16 * 4 * 127 */
        __m256i sums = _mm256_sub_epi16(subblock_sums16(pr), xs->off16);
        *T = _mm256_srav_epi32(_mm256_madd_epi16(sums, _mm256_cvtepi8_epi16(_mm_sub_epi8(six, _mm_set1_epi8(32)))),
                               _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1));
        break;
    }
    case FLM_DTYPE_Q2_K: {
        /* The 2-bit fields with one shift per 32 bytes: k = 0 and 2 as q and q >> 4 masked to bits 0-1,
         * k = 1 and 3 masked to bits 2-3 where they lie, i.e. 4 times the field. The odd blocks' sums
         * come out 4 times too, a multiple of 4 that T's shift right by 2 below takes off exactly. */
        __m256i pr[8];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * h));
            __m256i q4 = _mm256_srli_epi16(q, 4); /* bits 0-3 of a byte from bits 4-7 of the same byte */
            const __m256i m3 = _mm256_set1_epi8(3), m12 = _mm256_set1_epi8(12);
            pr[4 * h] = _mm256_maddubs_epi16(_mm256_and_si256(q, m3), load_qx(qx, 4 * h));
            pr[4 * h + 1] = _mm256_maddubs_epi16(_mm256_and_si256(q, m12), load_qx(qx, 4 * h + 1));
            pr[4 * h + 2] = _mm256_maddubs_epi16(_mm256_and_si256(q4, m3), load_qx(qx, 4 * h + 2));
            pr[4 * h + 3] = _mm256_maddubs_epi16(_mm256_and_si256(q4, m12), load_qx(qx, 4 * h + 3));
        }
        /* the 16 bytes of scales (low nibble) and mins (high nibble) widened to int16 lanes, then split */
        __m256i sm = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
        /* a sub-block's sum: 8 pairs <= 8 * 2 * 12 * 127 < 2^15 */
        *T = _mm256_srav_epi32(_mm256_madd_epi16(subblock_sums16(pr), _mm256_and_si256(sm, _mm256_set1_epi16(0x0f))),
                               _mm256_setr_epi32(0, 2, 0, 2, 0, 2, 0, 2));
        /* M[j] = m[2j] s16[2j] + m[2j + 1] s16[2j + 1]: one madd of the int16 mins with the sums */
        *M = _mm256_madd_epi16(xs->s16, _mm256_srli_epi16(sm, 4));
        break;
    }
    case FLM_DTYPE_IQ4_XS: {
        const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kern_iq4nl_grid));
        /* the 32 bytes qs[32 c ..] hold blocks 2c (low 128-bit half) and 2c + 1 (high half): their low nibbles
         * are values 0..15, their high nibbles values 16..31; xs->xlo[c] and xhi[c] are x's bytes in that
         * order. w[c]: lanes 0..3 block 2c's sums, lanes 4..7 block 2c + 1's. */
        __m256i w[4];
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(p + 8 + 32 * c));
            __m256i glo = _mm256_shuffle_epi8(grid, _mm256_and_si256(q, low4));
            __m256i ghi = _mm256_shuffle_epi8(grid, KQ_FIELD(q, 4, 0, 0x0f));
            /* |qx| (shared by the rows) times the grid value with qx's sign (0 where qx is 0) */
            w[c] = _mm256_add_epi32(dot_u8s8(xs->alo[c], _mm256_sign_epi8(glo, xs->xlo[c])),
                                    dot_u8s8(xs->ahi[c], _mm256_sign_epi8(ghi, xs->xhi[c])));
        }
        /* the scales of iq4_xs_scales() in lane j: the low 4 bits are bits 4j..4j+3 of the 32-bit word
         * scales_l, the high 2 bits 2j, 2j + 1 of scales_h, i.e. bits 8 + 2j, 9 + 2j of the word at p + 1
         * (its low byte, d's high byte, is shifted out), moved to bits 4, 5 by a shift of 4 + 2j */
        __m256i lo = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)u32_at(p + 4)),
                                                        _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                                      _mm256_set1_epi32(0x0f));
        __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)u32_at(p + 1)),
                                                        _mm256_setr_epi32(4, 6, 8, 10, 12, 14, 16, 18)),
                                      _mm256_set1_epi32(0x30));
        __m256i sc = _mm256_sub_epi32(_mm256_or_si256(lo, hi), _mm256_set1_epi32(32));
        /* lanes 0..3: blocks 0, 2, 4, 6, lanes 4..7: blocks 1, 3, 5, 7 (4 products of 127 * 127 reach 2^16:
         * int32 reductions), then in block order */
        __m256i r = red_quad(red_pair(w[0], w[1]), red_pair(w[2], w[3]));
        *T = _mm256_mullo_epi32(_mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)), sc);
        break;
    }
    default: break;
    }
}

FLM_AVX2 FLM_INLINE void qrows_k_avx2(const int dtype, const uint8_t *const *w, const kern_qx *x, int64_t n, float *y,
                                       int64_t ystep, const int R)
{
    const int64_t bytes = kern_k_block_bytes(dtype);
    const int with_min = kq_has_min(dtype), d_at = kq_d_at(dtype);
    __m256 acc[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        acc[r] = _mm256_setzero_ps();
    for (int64_t t = 0; t < n / QK; t++) {
        struct kq_xs xs;
        kq_xs_load(dtype, x, t, &xs);
        const int8_t *qx = x->q + t * QK;
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const uint8_t *p = w[r] + t * bytes;
            __m256i T, M = _mm256_setzero_si256();
            kq_sums_avx2(dtype, p, qx, &xs, &T, &M);
            if (with_min) {
                /* d and dmin are adjacent (dmin_at = d_at + 2): both converted at once */
                uint32_t dd;
                memcpy(&dd, p + d_at, 4);
                __m128 both = _mm_cvtph_ps(_mm_cvtsi32_si128((int)dd));
                __m256 d = _mm256_broadcastss_ps(both);
                __m256 dmin = _mm256_broadcastss_ps(_mm_movehdup_ps(both));
                acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(d, xs.dx), _mm256_cvtepi32_ps(T), acc[r]);
                acc[r] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, xs.dx), _mm256_cvtepi32_ps(M), acc[r]);
            } else {
                acc[r] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(scale_f16(p + d_at)), xs.dx),
                                         _mm256_cvtepi32_ps(T), acc[r]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        y[r * ystep] = hsum8(acc[r]);
}

/* One function per dtype and row count, so that the dtype and R are constants the compiler folds. */
#define FLM_KQ_AVX2(name, code)                                                                                  \
    FLM_AVX2 static void name##_q_avx2_x1(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y,       \
                                          int64_t ystep)                                                        \
    {                                                                                                           \
        qrows_k_avx2(code, w, x, n, y, ystep, 1);                                                               \
    }                                                                                                           \
    FLM_AVX2 static void name##_q_avx2_x4(const uint8_t *const *w, const kern_qx *x, int64_t n, float *y,       \
                                          int64_t ystep)                                                        \
    {                                                                                                           \
        qrows_k_avx2(code, w, x, n, y, ystep, FLM_ROWS);                                                        \
    }
FLM_KQ_AVX2(q6_k, FLM_DTYPE_Q6_K)
FLM_KQ_AVX2(q4_k, FLM_DTYPE_Q4_K)
FLM_KQ_AVX2(q5_k, FLM_DTYPE_Q5_K)
FLM_KQ_AVX2(q3_k, FLM_DTYPE_Q3_K)
FLM_KQ_AVX2(q2_k, FLM_DTYPE_Q2_K)
FLM_KQ_AVX2(iq4_xs, FLM_DTYPE_IQ4_XS)
#endif

#define KQ_PICK(name)                  \
    do {                               \
        *one = name##_x1;              \
        *many = name##_x4;             \
        return 1;                      \
    } while (0)

int kern_k_q_rows(int dtype, int simd, qrows_fn *one, qrows_fn *many)
{
#ifdef FLM_HAVE_X86
    if (simd) {
        switch (dtype) {
        case FLM_DTYPE_Q6_K: KQ_PICK(q6_k_q_avx2);
        case FLM_DTYPE_Q4_K: KQ_PICK(q4_k_q_avx2);
        case FLM_DTYPE_Q5_K: KQ_PICK(q5_k_q_avx2);
        case FLM_DTYPE_Q3_K: KQ_PICK(q3_k_q_avx2);
        case FLM_DTYPE_Q2_K: KQ_PICK(q2_k_q_avx2);
        case FLM_DTYPE_IQ4_XS: KQ_PICK(iq4_xs_q_avx2);
        default: return 0;
        }
    }
#else
    (void)simd;
#endif
    switch (dtype) {
    case FLM_DTYPE_Q6_K: KQ_PICK(q6_k_q);
    case FLM_DTYPE_Q4_K: KQ_PICK(q4_k_q);
    case FLM_DTYPE_Q5_K: KQ_PICK(q5_k_q);
    case FLM_DTYPE_Q3_K: KQ_PICK(q3_k_q);
    case FLM_DTYPE_Q2_K: KQ_PICK(q2_k_q);
    case FLM_DTYPE_IQ4_XS: KQ_PICK(iq4_xs_q);
    default: return 0;
    }
}
