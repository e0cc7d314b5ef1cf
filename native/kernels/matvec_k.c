/*
 * flm_matvec for GGUF's k-quant super-blocks of 256 values. A super-block holds sub-blocks of 16 or
 * 32 values, each with a small integer scale (and, in the types with a min, a small integer min)
 * relative to the super-block's f16 scale d (and dmin):
 *     value i = (d * sc[s]) * q[i] - dmin * m[s],   s = i / (the sub-block size),
 * with q[i] a small integer. d * sc and dmin * m are exact in float (an f16 times at most 8 bits).
 *
 * Both paths decode a super-block into its 256 quants as int8 in value order, its sub-block scales
 * d * sc and mins dmin * m as floats, and then compute, per lane k of 8 and per sub-block s,
 *     a = q[s0 + k] * x[s0 + k] + q[s0 + 8 + k] * x[s0 + 8 + k] + ...   (left to right)
 *     t[k] += (d * sc[s]) * a;   t[k] -= (dmin * m[s]) * (the lane's x of the sub-block summed)
 * and the lanes are summed once per row (sum8 / hsum8). The AVX2 path fuses each multiply-add
 * (one rounding instead of two); that is the only difference between the two.
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

#include <stddef.h>

#define QK 256

/* Helpers the AVX2 decoders use too: always inlined there, never a call into non-AVX code. */
#define KQ_INLINE static inline __attribute__((always_inline))

/* The quants of one super-block (int8, value order), its sub-block scales and mins (floats). */
struct kq_block {
    _Alignas(32) int8_t q[QK];
    float sc[16];
    float mn[16];
};

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
static inline int kq_sub(int dtype)
{
    return dtype == FLM_DTYPE_Q6_K || dtype == FLM_DTYPE_Q3_K || dtype == FLM_DTYPE_Q2_K ? 16 : 32;
}

static inline int kq_has_min(int dtype)
{
    return dtype == FLM_DTYPE_Q4_K || dtype == FLM_DTYPE_Q5_K || dtype == FLM_DTYPE_Q2_K;
}

/* The little-endian 32 bits at p, and back: bytes 0..3 of a word are its bits 0..7, ..., 24..31. */
KQ_INLINE uint32_t u32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

KQ_INLINE void u32_to(uint32_t v, uint8_t *p)
{
    for (int t = 0; t < 4; t++)
        p[t] = (uint8_t)(v >> (8 * t));
}

/* q4_k's and q5_k's 12 bytes of 6-bit scales and mins as 8 scale bytes (sub-blocks 0..7) and 8 min
 * bytes, worked four at a time in 32-bit words: bytes 0..3 and 4..7 hold the scales and mins of
 * sub-blocks 0..3 in their low 6 bits and the top 2 bits of those of 4..7 in their high 2; bytes 8..11
 * the low 4 bits of the scales (low nibble) and mins (high nibble) of 4..7. */
KQ_INLINE void k4_scales_mins(const uint8_t *p, uint8_t sc[8], uint8_t mn[8])
{
    uint32_t a = u32_at(p), b = u32_at(p + 4), c = u32_at(p + 8);
    u32_to(a & 0x3f3f3f3fu, sc);
    u32_to((c & 0x0f0f0f0fu) | ((a >> 2) & 0x30303030u), sc + 4);
    u32_to(b & 0x3f3f3f3fu, mn);
    u32_to(((c >> 4) & 0x0f0f0f0fu) | ((b >> 2) & 0x30303030u), mn + 4);
}

static inline float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return kern_f16_to_f32(h);
}

/* ---- portable decoding ---- */

static void q6_k_decode(const uint8_t *blk, struct kq_block *o)
{
    const uint8_t *ql = blk, *qh = blk + 128;
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            int hi = qh[32 * h + l];
            int8_t *q = o->q + 128 * h + l;
            q[0] = (int8_t)(((ql[64 * h + l] & 0x0f) | (hi & 3) << 4) - 32);
            q[32] = (int8_t)(((ql[64 * h + 32 + l] & 0x0f) | (hi >> 2 & 3) << 4) - 32);
            q[64] = (int8_t)(((ql[64 * h + l] >> 4) | (hi >> 4 & 3) << 4) - 32);
            q[96] = (int8_t)(((ql[64 * h + 32 + l] >> 4) | (hi >> 6 & 3) << 4) - 32);
        }
    float d = f16_at(blk + 208);
    for (int s = 0; s < 16; s++)
        o->sc[s] = d * (float)(int8_t)blk[192 + s];
}

