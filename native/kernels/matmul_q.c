/*
 * flm_matmul's integer token tiles (AVX2): one row of weights dotted with MM_QTOK = 4 tokens' quantized x
 * at once, so that the row's blocks are loaded and unpacked (nibbles masked, fifth bits or grid looked
 * up, k-quant scales decoded, f16 scales converted) once per 4 tokens instead of once per token. For the
 * integer kernels the unpacking is most of the work once the weights come from cache.
 *
 * The bits are flm_matvec's (matvec_legacy_q.c and matvec_k.c define them): every (row, token) gets the
 * same exact integer sums (an integer sum is the same whatever order or vector lanes compute it in) and
 * then exactly the same float operations, in the same order, on the same operands:
 *   - legacy blocks of 32: per block, s = f16(d) * d_x[b] and A_h = fma(s, (float) I_h, A_h) (and the
 *     min's M_h), y = A_0 + A_1 or (A_0 + M_0) + (A_1 + M_1). matvec puts row r's A_0 in lane r and A_1 in
 *     lane 4 + r; here lane k holds token k's A_0 and lane 4 + k its A_1 (one row), the same arithmetic.
 *   - k-quants: per super-block, acc[j] = fma(d * dx[b], (float) T[j], acc[j]) (and
 *     fma(-(dmin * dx[b]), (float) M[j], acc[j]) with a min), then sum8; here one 8-lane accumulator per
 *     token, as matvec keeps one per row.
 * The unpacking helpers repeat those of matvec_legacy_q.c and matvec_k.c (static there; copied rather
 * than shared so that the kernels there can change freely: test_matmul holds the bits equal).
 */
#include "flashlm.h"
#include "matmul_internal.h"

#include <stdlib.h>

#ifdef FLM_HAVE_X86

/* ---- legacy blocks of 32 (q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl) ---- */

static inline int64_t mq_block_bytes(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q8_0: return 34;
    case FLM_DTYPE_Q4_1: return 20;
    case FLM_DTYPE_Q5_0: return 22;
    case FLM_DTYPE_Q5_1: return 24;
    default: return 18; /* q4_0, iq4_nl */
    }
}

static inline int mq_qs(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q4_1: return 4;
    case FLM_DTYPE_Q5_0: return 6;
    case FLM_DTYPE_Q5_1: return 8;
    default: return 2;
    }
}

FLM_AVX2 FLM_INLINE uint32_t mq_load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The 32 values of a q4/q5/iq4 block as unsigned bytes (nibble | fifth bit << 4) in value order
 * (matvec_legacy_q.c's lq_unsigned). */
FLM_AVX2 FLM_INLINE __m256i mq_unsigned(const int dtype, const uint8_t *blk)
{
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i shift = _mm256_setr_epi64x(0, 0, 4, 4);
    __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(blk + mq_qs(dtype))));
    __m256i u = _mm256_and_si256(_mm256_srlv_epi64(v, shift), low4);
    if (dtype == FLM_DTYPE_Q5_0 || dtype == FLM_DTYPE_Q5_1) {
        const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                                2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
        __m256i h = _mm256_shuffle_epi8(_mm256_set1_epi32((int)mq_load32(blk + (dtype == FLM_DTYPE_Q5_0 ? 2 : 4))),
                                        spread);
        __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(h, bit), bit);
        u = _mm256_or_si256(u, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
    }
    return u;
}

/* ---- k-quants: q4_k and q6_k ---- */

/* Bits from..from + width - 1 of every byte moved to to.., the rest cleared by mask (matvec_k.c's KQ_FIELD). */
#define MQ_FIELD(v, from, to, mask)                                                                        \
    _mm256_and_si256((from) < (to) ? _mm256_slli_epi16((v), (to) - (from))                                \
                     : (from) > (to) ? _mm256_srli_epi16((v), (from) - (to)) : (v), _mm256_set1_epi8(mask))

/* v[0..8), 8 int32 lanes each (lane k of v[j]: 4 products of chunk j), reduced: *a lane k = the sum of v[k]'s
 * lanes 0..3, lane 4 + k of its lanes 4..7 (sub-blocks 2k, 2k + 1 of 16); *b the same for v[4 + k]. packed:
 * through int16 (packs), where 8 products fit. */
