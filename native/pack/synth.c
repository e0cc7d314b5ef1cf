/*
 * synth.c - the flash pack's element encoders and its synthetic-weight generator.
 *
 * flm_encode_f32 turns f32 values into a storage dtype (f32, f16, bf16 with round-to-nearest-even,
 * q8_0 with ggml's reference quantization), so that `flashlm convert` and `flashlm synth` share one
 * encoder. flm_synth_fill writes seeded, approximately normal values straight into a storage dtype,
 * row by row, each row from its own generator stream, so any split of a matrix into row ranges (and
 * across threads) gives the same bytes; the block types without an encoder get random quants under
 * fixed scales (below).
 */
#include "flashlm.h"
#include "kernels_internal.h"
#include "rng.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define FLM_HAVE_X86 1
#endif

#define Q8_BLOCK 32
#define Q8_BLOCK_BYTES 34

/* IEEE binary16, round to nearest even (F. Giesen's float_to_half_fast3_rtne): the float additions do
 * the rounding, so this must not be built with -ffast-math. A NaN stays a NaN, quieted, with the top
 * of its payload: the same bits as the F16C instruction, so both paths agree on every input. */
static uint16_t f32_to_f16(float value)
{
    const uint32_t f32_infinity = 255u << 23;
    const uint32_t f16_max = (127u + 16u) << 23;
    const uint32_t denorm_magic_bits = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    uint32_t u;
    memcpy(&u, &value, 4);
    uint32_t sign = u & 0x80000000u;
    u ^= sign;
    uint16_t out;
    if (u >= f16_max) {
        out = u > f32_infinity ? (uint16_t)(0x7e00 | ((u >> 13) & 0x1ff)) : 0x7c00;
    } else if (u < (113u << 23)) {
        /* Below f16's smallest normal: adding 0.5 lets the FPU round the subnormal mantissa. */
        float f, magic;
        memcpy(&f, &u, 4);
        memcpy(&magic, &denorm_magic_bits, 4);
        f += magic;
        uint32_t r;
        memcpy(&r, &f, 4);
        out = (uint16_t)(r - denorm_magic_bits);
    } else {
        uint32_t mantissa_odd = (u >> 13) & 1u;
        u += ((uint32_t)(15 - 127) << 23) + 0xfffu;
        u += mantissa_odd;
        out = (uint16_t)(u >> 13);
    }
    return (uint16_t)(out | (sign >> 16));
}

#ifdef FLM_HAVE_X86
/* F16C conversion, 8 at a time; IEEE round to nearest even, so the same bits as f32_to_f16. */
__attribute__((target("avx,f16c"))) static void encode_f16_f16c(const float *src, uint16_t *out, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        out[i] = f32_to_f16(src[i]);
}
#endif

/* 1 when F16C is there and FLASHLM_NO_SIMD=1 (the kernels' switch) does not forbid it. */
static int use_f16c(void)
{
#ifdef FLM_HAVE_X86
    static int cached = -1;
    if (cached < 0) {
        const char *off = getenv("FLASHLM_NO_SIMD");
        __builtin_cpu_init();
        cached = !(off && off[0] == '1') && __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
    }
    return cached;
#else
    return 0;
#endif
}