/* q4_k, and q5_k when qh is not NULL. */
static void q4_k_decode(const uint8_t *blk, const uint8_t *qs, const uint8_t *qh, struct kq_block *o)
{
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            o->q[64 * c + l] = (int8_t)(qs[32 * c + l] & 0x0f);
            o->q[64 * c + 32 + l] = (int8_t)(qs[32 * c + l] >> 4);
        }
    for (int i = 0; qh && i < QK; i++)
        o->q[i] = (int8_t)(o->q[i] | (qh[i % 32] >> (i / 32) & 1) << 4);
    uint8_t sc[8], mn[8];
    k4_scales_mins(blk + 4, sc, mn);
    float d = f16_at(blk), dmin = f16_at(blk + 2);
    for (int j = 0; j < 8; j++) {
        o->sc[j] = d * (float)sc[j];
        o->mn[j] = dmin * (float)mn[j];
    }
}

/* q3_k's 12 bytes of scales as the 16 unsigned 6-bit values, worked four at a time in 32-bit words: bytes
 * 0..3 hold the low 4 bits of sub-blocks 0..3 (low nibbles) and 8..11 (high), bytes 4..7 those of 4..7 and
 * 12..15; bytes 8..11 the high 2 bits of sub-blocks t, t + 4, t + 8, t + 12 (t the byte). */
KQ_INLINE void q3_k_scales(const uint8_t *p, uint8_t v[16])
{
    uint32_t a = u32_at(p), b = u32_at(p + 4), c = u32_at(p + 8);
    u32_to((a & 0x0f0f0f0fu) | ((c << 4) & 0x30303030u), v);
    u32_to((b & 0x0f0f0f0fu) | ((c << 2) & 0x30303030u), v + 4);
    u32_to(((a >> 4) & 0x0f0f0f0fu) | (c & 0x30303030u), v + 8);
    u32_to(((b >> 4) & 0x0f0f0f0fu) | ((c >> 2) & 0x30303030u), v + 12);
}

static void q3_k_decode(const uint8_t *blk, struct kq_block *o)
{
    const uint8_t *hm = blk, *qs = blk + 32;
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                int low = qs[32 * h + l] >> (2 * j) & 3, high = hm[l] >> (4 * h + j) & 1;
                o->q[128 * h + 32 * j + l] = (int8_t)((low | high << 2) - 4);
            }
    uint8_t v[16];
    q3_k_scales(blk + 96, v);
    float d = f16_at(blk + 108);
    for (int s = 0; s < 16; s++)
        o->sc[s] = d * (float)((int)v[s] - 32);
}

static void q2_k_decode(const uint8_t *blk, struct kq_block *o)
{
    const uint8_t *qs = blk + 16;
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
                o->q[128 * h + 32 * j + l] = (int8_t)(qs[32 * h + l] >> (2 * j) & 3);
    float d = f16_at(blk + 80), dmin = f16_at(blk + 82);
    for (int s = 0; s < 16; s++) {
        o->sc[s] = d * (float)(blk[s] & 0x0f);
        o->mn[s] = dmin * (float)(blk[s] >> 4);
    }
}

/* iq4_xs's 8 signed sub-block scales (6 bits - 32). */
static inline void iq4_xs_scales(const uint8_t *blk, int8_t sc[8])
{
    unsigned high = (unsigned)blk[2] | (unsigned)blk[3] << 8;
    for (int b = 0; b < 8; b++)
        sc[b] = (int8_t)((((blk[4 + b / 2] >> (4 * (b % 2))) & 0x0f) | ((high >> (2 * b)) & 3) << 4) - 32);
}

static void iq4_xs_decode(const uint8_t *blk, struct kq_block *o)
{
    const uint8_t *qs = blk + 8;
    for (int b = 0; b < 8; b++)
        for (int j = 0; j < 16; j++) {
            o->q[32 * b + j] = kern_iq4nl_grid[qs[16 * b + j] & 0x0f];
            o->q[32 * b + 16 + j] = kern_iq4nl_grid[qs[16 * b + j] >> 4];
        }
    int8_t sc[8];
    iq4_xs_scales(blk, sc);
    float d = f16_at(blk);
    for (int b = 0; b < 8; b++)
        o->sc[b] = d * (float)sc[b];
}

