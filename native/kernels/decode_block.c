/*
 * One block of a quantized dtype decoded to floats: what the sparse FFN's down accumulation
 * (bundle_ffn.c) multiplies h by. Every value is computed with exactly the operations of the Java
 * decoders (tensor/QuantBlocks.java, tensor/SuperBlocks.java), so a weight has the same bits in C
 * and in Java, on the portable and the AVX2 path:
 *   q8_0:        d * q
 *   q4_0, q5_0:  d * (q - 8), d * (q - 16);   iq4_nl: d * T[q]
 *   q4_1, q5_1:  d * q + m
 *   k-quants:    sc * q - mn  per sub-block, sc = d * (integer scale), mn = dmin * (integer min) or 0
 * with d, m, dmin the block's f16 values (exact in f32). The products d * q of the legacy types and
 * sc * q of the k-quants with a min are exact (at most 11 + 6 + 5 significant bits), so a compiler
 * that fuses "* q - mn" or "* q + m" into one fma gets the same result; the products that can round
 * (q6_k's and iq4_xs's sc * q: up to 25 bits) are followed by no addition (mn = 0, and x - 0 = x).
 * IEEE multiplication is correctly rounded, so the 8-wide AVX2 decoders give the scalar bits.
 */
#include "flashlm.h"
#include "kernels_internal.h"
#include "matvec_internal.h"

#include <string.h>

static inline float f16_at(const uint8_t *p)
{
    uint16_t h;
    memcpy(&h, p, 2);
    return kern_f16_to_f32(h);
}

int64_t kern_block_values(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_Q8_0:
    case FLM_DTYPE_Q4_0:
    case FLM_DTYPE_Q4_1:
    case FLM_DTYPE_Q5_0:
    case FLM_DTYPE_Q5_1:
    case FLM_DTYPE_IQ4_NL: return 32;
    case FLM_DTYPE_Q6_K:
    case FLM_DTYPE_Q4_K:
    case FLM_DTYPE_Q5_K:
    case FLM_DTYPE_Q3_K:
    case FLM_DTYPE_Q2_K:
    case FLM_DTYPE_IQ4_XS: return 256;
    default: return -1;
    }
}

/* ---- the integer quants and sub-block scales of one block (scalar) ---- */

/* Sub-block j's 6-bit scale (min = 0) or min (min = 1) in q4_k's and q5_k's 12 bytes at p. */
static inline int packed6(const uint8_t *p, int j, int min)
{
    if (j < 4)
        return p[j + (min ? 4 : 0)] & 63;
    int low = p[j + 4], high = p[j - (min ? 0 : 4)] >> 6;
    return (min ? low >> 4 : low & 0x0F) | high << 4;
}

/* The quant of value i of a super-block, its offset applied (SuperBlocks.quant). */
static inline int k_quant(int dtype, const uint8_t *b, int i)
{
    int h = i / 128, k = i % 128 / 32, l = i % 32;
    switch (dtype) {
    case FLM_DTYPE_Q6_K: {
        int low = b[64 * h + 32 * (k % 2) + l], high = b[128 + 32 * h + l];
        return ((k < 2 ? low & 0x0F : low >> 4) | ((high >> (2 * k)) & 3) << 4) - 32;
    }
    case FLM_DTYPE_Q4_K: {
        int v = b[16 + 32 * (i / 64) + l];
        return i % 64 < 32 ? v & 0x0F : v >> 4;
    }
    case FLM_DTYPE_Q5_K: {
        int v = b[48 + 32 * (i / 64) + l];
        return (i % 64 < 32 ? v & 0x0F : v >> 4) | ((b[16 + l] >> (i / 32)) & 1) << 4;
    }
    case FLM_DTYPE_Q3_K: return (((b[32 + 32 * h + l] >> (2 * k)) & 3) | ((b[l] >> (4 * h + k)) & 1) << 2) - 4;
    case FLM_DTYPE_Q2_K: return (b[16 + 32 * h + l] >> (2 * k)) & 3;
    default: { /* iq4_xs */
        int v = b[8 + 16 * (i / 32) + i % 16];
        return kern_iq4nl_grid[i % 32 < 16 ? v & 0x0F : v >> 4];
    }
    }
}

