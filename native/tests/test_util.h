/*
 * test_util.h - a tiny test harness: checks that report file:line and keep going, a
 * deterministic PRNG, and a generated test file in a private temporary directory.
 */
#ifndef FLM_TEST_UTIL_H
#define FLM_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>

#include "flashlm.h"

extern int tu_failures;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            tu_failures++;                                                              \
        }                                                                               \
    } while (0)

#define CHECK_EQ(actual, expected)                                                      \
    do {                                                                                \
        long long tu_a = (long long)(actual), tu_e = (long long)(expected);             \
        if (tu_a != tu_e) {                                                             \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (got %lld, expected %lld)\n", \
                    __FILE__, __LINE__, #actual, #expected, tu_a, tu_e);                \
            tu_failures++;                                                              \
        }                                                                               \
    } while (0)

/* CHECK that also says, printf-style, what was being checked (the values, the case). */
#define CHECK_MSG(cond, ...)                                                            \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                               \
            fputc('\n', stderr);                                                        \
            tu_failures++;                                                              \
        }                                                                               \
    } while (0)

/* Prints the summary line ("name: all checks passed" or the failure count); the value to
 * return from main. */
int tu_finish(const char *name);

/* splitmix64: deterministic test randomness. */
uint64_t tu_rand(uint64_t *state);
int64_t tu_rand_range(uint64_t *state, int64_t lo, int64_t hi); /* inclusive */

/* The test file: size bytes of a fixed pattern, plus its contents read back with pread. */
struct tu_file {
    char dir[512];
    char path[600];
    int64_t size;
    unsigned char *data;
};

#define TU_FILE_SIZE (8 * 1024 * 1024 + 123)

int tu_file_create(struct tu_file *f, int64_t size);
void tu_file_remove(struct tu_file *f);

const char *tu_backend_name(int backend);

/* FLM_TEST_BACKENDS=pread (say) limits a run to the backends it names, e.g. under
 * valgrind; unset, every backend is tested. */
int tu_backend_enabled(int backend);

/* FLM_OPEN_DIRECT works on the test directory's filesystem (tmpfs before 6.6 refuses it). */
int tu_direct_supported(const struct tu_file *f);

#endif /* FLM_TEST_UTIL_H */
