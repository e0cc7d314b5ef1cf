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

/* Lanes k and 4 + k: S_0 and S_1 of token k's block b (the sums of q over the halves), times c. */
FLM_AVX2 FLM_INLINE __m256i mq_sums(const kern_qx *const xs[MM_QTOK], int64_t b, const int c)
{
    /* each 32-bit lane k holds (S_0, S_1) of token k (inserts, not a store and a wide reload, which
     * would stall on store forwarding); madd with (c, 0) or (0, c) picks one */
    __m128i s = _mm_cvtsi32_si128((int)mq_load32((const uint8_t *)(xs[0]->sum16 + 2 * b)));
    s = _mm_insert_epi32(s, (int)mq_load32((const uint8_t *)(xs[1]->sum16 + 2 * b)), 1);
    s = _mm_insert_epi32(s, (int)mq_load32((const uint8_t *)(xs[2]->sum16 + 2 * b)), 2);
    s = _mm_insert_epi32(s, (int)mq_load32((const uint8_t *)(xs[3]->sum16 + 2 * b)), 3);
    const __m256i pairs = _mm256_broadcastsi128_si256(s);
    const __m256i pick = _mm256_setr_epi16((short)c, 0, (short)c, 0, (short)c, 0, (short)c, 0, 0, (short)c, 0,
                                           (short)c, 0, (short)c, 0, (short)c);
    return _mm256_madd_epi16(pairs, pick);
}

FLM_AVX2 FLM_INLINE void mm_legacy_tile(const int dtype, const uint8_t *w, const kern_qx *const xs[MM_QTOK],
                                        int64_t n, float *const y[MM_QTOK])
{
    const int64_t bytes = mq_block_bytes(dtype);
    const int with_min = dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1;
    const int iq4 = dtype == FLM_DTYPE_IQ4_NL, q8 = dtype == FLM_DTYPE_Q8_0;
    const int offset = dtype == FLM_DTYPE_Q4_0 ? 8 : dtype == FLM_DTYPE_Q5_0 ? 16 : 0;
    const __m256i ones16 = _mm256_set1_epi16(1);
    const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kern_iq4nl_grid));
    __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();
    const uint8_t *p = w;
    for (int64_t b = 0; b < n / 32; b++, p += bytes) {
        /* the row's block, unpacked once: the unsigned operand of maddubs and what signs the other */
        __m256i u, sgn;
        if (q8) {
            sgn = _mm256_loadu_si256((const __m256i *)(p + 2));
            u = _mm256_sign_epi8(sgn, sgn); /* |w| */
        } else {
            u = mq_unsigned(dtype, p);
            sgn = iq4 ? _mm256_shuffle_epi8(grid, u) : u; /* iq4_nl: T[nibble] */
        }
        __m256i lanes[MM_QTOK];
#pragma GCC unroll 4
        for (int k = 0; k < MM_QTOK; k++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(xs[k]->q + b * 32));
            __m256i pairs;
            if (q8)
                pairs = _mm256_maddubs_epi16(u, _mm256_sign_epi8(q, sgn));
            else if (iq4)
                pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(sgn, q));
            else
                pairs = _mm256_maddubs_epi16(u, q);
            lanes[k] = _mm256_madd_epi16(pairs, ones16);
        }
        /* lane k: I_0 of token k, lane 4 + k: its I_1 */
        __m256i isum = _mm256_hadd_epi32(_mm256_hadd_epi32(lanes[0], lanes[1]), _mm256_hadd_epi32(lanes[2], lanes[3]));
        if (offset)
            isum = _mm256_sub_epi32(isum, mq_sums(xs, b, offset));
        const __m256 dx = _mm256_setr_ps(xs[0]->d[b], xs[1]->d[b], xs[2]->d[b], xs[3]->d[b], xs[0]->d[b],
                                         xs[1]->d[b], xs[2]->d[b], xs[3]->d[b]);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(scale_f16(p)), dx), _mm256_cvtepi32_ps(isum), acc);
        if (with_min)
            accm = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(scale_f16(p + 2)), dx),
                                   _mm256_cvtepi32_ps(mq_sums(xs, b, 1)), accm);
    }
    float a[8], m[8];
    _mm256_storeu_ps(a, acc);
    _mm256_storeu_ps(m, accm);
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        *y[k] = with_min ? (a[k] + m[k]) + (a[4 + k] + m[4 + k]) : a[k] + a[4 + k];
}

/* ---- k-quants: q4_k and q6_k ---- */