static uint16_t f32_to_bf16(float value)
{
    uint32_t u;
    memcpy(&u, &value, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* Half away from zero, as C's roundf (and ggml) rounds; branch-free and without libm: v + 0.5 is exact
 * in double for a float v, and the conversion truncates toward zero. */
static inline int round_half_away(float v)
{
    return (int)((double)v + __builtin_copysign(0.5, (double)v));
}

/* One q8_0 block: d = max|x| / 127 (stored as f16), q = round(x / d); as ggml's quantize_row_q8_0_ref. */
static void quantize_q8_0_block(const float *x, uint8_t *dst)
{
    float amax = 0.0f;
    for (int i = 0; i < Q8_BLOCK; i++) {
        float a = __builtin_fabsf(x[i]);
        amax = a > amax ? a : amax;
    }
    float d = amax / 127.0f;
    float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t d16 = f32_to_f16(d);
    memcpy(dst, &d16, 2);
    int8_t *q = (int8_t *)(dst + 2);
    for (int i = 0; i < Q8_BLOCK; i++)
        q[i] = (int8_t)round_half_away(x[i] * id);
}

static int encode(int dtype, const float *src, void *dst, int64_t n)
{
    switch (dtype) {
    case FLM_DTYPE_F32:
        memmove(dst, src, (size_t)n * 4);
        return 0;
    case FLM_DTYPE_F16: {
        uint16_t *out = dst;
#ifdef FLM_HAVE_X86
        if (use_f16c()) {
            encode_f16_f16c(src, out, n);
            return 0;
        }
#endif
        for (int64_t i = 0; i < n; i++)
            out[i] = f32_to_f16(src[i]);
        return 0;
    }
    case FLM_DTYPE_BF16: {
        uint16_t *out = dst;
        for (int64_t i = 0; i < n; i++)
            out[i] = f32_to_bf16(src[i]);
        return 0;
    }
    case FLM_DTYPE_Q8_0: {
        uint8_t *out = dst;
        for (int64_t b = 0; b < n / Q8_BLOCK; b++)
            quantize_q8_0_block(src + b * Q8_BLOCK, out + b * Q8_BLOCK_BYTES);
        return 0;
    }
    default:
        return FLM_E_BAD_ARG;
    }
}

static int encodable(int dtype, int64_t n)
{
    if (n < 0)
        return 0;
    switch (dtype) {
    case FLM_DTYPE_F32:
    case FLM_DTYPE_F16:
    case FLM_DTYPE_BF16:
        return 1;
    case FLM_DTYPE_Q8_0:
        return n % Q8_BLOCK == 0;
    default:
        return 0;
    }
}

FLM_EXPORT int flm_encode_f32(int dtype, const float *src, void *dst, int64_t n)
{
    if (!encodable(dtype, n) || (n > 0 && (src == NULL || dst == NULL)))
        return FLM_E_BAD_ARG;
    return encode(dtype, src, dst, n);
}

/* A row's stream: four xoshiro256** generators used in turn (value i from generator i % 4), so that
 * four independent dependency chains keep the core busy. Seeded from the seed and the row alone, so
 * a row's values do not depend on how rows are split into calls. */
struct row_rng {
    struct flm_rng lane[4];
};

static void seed_row(struct row_rng *rng, uint64_t seed, int64_t row)
{
    uint64_t x = seed ^ ((uint64_t)row * 0xd1342543de82ef95ULL);
    for (int k = 0; k < 4; k++)
        flm_rng_seed(&rng->lane[k], flm_splitmix64(&x) ^ seed);
}

/* 4 uniform 16-bit draws summed (Irwin-Hall), scaled to variance 1: bounded at +-3.46. */
static inline float normalish(uint64_t r)
{
    int32_t sum = (int32_t)(r & 0xffff) + (int32_t)((r >> 16) & 0xffff) + (int32_t)((r >> 32) & 0xffff) +
                  (int32_t)(r >> 48);
    /* mean 4 * 65535 / 2; std sqrt(4 * (65536^2 - 1) / 12) */
    return (float)(sum - 131070) * (1.0f / 37837.2266f);
}

/* n values (a multiple of 4) of mean + std * z. */
static void generate(struct row_rng *rng, float *out, int64_t n, float mean, float std)
{
    for (int64_t i = 0; i < n; i += 4)
        for (int k = 0; k < 4; k++)
            out[i + k] = mean + std * normalish(flm_rng_next(&rng->lane[k]));
}

#define FILL_CHUNK 256 /* floats generated before one encode call: a multiple of the q8_0 block */

/*
 * The block types flm_encode_f32 does not write (the 4- and 5-bit blocks, the k-quants) are filled
 * the way synthetic GGUF files are (SyntheticLlamaGguf.java): random quant bits under fixed scales,
 * every sub-block scale (and min) at its largest, and the block's f16 d (and dmin) chosen so that the
 * values spread uniformly over about [-a, a] with a = std * sqrt(3) (the uniform law of that std).
 * Such weights are only as realistic as a speed test needs; they decode exactly as the format says.
 */
struct block_fill {
    int scales_at, scales_len; /* bytes set to scale_byte: the sub-block scales (and mins) */
    uint8_t scale_byte;
    int d_at, dmin_at;         /* the f16 fields, -1 for none */
    float d_per_a, dmin_per_a; /* d = d_per_a * a, dmin (or q4_1's and q5_1's min m) = dmin_per_a * a */
};

static int block_fill_of(int dtype, struct block_fill *f)
{
    switch (dtype) {
    case FLM_DTYPE_Q4_0: *f = (struct block_fill){0, 0, 0, 0, -1, 1.0f / 8, 0}; return 1;      /* d (q - 8) */
    case FLM_DTYPE_Q4_1: *f = (struct block_fill){0, 0, 0, 0, 2, 2.0f / 15, -1.0f}; return 1;  /* d q + m */
    case FLM_DTYPE_Q5_0: *f = (struct block_fill){0, 0, 0, 0, -1, 1.0f / 16, 0}; return 1;     /* d (q - 16) */
    case FLM_DTYPE_Q5_1: *f = (struct block_fill){0, 0, 0, 0, 2, 2.0f / 31, -1.0f}; return 1;  /* d q + m */
    case FLM_DTYPE_IQ4_NL: *f = (struct block_fill){0, 0, 0, 0, -1, 1.0f / 127, 0}; return 1;  /* |grid| <= 127 */
    case FLM_DTYPE_Q6_K: *f = (struct block_fill){192, 16, 127, 208, -1, 1.0f / (127 * 32), 0}; return 1;
    case FLM_DTYPE_Q4_K: *f = (struct block_fill){4, 12, 0xFF, 0, 2, 2.0f / (63 * 15), 1.0f / 63}; return 1;
    case FLM_DTYPE_Q5_K: *f = (struct block_fill){4, 12, 0xFF, 0, 2, 2.0f / (63 * 31), 1.0f / 63}; return 1;
    case FLM_DTYPE_Q3_K: *f = (struct block_fill){96, 12, 0xFF, 108, -1, 1.0f / (31 * 4), 0}; return 1;
    case FLM_DTYPE_Q2_K: *f = (struct block_fill){0, 16, 0xFF, 80, 82, 2.0f / (15 * 3), 1.0f / 15}; return 1;
    case FLM_DTYPE_IQ4_XS: *f = (struct block_fill){2, 6, 0xFF, 0, -1, 1.0f / (31 * 127), 0}; return 1;
    default: return 0;
    }
}

/* One row of cols values of a block_fill type (cols a whole number of blocks). */
static void fill_blocks(int dtype, const struct block_fill *f, struct row_rng *rng, uint8_t *out, int64_t cols,
                        float std)
{
    const int64_t per_block = flm_row_bytes(dtype, 256) > 0 && flm_row_bytes(dtype, 32) < 0 ? 256 : 32;
    const int64_t bytes = flm_row_bytes(dtype, per_block);
    const float a = std * 1.7320508f;
    const uint16_t d16 = f32_to_f16(f->d_per_a * a), dmin16 = f32_to_f16(f->dmin_per_a * a);
    int k = 0;
    for (int64_t b = 0; b < cols / per_block; b++) {
        uint8_t *blk = out + b * bytes;
        for (int64_t i = 0; i < bytes; i += 8) {
            uint64_t r = flm_rng_next(&rng->lane[k]);
            k = (k + 1) & 3;
            memcpy(blk + i, &r, (size_t)(bytes - i < 8 ? bytes - i : 8));
        }
        memset(blk + f->scales_at, f->scale_byte, (size_t)f->scales_len);
        memcpy(blk + f->d_at, &d16, 2);
        if (f->dmin_at >= 0)
            memcpy(blk + f->dmin_at, &dmin16, 2);
    }
}

FLM_EXPORT int flm_synth_fill(int dtype, void *dst, int64_t rows, int64_t cols, int64_t stride_bytes, float mean,
                              float std, uint64_t seed, int64_t first_row)
{
    int64_t row_bytes = flm_row_bytes(dtype, cols);
    struct block_fill blocks = {0};
    const int random_blocks = block_fill_of(dtype, &blocks);
    if ((!random_blocks && !encodable(dtype, cols)) || row_bytes < 0 || rows < 0 || first_row < 0 ||
        stride_bytes < row_bytes || (rows > 0 && cols > 0 && dst == NULL) || !isfinite(mean) || !isfinite(std) ||
        (random_blocks && (mean != 0.0f || !(std >= 0.0f))))
        return FLM_E_BAD_ARG;
    float buf[FILL_CHUNK];
    for (int64_t r = 0; r < rows; r++) {
        struct row_rng rng;
        seed_row(&rng, seed, first_row + r);
        uint8_t *out = (uint8_t *)dst + r * stride_bytes;
        if (random_blocks) {
            fill_blocks(dtype, &blocks, &rng, out, cols, std);
            continue;
        }
        for (int64_t c = 0; c < cols; c += FILL_CHUNK) {
            int64_t n = cols - c < FILL_CHUNK ? cols - c : FILL_CHUNK;
            generate(&rng, buf, (n + 3) & ~(int64_t)3, mean, std);
            encode(dtype, buf, out + flm_row_bytes(dtype, c), n);
        }
    }
    return 0;
}
