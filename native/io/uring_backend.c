/*
 * uring_backend.c - executing a batch on one io_uring.
 *
 * Each of the ring's `depth` slots carries one piece (see plan.c) and owns bounce slot
 * number `slot`. A call fills every free slot with the next piece, submits them with a
 * single io_uring_enter that also waits, reaps all completions at once, resubmits what is
 * unfinished, refills, and repeats until every piece is done. After a failure it stops
 * handing out pieces but still waits for everything in flight, so no completion can land
 * after the call returned.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends.h"
#include "uring_setup.h"

struct flm_uring_slot {
    struct flm_piece piece;
    int64_t done;   /* bytes of the piece already read */
    int req;        /* index of the request the piece belongs to */
};

struct flm_uring_backend {
    struct io_uring ring;
    int fd;                /* 0 (the fixed-file index) when registered, else the real fd */
    int file_registered;
    int bufs_registered;
    int broken;            /* io_uring_enter failed: in-flight reads are unaccounted for */
    int depth;
    const struct flm_geometry *geo;
    struct flm_faults *faults;
    struct flm_bounce bounce;
    struct flm_uring_slot *slots;
    int *free_slots;       /* stack of idle slot numbers */
    int n_free;
};

/* The state of one flm_reader_read call. */
struct flm_uring_run {
    struct flm_uring_backend *u;
    const struct flm_batch *b;
    int req;           /* next request to cut pieces from */
    int64_t consumed;  /* bytes of that request already handed to pieces */
    int inflight;      /* slots holding a piece */
    int err;
    int64_t err_index;
};

/* Puts the unread rest of slot's piece into an SQE (submitted by the next enter). */
static int flm_uring_queue(struct flm_uring_backend *u, int slot)
{
    /* Each busy slot has at most one SQE waiting and the SQ ring has >= depth entries. */
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (sqe == NULL)
        return -EBUSY;

    const struct flm_uring_slot *s = &u->slots[slot];
    const struct flm_piece *p = &s->piece;
    unsigned len = (unsigned)(p->read_len - s->done);
    uint64_t off = (uint64_t)(p->file_off + s->done);
    if (p->direct_dst != NULL) {
        io_uring_prep_read(sqe, u->fd, p->direct_dst + s->done, len, off);
    } else {
        char *buf = flm_bounce_slot(&u->bounce, slot) + s->done;
        if (u->bufs_registered)
            io_uring_prep_read_fixed(sqe, u->fd, buf, len, off, slot);
        else
            io_uring_prep_read(sqe, u->fd, buf, len, off);
    }
    if (u->file_registered)
        sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, (uint64_t)slot);
    return 0;
}

/* Frees a slot; a nonzero rc becomes the call's error unless an earlier one won. */
static void flm_uring_finish(struct flm_uring_run *run, int slot, int rc)
{
    struct flm_uring_backend *u = run->u;
    if (rc != 0 && run->err == 0) {
        run->err = rc;
        run->err_index = u->slots[slot].req;
    }
    u->free_slots[u->n_free++] = slot;
    run->inflight--;
}

static void flm_uring_fill(struct flm_uring_run *run)
{
    struct flm_uring_backend *u = run->u;
    const struct flm_batch *b = run->b;
    while (run->err == 0 && u->n_free > 0 && run->req < b->count) {
        int req = run->req;
        struct flm_piece piece;
        if (!flm_plan_next(u->geo, b->offsets[req], b->lengths[req], (uintptr_t)b->dests[req],
                           &run->consumed, &piece)) {
            run->req++;
            run->consumed = 0;
            continue;
        }
        int slot = u->free_slots[--u->n_free];
        u->slots[slot].piece = piece;
        u->slots[slot].done = 0;
        u->slots[slot].req = req;
        run->inflight++;
        int rc = flm_uring_queue(u, slot);
        if (rc != 0)
            flm_uring_finish(run, slot, rc);
    }
}

