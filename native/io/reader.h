/*
 * reader.h - a reader and the table that turns handles into readers.
 */
#ifndef FLM_READER_H
#define FLM_READER_H

#include "backends.h"

struct flm_reader {
    struct flm_file file;
    struct flm_geometry geo;
    int backend;       /* FLM_BACKEND_IO_URING or FLM_BACKEND_PREAD */
    int queue_depth;
    int threads;
    struct flm_uring_backend *uring;
    struct flm_pread_backend *pread;
    struct flm_faults faults;  /* armed by flm_reader_inject, taken by the backends */
};

/* handle_table.c. A handle is (generation << 16 | slot); readers are owned by the table. */
int flm_handles_insert(struct flm_reader *r, int64_t *out_handle);
/* Locks the reader behind handle for one call; NULL when the handle is not live. */
struct flm_reader *flm_handles_acquire(int64_t handle);
void flm_handles_release(int64_t handle);
/* Handles in use (readers open). */
int flm_handles_count(void);
/* Unlinks the reader (waiting for a call in progress); NULL when the handle is not live. */
struct flm_reader *flm_handles_remove(int64_t handle);

#endif /* FLM_READER_H */
