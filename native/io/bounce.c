/*
 * bounce.c - the aligned bounce slots of a reader: one allocation, made the first time an
 * unaligned O_DIRECT request needs it, then reused for the reader's lifetime.
 */
#include <stdlib.h>

#include "internal.h"

int flm_bounce_ensure(struct flm_bounce *b)
{
    if (b->base != NULL)
        return 0;
    size_t total = (size_t)b->slot_bytes * (size_t)b->slots;
    total = (total + FLM_BUFFER_ALIGN - 1) & ~(size_t)(FLM_BUFFER_ALIGN - 1);
    b->base = aligned_alloc(FLM_BUFFER_ALIGN, total);
    return b->base != NULL ? 0 : FLM_E_NO_MEMORY;
}

char *flm_bounce_slot(const struct flm_bounce *b, int i)
{
    return b->base + (size_t)i * (size_t)b->slot_bytes;
}

void flm_bounce_free(struct flm_bounce *b)
{
    free(b->base);
    b->base = NULL;
}