/* Sub-block s's scale sc and min mn (SuperBlocks.scale and .min). */
static inline void k_scale_min(int dtype, const uint8_t *b, int s, float *sc, float *mn)
{
    switch (dtype) {
    case FLM_DTYPE_Q6_K:
        *sc = f16_at(b + 208) * (float)(int8_t)b[192 + s];
        *mn = 0.0f;
        return;
    case FLM_DTYPE_Q4_K:
    case FLM_DTYPE_Q5_K:
        *sc = f16_at(b) * (float)packed6(b + 4, s, 0);
        *mn = f16_at(b + 2) * (float)packed6(b + 4, s, 1);
        return;
    case FLM_DTYPE_Q3_K: {
        int low = b[96 + s % 8], high = b[104 + s % 4] >> (2 * (s / 4));
        *sc = f16_at(b + 108) * (float)(((s < 8 ? low & 0x0F : low >> 4) | (high & 3) << 4) - 32);
        *mn = 0.0f;
        return;
    }
    case FLM_DTYPE_Q2_K:
        *sc = f16_at(b + 80) * (float)(b[s] & 0x0F);
        *mn = f16_at(b + 82) * (float)(b[s] >> 4);
        return;
    default: { /* iq4_xs */
        int low = (b[4 + s / 2] >> (4 * (s % 2))) & 0x0F;
        int high = ((b[2] | b[3] << 8) >> (2 * s)) & 3;
        *sc = f16_at(b) * (float)((low | high << 4) - 32);
        *mn = 0.0f;
        return;
    }
    }
}

static inline int k_sub(int dtype)
{
    return dtype == FLM_DTYPE_Q6_K || dtype == FLM_DTYPE_Q3_K || dtype == FLM_DTYPE_Q2_K ? 16 : 32;
}

/* The nibble (and fifth bit) quant of value i of a legacy block, before its offset. */
static inline int legacy_quant(int dtype, const uint8_t *b, int i)
{
    int at = dtype == FLM_DTYPE_Q4_1 ? 4 : dtype == FLM_DTYPE_Q5_0 ? 6 : dtype == FLM_DTYPE_Q5_1 ? 8 : 2;
    int v = b[at + (i & 15)];
    int q = i < 16 ? v & 0x0F : v >> 4;
    if (dtype == FLM_DTYPE_Q5_0 || dtype == FLM_DTYPE_Q5_1) {
        const uint8_t *qh = b + (dtype == FLM_DTYPE_Q5_0 ? 2 : 4);
        q |= ((qh[i / 8] >> (i % 8)) & 1) << 4;
    }
    return q;
}

void kern_decode_block_portable(int dtype, const uint8_t *b, float *out)
{
    switch (dtype) {
    case FLM_DTYPE_Q8_0: {
        float d = f16_at(b);
        for (int i = 0; i < 32; i++)
            out[i] = d * (float)(int8_t)b[2 + i];
        return;
    }
    case FLM_DTYPE_Q4_0:
    case FLM_DTYPE_Q4_1:
    case FLM_DTYPE_Q5_0:
    case FLM_DTYPE_Q5_1:
    case FLM_DTYPE_IQ4_NL: {
        float d = f16_at(b);
        float m = dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1 ? f16_at(b + 2) : 0.0f;
        for (int i = 0; i < 32; i++) {
            int q = legacy_quant(dtype, b, i);
            switch (dtype) {
            case FLM_DTYPE_Q4_0: out[i] = d * (float)(q - 8); break;
            case FLM_DTYPE_Q5_0: out[i] = d * (float)(q - 16); break;
            case FLM_DTYPE_IQ4_NL: out[i] = d * (float)kern_iq4nl_grid[q]; break;
            default: out[i] = d * (float)q + m; break;
            }
        }
        return;
    }
    default: {
        int sub = k_sub(dtype);
        for (int s = 0; s < 256 / sub; s++) {
            float sc, mn;
            k_scale_min(dtype, b, s, &sc, &mn);
            for (int i = s * sub; i < (s + 1) * sub; i++)
                out[i] = sc * (float)k_quant(dtype, b, i) - mn;
        }
        return;
    }
    }
}

