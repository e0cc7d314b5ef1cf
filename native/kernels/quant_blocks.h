/*
 * Block-layout helpers shared by the integer kernels of flm_matvec (matvec_legacy_q.c, matvec_k.c) and
 * flm_matmul's token tiles (matmul_q.c): one definition of how a block is laid out and unpacked and how
 * the per-block int32 sums are reduced, so that both compute the same integers (their bits are held equal
 * by test_matmul). The layouts themselves are stated at the top of matvec_legacy_q.c and matvec_k.c.
 */
#ifndef FLM_QUANT_BLOCKS_H
#define FLM_QUANT_BLOCKS_H

#include "flashlm.h"
#include "matvec_internal.h"

#include <stdint.h>
#include <string.h>

/* ---- legacy blocks of 32 (q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl) ---- */

static inline int64_t lq_block_bytes(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q8_0: return 34;
    case FLM_DTYPE_Q4_1: return 20;
    case FLM_DTYPE_Q5_0: return 22;
    case FLM_DTYPE_Q5_1: return 24;
    default: return 18; /* q4_0, iq4_nl */
    }
}

/* Offset of qs in a block. */
static inline int lq_qs(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q4_1: return 4;
    case FLM_DTYPE_Q5_0: return 6;
    case FLM_DTYPE_Q5_1: return 8;
    default: return 2; /* q4_0, iq4_nl, q8_0 */
    }
}

static inline int lq_has_min(int dtype)
{
    return dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1;
}

static inline int lq_five(int dtype)
{
    return dtype == FLM_DTYPE_Q5_0 || dtype == FLM_DTYPE_Q5_1;
}

#ifdef FLM_HAVE_X86

FLM_AVX2 FLM_INLINE uint32_t lq_load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The 32 nibbles of qs (with the fifth bits from qh for the 5-bit types) as unsigned bytes 0..31 in
 * the order of the values. */
FLM_AVX2 FLM_INLINE __m256i lq_unsigned(const int dtype, const uint8_t *blk)
{
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i shift = _mm256_setr_epi64x(0, 0, 4, 4);
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(blk + lq_qs(dtype))));
    __m256i u = _mm256_and_si256(_mm256_srlv_epi64(v, shift), low4);
    if (lq_five(dtype)) {
        /* byte j of the vector gets byte j / 8 of qh and keeps bit j % 8 of it (t = 0 or 2^(j % 8)), then
         * sign_epi8(c, t) gives 0 where t is 0, c where t > 0 and -c where t < 0 (bit 7, 0x80): with
         * c = 16, and -16 in the bytes j % 8 = 7, that is 16 where the bit is set. */
        const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                                2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
        const __m256i c = _mm256_set1_epi64x((long long)0xf010101010101010ULL);
        __m256i h = _mm256_shuffle_epi8(_mm256_set1_epi32((int)lq_load32(blk + (dtype == FLM_DTYPE_Q5_0 ? 2 : 4))),
                                        spread);
        u = _mm256_or_si256(u, _mm256_sign_epi8(c, _mm256_and_si256(h, bit)));
    }
    return u;
}

/* ---- k-quant super-blocks: unpacking and the reduction of eight blocks' int32 lanes ---- */

/* The bits from..from + width - 1 of every byte of v moved to to..to + width - 1, the rest cleared by
 * mask (the bits there). 16-bit shifts are safe: what crosses into the neighbouring byte is outside the
 * field there, since the field lies within a byte before and after. */
#define KQ_FIELD(v, from, to, mask)                                                                        \
    _mm256_and_si256((from) < (to) ? _mm256_slli_epi16((v), (to) - (from))                                \
                     : (from) > (to) ? _mm256_srli_epi16((v), (from) - (to)) : (v), _mm256_set1_epi8(mask))

/* The eight v_j reduced: *a lane k (k < 4) = the sum of v_k's lanes 0..3 (values 0..15 of block k,
 * sub-block 2k of 16), lane 4 + k = of its lanes 4..7 (sub-block 2k + 1); *b the same for blocks 4..7
 * (sub-blocks 8 + 2k, 9 + 2k). Unpacks and adds rather than hadd (three ops, two of them shuffles on a
 * narrow port on some CPUs): in each 128-bit half, pair(x, y) = [x0 + x2, y0 + y2, x1 + x3, y1 + y3],
 * and quad(pair(v0, v1), pair(v2, v3)) = [v0, v1, v2, v3 summed]. */
FLM_AVX2 FLM_INLINE __m256i red_pair(__m256i x, __m256i y)
{
    return _mm256_add_epi32(_mm256_unpacklo_epi32(x, y), _mm256_unpackhi_epi32(x, y));
}

FLM_AVX2 FLM_INLINE __m256i red_quad(__m256i p, __m256i q)
{
    return _mm256_add_epi32(_mm256_unpacklo_epi64(p, q), _mm256_unpackhi_epi64(p, q));
}

/* Where the sums allow it, packs_epi32 to int16 and madd_epi16 with 1 do the same in two ops instead of
 * three: pack(x, y) in each half = [x0 + x1, x2 + x3, y0 + y1, y2 + y3], and pack(pack(v0, v1),
 * pack(v2, v3)) = [v0, v1, v2, v3 summed]; packed says that a lane of v_j (4 products) and of a pack
 * (8) fit in int16. */
FLM_AVX2 FLM_INLINE __m256i red_pack(__m256i x, __m256i y)
{
    return _mm256_madd_epi16(_mm256_packs_epi32(x, y), _mm256_set1_epi16(1));
}

FLM_AVX2 FLM_INLINE void hsum_blocks(const __m256i v[8], __m256i *a, __m256i *b, const int packed)
{
    if (packed) {
        *a = red_pack(red_pack(v[0], v[1]), red_pack(v[2], v[3]));
        *b = red_pack(red_pack(v[4], v[5]), red_pack(v[6], v[7]));
    } else {
        *a = red_quad(red_pair(v[0], v[1]), red_pair(v[2], v[3]));
        *b = red_quad(red_pair(v[4], v[5]), red_pair(v[6], v[7]));
    }
}

/* Lane j = block j: the two sub-blocks of 16 (lanes k and 4 + k of a, then of b) added. */
FLM_AVX2 FLM_INLINE __m256i per_block(__m256i a, __m256i b)
{
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

/* 16 int8 sub-block scales (byte s = sub-block s) as the int32 lanes of hsum_blocks' a and b. */
FLM_AVX2 FLM_INLINE void scales16(__m128i s, __m256i *sa, __m256i *sb)
{
    s = _mm_shuffle_epi8(s, _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15));
    *sa = _mm256_cvtepi8_epi32(s);
    *sb = _mm256_cvtepi8_epi32(_mm_srli_si128(s, 8));
}

#endif
#endif
