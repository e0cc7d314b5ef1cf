/*
 * probe_uring.c - flm_probe on one io_uring, the way fio's randread job runs: every slot
 * is resubmitted with a fresh random offset as soon as its read completes, so `depth`
 * reads are always in flight.
 *
 * Resubmissions go to the kernel one by one, as fio does (iodepth_batch_submit=1), not
 * in one batch per wake-up: on a fast virtual disk the batched pattern made the reads
 * move in lockstep and gave about a quarter fewer 4 KiB IOPS than fio at depth 32.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>

#include "clock.h"
#include "probe.h"
#include "uring_setup.h"

struct flm_probe_slot {
    int64_t off;
    int64_t done;
    int64_t submitted_ns;
};

struct flm_probe_ring {
    struct io_uring *ring;
    const struct flm_probe_plan *p;
    struct flm_probe_window win;
    int fd;              /* fixed-file index 0 when registered */
    int file_registered;
    char *bufs;
    struct flm_probe_slot *slots;
    struct io_uring_cqe **cqes; /* one batch of completions */
    struct flm_rng rng;  /* offsets */
    struct flm_lat_stats stats;
    int inflight;
    int stopping;        /* no new reads: time is up, max_ios reached, or an error */
    int max_reached;
    int64_t last_counted_ns;
    int err;
};

static int flm_probe_queue(struct flm_probe_ring *pr, int slot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(pr->ring);
    if (sqe == NULL)
        return -EBUSY; /* cannot happen: one SQE per slot, ring of depth entries */
    const struct flm_probe_slot *s = &pr->slots[slot];
    char *buf = pr->bufs + (size_t)slot * (size_t)pr->p->chunk + s->done;
    unsigned len = (unsigned)(pr->p->chunk - s->done);
    uint64_t off = (uint64_t)(s->off + s->done);
    io_uring_prep_read(sqe, pr->fd, buf, len, off);
    if (pr->file_registered)
        sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, (uint64_t)slot);
    return 0;
}

static void flm_probe_retire(struct flm_probe_ring *pr, int rc)
{
    if (rc != 0 && pr->err == 0) {
        pr->err = rc;
        pr->stopping = 1;
    }
    pr->inflight--;
}

/* Queues the slot's read; `eager` also submits it now (a failed submit is retried by
 * the next io_uring_submit_and_wait, which reports a lasting failure). */
static void flm_probe_issue(struct flm_probe_ring *pr, int slot, int eager)
{
    int rc = flm_probe_queue(pr, slot);
    if (rc != 0)
        flm_probe_retire(pr, rc);
    else if (eager)
        io_uring_submit(pr->ring);
}

/* A read's clock starts when its slot's previous completion was seen (fio's start time
 * is also taken after reaping), so latencies cover the whole cycle of a slot. */
static void flm_probe_start(struct flm_probe_ring *pr, int slot, int64_t now, int eager)
{
    struct flm_probe_slot *s = &pr->slots[slot];
    s->off = (int64_t)flm_rng_below(&pr->rng, (uint64_t)pr->p->nchunks) * pr->p->chunk;
    s->done = 0;
    s->submitted_ns = now;
    flm_probe_issue(pr, slot, eager);
}

/* Counts a finished read if it completed inside the window and below max_ios. */
static void flm_probe_count(struct flm_probe_ring *pr, int64_t lat_ns, int64_t now)
{
    const struct flm_probe_plan *p = pr->p;
    if (now < pr->win.start || now >= pr->win.end || pr->max_reached)
        return;
    flm_stats_add(&pr->stats, lat_ns);
    if (p->max_ios > 0 && pr->stats.ios >= p->max_ios) {
        pr->max_reached = 1;
        pr->stopping = 1;
        pr->last_counted_ns = now;
    }
}

