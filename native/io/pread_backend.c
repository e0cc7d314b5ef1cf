/*
 * pread_backend.c - executing a batch with synchronous preads on several threads.
 *
 * The calling thread works as participant 0; threads-1 persistent workers (started at
 * open, joined at close) join it for batches of more than one request. Requests are
 * handed out through an atomic index; each participant reads unaligned pieces through
 * its own bounce slot. The first failure is kept and stops everyone taking new requests.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends.h"

#define FLM_WORKER_STACK (256 * 1024)

struct flm_pread_backend;

struct flm_pread_worker {
    struct flm_pread_backend *p;
    int id;
};

struct flm_pread_backend {
    int fd;
    const struct flm_geometry *geo;
    struct flm_faults *faults;
    struct flm_bounce bounce;  /* slot i belongs to participant i */
    int threads;
    int started;               /* workers running */
    pthread_t *tids;
    struct flm_pread_worker *workers;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;    /* a new batch, or shutdown */
    pthread_cond_t done_cv;    /* the last worker left the batch */
    uint64_t seq;              /* batch number; workers compare it to the last they saw */
    int participants;          /* workers with id < participants take part */
    int active;                /* workers still busy with the batch */
    int shutdown;

    const struct flm_batch *batch;
    atomic_int next;           /* next request index to hand out */
    atomic_int stop;           /* set by the first failure */
    int err;                   /* under mu */
    int64_t err_index;
};

/* Reads one piece to completion, retrying EINTR, EAGAIN and short reads. */
static int flm_pread_piece(int fd, const struct flm_piece *p, char *bounce, int64_t block,
                           struct flm_faults *faults)
{
    char *buf = p->direct_dst != NULL ? p->direct_dst : bounce;
    int64_t done = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + done, (size_t)(p->read_len - done), p->file_off + done);
        int64_t res = flm_faults_apply(faults, n < 0 ? -errno : (int64_t)n, block);
        if (res == -EINTR || res == -EAGAIN)
            continue;
        int st = flm_piece_advance(p, block, &done, res);
        if (st == FLM_PIECE_DONE)
            break;
        if (st != FLM_PIECE_MORE)
            return st;
    }
    if (p->direct_dst == NULL)
        memcpy(p->copy_dst, bounce + p->copy_skip, (size_t)p->copy_len);
    return 0;
}

static int flm_pread_request(const struct flm_pread_backend *p, int i, char *bounce)
{
    const struct flm_batch *b = p->batch;
    int64_t consumed = 0;
    struct flm_piece piece;
    while (flm_plan_next(p->geo, b->offsets[i], b->lengths[i], (uintptr_t)b->dests[i],
                         &consumed, &piece)) {
        int rc = flm_pread_piece(p->fd, &piece, bounce, p->geo->block, p->faults);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void flm_pread_fail(struct flm_pread_backend *p, int rc, int i)
{
    pthread_mutex_lock(&p->mu);
    if (p->err == 0) {
        p->err = rc;
        p->err_index = i;
    }
    pthread_mutex_unlock(&p->mu);
    atomic_store(&p->stop, 1);
}

/* One participant's share: take requests until none are left or someone failed. */
static void flm_pread_share(struct flm_pread_backend *p, int id)
{
    char *bounce = p->bounce.base != NULL ? flm_bounce_slot(&p->bounce, id) : NULL;
    while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
        int i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (i >= p->batch->count)
            break;
        int rc = flm_pread_request(p, i, bounce);
        if (rc != 0)
            flm_pread_fail(p, rc, i);
    }
}

static void *flm_pread_worker_main(void *arg)
{
    struct flm_pread_worker *w = arg;
    struct flm_pread_backend *p = w->p;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->shutdown && p->seq == seen)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->shutdown)
            break;
        seen = p->seq;
        if (w->id >= p->participants)
            continue;
        pthread_mutex_unlock(&p->mu);
        flm_pread_share(p, w->id);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0)
            pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int flm_pread_backend_read(struct flm_pread_backend *p, const struct flm_batch *b,
                           int64_t *failed)
{
    *failed = -1;
    if (b->needs_bounce) {
        int rc = flm_bounce_ensure(&p->bounce);
        if (rc != 0)
            return rc;
    }
    /* Published to the workers by the mutex they take when they see the new seq. */
    p->batch = b;
    atomic_store(&p->next, 0);
    atomic_store(&p->stop, 0);
    p->err = 0;
    p->err_index = -1;

    int participants = b->count < p->threads ? b->count : p->threads;
    if (participants > 1) {
        pthread_mutex_lock(&p->mu);
        p->participants = participants;
        p->active = participants - 1;
        p->seq++;
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
    }
    flm_pread_share(p, 0);

    pthread_mutex_lock(&p->mu);
    while (participants > 1 && p->active > 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    int rc = p->err;
    *failed = p->err_index;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void flm_pread_stop_workers(struct flm_pread_backend *p)
{
    pthread_mutex_lock(&p->mu);
    p->shutdown = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->tids[i], NULL);
    p->started = 0;
}

static int flm_pread_start_workers(struct flm_pread_backend *p)
{
    p->tids = calloc((size_t)p->threads, sizeof *p->tids);
    p->workers = calloc((size_t)p->threads, sizeof *p->workers);
    if (p->tids == NULL || p->workers == NULL)
        return FLM_E_NO_MEMORY;
    for (int id = 1; id < p->threads; id++) {
        p->workers[id].p = p;
        p->workers[id].id = id;
        int rc = flm_thread_start(&p->tids[p->started], flm_pread_worker_main, &p->workers[id],
                                  FLM_WORKER_STACK);
        if (rc != 0)
            return rc;
        p->started++;
    }
    return 0;
}

void flm_pread_backend_close(struct flm_pread_backend *p)
{
    if (p == NULL)
        return;
    flm_pread_stop_workers(p);
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    flm_bounce_free(&p->bounce);
    free(p->tids);
    free(p->workers);
    free(p);
}

int flm_pread_backend_open(const struct flm_file *f, const struct flm_geometry *g, int threads,
                           struct flm_faults *faults, struct flm_pread_backend **out)
{
    struct flm_pread_backend *p = calloc(1, sizeof *p);
    if (p == NULL)
        return FLM_E_NO_MEMORY;
    p->fd = f->fd;
    p->geo = g;
    p->faults = faults;
    p->threads = threads;
    p->bounce.slot_bytes = g->slot_bytes;
    p->bounce.slots = threads;
    p->err_index = -1;
    atomic_init(&p->next, 0);
    atomic_init(&p->stop, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);

    int rc = flm_pread_start_workers(p);
    if (rc != 0) {
        flm_pread_backend_close(p);
        return rc;
    }
    *out = p;
    return 0;
}
