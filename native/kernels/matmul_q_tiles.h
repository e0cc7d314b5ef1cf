/* The bodies of flm_matmul's integer token tiles (matmul_q.c includes this once per instruction set).
 * Before each inclusion:
 *   MQ_ATTR     the target attribute of the functions
 *   MQ_NAME(x)  the name of function x in this set
 *   MQ_DOT(u, s) the 8 int32 lanes of the unsigned bytes u times the signed bytes s, 4 adjacent products
 *               to a lane: maddubs + madd by ones (AVX2; the int16 pairs never saturate, see
 *               matvec_legacy_q.c and matvec_k.c) or one dpbusd (VNNI): the same exact integers, so the
 *               same bits. */
MQ_ATTR FLM_INLINE void MQ_NAME(legacy)(const int dtype, const uint8_t *w, const mm_group *g, int64_t n,
                                        float *const y[MM_QTOK])
{
    const int64_t bytes = lq_block_bytes(dtype);
    const int with_min = dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1;
    const int iq4 = dtype == FLM_DTYPE_IQ4_NL, q8 = dtype == FLM_DTYPE_Q8_0;
    const int offset = dtype == FLM_DTYPE_Q4_0 ? 8 : dtype == FLM_DTYPE_Q5_0 ? 16 : 0;
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
            u = lq_unsigned(dtype, p);
            sgn = iq4 ? _mm256_shuffle_epi8(grid, u) : u; /* iq4_nl: T[nibble] */
        }
        __m256i lanes[MM_QTOK];
#pragma GCC unroll 4
        for (int k = 0; k < MM_QTOK; k++) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(g->x[k]->q + b * 32));
            __m256i pairs; /* the int32 lanes: 4 products each */
            if (q8)
                pairs = MQ_DOT(u, _mm256_sign_epi8(q, sgn));
            else if (iq4)
                pairs = MQ_DOT(_mm256_sign_epi8(q, q), _mm256_sign_epi8(sgn, q));
            else
                pairs = MQ_DOT(u, q);
            lanes[k] = pairs;
        }
        /* lane k: I_0 of token k, lane 4 + k: its I_1 */
        __m256i isum = _mm256_hadd_epi32(_mm256_hadd_epi32(lanes[0], lanes[1]), _mm256_hadd_epi32(lanes[2], lanes[3]));
        const __m256i sums = _mm256_loadu_si256((const __m256i *)(g->s4 + 8 * b)); /* S_h of token k */
        if (offset) /* 8 or 16 times S_h */
            isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(sums, offset == 8 ? 3 : 4));
        const __m256 dx = _mm256_loadu_ps(g->dx4 + 8 * b);
        acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(scale_f16(p)), dx), _mm256_cvtepi32_ps(isum), acc);
        if (with_min)
            accm = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(scale_f16(p + 2)), dx),
                                   _mm256_cvtepi32_ps(sums), accm);
    }
    float a[8], m[8];
    _mm256_storeu_ps(a, acc);
    _mm256_storeu_ps(m, accm);
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        *y[k] = with_min ? (a[k] + m[k]) + (a[4 + k] + m[4 + k]) : a[k] + a[4 + k];
}

/* The k-quants (matvec_k.c's layouts and kq_sums_avx2): per super-block the row's quants are unpacked once
 * into u[8] (32 unsigned bytes per chunk j, chunk j = x's block j of the super-block; iq4_xs: the signed
 * grid values, |g| times qx with g's sign) and its scales (and mins) decoded once; then per token
 *     T[j] = sum over the sub-blocks s in block j of sc[s] * sum_{i in s} q[i] qx[i]   (exact int32)
 *     M[j] = sum over the sub-blocks s in block j of m[s] * sum_{i in s} qx[i]         (types with a min)
 * and the float steps of matvec: acc = fma(d * dx, T, acc), acc = fma(-(dmin * dx), M, acc). */
