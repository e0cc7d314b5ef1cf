/*
 * test_util.c - the check counter and test randomness (see test_util.h).
 */

#include "test_util.h"

#include <stdlib.h>
#include <string.h>

int tu_failures;

int tu_finish(const char *name)
{
    if (tu_failures == 0) {
        printf("%s: all checks passed\n", name);
        return 0;
    }
    printf("%s: %d check(s) FAILED\n", name, tu_failures);
    return 1;
}

uint64_t tu_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int64_t tu_rand_range(uint64_t *state, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(tu_rand(state) % (uint64_t)(hi - lo + 1));
}

const char *tu_backend_name(int backend)
{
    switch (backend) {
    case FLM_BACKEND_AUTO:     return "auto";
    case FLM_BACKEND_IO_URING: return "io_uring";
    case FLM_BACKEND_PREAD:    return "pread";
    default:                   return "?";
    }
}

int tu_backend_enabled(int backend)
{
    const char *only = getenv("FLM_TEST_BACKENDS");
    return only == NULL || strstr(only, tu_backend_name(backend)) != NULL;
}
