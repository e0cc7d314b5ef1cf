/*
 * faults.c - faults a test arms on a reader (flm_reader_inject): the next reads report a
 * short count, fail with EAGAIN, or fail with EIO, so that the retry and error paths run
 * end to end on a real device. Unarmed, a read costs one relaxed atomic load.
 */
#include <errno.h>

#include "internal.h"

void flm_faults_arm(struct flm_faults *f, int kind, int64_t count)
{
    atomic_store(&f->left, kind == FLM_FAULT_NONE ? 0 : count);
    atomic_store(&f->kind, kind);
}

/* Takes one of the armed faults; 0 when none is left. */
static int flm_faults_take(struct flm_faults *f)
{
    if (atomic_load_explicit(&f->left, memory_order_relaxed) <= 0)
        return 0;
    int64_t left = atomic_fetch_sub(&f->left, 1);
    if (left <= 0) {
        atomic_fetch_add(&f->left, 1); /* another reader thread took the last one */
        return 0;
    }
    return atomic_load(&f->kind);
}

/*
 * A short read reports about half of what arrived, rounded down to whole blocks (O_DIRECT
 * stops short only on a block boundary), so the caller reads the rest again; a read of one
 * block or less cannot be shortened and is left as it was.
 */
static int64_t flm_faults_shorten(int64_t res, int64_t block)
{
    if (block > 1) {
        if (res <= block)
            return res;
        int64_t half = (res / 2) / block * block;
        return half >= block ? half : block;
    }
    return res > 1 ? res / 2 : res;
}

int64_t flm_faults_apply(struct flm_faults *f, int64_t res, int64_t block)
{
    if (f == NULL || atomic_load_explicit(&f->left, memory_order_relaxed) <= 0)
        return res;
    switch (flm_faults_take(f)) {
    case FLM_FAULT_SHORT:
        return res > 0 ? flm_faults_shorten(res, block) : res;
    case FLM_FAULT_EAGAIN:
        return -EAGAIN;
    case FLM_FAULT_EIO:
        return -EIO;
    default:
        return res;
    }
}