/* ---- AVX2: the same values, 8 at a time ---- */
#ifdef FLM_HAVE_X86
/* out[0..8) = sc * q[0..8) - mn (q int8). */
FLM_AVX2 FLM_INLINE void scaled8(const int8_t *q, __m256 sc, __m256 mn, float *out)
{
    __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)q)));
    _mm256_storeu_ps(out, _mm256_sub_ps(_mm256_mul_ps(sc, v), mn));
}

/* The 32 nibbles of qs[0..16) as int8 in value order: low nibbles, then high nibbles, minus off. */
FLM_AVX2 FLM_INLINE void nibbles32(const uint8_t *qs, int off, int8_t q[32])
{
    const __m128i low4 = _mm_set1_epi8(0x0f), o = _mm_set1_epi8((char)off);
    __m128i v = _mm_loadu_si128((const __m128i *)qs);
    _mm_storeu_si128((__m128i *)q, _mm_sub_epi8(_mm_and_si128(v, low4), o));
    _mm_storeu_si128((__m128i *)(q + 16), _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(v, 4), low4), o));
}

/* q4_0 and q4_k and q6_k, the pack's down types besides q8_0 (and f32/f16, which need no decoding). */
FLM_AVX2 static int decode_avx2(int dtype, const uint8_t *b, float *out)
{
    _Alignas(32) int8_t q[256];
    const __m256 zero = _mm256_setzero_ps();
    switch (dtype) {
    case FLM_DTYPE_Q8_0: {
        __m256 d = _mm256_set1_ps(scale_f16(b));
        for (int i = 0; i < 32; i += 8)
            scaled8((const int8_t *)b + 2 + i, d, zero, out + i);
        return 1;
    }
    case FLM_DTYPE_Q4_0: {
        nibbles32(b + 2, 8, q);
        __m256 d = _mm256_set1_ps(scale_f16(b));
        for (int i = 0; i < 32; i += 8)
            scaled8(q + i, d, zero, out + i);
        return 1;
    }
    case FLM_DTYPE_Q4_K: {
        /* qs[32 c .. 32 c + 32): values 64 c .. 64 c + 32 in the low nibbles, the next 32 in the high */
        const __m256i low4 = _mm256_set1_epi8(0x0f);
        for (int c = 0; c < 4; c++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
            _mm256_storeu_si256((__m256i *)(q + 64 * c), _mm256_and_si256(v, low4));
            _mm256_storeu_si256((__m256i *)(q + 64 * c + 32), _mm256_and_si256(_mm256_srli_epi16(v, 4), low4));
        }
        float d = scale_f16(b), dmin = scale_f16(b + 2);
        for (int s = 0; s < 8; s++) {
            __m256 sc = _mm256_set1_ps(d * (float)packed6(b + 4, s, 0));
            __m256 mn = _mm256_set1_ps(dmin * (float)packed6(b + 4, s, 1));
            for (int i = 32 * s; i < 32 * s + 32; i += 8)
                scaled8(q + i, sc, mn, out + i);
        }
        return 1;
    }
    case FLM_DTYPE_Q6_K: {
        /* half h: ql[64 h .. 64 h + 64), qh[32 h .. 32 h + 32); value 128 h + 32 k + l takes the low
         * (k < 2) or high nibble of ql[64 h + 32 (k % 2) + l] and bits 2 k, 2 k + 1 of qh[32 h + l] */
        const __m256i low4 = _mm256_set1_epi8(0x0f), three = _mm256_set1_epi8(3), off = _mm256_set1_epi8(32);
        for (int h = 0; h < 2; h++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(b + 64 * h));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h));
            __m256i lows[4] = {_mm256_and_si256(l0, low4), _mm256_and_si256(l1, low4),
                               _mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                               _mm256_and_si256(_mm256_srli_epi16(l1, 4), low4)};
            for (int k = 0; k < 4; k++) {
                __m256i high = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * k), three);
                __m256i v = _mm256_or_si256(lows[k], _mm256_slli_epi16(high, 4));
                _mm256_storeu_si256((__m256i *)(q + 128 * h + 32 * k), _mm256_sub_epi8(v, off));
            }
        }
        float d = scale_f16(b + 208);
        for (int s = 0; s < 16; s++) {
            __m256 sc = _mm256_set1_ps(d * (float)(int8_t)b[192 + s]);
            for (int i = 16 * s; i < 16 * s + 16; i += 8)
                scaled8(q + i, sc, zero, out + i);
        }
        return 1;
    }
    default: return 0;
    }
}

