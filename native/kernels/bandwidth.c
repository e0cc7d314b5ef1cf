/*
 * Memory-read bandwidth: flm_stream_read loads every byte of a buffer once, as fast as a core can,
 * so that on a buffer far larger than the caches it measures the DRAM read bandwidth one thread
 * gets: the limit of the matvec kernels, which stream each weight once per product.
 *
 * The buffer is read like a matrix by a multi-row kernel: in groups of STREAMS consecutive chunks
 * of CHUNK bytes, the chunks of a group read in lockstep, one 64-byte line of each per step. One
 * sequential stream gets less from DRAM (on the 2-core AMD EPYC VM this was written on, about
 * 9-11 GB/s against 13-17 GB/s for 4 to 8 streams) because the prefetchers keep fewer lines in
 * flight for it; the figure wanted is the most the memory delivers. A plain Java loop cannot do this job at all: it
 * loads from the L2 cache at about the rate DRAM delivers, so it would report its own speed.
 */
#include "flashlm.h"
#include "kernels_internal.h"

#include <stddef.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define FLM_HAVE_X86 1
#endif

#define STREAMS 8
#define CHUNK 16384 /* a row of 4096 f32 */
#define GROUP ((int64_t)STREAMS * CHUNK)

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
__attribute__((target("avx2"))) static uint64_t groups_avx2(const uint8_t *p, int64_t groups)
{
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    for (int64_t g = 0; g < groups; g++) {
        const uint8_t *base = p + g * GROUP;
        for (int64_t i = 0; i < CHUNK; i += 64) {
            for (int s = 0; s < STREAMS; s += 2) {
                const uint8_t *q0 = base + (int64_t)s * CHUNK + i, *q1 = q0 + CHUNK;
                a = _mm256_xor_si256(a, _mm256_loadu_si256((const __m256i *)q0));
                b = _mm256_xor_si256(b, _mm256_loadu_si256((const __m256i *)(q0 + 32)));
                c = _mm256_xor_si256(c, _mm256_loadu_si256((const __m256i *)q1));
                d = _mm256_xor_si256(d, _mm256_loadu_si256((const __m256i *)(q1 + 32)));
            }
        }
    }
    a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, a);
    return lanes[0] ^ lanes[1] ^ lanes[2] ^ lanes[3];
}
#endif

FLM_EXPORT int flm_stream_read(const void *p, int64_t bytes, uint64_t *out_checksum)
{
    if (!p || bytes < 0 || !out_checksum)
        return FLM_E_BAD_ARG;
    const uint8_t *b = (const uint8_t *)p;
#ifdef FLM_HAVE_X86
    if (flm_kernels_simd()) {
        int64_t groups = bytes / GROUP;
        *out_checksum = groups_avx2(b, groups) ^ stream_scalar(b + groups * GROUP, bytes - groups * GROUP);
        return 0;
    }
#endif
    /* the portable path: one sequential stream */
    *out_checksum = stream_scalar(b, bytes);
    return 0;
}