static void kq_decode(int dtype, const uint8_t *blk, struct kq_block *o)
{
    switch (dtype) {
    case FLM_DTYPE_Q6_K: q6_k_decode(blk, o); break;
    case FLM_DTYPE_Q4_K: q4_k_decode(blk, blk + 16, NULL, o); break;
    case FLM_DTYPE_Q5_K: q4_k_decode(blk, blk + 48, blk + 16, o); break;
    case FLM_DTYPE_Q3_K: q3_k_decode(blk, o); break;
    case FLM_DTYPE_Q2_K: q2_k_decode(blk, o); break;
    case FLM_DTYPE_IQ4_XS: iq4_xs_decode(blk, o); break;
    default: break;
    }
}

/* The portable dot: the arithmetic of rows_k_avx2 below with every fused operation split in two. */
static float dot_k_scalar(int dtype, const uint8_t *w, const float *x, int64_t n)
{
    const int64_t bytes = kern_k_block_bytes(dtype);
    const int sub = kq_sub(dtype), with_min = kq_has_min(dtype);
    struct kq_block blk;
    float t[8] = {0};
    for (int64_t b = 0; b < n / QK; b++) {
        kq_decode(dtype, w + b * bytes, &blk);
        const float *xb = x + b * QK;
        for (int s = 0; s < QK / sub; s++) {
            const int8_t *q = blk.q + s * sub;
            const float *xs = xb + s * sub;
            for (int k = 0; k < 8; k++) {
                float a = (float)q[k] * xs[k];
                for (int v = 8; v < sub; v += 8)
                    a += (float)q[v + k] * xs[v + k];
                t[k] += blk.sc[s] * a;
            }
            if (with_min)
                for (int k = 0; k < 8; k++) {
                    float sx = sub == 32 ? (xs[k] + xs[8 + k]) + (xs[16 + k] + xs[24 + k]) : xs[k] + xs[8 + k];
                    t[k] -= blk.mn[s] * sx;
                }
        }
    }
    return sum8(t);
}

static float dot_q6_k_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_k_scalar(FLM_DTYPE_Q6_K, w, x, n);
}

static float dot_q4_k_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_k_scalar(FLM_DTYPE_Q4_K, w, x, n);
}

static float dot_q5_k_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_k_scalar(FLM_DTYPE_Q5_K, w, x, n);
}

static float dot_q3_k_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_k_scalar(FLM_DTYPE_Q3_K, w, x, n);
}

static float dot_q2_k_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_k_scalar(FLM_DTYPE_Q2_K, w, x, n);
}

static float dot_iq4_xs_scalar(const uint8_t *w, const float *x, int64_t n)
{
    return dot_k_scalar(FLM_DTYPE_IQ4_XS, w, x, n);
}

dot_fn kern_k_dot(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q6_K: return (dot_fn)dot_q6_k_scalar;
    case FLM_DTYPE_Q4_K: return (dot_fn)dot_q4_k_scalar;
    case FLM_DTYPE_Q5_K: return (dot_fn)dot_q5_k_scalar;
    case FLM_DTYPE_Q3_K: return (dot_fn)dot_q3_k_scalar;
    case FLM_DTYPE_Q2_K: return (dot_fn)dot_q2_k_scalar;
    case FLM_DTYPE_IQ4_XS: return (dot_fn)dot_iq4_xs_scalar;
    default: return NULL;
    }
}

/* ---- AVX2 ---- */
#ifdef FLM_HAVE_X86

