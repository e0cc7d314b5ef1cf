/*
 * test_reader.c - flm_reader_read returns exactly the bytes plain pread sees, for every
 * backend, O_DIRECT on and off, several queue depths and thread counts, and batches of
 * aligned, unaligned, EOF-touching and slot-splitting requests. Every destination region
 * is surrounded by guard bytes that must survive untouched.
 */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define GUARD 0xA5
#define ARENA_BUDGET (24 * 1024 * 1024)
#define MAX_LEN (600 * 1024)

struct config {
    int backend;
    int direct;
    int queue_depth;
    int threads;
};

struct batch {
    int count;
    int64_t *offsets, *lengths, *dests;
    unsigned char *arena, *expected;
    int64_t arena_size;
};

static const struct tu_file *g_file;

/* One random request of a randomly chosen kind; dest is filled in later. */
static void pick_request(uint64_t *rng, int64_t max_len, int64_t *off, int64_t *len,
                         int64_t *misalign)
{
    int64_t size = g_file->size;
    int kind = (int)tu_rand_range(rng, 0, 5);
    *len = tu_rand_range(rng, 0, max_len);
    *off = tu_rand_range(rng, 0, size - *len);
    *misalign = tu_rand_range(rng, 0, 4095);
    switch (kind) {
    case 0: /* aligned offset, length and address */
        *len -= *len % 4096;
        *off -= *off % 4096;
        *misalign = 0;
        break;
    case 1: /* ends exactly at EOF (inside the partial last block) */
        *off = size - *len;
        break;
    case 2: /* starts and ends inside the last, partial block region */
        *off = size - tu_rand_range(rng, 1, 700);
        *len = tu_rand_range(rng, 0, size - *off);
        break;
    case 3: /* address congruent with the offset: aligned middle, bounced head and tail */
        *misalign = *off % 4096;
        break;
    case 4: /* tiny */
        *len = tu_rand_range(rng, 0, 16);
        *off = tu_rand_range(rng, 0, size - *len);
        break;
    default: /* anything */
        break;
    }
}

static void batch_init(struct batch *b, int count)
{
    memset(b, 0, sizeof *b);
    b->count = count;
    b->offsets = calloc((size_t)count, sizeof(int64_t));
    b->lengths = calloc((size_t)count, sizeof(int64_t));
    b->dests = calloc((size_t)count, sizeof(int64_t));
}

/* Places request i at misalign[i] past a page boundary in the arena, with guard bytes
 * in between, and records the bytes expected there. */
static void batch_layout(struct batch *b, const int64_t *misalign)
{
    for (int i = 0; i < b->count; i++)
        b->arena_size += b->lengths[i] + 8192;
    b->arena_size = (b->arena_size + 4095) / 4096 * 4096; /* aligned_alloc wants a multiple */
    b->arena = aligned_alloc(4096, (size_t)b->arena_size);
    b->expected = malloc((size_t)b->arena_size);
    memset(b->arena, GUARD, (size_t)b->arena_size);
    memset(b->expected, GUARD, (size_t)b->arena_size);
    int64_t at = 0;
    for (int i = 0; i < b->count; i++) {
        int64_t start = at + misalign[i];
        b->dests[i] = (int64_t)(uintptr_t)(b->arena + start);
        memcpy(b->expected + start, g_file->data + b->offsets[i], (size_t)b->lengths[i]);
        at = (start + b->lengths[i] + 64 + 4095) / 4096 * 4096;
    }
}

static void batch_random(struct batch *b, uint64_t *rng, int count)
{
    int64_t max_len = ARENA_BUDGET / count < MAX_LEN ? ARENA_BUDGET / count : MAX_LEN;
    int64_t *misalign = calloc((size_t)count, sizeof *misalign);
    batch_init(b, count);
    for (int i = 0; i < count; i++)
        pick_request(rng, max_len, &b->offsets[i], &b->lengths[i], &misalign[i]);
    batch_layout(b, misalign);
    free(misalign);
}

static void batch_free(struct batch *b)
{
    free(b->offsets);
    free(b->lengths);
    free(b->dests);
    free(b->arena);
    free(b->expected);
}

static void batch_verify(const struct batch *b, const char *what)
{
    if (memcmp(b->arena, b->expected, (size_t)b->arena_size) == 0)
        return;
    for (int64_t i = 0; i < b->arena_size; i++) {
        if (b->arena[i] != b->expected[i]) {
            fprintf(stderr, "%s: first wrong byte at arena offset %lld\n", what, (long long)i);
            break;
        }
    }
    CHECK(!"data mismatch");
}

static void run_batch(int64_t h, struct batch *b, const char *what)
{
    int64_t failed = 12345;
    int rc = flm_reader_read(h, b->count, b->offsets, b->lengths, b->dests, &failed);
    CHECK_EQ(rc, 0);
    CHECK_EQ(failed, -1);
    if (rc == 0)
        batch_verify(b, what);
}

