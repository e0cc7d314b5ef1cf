/*
 * probe_stats.c - latency bookkeeping for flm_probe: exact count, mean and max over every
 * read; p50/p99 from the kept samples (all of them up to the cap, then a uniform reservoir).
 */
#include <stdlib.h>
#include <string.h>

#include "probe.h"

void flm_stats_init(struct flm_lat_stats *s, uint64_t *samples, int64_t cap, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->samples = samples;
    s->cap = cap;
    flm_rng_seed(&s->rng, seed);
}

void flm_stats_add(struct flm_lat_stats *s, int64_t lat_ns)
{
    if (lat_ns < 0)
        lat_ns = 0;
    s->ios++;
    s->sum_ns += lat_ns;
    if (lat_ns > s->max_ns)
        s->max_ns = lat_ns;
    if (s->stored < s->cap) {
        s->samples[s->stored++] = (uint64_t)lat_ns;
    } else if (s->cap > 0) {
        /* Reservoir sampling: read number k (1-based) replaces a sample with chance cap/k. */
        uint64_t j = flm_rng_below(&s->rng, (uint64_t)s->ios);
        if (j < (uint64_t)s->cap)
            s->samples[j] = (uint64_t)lat_ns;
    }
}

static int flm_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array. */
static int64_t flm_percentile(const uint64_t *sorted, int64_t n, int pct)
{
    if (n == 0)
        return 0;
    int64_t rank = (n * pct + 99) / 100; /* ceil(n * pct / 100), 1-based */
    if (rank < 1)
        rank = 1;
    return (int64_t)sorted[rank - 1];
}

void flm_stats_summarize(struct flm_lat_stats *parts, int nparts, int64_t chunk,
                         int64_t elapsed_ns, int64_t out[FLM_PROBE_COUNT])
{
    int64_t ios = 0, sum = 0, max = 0, n = 0;
    uint64_t *all = parts[0].samples;
    for (int i = 0; i < nparts; i++) {
        ios += parts[i].ios;
        sum += parts[i].sum_ns;
        if (parts[i].max_ns > max)
            max = parts[i].max_ns;
        /* Close the gaps between the lanes' slices: slice i starts at or after all + n. */
        memmove(all + n, parts[i].samples, (size_t)parts[i].stored * sizeof *all);
        n += parts[i].stored;
    }
    if (n > 0)
        qsort(all, (size_t)n, sizeof *all, flm_cmp_u64);

    out[FLM_PROBE_IOS] = ios;
    out[FLM_PROBE_BYTES] = ios * chunk;
    out[FLM_PROBE_ELAPSED_NS] = elapsed_ns;
    out[FLM_PROBE_P50_NS] = flm_percentile(all, n, 50);
    out[FLM_PROBE_P99_NS] = flm_percentile(all, n, 99);
    out[FLM_PROBE_MEAN_NS] = ios > 0 ? sum / ios : 0;
    out[FLM_PROBE_MAX_NS] = max;
}