/*
 * ---- decode fused into the down accumulation (bundle_ffn.c) ----
 *
 * For R rows (R = 1 or 4) and the whole blocks blk0 .. blk1 of their down parts, every column j of
 * those blocks gets, in row order,
 *     y[j] = fma(h[0], w_0[j], y[j]);  ...;  y[j] = fma(h[R-1], w_{R-1}[j], y[j])
 * with w_r[j] computed in registers by the operations decode_avx2 (or, for q5_k, the portable decoder)
 * uses: d * q for q8_0 and q4_0 (the quant offset applied in integers, as nibbles32 does), sc * q - mn
 * for q4_k and q5_k, sc * q for q6_k, with sc and mn the same float products of the block's f16 and
 * integer scales. Each of these is one IEEE multiplication (and subtraction), correctly rounded, so a
 * value has the same bits whether it is computed 8 at a time here, stored by decode_avx2, or by the
 * scalar decoder; the fma of each (h, w) pair then rounds once, as fma_run does. What changes is only
 * that y is loaded and stored once per R rows instead of once per row, and that no decoded block goes
 * through memory: the sequence of (h, w) each y[j] sees, and hence its bits, is the one of the row loop.
 */

/* The 8 bytes at p widened to int32 lanes. */
FLM_AVX2 FLM_INLINE __m256i bytes8(const uint8_t *p)
{
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

/* acc = fma(h, sc * q - mn, acc) for 8 integer quants q (exact in f32): decode_avx2's scaled8, then fma_run's fma. */
FLM_AVX2 FLM_INLINE __m256 fma_k(__m256 acc, __m256 h, __m256i q, float sc, float mn)
{
    __m256 w = _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(sc), _mm256_cvtepi32_ps(q)), _mm256_set1_ps(mn));
    return _mm256_fmadd_ps(h, w, acc);
}

/* acc = fma(h, sc * q, acc): the types without a min (sc * q - 0 is sc * q). */
FLM_AVX2 FLM_INLINE __m256 fma_s(__m256 acc, __m256 h, __m256i q, float sc)
{
    return _mm256_fmadd_ps(h, _mm256_mul_ps(_mm256_set1_ps(sc), _mm256_cvtepi32_ps(q)), acc);
}

/* R rows (a constant after inlining), blocks blk0 .. blk1 of dtype (bb bytes, bv values each); the loops
 * follow each type's layout so that the bytes of 8 values are loaded once for all the values they hold. */
