/*
 * backends.h - the two ways a reader executes a validated batch.
 */
#ifndef FLM_BACKENDS_H
#define FLM_BACKENDS_H

#include "internal.h"

struct flm_uring_backend;
struct flm_pread_backend;

/* io_uring: one ring of `depth` entries; fails with FLM_E_NO_IO_URING when refused. */
int flm_uring_backend_open(const struct flm_file *f, const struct flm_geometry *g, int depth,
                           struct flm_faults *faults, struct flm_uring_backend **out);
int flm_uring_backend_read(struct flm_uring_backend *u, const struct flm_batch *b,
                           int64_t *failed);
void flm_uring_backend_registered(const struct flm_uring_backend *u, int *file, int *bufs);
/* Slots holding a read: 0 between calls unless one leaked. */
int flm_uring_backend_busy_slots(const struct flm_uring_backend *u);
void flm_uring_backend_close(struct flm_uring_backend *u);

/* pread: the calling thread plus threads-1 persistent workers. */
int flm_pread_backend_open(const struct flm_file *f, const struct flm_geometry *g, int threads,
                           struct flm_faults *faults, struct flm_pread_backend **out);
int flm_pread_backend_read(struct flm_pread_backend *p, const struct flm_batch *b,
                           int64_t *failed);
void flm_pread_backend_close(struct flm_pread_backend *p);

#endif /* FLM_BACKENDS_H */
