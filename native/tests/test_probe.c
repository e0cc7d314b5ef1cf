/*
 * test_probe.c - flm_probe returns coherent figures on both backends and rejects bad
 * arguments. Nothing here asserts on speed: the machine may be slow or busy.
 */
#include <errno.h>
#include <string.h>

#include "test_util.h"

#define MS 1000000LL

static const struct tu_file *g_file;

static void check_figures(const int64_t *out, int64_t chunk, const char *what)
{
    printf("  %s: ios %lld, p50 %lld ns, p99 %lld ns, mean %lld ns, max %lld ns\n", what,
           (long long)out[FLM_PROBE_IOS], (long long)out[FLM_PROBE_P50_NS],
           (long long)out[FLM_PROBE_P99_NS], (long long)out[FLM_PROBE_MEAN_NS],
           (long long)out[FLM_PROBE_MAX_NS]);
    CHECK_EQ(out[FLM_PROBE_BYTES], out[FLM_PROBE_IOS] * chunk);
    CHECK(out[FLM_PROBE_ELAPSED_NS] > 0);
    /* A timed run on a stalled device may finish no read: nothing more to check then. */
    if (out[FLM_PROBE_IOS] == 0)
        return;
    CHECK(out[FLM_PROBE_P50_NS] > 0);
    CHECK(out[FLM_PROBE_P50_NS] <= out[FLM_PROBE_P99_NS]);
    CHECK(out[FLM_PROBE_P99_NS] <= out[FLM_PROBE_MAX_NS]);
    CHECK(out[FLM_PROBE_MEAN_NS] > 0 && out[FLM_PROBE_MEAN_NS] <= out[FLM_PROBE_MAX_NS]);
}

static void test_backend(int backend, int flags)
{
    char what[64];
    snprintf(what, sizeof what, "%s flags=%d", tu_backend_name(backend), flags);
    int64_t out[FLM_PROBE_COUNT];
    memset(out, 0, sizeof out);
    int rc = flm_probe(g_file->path, flags, backend, 4096, 4, g_file->size, 50 * MS, 0, 7, out,
                       FLM_PROBE_COUNT);
    CHECK_EQ(rc, 0);
    if (rc == 0) {
        check_figures(out, 4096, what);
        CHECK_EQ(out[FLM_PROBE_ELAPSED_NS], 50 * MS);
    }

    /* Bounded by count instead of time. */
    memset(out, 0, sizeof out);
    rc = flm_probe(g_file->path, flags, backend, 8192, 3, 1 << 20, 0, 100, 8, out,
                   FLM_PROBE_COUNT);
    CHECK_EQ(rc, 0);
    if (rc == 0) {
        check_figures(out, 8192, what);
        CHECK_EQ(out[FLM_PROBE_IOS], 100);
    }
}

static void test_args(int flags)
{
    const char *p = g_file->path;
    const int64_t size = g_file->size;
    int64_t out[FLM_PROBE_COUNT + 1];
    CHECK_EQ(flm_probe(NULL, flags, 0, 4096, 1, size, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, 4, 0, 4096, 1, size, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 5, 4096, 1, size, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 0, 1, size, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 0, size, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 4097, size, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 1, 0, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 1, 100, MS, 0, 1, out, 7), FLM_E_BAD_ARG); /* span < chunk */
    CHECK_EQ(flm_probe(p, flags, 0, size + 4096, 1, size, MS, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 1, size, 0, 0, 1, out, 7), FLM_E_BAD_ARG); /* no end */
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 1, size, -1, 0, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 1, size, MS, -1, 1, out, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 1, size, MS, 0, 1, NULL, 7), FLM_E_BAD_ARG);
    CHECK_EQ(flm_probe(p, flags, 0, 4096, 1, size, MS, 0, 1, out, -1), FLM_E_BAD_ARG);

    char missing[700];
    snprintf(missing, sizeof missing, "%s/missing", g_file->dir);
    CHECK_EQ(flm_probe(missing, flags, 0, 4096, 1, size, MS, 0, 1, out, 7), -ENOENT);

    /* Only n values are written. */
    for (int i = 0; i <= FLM_PROBE_COUNT; i++)
        out[i] = -3;
    int backend = tu_backend_enabled(FLM_BACKEND_IO_URING) ? FLM_BACKEND_AUTO : FLM_BACKEND_PREAD;
    CHECK_EQ(flm_probe(p, flags, backend, 4096, 2, size, 0, 10, 1, out, 2), 0);
    CHECK_EQ(out[FLM_PROBE_IOS], 10);
    CHECK_EQ(out[2], -3);
    CHECK_EQ(flm_probe(p, flags, backend, 4096, 2, size, 0, 10, 1, out, FLM_PROBE_COUNT + 1), 0);
    CHECK_EQ(out[FLM_PROBE_COUNT], -3);
    CHECK_EQ(flm_probe(p, flags, backend, 4096, 2, size, 0, 10, 1, NULL, 0), 0);
}

int main(void)
{
    struct tu_file file;
    if (tu_file_create(&file, TU_FILE_SIZE) != 0)
        return 1;
    g_file = &file;
    int direct_ok = tu_direct_supported(&file);
    for (int flags = 0; flags <= (direct_ok ? FLM_OPEN_DIRECT : 0); flags++) {
        if (tu_backend_enabled(FLM_BACKEND_IO_URING))
            test_backend(FLM_BACKEND_IO_URING, flags);
        test_backend(FLM_BACKEND_PREAD, flags);
        test_args(flags);
    }
    if (direct_ok) {
        /* O_DIRECT reads must be whole blocks; buffered ones need not be. */
        int64_t out[FLM_PROBE_COUNT];
        CHECK_EQ(flm_probe(file.path, FLM_OPEN_DIRECT, FLM_BACKEND_PREAD, 1000, 1, file.size,
                           0, 10, 1, out, FLM_PROBE_COUNT), FLM_E_BAD_ARG);
        CHECK_EQ(flm_probe(file.path, 0, FLM_BACKEND_PREAD, 1000, 1, file.size, 0, 10, 1, out,
                           FLM_PROBE_COUNT), 0);
    }
    tu_file_remove(&file);
    return tu_finish("probe");
}