FLM_AVX2 FLM_INLINE void q6_k_decode_avx2(const uint8_t *blk, struct kq_block *o)
{
    const __m256i low4 = _mm256_set1_epi8(0x0f), bits45 = _mm256_set1_epi8(0x30), k32 = _mm256_set1_epi8(32);
    for (int h = 0; h < 2; h++) {
        __m256i ql0 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h));
        __m256i ql1 = _mm256_loadu_si256((const __m256i *)(blk + 64 * h + 32));
        __m256i qh = _mm256_loadu_si256((const __m256i *)(blk + 128 + 32 * h));
        /* the two high bits of quarter k (bits 2k, 2k + 1 of qh) moved to bits 4 and 5 */
        __m256i q0 = _mm256_or_si256(_mm256_and_si256(ql0, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
        __m256i q1 = _mm256_or_si256(_mm256_and_si256(ql1, low4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
        __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4), _mm256_and_si256(qh, bits45));
        __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                                     _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
        __m256i *q = (__m256i *)(o->q + 128 * h);
        _mm256_store_si256(q, _mm256_sub_epi8(q0, k32));
        _mm256_store_si256(q + 1, _mm256_sub_epi8(q1, k32));
        _mm256_store_si256(q + 2, _mm256_sub_epi8(q2, k32));
        _mm256_store_si256(q + 3, _mm256_sub_epi8(q3, k32));
    }
    __m256 d = _mm256_set1_ps(scale_f16(blk + 208));
    __m128i s = _mm_loadu_si128((const __m128i *)(blk + 192));
    _mm256_storeu_ps(o->sc, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(s))));
    _mm256_storeu_ps(o->sc + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(s, 8)))));
}

/* Eight small unsigned integers (bytes) times a scale, into out[0..8) (exact: an f16 times 6 bits). */
FLM_AVX2 FLM_INLINE void scaled_u8x8(const uint8_t v[8], float scale, float *out)
{
    __m128i b = _mm_loadl_epi64((const __m128i *)v);
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b))));
}

/* q4_k (fifth = 0), and q5_k (fifth = 1: the fifth bits in qh[32] at 16, the nibbles at 48). */
FLM_AVX2 FLM_INLINE void q4_k_decode_avx2(const uint8_t *blk, const int fifth, struct kq_block *o)
{
    const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    const uint8_t *qs = blk + (fifth ? 48 : 16);
    __m256i *q = (__m256i *)o->q;
    /* bit j of byte l is the fifth bit of value 32 j + l: shifted down once per sub-block */
    __m256i hb = fifth ? _mm256_loadu_si256((const __m256i *)(blk + 16)) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        if (fifth) {
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
            hb = _mm256_srli_epi16(hb, 1);
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(hb, one), 4));
            hb = _mm256_srli_epi16(hb, 1);
        }
        _mm256_store_si256(q + 2 * c, lo);
        _mm256_store_si256(q + 2 * c + 1, hi);
    }
    uint8_t sc[8], mn[8];
    k4_scales_mins(blk + 4, sc, mn);
    scaled_u8x8(sc, scale_f16(blk), o->sc);
    scaled_u8x8(mn, scale_f16(blk + 2), o->mn);
}

/* Sixteen bytes v[s] - 32 times d, into out[0..16) (exact: an f16 times 6 bits). */
FLM_AVX2 FLM_INLINE void scaled_6bit_x16(const uint8_t v[16], float d, float *out)
{
    __m128i b = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)v), _mm_set1_epi8(32));
    __m256 dv = _mm256_set1_ps(d);
    _mm256_storeu_ps(out, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b))));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(dv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)))));
}

FLM_AVX2 FLM_INLINE void q3_k_decode_avx2(const uint8_t *blk, struct kq_block *o)
{
    const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1), four = _mm256_set1_epi8(4);
    /* bit 4 h + j of hmask byte l is the third bit of value 128 h + 32 j + l: shifted down once per step */
    __m256i hm = _mm256_loadu_si256((const __m256i *)blk);
    __m256i *q = (__m256i *)o->q;
    for (int h = 0; h < 2; h++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 32 + 32 * h));
        for (int j = 0; j < 4; j++) {
            __m256i low = _mm256_and_si256(v, three), high = _mm256_slli_epi16(_mm256_and_si256(hm, one), 2);
            _mm256_store_si256(q + 4 * h + j, _mm256_sub_epi8(_mm256_or_si256(low, high), four));
            v = _mm256_srli_epi16(v, 2);
            hm = _mm256_srli_epi16(hm, 1);
        }
    }
    uint8_t v[16];
    q3_k_scales(blk + 96, v);
    scaled_6bit_x16(v, scale_f16(blk + 108), o->sc);
}

