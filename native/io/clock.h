/*
 * clock.h - monotonic nanoseconds (vDSO, no syscall).
 */
#ifndef FLM_CLOCK_H
#define FLM_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t flm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif /* FLM_CLOCK_H */
