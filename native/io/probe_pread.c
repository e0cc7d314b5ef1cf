/*
 * probe_pread.c - flm_probe with `depth` threads, each doing one synchronous pread after
 * another (fio's psync engine with numjobs = depth).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"
#include "probe.h"

#define FLM_PROBE_STACK (128 * 1024)

struct flm_probe_shared {
    const struct flm_probe_plan *p;
    struct flm_probe_window win;
    char *bufs;
    atomic_int stop;
    atomic_llong counted;       /* reads counted so far, for max_ios */
    atomic_llong last_counted_ns;
    pthread_mutex_t mu;
    int err;                    /* under mu */
};

struct flm_probe_lane {
    struct flm_probe_shared *sh;
    int id;
    pthread_t tid;
    struct flm_rng rng;
    struct flm_lat_stats *stats; /* element `id` of an array, for flm_stats_summarize */
};

static int flm_probe_pread_full(int fd, char *buf, int64_t len, int64_t off)
{
    int64_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, (size_t)(len - done), off + done);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return FLM_E_PAST_EOF;
        done += n;
    }
    return 0;
}

static void flm_probe_fail(struct flm_probe_shared *sh, int rc)
{
    pthread_mutex_lock(&sh->mu);
    if (sh->err == 0)
        sh->err = rc;
    pthread_mutex_unlock(&sh->mu);
    atomic_store(&sh->stop, 1);
}

/* Returns 0 when the read is to be counted, 1 when it falls outside, -1 to stop. */
static int flm_probe_admit(struct flm_probe_shared *sh, int64_t now)
{
    if (now >= sh->win.end)
        return -1;
    if (now < sh->win.start)
        return 1;
    int64_t max = sh->p->max_ios;
    if (max > 0) {
        long long k = atomic_fetch_add(&sh->counted, 1);
        if (k >= max)
            return -1;
        if (k == max - 1) {
            atomic_store(&sh->last_counted_ns, now);
            atomic_store(&sh->stop, 1);
        }
    }
    return 0;
}

static void *flm_probe_lane_main(void *arg)
{
    struct flm_probe_lane *lane = arg;
    struct flm_probe_shared *sh = lane->sh;
    const struct flm_probe_plan *p = sh->p;
    char *buf = sh->bufs + (size_t)lane->id * (size_t)p->chunk;
    while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
        int64_t off = (int64_t)flm_rng_below(&lane->rng, (uint64_t)p->nchunks) * p->chunk;
        int64_t submitted = flm_now_ns();
        int rc = flm_probe_pread_full(p->fd, buf, p->chunk, off);
        if (rc != 0) {
            flm_probe_fail(sh, rc);
            break;
        }
        int64_t now = flm_now_ns();
        int admit = flm_probe_admit(sh, now);
        if (admit < 0) {
            atomic_store(&sh->stop, 1);
            break;
        }
        if (admit == 0)
            flm_stats_add(lane->stats, now - submitted);
    }
    return NULL;
}

/* Each lane keeps an equal share of the samples. */
static int64_t flm_probe_lane_cap(const struct flm_probe_plan *p)
{
    int64_t cap = p->sample_cap / p->depth;
    return cap > 0 ? cap : 1;
}

/* Starts the lanes; returns how many run (all of them unless thread creation failed). */
static int flm_probe_start_lanes(struct flm_probe_shared *sh, struct flm_probe_lane *lanes,
                                 struct flm_lat_stats *stats, uint64_t *samples, int *rc)
{
    const struct flm_probe_plan *p = sh->p;
    int64_t lane_cap = flm_probe_lane_cap(p);
    uint64_t seeder = p->seed;
    for (int i = 0; i < p->depth; i++) {
        lanes[i].sh = sh;
        lanes[i].id = i;
        lanes[i].stats = &stats[i];
        flm_rng_seed(&lanes[i].rng, flm_splitmix64(&seeder));
        flm_stats_init(&stats[i], samples + (size_t)i * (size_t)lane_cap, lane_cap,
                       flm_splitmix64(&seeder));
        *rc = flm_thread_start(&lanes[i].tid, flm_probe_lane_main, &lanes[i], FLM_PROBE_STACK);
        if (*rc != 0) {
            atomic_store(&sh->stop, 1);
            return i;
        }
    }
    return p->depth;
}

static int flm_probe_lanes(struct flm_probe_shared *sh, struct flm_probe_lane *lanes,
                           struct flm_lat_stats *stats, uint64_t *samples,
                           int64_t out[FLM_PROBE_COUNT])
{
    const struct flm_probe_plan *p = sh->p;
    sh->win = flm_probe_window_from(p, flm_now_ns());
    int rc = 0;
    int running = flm_probe_start_lanes(sh, lanes, stats, samples, &rc);
    for (int i = 0; i < running; i++)
        pthread_join(lanes[i].tid, NULL);
    if (rc == 0)
        rc = sh->err;
    if (rc != 0)
        return rc;

    int64_t elapsed = p->duration_ns;
    if (p->max_ios > 0 && atomic_load(&sh->counted) >= p->max_ios)
        elapsed = atomic_load(&sh->last_counted_ns) - sh->win.start;
    flm_stats_summarize(stats, p->depth, p->chunk, elapsed, out);
    return 0;
}

int flm_probe_pread(const struct flm_probe_plan *p, int64_t out[FLM_PROBE_COUNT])
{
    struct flm_probe_shared sh = {.p = p};
    atomic_init(&sh.stop, 0);
    atomic_init(&sh.counted, 0);
    atomic_init(&sh.last_counted_ns, 0);
    pthread_mutex_init(&sh.mu, NULL);
    sh.bufs = flm_probe_buffers(p);
    struct flm_probe_lane *lanes = calloc((size_t)p->depth, sizeof *lanes);
    struct flm_lat_stats *stats = calloc((size_t)p->depth, sizeof *stats);
    uint64_t *samples = malloc((size_t)flm_probe_lane_cap(p) * (size_t)p->depth * sizeof *samples);

    int rc = FLM_E_NO_MEMORY;
    if (sh.bufs != NULL && lanes != NULL && stats != NULL && samples != NULL)
        rc = flm_probe_lanes(&sh, lanes, stats, samples, out);

    free(samples);
    free(stats);
    free(lanes);
    free(sh.bufs);
    pthread_mutex_destroy(&sh.mu);
    return rc;
}