FLM_AVX2 FLM_INLINE void fma_blocks_t(int dtype, int R, int64_t bb, int bv, const uint8_t *const *rows,
                                      const float *h, int64_t blk0, int64_t blk1, float *y)
{
    const __m256i low4 = _mm256_set1_epi32(0x0f), one = _mm256_set1_epi32(1), three = _mm256_set1_epi32(3);
    __m256 hb[4];
    for (int r = 0; r < R; r++)
        hb[r] = _mm256_set1_ps(h[r]);
    for (int64_t blk = blk0; blk < blk1; blk++) {
        float sc[4][16], mn[4][8];
        const uint8_t *b[4];
        float *yb = y + blk * bv;
        for (int r = 0; r < R; r++)
            b[r] = rows[r] + blk * bb;
        switch (dtype) {
        case FLM_DTYPE_Q8_0:
            for (int r = 0; r < R; r++)
                sc[r][0] = scale_f16(b[r]);
            for (int v = 0; v < 32; v += 8) {
                __m256 a = _mm256_loadu_ps(yb + v);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++)
                    a = fma_s(a, hb[r], _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b[r] + 2 + v))),
                              sc[r][0]);
                _mm256_storeu_ps(yb + v, a);
            }
            break;
        case FLM_DTYPE_Q4_0: {
            /* values l .. l + 8: low nibbles of qs[l ..], values 16 + l ..: the high ones; q - 8 */
            const __m256i eight = _mm256_set1_epi32(8);
            for (int r = 0; r < R; r++)
                sc[r][0] = scale_f16(b[r]);
            for (int l = 0; l < 16; l += 8) {
                __m256 a0 = _mm256_loadu_ps(yb + l), a1 = _mm256_loadu_ps(yb + 16 + l);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    __m256i n = bytes8(b[r] + 2 + l);
                    a0 = fma_s(a0, hb[r], _mm256_sub_epi32(_mm256_and_si256(n, low4), eight), sc[r][0]);
                    a1 = fma_s(a1, hb[r], _mm256_sub_epi32(_mm256_srli_epi32(n, 4), eight), sc[r][0]);
                }
                _mm256_storeu_ps(yb + l, a0);
                _mm256_storeu_ps(yb + 16 + l, a1);
            }
            break;
        }
        case FLM_DTYPE_Q4_1:
        case FLM_DTYPE_Q5_0:
        case FLM_DTYPE_Q5_1:
        case FLM_DTYPE_IQ4_NL: {
            /* as q4_0: values l .. l + 8 from the low nibbles of qs[l ..], 16 + l .. from the high ones;
             * q5_0 and q5_1 add bit i of the 32-bit qh as the fifth bit of value i; then
             * d * (q - 16) (q5_0), d * q + m (q4_1, q5_1: the product is exact), d * T[q] (iq4_nl) */
            const int at = dtype == FLM_DTYPE_Q4_1 ? 4 : dtype == FLM_DTYPE_Q5_0 ? 6 : dtype == FLM_DTYPE_Q5_1 ? 8 : 2;
            const int has_m = dtype == FLM_DTYPE_Q4_1 || dtype == FLM_DTYPE_Q5_1;
            const __m128i grid = _mm_loadu_si128((const __m128i *)kern_iq4nl_grid), low4b = _mm_set1_epi8(0x0f);
            const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), sixteen = _mm256_set1_epi32(16);
            int32_t qh[4];
            for (int r = 0; r < R; r++) {
                sc[r][0] = scale_f16(b[r]);
                mn[r][0] = has_m ? scale_f16(b[r] + 2) : 0.0f;
                if (dtype == FLM_DTYPE_Q5_0 || dtype == FLM_DTYPE_Q5_1)
                    memcpy(&qh[r], b[r] + (dtype == FLM_DTYPE_Q5_0 ? 2 : 4), 4);
            }
            for (int l = 0; l < 16; l += 8) {
                __m256 a0 = _mm256_loadu_ps(yb + l), a1 = _mm256_loadu_ps(yb + 16 + l);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    __m256i q0, q1;
                    if (dtype == FLM_DTYPE_IQ4_NL) {
                        __m128i v = _mm_loadl_epi64((const __m128i *)(b[r] + at + l));
                        q0 = _mm256_cvtepi8_epi32(_mm_shuffle_epi8(grid, _mm_and_si128(v, low4b)));
                        q1 = _mm256_cvtepi8_epi32(_mm_shuffle_epi8(grid, _mm_and_si128(_mm_srli_epi16(v, 4), low4b)));
                    } else {
                        __m256i n = bytes8(b[r] + at + l);
                        q0 = _mm256_and_si256(n, low4);
                        q1 = _mm256_srli_epi32(n, 4);
                    }
                    if (dtype == FLM_DTYPE_Q5_0 || dtype == FLM_DTYPE_Q5_1) {
                        __m256i bits = _mm256_set1_epi32(qh[r]);
                        __m256i h0 = _mm256_srlv_epi32(bits, _mm256_add_epi32(lanes, _mm256_set1_epi32(l)));
                        __m256i h1 = _mm256_srlv_epi32(bits, _mm256_add_epi32(lanes, _mm256_set1_epi32(16 + l)));
                        q0 = _mm256_or_si256(q0, _mm256_slli_epi32(_mm256_and_si256(h0, one), 4));
                        q1 = _mm256_or_si256(q1, _mm256_slli_epi32(_mm256_and_si256(h1, one), 4));
                    }
                    if (dtype == FLM_DTYPE_Q5_0) {
                        q0 = _mm256_sub_epi32(q0, sixteen);
                        q1 = _mm256_sub_epi32(q1, sixteen);
                    }
                    if (has_m) {
                        __m256 d = _mm256_set1_ps(sc[r][0]), m = _mm256_set1_ps(mn[r][0]);
                        a0 = _mm256_fmadd_ps(hb[r], _mm256_add_ps(_mm256_mul_ps(d, _mm256_cvtepi32_ps(q0)), m), a0);
                        a1 = _mm256_fmadd_ps(hb[r], _mm256_add_ps(_mm256_mul_ps(d, _mm256_cvtepi32_ps(q1)), m), a1);
                    } else {
                        a0 = fma_s(a0, hb[r], q0, sc[r][0]);
                        a1 = fma_s(a1, hb[r], q1, sc[r][0]);
                    }
                }
                _mm256_storeu_ps(yb + l, a0);
                _mm256_storeu_ps(yb + 16 + l, a1);
            }
            break;
        }
        case FLM_DTYPE_Q4_K:
        case FLM_DTYPE_Q5_K: {
            /* sub-blocks 2c and 2c + 1 (values 64c + l and 64c + 32 + l) share the bytes qs[32c + l]:
             * low and high nibble; q5_k adds bits 2c and 2c + 1 of qh[l] as the fifth bit */
            const int qs = dtype == FLM_DTYPE_Q4_K ? 16 : 48;
            for (int r = 0; r < R; r++) {
                float d = scale_f16(b[r]), dmin = scale_f16(b[r] + 2);
                for (int s = 0; s < 8; s++) {
                    sc[r][s] = d * (float)packed6(b[r] + 4, s, 0);
                    mn[r][s] = dmin * (float)packed6(b[r] + 4, s, 1);
                }
            }
            for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l += 8) {
                    float *y0 = yb + 64 * c + l, *y1 = y0 + 32;
                    __m256 a0 = _mm256_loadu_ps(y0), a1 = _mm256_loadu_ps(y1);
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) {
                        __m256i n = bytes8(b[r] + qs + 32 * c + l);
                        __m256i q0 = _mm256_and_si256(n, low4), q1 = _mm256_srli_epi32(n, 4);
                        if (dtype == FLM_DTYPE_Q5_K) {
                            __m256i hi = _mm256_srli_epi32(bytes8(b[r] + 16 + l), 2 * c);
                            q0 = _mm256_or_si256(q0, _mm256_slli_epi32(_mm256_and_si256(hi, one), 4));
                            q1 = _mm256_or_si256(q1, _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(hi, 1), one), 4));
                        }
                        a0 = fma_k(a0, hb[r], q0, sc[r][2 * c], mn[r][2 * c]);
                        a1 = fma_k(a1, hb[r], q1, sc[r][2 * c + 1], mn[r][2 * c + 1]);
                    }
                    _mm256_storeu_ps(y0, a0);
                    _mm256_storeu_ps(y1, a1);
                }
            break;
        }
        default: { /* q6_k */
            /* half hf, l: values 128 hf + 32 k + l (k = 0..3) from ql[64 hf + l] (k = 0, 2: low, high
             * nibble), ql[64 hf + 32 + l] (k = 1, 3) and bits 2k, 2k + 1 of qh[32 hf + l]; q - 32;
             * sub-block (128 hf + 32 k + l) / 16 */
            const __m256i off = _mm256_set1_epi32(32);
            for (int r = 0; r < R; r++) {
                float d = scale_f16(b[r] + 208);
                for (int s = 0; s < 16; s++)
                    sc[r][s] = d * (float)(int8_t)b[r][192 + s];
            }
            for (int hf = 0; hf < 2; hf++)
                for (int l = 0; l < 32; l += 8) {
                    float *yv = yb + 128 * hf + l;
                    __m256 a0 = _mm256_loadu_ps(yv), a1 = _mm256_loadu_ps(yv + 32);
                    __m256 a2 = _mm256_loadu_ps(yv + 64), a3 = _mm256_loadu_ps(yv + 96);
                    const int s = 8 * hf + l / 16;
#pragma GCC unroll 4
                    for (int r = 0; r < R; r++) {
                        __m256i l0 = bytes8(b[r] + 64 * hf + l), l1 = bytes8(b[r] + 64 * hf + 32 + l);
                        __m256i qh = bytes8(b[r] + 128 + 32 * hf + l);
                        __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_slli_epi32(_mm256_and_si256(qh, three), 4));
                        __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, low4),
                                                     _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(qh, 2), three), 4));
                        __m256i q2 = _mm256_or_si256(_mm256_srli_epi32(l0, 4),
                                                     _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(qh, 4), three), 4));
                        __m256i q3 = _mm256_or_si256(_mm256_srli_epi32(l1, 4), _mm256_slli_epi32(_mm256_srli_epi32(qh, 6), 4));
                        a0 = fma_s(a0, hb[r], _mm256_sub_epi32(q0, off), sc[r][s]);
                        a1 = fma_s(a1, hb[r], _mm256_sub_epi32(q1, off), sc[r][s + 2]);
                        a2 = fma_s(a2, hb[r], _mm256_sub_epi32(q2, off), sc[r][s + 4]);
                        a3 = fma_s(a3, hb[r], _mm256_sub_epi32(q3, off), sc[r][s + 6]);
                    }
                    _mm256_storeu_ps(yv, a0);
                    _mm256_storeu_ps(yv + 32, a1);
                    _mm256_storeu_ps(yv + 64, a2);
                    _mm256_storeu_ps(yv + 96, a3);
                }
            break;
        }
        }
    }
}

