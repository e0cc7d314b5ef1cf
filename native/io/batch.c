/*
 * batch.c - validating every request of a flm_reader_read call before any I/O starts.
 */
#include <stddef.h>

#include "internal.h"

static int flm_check_request(int64_t off, int64_t len, int64_t dest, int64_t file_size)
{
    if (off < 0 || len < 0 || dest < 0)
        return FLM_E_BAD_ARG;
    if (len > 0 && dest == 0)
        return FLM_E_BAD_ARG;
    if ((uint64_t)dest > UINTPTR_MAX - (uint64_t)len)
        return FLM_E_BAD_ARG; /* the destination would wrap around the address space */
    if (off > file_size || len > file_size - off)
        return FLM_E_PAST_EOF;
    return 0;
}

int flm_batch_validate(struct flm_batch *b, int64_t file_size, const struct flm_geometry *g,
                       int64_t *failed)
{
    *failed = -1;
    b->needs_bounce = 0;
    if (b->count > 0 && (b->offsets == NULL || b->lengths == NULL || b->dests == NULL))
        return FLM_E_BAD_ARG;

    for (int i = 0; i < b->count; i++) {
        int64_t off = b->offsets[i], len = b->lengths[i], dest = b->dests[i];
        int rc = flm_check_request(off, len, dest, file_size);
        if (rc != 0) {
            *failed = i;
            return rc;
        }
        if (!b->needs_bounce && flm_needs_bounce(g, off, len, (uintptr_t)dest))
            b->needs_bounce = 1;
    }
    return 0;
}
