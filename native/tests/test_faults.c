/*
 * test_faults.c - flm_reader_inject: under short reads and EAGAIN storms every backend,
 * with and without O_DIRECT, still returns exactly the file's bytes and leaves the bytes
 * around each destination alone; EIO fails the call with the request's index and the next
 * call is exact again; no io_uring slot stays busy after any call; the open-reader count
 * returns to where it was; bad arguments are refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define REQUESTS 24
#define MAX_LEN (300 * 1024)
#define GUARD 0x5C

static const struct tu_file *g_file;

/* A batch of REQUESTS random requests into one buffer, each followed by 64 guard bytes. */
struct batch {
    int64_t offsets[REQUESTS], lengths[REQUESTS], dests[REQUESTS];
    unsigned char *buf;
    int64_t size;
};

static void batch_make(struct batch *b, uint64_t *rng)
{
    int64_t pos = 0;
    for (int i = 0; i < REQUESTS; i++) {
        b->lengths[i] = tu_rand_range(rng, 1, MAX_LEN);
        b->offsets[i] = tu_rand_range(rng, 0, g_file->size - b->lengths[i]);
        pos += tu_rand_range(rng, 0, 4095); /* any address alignment */
        b->dests[i] = pos;
        pos += b->lengths[i] + 64;
    }
    b->size = pos;
    b->buf = malloc((size_t)pos);
    memset(b->buf, GUARD, (size_t)pos);
    for (int i = 0; i < REQUESTS; i++)
        b->dests[i] += (int64_t)(uintptr_t)b->buf;
}

/* Every request holds the file's bytes and every byte between requests is still a guard. */
static int batch_exact(const struct batch *b)
{
    int64_t next = 0;
    for (int i = 0; i < REQUESTS; i++) {
        int64_t at = b->dests[i] - (int64_t)(uintptr_t)b->buf;
        for (int64_t g = next; g < at; g++)
            if (b->buf[g] != GUARD)
                return 0;
        if (memcmp(b->buf + at, g_file->data + b->offsets[i], (size_t)b->lengths[i]) != 0)
            return 0;
        next = at + b->lengths[i];
    }
    return 1;
}

static int64_t info(int64_t h, int index)
{
    int64_t out[FLM_INFO_COUNT];
    CHECK_EQ(flm_reader_info(h, out, FLM_INFO_COUNT), 0);
    return out[index];
}

static void run_config(int backend, int direct, uint64_t seed)
{
    int64_t h = 0;
    int open_before = flm_readers_open();
    int rc = flm_reader_open(g_file->path, direct ? FLM_OPEN_DIRECT : 0, backend, 16, 3, &h);
    if (rc == FLM_E_NO_IO_URING) {
        printf("faults: io_uring refused by this kernel, its cases skipped\n");
        return;
    }
    CHECK_MSG(rc == 0, "open %s direct=%d: %d", tu_backend_name(backend), direct, rc);
    if (rc != 0)
        return;
    CHECK_EQ(flm_readers_open(), open_before + 1);
    uint64_t rng = seed;
    const int kinds[] = {FLM_FAULT_SHORT, FLM_FAULT_EAGAIN};
    for (int k = 0; k < 2; k++) {
        for (int round = 0; round < 3; round++) {
            struct batch b;
            batch_make(&b, &rng);
            int64_t armed = round == 2 ? 3000 : 20 + 40 * round; /* the last: a storm longer than the batch */
            CHECK_EQ(flm_reader_inject(h, kinds[k], armed), 0);
            int64_t failed = 7;
            rc = flm_reader_read(h, REQUESTS, b.offsets, b.lengths, b.dests, &failed);
            CHECK_MSG(rc == 0, "%s direct=%d kind %d round %d: rc %d", tu_backend_name(backend), direct,
                      kinds[k], round, rc);
            CHECK_EQ(failed, -1);
            CHECK_MSG(batch_exact(&b), "%s direct=%d kind %d round %d: bytes differ",
                      tu_backend_name(backend), direct, kinds[k], round);
            CHECK_MSG(info(h, FLM_INFO_FAULTS_LEFT) < armed, "kind %d round %d: no fault was taken",
                      kinds[k], round);
            CHECK_EQ(info(h, FLM_INFO_SLOTS_BUSY), 0);
            CHECK_EQ(flm_reader_inject(h, FLM_FAULT_NONE, 0), 0);
            CHECK_EQ(info(h, FLM_INFO_FAULTS_LEFT), 0);
            free(b.buf);
        }
    }
    /* EIO: the call fails naming a request, nothing is left in flight, the next call is exact. */
    struct batch b;
    batch_make(&b, &rng);
    CHECK_EQ(flm_reader_inject(h, FLM_FAULT_EIO, 1), 0);
    int64_t failed = -2;
    rc = flm_reader_read(h, REQUESTS, b.offsets, b.lengths, b.dests, &failed);
    CHECK_EQ(rc, -EIO);
    CHECK_MSG(failed >= 0 && failed < REQUESTS, "failed index %lld", (long long)failed);
    CHECK_EQ(info(h, FLM_INFO_SLOTS_BUSY), 0);
    CHECK_EQ(info(h, FLM_INFO_FAULTS_LEFT), 0);
    memset(b.buf, GUARD, (size_t)b.size);
    rc = flm_reader_read(h, REQUESTS, b.offsets, b.lengths, b.dests, &failed);
    CHECK_EQ(rc, 0);
    CHECK(batch_exact(&b));
    free(b.buf);

    CHECK_EQ(flm_reader_inject(h, 99, 1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_inject(h, FLM_FAULT_SHORT, -1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_close(h), 0);
    CHECK_EQ(flm_reader_inject(h, FLM_FAULT_SHORT, 1), FLM_E_BAD_HANDLE);
    CHECK_EQ(flm_readers_open(), open_before);
}

int main(void)
{
    struct tu_file file;
    if (tu_file_create(&file, TU_FILE_SIZE) != 0)
        return 1;
    g_file = &file;
    int direct_ok = tu_direct_supported(&file);
    const int backends[] = {FLM_BACKEND_IO_URING, FLM_BACKEND_PREAD};
    for (int b = 0; b < 2; b++) {
        if (!tu_backend_enabled(backends[b]))
            continue;
        for (int direct = 0; direct <= direct_ok; direct++)
            run_config(backends[b], direct, 0x5eed + (uint64_t)(b * 2 + direct));
    }
    tu_file_remove(&file);
    return tu_finish("faults");
}