/* Fixed cases around EOF, whole-file reads and pieces larger than any slot. */
static void run_edge_cases(int64_t h, const char *what)
{
    const int64_t size = g_file->size;
    const int64_t cases[][3] = {
        /* offset, length, misalignment of dest */
        {0, size, 0}, {0, size, 1}, {size - 123, 123, 0}, {size - 1, 1, 7},
        {size - 519, 519, 0}, {size - 3 * 4096 - 5, 3 * 4096 + 5, 5}, {size, 0, 0},
        {size - 200, 100, 0}, {size - MAX_LEN - 3, MAX_LEN, 3}, {4095, 2, 4095},
        {1000, 1 << 20, 1000}, {4096, 1 << 20, 0}, {12345, 3 << 20, 100},
    };
    const int n = (int)(sizeof cases / sizeof cases[0]);
    int64_t misalign[sizeof cases / sizeof cases[0]];
    struct batch b;
    batch_init(&b, n);
    for (int i = 0; i < n; i++) {
        b.offsets[i] = cases[i][0];
        b.lengths[i] = cases[i][1];
        misalign[i] = cases[i][2];
    }
    batch_layout(&b, misalign);
    run_batch(h, &b, what);
    /* And each one alone, so single-request paths are covered too. */
    for (int i = 0; i < n; i++) {
        int64_t failed;
        CHECK_EQ(flm_reader_read(h, 1, &b.offsets[i], &b.lengths[i], &b.dests[i], &failed), 0);
    }
    batch_verify(&b, what);

    /* A zero-length request may have a null destination. */
    int64_t off = 0, len = 0, dest = 0;
    CHECK_EQ(flm_reader_read(h, 1, &off, &len, &dest, NULL), 0);
    CHECK_EQ(flm_reader_read(h, 0, NULL, NULL, NULL, NULL), 0);
    batch_free(&b);
}

static void check_info(int64_t h, const struct config *c)
{
    int64_t info[FLM_INFO_COUNT];
    CHECK_EQ(flm_reader_info(h, info, FLM_INFO_COUNT), 0);
    CHECK_EQ(info[FLM_INFO_FILE_SIZE], g_file->size);
    CHECK_EQ(info[FLM_INFO_BACKEND], c->backend);
    CHECK_EQ(info[FLM_INFO_QUEUE_DEPTH], c->queue_depth);
    CHECK_EQ(info[FLM_INFO_THREADS], c->threads);
    CHECK_EQ(info[FLM_INFO_DIRECT], c->direct);
    if (c->direct) {
        int64_t bs = info[FLM_INFO_BLOCK_SIZE];
        CHECK(bs >= 512 && (bs & (bs - 1)) == 0);
    } else {
        CHECK_EQ(info[FLM_INFO_BLOCK_SIZE], 1);
    }
    if (c->backend == FLM_BACKEND_PREAD) {
        CHECK_EQ(info[FLM_INFO_REGISTERED_FILE], 0);
        CHECK_EQ(info[FLM_INFO_REGISTERED_BUFS], 0);
    }
}

static void run_config(const struct config *c, uint64_t seed)
{
    char what[128];
    snprintf(what, sizeof what, "%s direct=%d qd=%d threads=%d", tu_backend_name(c->backend),
             c->direct, c->queue_depth, c->threads);
    int64_t h = 0;
    int rc = flm_reader_open(g_file->path, c->direct ? FLM_OPEN_DIRECT : 0, c->backend,
                             c->queue_depth, c->threads, &h);
    CHECK_EQ(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "%s: open failed\n", what);
        return;
    }
    check_info(h, c);
    run_edge_cases(h, what);

    static const int sizes[] = {1, 7, 64, 1024};
    static const int rounds[] = {24, 12, 4, 2};
    uint64_t rng = seed;
    for (int s = 0; s < 4; s++) {
        for (int r = 0; r < rounds[s]; r++) {
            struct batch b;
            batch_random(&b, &rng, sizes[s]);
            run_batch(h, &b, what);
            batch_free(&b);
        }
    }
    if (c->direct && c->backend == FLM_BACKEND_IO_URING) {
        int64_t info[FLM_INFO_COUNT];
        flm_reader_info(h, info, FLM_INFO_COUNT);
        printf("  %s: block %lld, registered file %lld, registered buffers %lld\n", what,
               (long long)info[FLM_INFO_BLOCK_SIZE], (long long)info[FLM_INFO_REGISTERED_FILE],
               (long long)info[FLM_INFO_REGISTERED_BUFS]);
    }
    CHECK_EQ(flm_reader_close(h), 0);
    printf("  %s: done\n", what);
}

int main(void)
{
    struct tu_file file;
    if (tu_file_create(&file, TU_FILE_SIZE) != 0)
        return 1;
    g_file = &file;
    int direct_ok = tu_direct_supported(&file);

    const struct config configs[] = {
        {FLM_BACKEND_IO_URING, 0, 1, 1},  {FLM_BACKEND_IO_URING, 0, 32, 1},
        {FLM_BACKEND_IO_URING, 1, 1, 1},  {FLM_BACKEND_IO_URING, 1, 32, 1},
        {FLM_BACKEND_PREAD, 0, 32, 1},    {FLM_BACKEND_PREAD, 0, 32, 4},
        {FLM_BACKEND_PREAD, 1, 32, 1},    {FLM_BACKEND_PREAD, 1, 32, 4},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        if ((configs[i].direct && !direct_ok) || !tu_backend_enabled(configs[i].backend))
            continue;
        run_config(&configs[i], 1000 + i);
    }

    /* AUTO resolves to a real backend (it may pick io_uring). */
    if (tu_backend_enabled(FLM_BACKEND_IO_URING)) {
        int64_t h, info[FLM_INFO_COUNT];
        CHECK_EQ(flm_reader_open(file.path, 0, FLM_BACKEND_AUTO, 8, 2, &h), 0);
        CHECK_EQ(flm_reader_info(h, info, FLM_INFO_COUNT), 0);
        CHECK(info[FLM_INFO_BACKEND] == FLM_BACKEND_IO_URING
              || info[FLM_INFO_BACKEND] == FLM_BACKEND_PREAD);
        CHECK_EQ(flm_reader_close(h), 0);
    }

    tu_file_remove(&file);
    return tu_finish("reader");
}