static void flm_uring_complete(struct flm_uring_run *run, int slot, int res)
{
    struct flm_uring_backend *u = run->u;
    struct flm_uring_slot *s = &u->slots[slot];
    if (run->err != 0) { /* draining after a failure: just collect the slot */
        flm_uring_finish(run, slot, 0);
        return;
    }
    res = (int)flm_faults_apply(u->faults, res, u->geo->block);
    int st = (res == -EAGAIN || res == -EINTR)
                 ? FLM_PIECE_MORE
                 : flm_piece_advance(&s->piece, u->geo->block, &s->done, res);
    if (st == FLM_PIECE_MORE) {
        int rc = flm_uring_queue(u, slot);
        if (rc != 0)
            flm_uring_finish(run, slot, rc);
        return;
    }
    if (st == FLM_PIECE_DONE && s->piece.direct_dst == NULL)
        memcpy(s->piece.copy_dst, flm_bounce_slot(&u->bounce, slot) + s->piece.copy_skip,
               (size_t)s->piece.copy_len);
    flm_uring_finish(run, slot, st == FLM_PIECE_DONE ? 0 : st);
}

static void flm_uring_reap(struct flm_uring_run *run)
{
    struct io_uring *ring = &run->u->ring;
    struct io_uring_cqe *cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(ring, head, cqe) {
        uint64_t slot = io_uring_cqe_get_data64(cqe);
        if (slot < (uint64_t)run->u->depth)
            flm_uring_complete(run, (int)slot, cqe->res);
        seen++;
    }
    io_uring_cq_advance(ring, seen);
}

/* Allocates the bounce slots on first need, registering them while the ring is idle. */
static int flm_uring_ensure_bounce(struct flm_uring_backend *u)
{
    if (u->bounce.base != NULL)
        return 0;
    int rc = flm_bounce_ensure(&u->bounce);
    if (rc == 0)
        u->bufs_registered = flm_uring_register_slots(&u->ring, u->bounce.base,
                                                      u->bounce.slot_bytes, u->bounce.slots);
    return rc;
}

int flm_uring_backend_read(struct flm_uring_backend *u, const struct flm_batch *b,
                           int64_t *failed)
{
    *failed = -1;
    if (u->broken)
        return u->broken;
    if (b->needs_bounce) {
        int rc = flm_uring_ensure_bounce(u);
        if (rc != 0)
            return rc;
    }

    struct flm_uring_run run = {.u = u, .b = b, .err_index = -1};
    flm_uring_fill(&run);
    while (run.inflight > 0) {
        /* One syscall submits every queued SQE and waits for at least one completion. */
        int rc = io_uring_submit_and_wait(&u->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            u->broken = rc;
            if (run.err == 0) {
                run.err = rc;
                run.err_index = -1;
            }
            break;
        }
        flm_uring_reap(&run);
        flm_uring_fill(&run);
    }
    *failed = run.err_index;
    return run.err;
}

void flm_uring_backend_registered(const struct flm_uring_backend *u, int *file, int *bufs)
{
    *file = u->file_registered;
    *bufs = u->bufs_registered;
}

static void flm_uring_free(struct flm_uring_backend *u)
{
    /* A broken ring may still write into the bounce slots: leak them rather than reuse. */
    if (!u->broken)
        flm_bounce_free(&u->bounce);
    free(u->slots);
    free(u->free_slots);
    free(u);
}

int flm_uring_backend_open(const struct flm_file *f, const struct flm_geometry *g, int depth,
                           struct flm_faults *faults, struct flm_uring_backend **out)
{
    struct flm_uring_backend *u = calloc(1, sizeof *u);
    if (u == NULL)
        return FLM_E_NO_MEMORY;
    u->slots = calloc((size_t)depth, sizeof *u->slots);
    u->free_slots = calloc((size_t)depth, sizeof *u->free_slots);
    if (u->slots == NULL || u->free_slots == NULL) {
        flm_uring_free(u);
        return FLM_E_NO_MEMORY;
    }
    int rc = flm_uring_init(&u->ring, (unsigned)depth);
    if (rc != 0) {
        flm_uring_free(u);
        return rc;
    }
    u->depth = depth;
    u->geo = g;
    u->faults = faults;
    u->bounce.slot_bytes = g->slot_bytes;
    u->bounce.slots = depth;
    u->file_registered = flm_uring_register_file(&u->ring, f->fd);
    u->fd = u->file_registered ? 0 : f->fd;
    for (int i = 0; i < depth; i++)
        u->free_slots[i] = depth - 1 - i; /* pop slot 0 first */
    u->n_free = depth;
    *out = u;
    return 0;
}

int flm_uring_backend_busy_slots(const struct flm_uring_backend *u)
{
    return u->depth - u->n_free;
}

void flm_uring_backend_close(struct flm_uring_backend *u)
{
    if (u == NULL)
        return;
    io_uring_queue_exit(&u->ring);
    flm_uring_free(u);
}
