/*
 * probe.c - flm_probe: argument checks, the run description, and the choice of runner.
 */
#define _GNU_SOURCE /* liburing.h */
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "uring_setup.h"

#define FLM_PROBE_MAX_CHUNK  (1LL << 30)  /* io_uring lengths are 32-bit */
#define FLM_PROBE_MAX_MEMORY (1LL << 32)  /* depth * chunk of buffers */

struct flm_probe_window flm_probe_window_from(const struct flm_probe_plan *p, int64_t t0)
{
    struct flm_probe_window w;
    w.start = t0 + p->warmup_ns;
    w.end = p->duration_ns > 0 ? w.start + p->duration_ns : INT64_MAX;
    return w;
}

/* depth chunk-sized buffers, aligned for O_DIRECT and touched so page faults stay out
 * of the measured phase. */
char *flm_probe_buffers(const struct flm_probe_plan *p)
{
    size_t total = (size_t)p->chunk * (size_t)p->depth;
    total = (total + FLM_BUFFER_ALIGN - 1) & ~(size_t)(FLM_BUFFER_ALIGN - 1);
    char *bufs = aligned_alloc(FLM_BUFFER_ALIGN, total);
    if (bufs != NULL)
        memset(bufs, 0, total);
    return bufs;
}

static int flm_probe_args_valid(const char *path, int flags, int backend, int64_t chunk,
                                int depth, int64_t span, int64_t duration_ns, int64_t max_ios,
                                const int64_t *out, int n)
{
    return path != NULL && (flags & ~FLM_OPEN_DIRECT) == 0
        && backend >= FLM_BACKEND_AUTO && backend <= FLM_BACKEND_PREAD
        && chunk >= 1 && chunk <= FLM_PROBE_MAX_CHUNK
        && depth >= 1 && depth <= FLM_MAX_QUEUE_DEPTH
        && chunk * depth <= FLM_PROBE_MAX_MEMORY
        && span >= 1 && duration_ns >= 0 && max_ios >= 0
        && (duration_ns > 0 || max_ios > 0) /* something must end the run */
        && n >= 0 && (n == 0 || out != NULL);
}

static int flm_probe_plan_make(const struct flm_file *f, int64_t chunk, int depth, int64_t span,
                               int64_t duration_ns, int64_t max_ios, int64_t seed,
                               struct flm_probe_plan *p)
{
    if (chunk % f->block != 0)
        return FLM_E_BAD_ARG; /* O_DIRECT reads must be whole blocks */
    if (span > f->size)
        span = f->size;
    if (span < chunk)
        return FLM_E_BAD_ARG;

    memset(p, 0, sizeof *p);
    p->fd = f->fd;
    p->chunk = chunk;
    p->depth = depth;
    p->nchunks = span / chunk;
    p->duration_ns = duration_ns;
    p->warmup_ns = duration_ns / 10 < FLM_PROBE_MAX_WARMUP ? duration_ns / 10
                                                           : FLM_PROBE_MAX_WARMUP;
    p->max_ios = max_ios;
    p->seed = (uint64_t)seed;
    p->sample_cap = max_ios > 0 && max_ios < FLM_PROBE_MAX_SAMPLES ? max_ios
                                                                   : FLM_PROBE_MAX_SAMPLES;
    return 0;
}

static int flm_probe_run(const struct flm_probe_plan *p, int backend,
                         int64_t out[FLM_PROBE_COUNT])
{
    if (backend != FLM_BACKEND_PREAD) {
        struct io_uring ring;
        int rc = flm_uring_init(&ring, (unsigned)p->depth);
        if (rc == 0)
            return flm_probe_uring(&ring, p, out);
        if (backend == FLM_BACKEND_IO_URING)
            return rc;
    }
    return flm_probe_pread(p, out);
}

FLM_EXPORT int flm_probe(const char *path, int flags, int backend, int64_t chunk, int depth,
                         int64_t span, int64_t duration_ns, int64_t max_ios, int64_t seed,
                         int64_t *out, int n)
{
    if (!flm_probe_args_valid(path, flags, backend, chunk, depth, span, duration_ns, max_ios,
                              out, n))
        return FLM_E_BAD_ARG;

    struct flm_file f;
    int rc = flm_file_open(path, flags, &f);
    if (rc != 0)
        return rc;
    struct flm_probe_plan plan;
    int64_t values[FLM_PROBE_COUNT] = {0};
    rc = flm_probe_plan_make(&f, chunk, depth, span, duration_ns, max_ios, seed, &plan);
    if (rc == 0)
        rc = flm_probe_run(&plan, backend, values);
    flm_file_close(&f);

    for (int i = 0; rc == 0 && i < n && i < FLM_PROBE_COUNT; i++)
        out[i] = values[i];
    return rc;
}
