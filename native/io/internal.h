/*
 * internal.h - types and helpers shared inside libflashlm (never exported).
 */
#ifndef FLM_INTERNAL_H
#define FLM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "../export.h"
#include "flashlm.h"

#define FLM_MAX_BATCH       (1 << 24)
#define FLM_MAX_QUEUE_DEPTH 4096
#define FLM_MAX_THREADS     256
#define FLM_FALLBACK_BLOCK  4096            /* O_DIRECT alignment when statx cannot tell */
#define FLM_BUFFER_ALIGN    4096            /* every internal buffer starts on a page */
#define FLM_SLOT_BYTES      (256 * 1024)    /* preferred bounce slot */
#define FLM_SLOT_MIN_BYTES  (16 * 1024)
#define FLM_BOUNCE_BUDGET   (64 * 1024 * 1024) /* all bounce slots of one reader together */
#define FLM_DIRECT_PIECE    (2 * 1024 * 1024)  /* largest single read straight into dest */

/* ---- file.c: the open file and what O_DIRECT demands of it ---- */

struct flm_file {
    int fd;
    int direct;      /* opened with O_DIRECT */
    int64_t size;
    int64_t block;   /* offset/length/address alignment; 1 when buffered */
};

int flm_file_open(const char *path, int flags, struct flm_file *out);

/* dio.c: the O_DIRECT alignment of fd's device and where it came from (FLM_DIO_SOURCE_*). */
int flm_dio_alignment_fd(int fd, int flags, int64_t *align, int *source);
void flm_file_close(struct flm_file *f);

/* ---- plan.c: cutting requests into reads the kernel accepts ---- */

struct flm_geometry {
    int64_t block;       /* power of two; 1 when buffered */
    int64_t slot_bytes;  /* bounce slot size, a multiple of block */
    int64_t direct_max;  /* largest read straight into the caller's memory */
};

/*
 * One read the kernel is asked for. Either it lands straight in the caller's memory
 * (direct_dst), or in a bounce buffer from which copy_len bytes at copy_skip are copied
 * to copy_dst. Bytes past `needed` may lie beyond EOF and need not arrive.
 */
struct flm_piece {
    int64_t file_off;
    int64_t read_len;
    int64_t needed;
    char *direct_dst;
    char *copy_dst;
    int64_t copy_skip;
    int64_t copy_len;
};

enum { FLM_PIECE_DONE = 0, FLM_PIECE_MORE = 1 };

int64_t flm_slot_bytes(int slots, int64_t block);
int flm_needs_bounce(const struct flm_geometry *g, int64_t off, int64_t len, uintptr_t dest);
int flm_plan_next(const struct flm_geometry *g, int64_t off, int64_t len, uintptr_t dest,
                  int64_t *consumed, struct flm_piece *out);
int flm_piece_advance(const struct flm_piece *p, int64_t block, int64_t *done, int64_t res);

/* ---- faults.c: faults a test arms on a reader (flm_reader_inject) ---- */

struct flm_faults {
    atomic_int kind;          /* FLM_FAULT_* */
    atomic_llong left;        /* reads still to hit */
};

void flm_faults_arm(struct flm_faults *f, int kind, int64_t count);
/* What a read that returned res (bytes, or -errno) reports: res itself unless a fault is armed. */
int64_t flm_faults_apply(struct flm_faults *f, int64_t res, int64_t block);

/* ---- batch.c: one validated flm_reader_read call ---- */

struct flm_batch {
    int count;
    const int64_t *offsets;
    const int64_t *lengths;
    const int64_t *dests;
    int needs_bounce;    /* at least one request goes through a bounce buffer */
};

int flm_batch_validate(struct flm_batch *b, int64_t file_size, const struct flm_geometry *g,
                       int64_t *failed);

/* ---- bounce.c: aligned bounce slots, allocated on first use and kept ---- */

struct flm_bounce {
    char *base;
    int64_t slot_bytes;
    int slots;
};

int flm_bounce_ensure(struct flm_bounce *b);
char *flm_bounce_slot(const struct flm_bounce *b, int i);
void flm_bounce_free(struct flm_bounce *b);

/* ---- threads.c ---- */

int flm_thread_start(pthread_t *out, void *(*fn)(void *), void *arg, int64_t stack_bytes);

#endif /* FLM_INTERNAL_H */