#define FMA_BLOCKS_FOR(T, BB, BV)                                                                     \
    FLM_AVX2 static void fma_blocks_##T(int R, const uint8_t *const *rows, const float *h, int64_t blk0, \
                                        int64_t blk1, float *y)                                       \
    {                                                                                                 \
        if (R == 4)                                                                                   \
            fma_blocks_t(FLM_DTYPE_##T, 4, BB, BV, rows, h, blk0, blk1, y);                           \
        else                                                                                          \
            for (int r = 0; r < R; r++)                                                               \
                fma_blocks_t(FLM_DTYPE_##T, 1, BB, BV, rows + r, h + r, blk0, blk1, y);               \
    }
FMA_BLOCKS_FOR(Q8_0, 34, 32)
FMA_BLOCKS_FOR(Q4_0, 18, 32)
FMA_BLOCKS_FOR(Q4_1, 20, 32)
FMA_BLOCKS_FOR(Q5_0, 22, 32)
FMA_BLOCKS_FOR(Q5_1, 24, 32)
FMA_BLOCKS_FOR(IQ4_NL, 18, 32)
FMA_BLOCKS_FOR(Q4_K, 144, 256)
FMA_BLOCKS_FOR(Q5_K, 176, 256)
FMA_BLOCKS_FOR(Q6_K, 210, 256)
#endif

int kern_fma_blocks_takes(int dtype)
{
#ifdef FLM_HAVE_X86
    return flm_kernels_simd() && dtype != FLM_DTYPE_Q3_K && dtype != FLM_DTYPE_Q2_K && dtype != FLM_DTYPE_IQ4_XS &&
           kern_block_values(dtype) > 0;
#else
    (void)dtype;
    return 0;
#endif
}

int kern_fma_blocks(int dtype, int nrows, const uint8_t *const *rows, const float *h, int64_t blk0, int64_t blk1,
                    float *y)
{
#ifdef FLM_HAVE_X86
    if (nrows < 1 || nrows > 4 || !flm_kernels_simd())
        return 0;
    switch (dtype) {
    case FLM_DTYPE_Q8_0: fma_blocks_Q8_0(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_Q4_0: fma_blocks_Q4_0(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_Q4_1: fma_blocks_Q4_1(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_Q5_0: fma_blocks_Q5_0(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_Q5_1: fma_blocks_Q5_1(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_IQ4_NL: fma_blocks_IQ4_NL(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_Q4_K: fma_blocks_Q4_K(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_Q5_K: fma_blocks_Q5_K(nrows, rows, h, blk0, blk1, y); return 1;
    case FLM_DTYPE_Q6_K: fma_blocks_Q6_K(nrows, rows, h, blk0, blk1, y); return 1;
    default: return 0;
    }
#else
    (void)dtype, (void)nrows, (void)rows, (void)h, (void)blk0, (void)blk1, (void)y;
    return 0;
#endif
}

void kern_decode_block(int dtype, const uint8_t *b, float *out)
{
#ifdef FLM_HAVE_X86
    if (flm_kernels_simd() && decode_avx2(dtype, b, out))
        return;
#endif
    kern_decode_block_portable(dtype, b, out);
}