FLM_AVX2 FLM_INLINE void q2_k_decode_avx2(const uint8_t *blk, struct kq_block *o)
{
    const __m256i three = _mm256_set1_epi8(3);
    __m256i *q = (__m256i *)o->q;
    for (int h = 0; h < 2; h++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * h));
        for (int j = 0; j < 4; j++) {
            _mm256_store_si256(q + 4 * h + j, _mm256_and_si256(v, three));
            v = _mm256_srli_epi16(v, 2);
        }
    }
    const __m128i low4 = _mm_set1_epi8(0x0f);
    __m128i b = _mm_loadu_si128((const __m128i *)blk);
    __m128i sc = _mm_and_si128(b, low4), mn = _mm_and_si128(_mm_srli_epi16(b, 4), low4);
    uint8_t s[16], m[16];
    _mm_storeu_si128((__m128i *)s, sc);
    _mm_storeu_si128((__m128i *)m, mn);
    float d = scale_f16(blk + 80), dmin = scale_f16(blk + 82);
    scaled_u8x8(s, d, o->sc);
    scaled_u8x8(s + 8, d, o->sc + 8);
    scaled_u8x8(m, dmin, o->mn);
    scaled_u8x8(m + 8, dmin, o->mn + 8);
}

FLM_AVX2 FLM_INLINE void iq4_xs_decode_avx2(const uint8_t *blk, struct kq_block *o)
{
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kern_iq4nl_grid));
    __m256i *q = (__m256i *)o->q;
    for (int k = 0; k < 4; k++) {
        /* sub-blocks 2k (the low 16 bytes) and 2k + 1 (the high 16): their low nibbles are values 0..15 */
        __m256i v = _mm256_loadu_si256((const __m256i *)(blk + 8 + 32 * k));
        __m256i lo = _mm256_shuffle_epi8(grid, _mm256_and_si256(v, low4));
        __m256i hi = _mm256_shuffle_epi8(grid, _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
        _mm256_store_si256(q + 2 * k, _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_store_si256(q + 2 * k + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
    }
    /* the scales of iq4_xs_scales(), in lanes: low 4 bits from the nibbles of scales_l (low nibble first), high
     * 2 from scales_h shifted right by 2 b in lane b */
    __m128i lb = _mm_cvtsi32_si128((int)u32_at(blk + 4));
    const __m128i nib = _mm_set1_epi8(0x0f);
    lb = _mm_unpacklo_epi8(_mm_and_si128(lb, nib), _mm_and_si128(_mm_srli_epi16(lb, 4), nib));
    __m256i high = _mm256_set1_epi32((int)((unsigned)blk[2] | (unsigned)blk[3] << 8));
    high = _mm256_and_si256(_mm256_srlv_epi32(high, _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)), _mm256_set1_epi32(3));
    __m256i six = _mm256_or_si256(_mm256_cvtepu8_epi32(lb), _mm256_slli_epi32(high, 4));
    __m256 sc = _mm256_cvtepi32_ps(_mm256_sub_epi32(six, _mm256_set1_epi32(32)));
    _mm256_storeu_ps(o->sc, _mm256_mul_ps(_mm256_set1_ps(scale_f16(blk)), sc));
}

FLM_AVX2 FLM_INLINE void kq_decode_avx2(const int dtype, const uint8_t *blk, struct kq_block *o)
{
    switch (dtype) {
    case FLM_DTYPE_Q6_K: q6_k_decode_avx2(blk, o); break;
    case FLM_DTYPE_Q4_K: q4_k_decode_avx2(blk, 0, o); break;
    case FLM_DTYPE_Q5_K: q4_k_decode_avx2(blk, 1, o); break;
    case FLM_DTYPE_Q3_K: q3_k_decode_avx2(blk, o); break;
    case FLM_DTYPE_Q2_K: q2_k_decode_avx2(blk, o); break;
    case FLM_DTYPE_IQ4_XS: iq4_xs_decode_avx2(blk, o); break;
    default: break;
    }
}

/* Eight int8 quants at q as floats (exact). */
FLM_AVX2 FLM_INLINE __m256 q8_floats(const int8_t *q)
{
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)));
}