/* Bits from..from + width - 1 of every byte moved to to.., the rest cleared by mask (matvec_k.c's KQ_FIELD). */
#define MQ_FIELD(v, from, to, mask)                                                                        \
    _mm256_and_si256((from) < (to) ? _mm256_slli_epi16((v), (to) - (from))                                \
                     : (from) > (to) ? _mm256_srli_epi16((v), (from) - (to)) : (v), _mm256_set1_epi8(mask))

FLM_AVX2 FLM_INLINE __m256i mq_dot(__m256i u, const int8_t *qx)
{
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, _mm256_loadu_si256((const __m256i *)qx)), _mm256_set1_epi16(1));
}

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
/* Lane j = block j: lanes k and 4 + k of a (then of b) added. */
FLM_AVX2 FLM_INLINE __m256i mq_per_block(__m256i a, __m256i b)
{
    return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
}

/* q4_k: the 256 nibbles unpacked once, the 8 scales and mins decoded once, then per token
 *     T[j] = sc[j] * sum_{block j} q qx,   M[j] = m[j] * (sum of qx over block j),
 * acc = fma(d * dx, T, acc), acc = fma(-(dmin * dx), M, acc) (fnmadd). */
FLM_AVX2 FLM_INLINE void mm_q4_k_tile(const uint8_t *w, const kern_qx *const xs[MM_QTOK], int64_t n,
                                      float *const y[MM_QTOK])
{
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256 acc[MM_QTOK];
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        acc[k] = _mm256_setzero_ps();
    for (int64_t t = 0; t < n / 256; t++) {
        const uint8_t *p = w + t * 144;
        __m256i u[8];
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256i q = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * c));
            u[2 * c] = _mm256_and_si256(q, low4);
            u[2 * c + 1] = MQ_FIELD(q, 4, 0, 0x0f);
        }
        uint32_t wd[3];
        memcpy(wd, p + 4, 12);
        uint64_t sc = (wd[0] & 0x3f3f3f3fu) | (uint64_t)((wd[2] & 0x0f0f0f0fu) | ((wd[0] >> 2) & 0x30303030u)) << 32;
        uint64_t mn =
            (wd[1] & 0x3f3f3f3fu) | (uint64_t)(((wd[2] >> 4) & 0x0f0f0f0fu) | ((wd[1] >> 2) & 0x30303030u)) << 32;
        const __m256i scv = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc));
        const __m256i mnv = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn));
        uint32_t dd;
        memcpy(&dd, p, 4);
        const __m256 both = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128((int)dd)));
        const __m256 d = _mm256_permutevar8x32_ps(both, _mm256_setzero_si256());
        const __m256 dmin = _mm256_permutevar8x32_ps(both, _mm256_set1_epi32(1));
#pragma GCC unroll 4
        for (int k = 0; k < MM_QTOK; k++) {
            const int8_t *qx = xs[k]->q + t * 256;
            __m256i v[8], a, b;
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                v[j] = mq_dot(u[j], qx + 32 * j);
            mq_hsum(v, &a, &b, 1); /* 8 products < 8 * 15 * 127 < 2^15 */
            const __m256i T = _mm256_mullo_epi32(mq_per_block(a, b), scv);
            const __m256i s16 = _mm256_loadu_si256((const __m256i *)(xs[k]->sum16 + 16 * t));
            const __m256i M = _mm256_mullo_epi32(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)), mnv);
            const __m256 dx = _mm256_loadu_ps(xs[k]->d + 8 * t);
            acc[k] = _mm256_fmadd_ps(_mm256_mul_ps(d, dx), _mm256_cvtepi32_ps(T), acc[k]);
            acc[k] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, dx), _mm256_cvtepi32_ps(M), acc[k]);
        }
    }
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        *y[k] = hsum8(acc[k]);
}

/* q6_k: the 6-bit quants (q + 32) unpacked once, the 16 int8 scales once, then per token
 *     T[j] = sum over the sub-blocks s of 16 in block j of  sc[s] * (sum q' qx - 32 * sum qx),
 * acc = fma(d * dx, T, acc). */
