/*
 * reader.c - flm_reader_open / info / read / close: argument checks, backend choice,
 * and the handle bookkeeping around the backends.
 */
#include <stdlib.h>

#include "reader.h"

static void flm_reader_destroy(struct flm_reader *r)
{
    flm_uring_backend_close(r->uring);
    flm_pread_backend_close(r->pread);
    flm_file_close(&r->file);
    free(r);
}

static void flm_reader_geometry(struct flm_reader *r, int slots)
{
    r->geo.block = r->file.block;
    r->geo.slot_bytes = flm_slot_bytes(slots, r->file.block);
    r->geo.direct_max = FLM_DIRECT_PIECE;
}

/* AUTO tries io_uring and quietly settles for pread; IO_URING insists. */
static int flm_reader_start_backend(struct flm_reader *r, int backend)
{
    if (backend != FLM_BACKEND_PREAD) {
        flm_reader_geometry(r, r->queue_depth);
        int rc = flm_uring_backend_open(&r->file, &r->geo, r->queue_depth, &r->faults, &r->uring);
        if (rc == 0) {
            r->backend = FLM_BACKEND_IO_URING;
            return 0;
        }
        if (backend == FLM_BACKEND_IO_URING)
            return rc;
    }
    flm_reader_geometry(r, r->threads);
    r->backend = FLM_BACKEND_PREAD;
    return flm_pread_backend_open(&r->file, &r->geo, r->threads, &r->faults, &r->pread);
}

static int flm_open_args_valid(const char *path, int flags, int backend, int queue_depth,
                               int threads, const int64_t *out_handle)
{
    return path != NULL && out_handle != NULL && (flags & ~FLM_OPEN_DIRECT) == 0
        && backend >= FLM_BACKEND_AUTO && backend <= FLM_BACKEND_PREAD
        && queue_depth >= 1 && queue_depth <= FLM_MAX_QUEUE_DEPTH
        && threads >= 1 && threads <= FLM_MAX_THREADS;
}

FLM_EXPORT int flm_reader_open(const char *path, int flags, int backend, int queue_depth,
                               int threads, int64_t *out_handle)
{
    if (!flm_open_args_valid(path, flags, backend, queue_depth, threads, out_handle))
        return FLM_E_BAD_ARG;
    *out_handle = 0;

    struct flm_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return FLM_E_NO_MEMORY;
    r->file.fd = -1;
    r->queue_depth = queue_depth;
    r->threads = threads;

    int rc = flm_file_open(path, flags, &r->file);
    if (rc == 0)
        rc = flm_reader_start_backend(r, backend);
    if (rc == 0)
        rc = flm_handles_insert(r, out_handle);
    if (rc != 0)
        flm_reader_destroy(r);
    return rc;
}

FLM_EXPORT int flm_reader_info(int64_t handle, int64_t *out, int n)
{
    if (n < 0 || (n > 0 && out == NULL))
        return FLM_E_BAD_ARG;
    struct flm_reader *r = flm_handles_acquire(handle);
    if (r == NULL)
        return FLM_E_BAD_HANDLE;

    int reg_file = 0, reg_bufs = 0, busy = 0;
    if (r->uring != NULL) {
        flm_uring_backend_registered(r->uring, &reg_file, &reg_bufs);
        busy = flm_uring_backend_busy_slots(r->uring);
    }
    const int64_t values[FLM_INFO_COUNT] = {
        [FLM_INFO_FILE_SIZE] = r->file.size,
        [FLM_INFO_BACKEND] = r->backend,
        [FLM_INFO_BLOCK_SIZE] = r->geo.block,
        [FLM_INFO_QUEUE_DEPTH] = r->queue_depth,
        [FLM_INFO_THREADS] = r->threads,
        [FLM_INFO_DIRECT] = r->file.direct,
        [FLM_INFO_REGISTERED_FILE] = reg_file,
        [FLM_INFO_REGISTERED_BUFS] = reg_bufs,
        [FLM_INFO_FAULTS_LEFT] = atomic_load(&r->faults.left),
        [FLM_INFO_SLOTS_BUSY] = busy,
    };
    flm_handles_release(handle);

    for (int i = 0; i < n && i < FLM_INFO_COUNT; i++)
        out[i] = values[i];
    return 0;
}

FLM_EXPORT int flm_reader_read(int64_t handle, int count, const int64_t *offsets,
                               const int64_t *lengths, const int64_t *dests, int64_t *out_failed)
{
    int64_t failed = -1;
    int rc = 0;
    if (count < 0 || count > FLM_MAX_BATCH) {
        rc = FLM_E_BAD_ARG;
    } else {
        struct flm_reader *r = flm_handles_acquire(handle);
        if (r == NULL) {
            rc = FLM_E_BAD_HANDLE;
        } else {
            struct flm_batch b = {count, offsets, lengths, dests, 0};
            rc = flm_batch_validate(&b, r->file.size, &r->geo, &failed);
            if (rc == 0 && count > 0)
                rc = r->uring != NULL ? flm_uring_backend_read(r->uring, &b, &failed)
                                      : flm_pread_backend_read(r->pread, &b, &failed);
            flm_handles_release(handle);
        }
    }
    if (out_failed != NULL)
        *out_failed = rc != 0 ? failed : -1;
    return rc;
}

FLM_EXPORT int flm_reader_close(int64_t handle)
{
    struct flm_reader *r = flm_handles_remove(handle);
    if (r == NULL)
        return FLM_E_BAD_HANDLE;
    flm_reader_destroy(r);
    return 0;
}

FLM_EXPORT int flm_reader_inject(int64_t handle, int kind, int64_t count)
{
    if (kind < FLM_FAULT_NONE || kind > FLM_FAULT_EIO || count < 0)
        return FLM_E_BAD_ARG;
    struct flm_reader *r = flm_handles_acquire(handle);
    if (r == NULL)
        return FLM_E_BAD_HANDLE;
    flm_faults_arm(&r->faults, count == 0 ? FLM_FAULT_NONE : kind, count);
    flm_handles_release(handle);
    return 0;
}

FLM_EXPORT int flm_readers_open(void)
{
    return flm_handles_count();
}
