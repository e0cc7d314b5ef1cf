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
#endif

void kern_decode_block(int dtype, const uint8_t *b, float *out)
{
#ifdef FLM_HAVE_X86
    if (flm_kernels_simd() && decode_avx2(dtype, b, out))
        return;
#endif
    kern_decode_block_portable(dtype, b, out);
}