MQ_ATTR FLM_INLINE void MQ_NAME(kq_body)(const int dtype, const uint8_t *w, const mm_group *g, int64_t n,
                                         float *const y[MM_QTOK])
{
    const kern_qx *const *xs = g->x;
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const int64_t bytes = dtype == FLM_DTYPE_Q4_K ? 144 : dtype == FLM_DTYPE_Q5_K ? 176 : dtype == FLM_DTYPE_Q6_K ? 210
                          : dtype == FLM_DTYPE_Q3_K ? 110 : dtype == FLM_DTYPE_Q2_K ? 84 : 136;
    const int with_min = dtype == FLM_DTYPE_Q4_K || dtype == FLM_DTYPE_Q5_K || dtype == FLM_DTYPE_Q2_K;
    const int d_at = dtype == FLM_DTYPE_Q6_K ? 208 : dtype == FLM_DTYPE_Q3_K ? 108 : dtype == FLM_DTYPE_Q2_K ? 80 : 0;
    /* q6_k's q - 32 and q3_k's q - 4, taken off as offset * (sum of qx over the sub-block of 16) */
    const int off_shift = dtype == FLM_DTYPE_Q6_K ? 5 : dtype == FLM_DTYPE_Q3_K ? 2 : 0;
    /* whether 8 products of a chunk's lane pair fit in int16 (the packed reduction), as in matvec_k.c */
    const int packed = dtype != FLM_DTYPE_Q6_K && dtype != FLM_DTYPE_IQ4_XS;
    /* sub-blocks of 16: the scales per half block (lanes of hsum_blocks's a and b); else one per block */
    const int sub16 = dtype == FLM_DTYPE_Q6_K || dtype == FLM_DTYPE_Q3_K || dtype == FLM_DTYPE_Q2_K;
    __m256 acc[MM_QTOK];
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        acc[k] = _mm256_setzero_ps();
    for (int64_t t = 0; t < n / 256; t++) {
        const uint8_t *p = w + t * bytes;
        __m256i u[8];
        __m256i scv = _mm256_setzero_si256(), mnv = _mm256_setzero_si256(); /* per block (sub-blocks of 32) */
        __m256i sa = _mm256_setzero_si256(), sb = _mm256_setzero_si256();   /* per half (sub-blocks of 16) */
        __m128i mins16 = _mm_setzero_si128();                               /* q2_k's 16 mins */
        switch (dtype) {
        case FLM_DTYPE_Q4_K:
        case FLM_DTYPE_Q5_K: {
            const int five = dtype == FLM_DTYPE_Q5_K;
            const uint8_t *qs = p + (five ? 48 : 16);
            const __m256i qh = five ? _mm256_loadu_si256((const __m256i *)(p + 16)) : _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                u[2 * c] = _mm256_and_si256(q, low4);
                u[2 * c + 1] = KQ_FIELD(q, 4, 0, 0x0f);
                if (five) {
                    u[2 * c] = _mm256_or_si256(u[2 * c], KQ_FIELD(qh, 2 * c, 4, 0x10));
                    u[2 * c + 1] = _mm256_or_si256(u[2 * c + 1], KQ_FIELD(qh, 2 * c + 1, 4, 0x10));
                }
            }
            uint32_t wd[3];
            memcpy(wd, p + 4, 12);
            uint64_t sc = (wd[0] & 0x3f3f3f3fu) | (uint64_t)((wd[2] & 0x0f0f0f0fu) | ((wd[0] >> 2) & 0x30303030u)) << 32;
            uint64_t mn =
                (wd[1] & 0x3f3f3f3fu) | (uint64_t)(((wd[2] >> 4) & 0x0f0f0f0fu) | ((wd[1] >> 2) & 0x30303030u)) << 32;
            scv = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)sc));
            mnv = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)mn));
            break;
        }
        case FLM_DTYPE_Q6_K: {
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i ql0 = _mm256_loadu_si256((const __m256i *)(p + 64 * h));
                __m256i ql1 = _mm256_loadu_si256((const __m256i *)(p + 64 * h + 32));
                __m256i qh = _mm256_loadu_si256((const __m256i *)(p + 128 + 32 * h));
                u[4 * h] = _mm256_or_si256(_mm256_and_si256(ql0, low4), KQ_FIELD(qh, 0, 4, 0x30));
                u[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, low4), KQ_FIELD(qh, 2, 4, 0x30));
                u[4 * h + 2] = _mm256_or_si256(KQ_FIELD(ql0, 4, 0, 0x0f), KQ_FIELD(qh, 4, 4, 0x30));
                u[4 * h + 3] = _mm256_or_si256(KQ_FIELD(ql1, 4, 0, 0x0f), KQ_FIELD(qh, 6, 4, 0x30));
            }
            scales16(_mm_loadu_si128((const __m128i *)(p + 192)), &sa, &sb);
            break;
        }
        case FLM_DTYPE_Q3_K: {
            const __m256i hm = _mm256_loadu_si256((const __m256i *)p);
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(p + 32 + 32 * h));
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++)
                    u[4 * h + k] = _mm256_or_si256(KQ_FIELD(q, 2 * k, 0, 3), KQ_FIELD(hm, 4 * h + k, 2, 4));
            }
            __m128i lo8 = _mm_loadl_epi64((const __m128i *)(p + 96));
            const __m128i nib = _mm_set1_epi8(0x0f);
            __m128i low = _mm_unpacklo_epi64(_mm_and_si128(lo8, nib), _mm_and_si128(_mm_srli_epi16(lo8, 4), nib));
            __m128i hb = _mm_srlv_epi32(_mm_set1_epi32((int)lq_load32(p + 104)), _mm_setr_epi32(0, 2, 4, 6));
            __m128i six = _mm_or_si128(low, _mm_slli_epi16(_mm_and_si128(hb, _mm_set1_epi8(3)), 4));
            scales16(_mm_sub_epi8(six, _mm_set1_epi8(32)), &sa, &sb);
            break;
        }
        case FLM_DTYPE_Q2_K: {
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(p + 16 + 32 * h));
#pragma GCC unroll 4
                for (int k = 0; k < 4; k++)
                    u[4 * h + k] = KQ_FIELD(q, 2 * k, 0, 3);
            }
            __m128i s = _mm_loadu_si128((const __m128i *)p);
            const __m128i nib = _mm_set1_epi8(0x0f);
            scales16(_mm_and_si128(s, nib), &sa, &sb);
            mins16 = _mm_and_si128(_mm_srli_epi16(s, 4), nib);
            break;
        }
        default: { /* iq4_xs: u holds the signed grid values */
            const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)kern_iq4nl_grid));
            const __m256i nibble_shift = _mm256_setr_epi64x(0, 0, 4, 4);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                __m256i q = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(p + 8 + 16 * j)));
                u[j] = _mm256_shuffle_epi8(grid, _mm256_and_si256(_mm256_srlv_epi64(q, nibble_shift), low4));
            }
            __m128i lb = _mm_cvtsi32_si128((int)lq_load32(p + 4));
            const __m128i nib = _mm_set1_epi8(0x0f);
            lb = _mm_unpacklo_epi8(_mm_and_si128(lb, nib), _mm_and_si128(_mm_srli_epi16(lb, 4), nib));
            __m256i high = _mm256_set1_epi32((int)((unsigned)p[2] | (unsigned)p[3] << 8));
            high = _mm256_and_si256(_mm256_srlv_epi32(high, _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)),
                                    _mm256_set1_epi32(3));
            scv = _mm256_sub_epi32(_mm256_or_si256(_mm256_cvtepu8_epi32(lb), _mm256_slli_epi32(high, 4)),
                                   _mm256_set1_epi32(32));
            break;
        }
        }
        __m256 d, dmin = _mm256_setzero_ps();
        if (with_min) { /* d and dmin adjacent: converted at once */
            uint32_t dd;
            memcpy(&dd, p + d_at, 4);
            const __m256 both = _mm256_castps128_ps256(_mm_cvtph_ps(_mm_cvtsi32_si128((int)dd)));
            d = _mm256_permutevar8x32_ps(both, _mm256_setzero_si256());
            dmin = _mm256_permutevar8x32_ps(both, _mm256_set1_epi32(1));
        } else {
            d = _mm256_set1_ps(scale_f16(p + d_at));
        }