FLM_AVX2 FLM_INLINE __m256i mq_pair(__m256i x, __m256i y)
{
    return _mm256_add_epi32(_mm256_unpacklo_epi32(x, y), _mm256_unpackhi_epi32(x, y));
}
FLM_AVX2 FLM_INLINE __m256i mq_quad(__m256i p, __m256i q)
{
    return _mm256_add_epi32(_mm256_unpacklo_epi64(p, q), _mm256_unpackhi_epi64(p, q));
}
FLM_AVX2 FLM_INLINE __m256i mq_pack(__m256i x, __m256i y)
{
    return _mm256_madd_epi16(_mm256_packs_epi32(x, y), _mm256_set1_epi16(1));
}
FLM_AVX2 FLM_INLINE void mq_hsum(const __m256i v[8], __m256i *a, __m256i *b, const int packed)
{
    if (packed) {
        *a = mq_pack(mq_pack(v[0], v[1]), mq_pack(v[2], v[3]));
        *b = mq_pack(mq_pack(v[4], v[5]), mq_pack(v[6], v[7]));
    } else {
        *a = mq_quad(mq_pair(v[0], v[1]), mq_pair(v[2], v[3]));
        *b = mq_quad(mq_pair(v[4], v[5]), mq_pair(v[6], v[7]));
    }
}
/* 16 int8 sub-block scales (byte s = sub-block s) as the int32 lanes of mq_hsum's a and b (sub-blocks 2k,
 * 2k + 1 of block k in lanes k, 4 + k). */
FLM_AVX2 FLM_INLINE void mq_scales16(__m128i s, __m256i *sa, __m256i *sb)
{
    s = _mm_shuffle_epi8(s, _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15));
    *sa = _mm256_cvtepi8_epi32(s);
    *sb = _mm256_cvtepi8_epi32(_mm_srli_si128(s, 8));
}

/* Lane j = block j: lanes k and 4 + k of a (then of b) added. */
FLM_AVX2 FLM_INLINE __m256i mq_per_block(__m256i a, __m256i b)
{
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}


/* AVX2: maddubs, then madd by ones. */
#define MQ_ATTR FLM_AVX2
#define MQ_NAME(x) mq_avx2_##x
#define MQ_DOT(u, s) _mm256_madd_epi16(_mm256_maddubs_epi16((u), (s)), _mm256_set1_epi16(1))
#include "matmul_q_tiles.h"
#undef MQ_ATTR
#undef MQ_NAME
#undef MQ_DOT

/* AVX-VNNI (VEX): one dpbusd. */
#define MQ_ATTR __attribute__((target("avx2,fma,f16c,avxvnni")))
#define MQ_NAME(x) mq_avxvnni_##x
#define MQ_DOT(u, s) _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), (u), (s))
#include "matmul_q_tiles.h"
#undef MQ_ATTR
#undef MQ_NAME
#undef MQ_DOT

/* AVX512-VNNI on 256-bit vectors (CPUs with AVX-512 but not AVX-VNNI, e.g. Zen 4). */
#define MQ_ATTR __attribute__((target("avx2,fma,f16c,avx512vnni,avx512vl")))
#define MQ_NAME(x) mq_avx512vnni_##x
#define MQ_DOT(u, s) _mm256_dpbusd_epi32(_mm256_setzero_si256(), (u), (s))
#include "matmul_q_tiles.h"
#undef MQ_ATTR
#undef MQ_NAME
#undef MQ_DOT
#endif

/* 0: AVX2 only; 1: AVX-VNNI; 2: AVX512-VNNI with VL. FLASHLM_NO_VNNI=1 forces 0 (tests, comparisons). */
static int vnni_kind(void)
{
#ifdef FLM_HAVE_X86
    static int kind = -1;
    if (kind < 0) {
        const char *off = getenv("FLASHLM_NO_VNNI");
        __builtin_cpu_init();
        kind = off && off[0] == '1' ? 0
               : __builtin_cpu_supports("avxvnni") ? 1
               : __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") ? 2
                                                                                            : 0;
    }
    return kind;
#else
    return 0;
#endif
}

mm_qtile_fn kern_mm_q_tile(int dtype)
{
#ifdef FLM_HAVE_X86
    if (!flm_kernels_simd())
        return NULL;
    switch (vnni_kind()) {
    case 1: return mq_avxvnni_pick(dtype);
    case 2: return mq_avx512vnni_pick(dtype);
    default: return mq_avx2_pick(dtype);
    }
#else
    (void)dtype;
    return NULL;
#endif
}
