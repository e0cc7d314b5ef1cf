/*
 * probe.h - internals of flm_probe: the run description, latency statistics and the two
 * runners (io_uring and pread threads).
 */
#ifndef FLM_PROBE_H
#define FLM_PROBE_H

#include <stdint.h>

#include "internal.h"
#include "rng.h"

#define FLM_PROBE_MAX_SAMPLES (4 * 1024 * 1024)
#define FLM_PROBE_MAX_WARMUP  500000000LL /* 0.5 s */

struct flm_probe_plan {
    int fd;
    int64_t chunk;
    int depth;
    int64_t nchunks;      /* offsets are chunk * [0, nchunks) */
    int64_t warmup_ns;
    int64_t duration_ns;  /* 0: run until max_ios */
    int64_t max_ios;      /* 0: run until duration_ns */
    uint64_t seed;
    int64_t sample_cap;   /* latencies kept for the percentiles, all lanes together */
};

/* When completions count: [start, end), end = INT64_MAX without a duration. */
struct flm_probe_window {
    int64_t start;
    int64_t end;
};

struct flm_probe_window flm_probe_window_from(const struct flm_probe_plan *p, int64_t t0);
char *flm_probe_buffers(const struct flm_probe_plan *p);

/* Latencies of one lane (the ring, or one pread thread); a reservoir past cap. */
struct flm_lat_stats {
    uint64_t *samples;
    int64_t cap;
    int64_t stored;
    int64_t ios;
    int64_t sum_ns;
    int64_t max_ns;
    struct flm_rng rng;
};

void flm_stats_init(struct flm_lat_stats *s, uint64_t *samples, int64_t cap, uint64_t seed);
void flm_stats_add(struct flm_lat_stats *s, int64_t lat_ns);
/* parts[i].samples must be consecutive slices of one array, in order. */
void flm_stats_summarize(struct flm_lat_stats *parts, int nparts, int64_t chunk,
                         int64_t elapsed_ns, int64_t out[FLM_PROBE_COUNT]);

struct io_uring;
/* Takes ownership of the initialised ring (exits it). */
int flm_probe_uring(struct io_uring *ring, const struct flm_probe_plan *p,
                    int64_t out[FLM_PROBE_COUNT]);
int flm_probe_pread(const struct flm_probe_plan *p, int64_t out[FLM_PROBE_COUNT]);

#endif /* FLM_PROBE_H */