FLM_AVX2 FLM_INLINE void rows_k_avx2(const int dtype, const uint8_t *w, int64_t step, const float *x, int64_t n,
                                      float *y, int64_t ystep, const int R)
{
    const int64_t bytes = kern_k_block_bytes(dtype);
    const int sub = kq_sub(dtype), with_min = kq_has_min(dtype);
    struct kq_block blk[FLM_ROWS];
    __m256 total[FLM_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        total[r] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / QK; b++) {
#pragma GCC unroll 4
        for (int r = 0; r < R; r++)
            kq_decode_avx2(dtype, w + r * step + b * bytes, &blk[r]);
        const float *xb = x + b * QK;
        for (int s = 0; s < QK / sub; s++) {
            const float *xs = xb + s * sub;
            __m256 x0 = _mm256_loadu_ps(xs), x1 = _mm256_loadu_ps(xs + 8), x2 = x0, x3 = x0, sx = x0;
            if (sub == 32) {
                x2 = _mm256_loadu_ps(xs + 16);
                x3 = _mm256_loadu_ps(xs + 24);
            }
            if (with_min)
                sx = sub == 32 ? _mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)) : _mm256_add_ps(x0, x1);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const int8_t *q = blk[r].q + s * sub;
                __m256 a = _mm256_mul_ps(q8_floats(q), x0);
                a = _mm256_fmadd_ps(q8_floats(q + 8), x1, a);
                if (sub == 32) {
                    a = _mm256_fmadd_ps(q8_floats(q + 16), x2, a);
                    a = _mm256_fmadd_ps(q8_floats(q + 24), x3, a);
                }
                total[r] = _mm256_fmadd_ps(_mm256_set1_ps(blk[r].sc[s]), a, total[r]);
                if (with_min)
                    total[r] = _mm256_fnmadd_ps(_mm256_set1_ps(blk[r].mn[s]), sx, total[r]);
            }
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
        y[r * ystep] = hsum8(total[r]);
}

/* One function per dtype and row count, so that the dtype and R are constants the compiler folds. */
#define FLM_K_KERNELS(name, code)                                                                          \
    FLM_AVX2 static void name##_avx2_x1(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y, \
                                        int64_t ystep)                                                     \
    {                                                                                                      \
        rows_k_avx2(code, w, step, x, n, y, ystep, 1);                                                     \
    }                                                                                                      \
    FLM_AVX2 static void name##_avx2_x4(const uint8_t *w, int64_t step, const float *x, int64_t n, float *y, \
                                        int64_t ystep)                                                     \
    {                                                                                                      \
        rows_k_avx2(code, w, step, x, n, y, ystep, FLM_ROWS);                                              \
    }
FLM_K_KERNELS(q6_k, FLM_DTYPE_Q6_K)
FLM_K_KERNELS(q4_k, FLM_DTYPE_Q4_K)
FLM_K_KERNELS(q5_k, FLM_DTYPE_Q5_K)
FLM_K_KERNELS(q3_k, FLM_DTYPE_Q3_K)
FLM_K_KERNELS(q2_k, FLM_DTYPE_Q2_K)
FLM_K_KERNELS(iq4_xs, FLM_DTYPE_IQ4_XS)

int kern_k_rows(int dtype, rows_fn *one, rows_fn *many)
{
    switch (dtype) {
    case FLM_DTYPE_Q6_K: *one = q6_k_avx2_x1; *many = q6_k_avx2_x4; return 1;
    case FLM_DTYPE_Q4_K: *one = q4_k_avx2_x1; *many = q4_k_avx2_x4; return 1;
    case FLM_DTYPE_Q5_K: *one = q5_k_avx2_x1; *many = q5_k_avx2_x4; return 1;
    case FLM_DTYPE_Q3_K: *one = q3_k_avx2_x1; *many = q3_k_avx2_x4; return 1;
    case FLM_DTYPE_Q2_K: *one = q2_k_avx2_x1; *many = q2_k_avx2_x4; return 1;
    case FLM_DTYPE_IQ4_XS: *one = iq4_xs_avx2_x1; *many = iq4_xs_avx2_x4; return 1;
    default: return 0;
    }
}
#else
int kern_k_rows(int dtype, rows_fn *one, rows_fn *many)
{
    (void)dtype;
    (void)one;
    (void)many;
    return 0;
}
#endif

int kern_k_q_rows(int dtype, int simd, qrows_fn *one, qrows_fn *many)
{
    (void)dtype;
    (void)simd;
    (void)one;
    (void)many;
    return 0;
}