#pragma GCC unroll 4
        for (int k = 0; k < MM_QTOK; k++) {
            const int8_t *qx = xs[k]->q + t * 256;
            __m256i v[8], a, b, T, M = _mm256_setzero_si256();
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                const __m256i q = _mm256_loadu_si256((const __m256i *)(qx + 32 * j));
                v[j] = dtype == FLM_DTYPE_IQ4_XS ? MQ_DOT(_mm256_abs_epi8(u[j]), _mm256_sign_epi8(q, u[j]))
                                                 : MQ_DOT(u[j], q);
            }
            hsum_blocks(v, &a, &b, packed);
            const __m256i s16 = _mm256_loadu_si256((const __m256i *)(xs[k]->sum16 + 16 * t));
            if (off_shift) {
                a = _mm256_sub_epi32(a, _mm256_slli_epi32(_mm256_permutevar8x32_epi32(
                                                              _mm256_cvtepi16_epi32(_mm256_castsi256_si128(s16)), order),
                                                          off_shift));
                b = _mm256_sub_epi32(b, _mm256_slli_epi32(_mm256_permutevar8x32_epi32(
                                                              _mm256_cvtepi16_epi32(_mm256_extracti128_si256(s16, 1)), order),
                                                          off_shift));
            }
            if (sub16)
                T = per_block(_mm256_mullo_epi32(a, sa), _mm256_mullo_epi32(b, sb));
            else
                T = _mm256_mullo_epi32(per_block(a, b), scv);
            if (dtype == FLM_DTYPE_Q2_K)
                M = _mm256_madd_epi16(s16, _mm256_cvtepu8_epi16(mins16));
            else if (with_min)
                M = _mm256_mullo_epi32(_mm256_madd_epi16(s16, _mm256_set1_epi16(1)), mnv);
            const __m256 dx = _mm256_loadu_ps(xs[k]->d + 8 * t);
            acc[k] = _mm256_fmadd_ps(_mm256_mul_ps(d, dx), _mm256_cvtepi32_ps(T), acc[k]);
            if (with_min)
                acc[k] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, dx), _mm256_cvtepi32_ps(M), acc[k]);
        }
    }
