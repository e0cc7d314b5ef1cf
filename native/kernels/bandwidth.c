/*
 * Memory-read bandwidth: flm_stream_read loads every byte of a buffer once, as fast as a core can
 * issue loads (AVX2: four independent 32-byte loads per step), so that on a buffer far larger than
 * the caches it measures the DRAM read bandwidth a core gets: the limit of the matvec kernels,
 * which stream each weight once per product. A plain Java loop cannot be used for this: it loads
 * from the L2 cache at about the rate DRAM delivers, so it would report its own speed.
 */
#include "flashlm.h"
#include "kernels_internal.h"

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define FLM_HAVE_X86 1
#endif

static uint64_t stream_scalar(const uint8_t *p, int64_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t v[4];
        memcpy(v, p + i, sizeof v);
        a ^= v[0];
        b ^= v[1];
        c ^= v[2];
        d ^= v[3];
    }
    for (; i < n; i++)
        a ^= p[i];
    return a ^ b ^ c ^ d;
}

#ifdef FLM_HAVE_X86
__attribute__((target("avx2"))) static uint64_t stream_avx2(const uint8_t *p, int64_t n)
{
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    int64_t i = 0;
    for (; i + 128 <= n; i += 128) {
        a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)(p + i)));
        b = _mm256_xor_si256(b, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        c = _mm256_xor_si256(c, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        d = _mm256_xor_si256(d, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, a);
    return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3] ^ stream_scalar(p + i, n - i);
}
#endif

FLM_EXPORT int flm_stream_read(const void *p, int64_t bytes, uint64_t *out_checksum)
{
    if (!p || bytes < 0 || !out_checksum)
        return FLM_E_BAD_ARG;
#ifdef FLM_HAVE_X86
    if (flm_kernels_simd()) {
        *out_checksum = stream_avx2((const uint8_t *)p, bytes);
        return 0;
    }
#endif
    *out_checksum = stream_scalar((const uint8_t *)p, bytes);
    return 0;
}