FLM_AVX2 FLM_INLINE void mm_q6_k_tile(const uint8_t *w, const kern_qx *const xs[MM_QTOK], int64_t n,
                                      float *const y[MM_QTOK])
{
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    __m256 acc[MM_QTOK];
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        acc[k] = _mm256_setzero_ps();
    for (int64_t t = 0; t < n / 256; t++) {
        const uint8_t *p = w + t * 210;
        __m256i u[8];
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i ql0 = _mm256_loadu_si256((const __m256i *)(p + 64 * h));
            __m256i ql1 = _mm256_loadu_si256((const __m256i *)(p + 64 * h + 32));
            __m256i qh = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * h));
            u[4 * h] = _mm256_or_si256(_mm256_and_si256(ql0, low4), MQ_FIELD(qh, 0, 4, 0x30));
            u[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, low4), MQ_FIELD(qh, 2, 4, 0x30));
            u[4 * h + 2] = _mm256_or_si256(MQ_FIELD(ql0, 4, 0, 0x0f), MQ_FIELD(qh, 4, 4, 0x30));
            u[4 * h + 3] = _mm256_or_si256(MQ_FIELD(ql1, 4, 0, 0x0f), MQ_FIELD(qh, 6, 4, 0x30));
        }
        /* the 16 scales as the lanes of mq_hsum's a and b: sub-blocks 2k, 2k + 1 in lanes k, 4 + k */
        __m128i s = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 192)),
                                     _mm_setr_epi8(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15));
        const __m256i sa = _mm256_cvtepi8_epi32(s), sb = _mm256_cvtepi8_epi32(_mm_srli_si128(s, 8));
        const __m256 d = _mm256_set1_ps(scale_f16(p + 208));
#pragma GCC unroll 4
        for (int k = 0; k < MM_QTOK; k++) {
            const int8_t *qx = xs[k]->q + t * 256;
            __m256i v[8], a, b;
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++)
                v[j] = mq_dot(u[j], qx + 32 * j);
            mq_hsum(v, &a, &b, 0); /* 8 products reach 8 * 63 * 127 */
            /* 32 * the sums of 16 of qx, in the lanes of a and b */
            const __m256i s16 = _mm256_loadu_si256((const __m256i *)(xs[k]->sum16 + 16 * t));
            const __m256i offa = _mm256_slli_epi32(
                _mm256_permutevar8x32_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(s16)), order), 5);
            const __m256i offb = _mm256_slli_epi32(
                _mm256_permutevar8x32_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(s16, 1)), order), 5);
            const __m256i T = mq_per_block(_mm256_mullo_epi32(_mm256_sub_epi32(a, offa), sa),
                                           _mm256_mullo_epi32(_mm256_sub_epi32(b, offb), sb));
            const __m256 dx = _mm256_loadu_ps(xs[k]->d + 8 * t);
            acc[k] = _mm256_fmadd_ps(_mm256_mul_ps(d, dx), _mm256_cvtepi32_ps(T), acc[k]);
        }
    }
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        *y[k] = hsum8(acc[k]);
}

/* One function per dtype: constants the compiler folds. */
#define MQ_LEGACY(name, code)                                                                                 \
    FLM_AVX2 static void mm_tile_##name(const uint8_t *w, const kern_qx *const xs[MM_QTOK], int64_t n,       \
                                        float *const y[MM_QTOK])                                              \
    {                                                                                                         \
        mm_legacy_tile(code, w, xs, n, y);                                                                    \
    }
MQ_LEGACY(q8_0, FLM_DTYPE_Q8_0)
MQ_LEGACY(q4_0, FLM_DTYPE_Q4_0)
MQ_LEGACY(q4_1, FLM_DTYPE_Q4_1)
MQ_LEGACY(q5_0, FLM_DTYPE_Q5_0)
MQ_LEGACY(q5_1, FLM_DTYPE_Q5_1)
MQ_LEGACY(iq4_nl, FLM_DTYPE_IQ4_NL)

FLM_AVX2 static void mm_tile_q4_k(const uint8_t *w, const kern_qx *const xs[MM_QTOK], int64_t n,
                                  float *const y[MM_QTOK])
{
    mm_q4_k_tile(w, xs, n, y);
}

FLM_AVX2 static void mm_tile_q6_k(const uint8_t *w, const kern_qx *const xs[MM_QTOK], int64_t n,
                                  float *const y[MM_QTOK])
{
    mm_q6_k_tile(w, xs, n, y);
}
#endif

mm_qtile_fn kern_mm_q_tile(int dtype)
{
#ifdef FLM_HAVE_X86
    if (!flm_kernels_simd())
        return NULL;
    switch (dtype) {
    case FLM_DTYPE_Q8_0: return mm_tile_q8_0;
    case FLM_DTYPE_Q4_0: return mm_tile_q4_0;
    case FLM_DTYPE_Q4_1: return mm_tile_q4_1;
    case FLM_DTYPE_Q5_0: return mm_tile_q5_0;
    case FLM_DTYPE_Q5_1: return mm_tile_q5_1;
    case FLM_DTYPE_IQ4_NL: return mm_tile_iq4_nl;
    case FLM_DTYPE_Q4_K: return mm_tile_q4_k;
    case FLM_DTYPE_Q6_K: return mm_tile_q6_k;
    default: return NULL;
    }
#else
    (void)dtype;
    return NULL;
#endif
}