#pragma GCC unroll 4
    for (int k = 0; k < MM_QTOK; k++)
        *y[k] = hsum8(acc[k]);
}

/* One function per dtype: constants the compiler folds. */
#define MQ_LEGACY(name, code)                                                                                 \
    MQ_ATTR static void MQ_NAME(name)(const uint8_t *w, const mm_group *g, int64_t n, float *const y[MM_QTOK]) \
    {                                                                                                         \
        MQ_NAME(legacy)(code, w, g, n, y);                                                                    \
    }
MQ_LEGACY(q8_0, FLM_DTYPE_Q8_0)
MQ_LEGACY(q4_0, FLM_DTYPE_Q4_0)
MQ_LEGACY(q4_1, FLM_DTYPE_Q4_1)
MQ_LEGACY(q5_0, FLM_DTYPE_Q5_0)
MQ_LEGACY(q5_1, FLM_DTYPE_Q5_1)
MQ_LEGACY(iq4_nl, FLM_DTYPE_IQ4_NL)
#undef MQ_LEGACY

#define MQ_KQ(name, code)                                                                                     \
    MQ_ATTR static void MQ_NAME(name)(const uint8_t *w, const mm_group *g, int64_t n, float *const y[MM_QTOK]) \
    {                                                                                                         \
        MQ_NAME(kq_body)(code, w, g, n, y);                                                                   \
    }
MQ_KQ(q4_k, FLM_DTYPE_Q4_K)
MQ_KQ(q5_k, FLM_DTYPE_Q5_K)
MQ_KQ(q6_k, FLM_DTYPE_Q6_K)
MQ_KQ(q3_k, FLM_DTYPE_Q3_K)
MQ_KQ(q2_k, FLM_DTYPE_Q2_K)
MQ_KQ(iq4_xs, FLM_DTYPE_IQ4_XS)
#undef MQ_KQ

/* The tile of dtype, or NULL. */
static mm_qtile_fn MQ_NAME(pick)(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q8_0: return MQ_NAME(q8_0);
    case FLM_DTYPE_Q4_0: return MQ_NAME(q4_0);
    case FLM_DTYPE_Q4_1: return MQ_NAME(q4_1);
    case FLM_DTYPE_Q5_0: return MQ_NAME(q5_0);
    case FLM_DTYPE_Q5_1: return MQ_NAME(q5_1);
    case FLM_DTYPE_IQ4_NL: return MQ_NAME(iq4_nl);
    case FLM_DTYPE_Q4_K: return MQ_NAME(q4_k);
    case FLM_DTYPE_Q5_K: return MQ_NAME(q5_k);
    case FLM_DTYPE_Q6_K: return MQ_NAME(q6_k);
    case FLM_DTYPE_Q3_K: return MQ_NAME(q3_k);
    case FLM_DTYPE_Q2_K: return MQ_NAME(q2_k);
    case FLM_DTYPE_IQ4_XS: return MQ_NAME(iq4_xs);
    default: return NULL;
    }
}
