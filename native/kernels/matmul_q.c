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
 * The unpacking and reduction helpers are matvec's own (quant_blocks.h); test_matmul holds the bits equal.
 */
#include "flashlm.h"
#include "matmul_internal.h"
#include "quant_blocks.h"

#include <stdlib.h>

#ifdef FLM_HAVE_X86

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
