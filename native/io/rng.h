/*
 * rng.h - xoshiro256** seeded through splitmix64: fast, and reproducible from one seed.
 */
#ifndef FLM_RNG_H
#define FLM_RNG_H

#include <stdint.h>

struct flm_rng {
    uint64_t s[4];
};

static inline uint64_t flm_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void flm_rng_seed(struct flm_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = flm_splitmix64(&seed);
}

static inline uint64_t flm_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t flm_rng_next(struct flm_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = flm_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = flm_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) by multiply-shift; the bias (n / 2^64) is far below measurable. */
static inline uint64_t flm_rng_below(struct flm_rng *r, uint64_t n)
{
    __extension__ typedef unsigned __int128 flm_u128;
    return (uint64_t)(((flm_u128)flm_rng_next(r) * n) >> 64);
}

#endif /* FLM_RNG_H */