static void flm_probe_complete(struct flm_probe_ring *pr, int slot, int res, int64_t now)
{
    struct flm_probe_slot *s = &pr->slots[slot];
    if (pr->err != 0) {
        flm_probe_retire(pr, 0);
        return;
    }
    if (res == -EAGAIN || res == -EINTR || (res > 0 && s->done + res < pr->p->chunk)) {
        s->done += res > 0 ? res : 0; /* short read: fetch the rest under the same clock */
        flm_probe_issue(pr, slot, 1);
        return;
    }
    if (res <= 0) {
        flm_probe_retire(pr, res == 0 ? FLM_E_PAST_EOF : res);
        return;
    }
    flm_probe_count(pr, now - s->submitted_ns, now);
    if (pr->stopping)
        flm_probe_retire(pr, 0);
    else
        flm_probe_start(pr, slot, now, 1);
}

/*
 * Handles the completions present now (the timestamp's batch); those of reads submitted
 * while handling them wait for the next round, else they would get an older timestamp.
 */
static void flm_probe_reap(struct flm_probe_ring *pr, int64_t now)
{
    unsigned n = io_uring_peek_batch_cqe(pr->ring, pr->cqes, (unsigned)pr->p->depth);
    for (unsigned i = 0; i < n; i++) {
        uint64_t slot = io_uring_cqe_get_data64(pr->cqes[i]);
        if (slot < (uint64_t)pr->p->depth)
            flm_probe_complete(pr, (int)slot, pr->cqes[i]->res, now);
    }
    io_uring_cq_advance(pr->ring, n);
}

/* Returns 0, or nonzero when io_uring_enter failed and reads may still be in flight. */
static int flm_probe_loop(struct flm_probe_ring *pr)
{
    int64_t t0 = flm_now_ns();
    pr->win = flm_probe_window_from(pr->p, t0);
    pr->inflight = pr->p->depth;
    for (int slot = 0; slot < pr->p->depth; slot++)
        flm_probe_start(pr, slot, t0, 0); /* the first round goes in together */

    while (pr->inflight > 0) {
        int rc = io_uring_submit_and_wait(pr->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            if (pr->err == 0)
                pr->err = rc;
            return rc;
        }
        /* One completion timestamp per batch of completions, as fio does. */
        int64_t now = flm_now_ns();
        if (now >= pr->win.end)
            pr->stopping = 1;
        flm_probe_reap(pr, now);
    }
    return 0;
}

int flm_probe_uring(struct io_uring *ring, const struct flm_probe_plan *p,
                    int64_t out[FLM_PROBE_COUNT])
{
    struct flm_probe_ring pr = {.ring = ring, .p = p, .fd = p->fd};
    pr.bufs = flm_probe_buffers(p);
    pr.slots = calloc((size_t)p->depth, sizeof *pr.slots);
    pr.cqes = calloc((size_t)p->depth, sizeof *pr.cqes);
    uint64_t *samples = malloc((size_t)p->sample_cap * sizeof *samples);
    int rc = FLM_E_NO_MEMORY, broken = 0;
    if (pr.bufs != NULL && pr.slots != NULL && pr.cqes != NULL && samples != NULL) {
        /* The buffers stay unregistered, as in fio's default (fixedbufs=0) and in the
         * reader's main path, which reads straight into the caller's memory. On a
         * Firecracker virtio disk, registered 64 KiB buffers ran at about half the
         * speed of unregistered ones (likely: no merging of contiguous pages). */
        pr.file_registered = flm_uring_register_file(ring, p->fd);
        if (pr.file_registered)
            pr.fd = 0;
        flm_rng_seed(&pr.rng, p->seed);
        flm_stats_init(&pr.stats, samples, p->sample_cap, p->seed ^ 0x5ca1ab1eULL);

        broken = flm_probe_loop(&pr) != 0;
        rc = pr.err;
        if (rc == 0) {
            int64_t elapsed = pr.max_reached ? pr.last_counted_ns - pr.win.start : p->duration_ns;
            flm_stats_summarize(&pr.stats, 1, p->chunk, elapsed, out);
        }
    }
    io_uring_queue_exit(ring);
    if (!broken) /* reads of a broken ring may still land in the buffers: leak them */
        free(pr.bufs);
    free(pr.slots);
    free(pr.cqes);
    free(samples);
    return rc;
}
