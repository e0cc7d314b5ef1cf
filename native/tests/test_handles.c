/*
 * test_handles.c - the handle table under pressure: many threads on one handle (calls are
 * serialized), threads on their own handles (run in parallel), a close racing with reads,
 * and a full table.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test_util.h"

static const struct tu_file *g_file;

struct worker {
    int64_t handle;
    uint64_t seed;
    int rounds;
    int errors;        /* wrong data or unexpected codes */
    int bad_handle;    /* reads answered FLM_E_BAD_HANDLE (the close race) */
    atomic_int *stop;  /* NULL: run all rounds */
};

/* Reads 16 random (unaligned) requests per round and checks them byte for byte. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    enum { N = 16, MAX = 70000 };
    int64_t offs[N], lens[N], dests[N], failed;
    unsigned char *arena = malloc((size_t)N * (MAX + 16));
    uint64_t rng = w->seed;
    for (int r = 0; r < w->rounds; r++) {
        if (w->stop != NULL && atomic_load(w->stop))
            break;
        for (int i = 0; i < N; i++) {
            lens[i] = tu_rand_range(&rng, 0, MAX);
            offs[i] = tu_rand_range(&rng, 0, g_file->size - lens[i]);
            dests[i] = (int64_t)(uintptr_t)(arena + (size_t)i * (MAX + 16) + (size_t)(i % 16));
        }
        int rc = flm_reader_read(w->handle, N, offs, lens, dests, &failed);
        if (rc == FLM_E_BAD_HANDLE) {
            w->bad_handle++;
            continue;
        }
        if (rc != 0) {
            w->errors++;
            continue;
        }
        for (int i = 0; i < N; i++)
            if (memcmp((void *)(uintptr_t)dests[i], g_file->data + offs[i], (size_t)lens[i]) != 0)
                w->errors++;
    }
    free(arena);
    return NULL;
}

static int64_t open_reader(int backend, int flags)
{
    int64_t h = 0;
    CHECK_EQ(flm_reader_open(g_file->path, flags, backend, 8, 3, &h), 0);
    return h;
}

/* Four threads share one handle, two more use their own. */
static void test_shared_and_private(int backend, int flags)
{
    enum { SHARED = 4, PRIVATE = 2 };
    int64_t shared = open_reader(backend, flags);
    struct worker w[SHARED + PRIVATE];
    pthread_t t[SHARED + PRIVATE];
    for (int i = 0; i < SHARED + PRIVATE; i++) {
        w[i] = (struct worker){.handle = i < SHARED ? shared : open_reader(backend, flags),
                               .seed = 100 + (uint64_t)i, .rounds = 25};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < SHARED + PRIVATE; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].errors, 0);
        CHECK_EQ(w[i].bad_handle, 0);
        if (i >= SHARED)
            CHECK_EQ(flm_reader_close(w[i].handle), 0);
    }
    CHECK_EQ(flm_reader_close(shared), 0);
}

/* Closing while other threads read: they get FLM_E_BAD_HANDLE afterwards, nothing worse. */
static void test_close_race(int backend, int flags)
{
    enum { THREADS = 3 };
    atomic_int stop;
    atomic_init(&stop, 0);
    int64_t h = open_reader(backend, flags);
    struct worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.handle = h, .seed = 200 + (uint64_t)i, .rounds = 400,
                               .stop = &stop};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    usleep(20000);
    CHECK_EQ(flm_reader_close(h), 0);
    usleep(5000);
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(w[i].errors, 0);
    }
    CHECK_EQ(flm_reader_close(h), FLM_E_BAD_HANDLE);
}

/* Opens readers until the table is full; a close makes room again. */
static void test_table_full(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 5000) {
        printf("RLIMIT_NOFILE %llu too low: full-table test skipped\n",
               (unsigned long long)rl.rlim_cur);
        return;
    }
    enum { MAX_TRY = 4500 };
    int64_t *h = calloc(MAX_TRY, sizeof *h);
    int n = 0, rc = 0;
    while (n < MAX_TRY && (rc = flm_reader_open(g_file->path, 0, FLM_BACKEND_PREAD, 1, 1, &h[n])) == 0)
        n++;
    CHECK_EQ(rc, FLM_E_TOO_MANY);
    CHECK(n >= 64);
    printf("table holds %d readers\n", n);
    if (n > 0) {
        CHECK_EQ(flm_reader_close(h[n / 2]), 0);
        CHECK_EQ(flm_reader_open(g_file->path, 0, FLM_BACKEND_PREAD, 1, 1, &h[n / 2]), 0);
    }
    for (int i = 0; i < n; i++)
        CHECK_EQ(flm_reader_close(h[i]), 0);
    free(h);
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
        for (int flags = 0; flags <= (direct_ok ? FLM_OPEN_DIRECT : 0); flags++) {
            test_shared_and_private(backends[b], flags);
            test_close_race(backends[b], flags);
        }
    }
    test_table_full();
    tu_file_remove(&file);
    return tu_finish("handles");
}
