/*
 * test_errors.c - every argument check, error code and error path of the ABI: bad
 * arguments are rejected before any I/O with the right request index, bad handles never
 * crash, and a read that fails mid-batch (the file shrank) leaves the reader usable.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static const struct tu_file *g_file;
static int g_uring_ok; /* FLM_TEST_BACKENDS may leave io_uring out (e.g. under valgrind) */

static void test_open_args(void)
{
    const char *p = g_file->path;
    int64_t h = 0;
    CHECK_EQ(flm_reader_open(NULL, 0, FLM_BACKEND_PREAD, 1, 1, &h), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 0, FLM_BACKEND_PREAD, 1, 1, NULL), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 2, FLM_BACKEND_PREAD, 1, 1, &h), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 0, -1, 1, 1, &h), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 0, 3, 1, 1, &h), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 0, FLM_BACKEND_IO_URING, 0, 1, &h), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 0, FLM_BACKEND_IO_URING, 4097, 1, &h), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 0, FLM_BACKEND_PREAD, 1, 0, &h), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_open(p, 0, FLM_BACKEND_PREAD, 1, 257, &h), FLM_E_BAD_ARG);

    char missing[700];
    snprintf(missing, sizeof missing, "%s/no-such-file", g_file->dir);
    CHECK_EQ(flm_reader_open(missing, 0, FLM_BACKEND_PREAD, 1, 1, &h), -ENOENT);
    CHECK_EQ(flm_reader_open(missing, FLM_OPEN_DIRECT, FLM_BACKEND_AUTO, 1, 1, &h), -ENOENT);
    CHECK_EQ(flm_reader_open(g_file->dir, 0, FLM_BACKEND_PREAD, 1, 1, &h), -EISDIR);

    /* The extremes of the ranges are accepted. */
    if (g_uring_ok) {
        CHECK_EQ(flm_reader_open(p, 0, FLM_BACKEND_IO_URING, 4096, 1, &h), 0);
        CHECK_EQ(flm_reader_close(h), 0);
    }
    CHECK_EQ(flm_reader_open(p, 0, FLM_BACKEND_PREAD, 1, 256, &h), 0);
    CHECK_EQ(flm_reader_close(h), 0);
}

/* Request i of a 3-request batch is replaced by (off, len, dest); expects rc at index i. */
static void expect_rejected(int64_t h, int i, int64_t off, int64_t len, int64_t dest, int rc)
{
    static unsigned char buf[3][4096];
    memset(buf, 0x5a, sizeof buf);
    int64_t offs[3] = {0, 4096, 8192}, lens[3] = {4096, 4096, 4096};
    int64_t dests[3] = {(int64_t)(uintptr_t)buf[0], (int64_t)(uintptr_t)buf[1],
                        (int64_t)(uintptr_t)buf[2]};
    offs[i] = off;
    lens[i] = len;
    dests[i] = dest;
    int64_t failed = 77;
    CHECK_EQ(flm_reader_read(h, 3, offs, lens, dests, &failed), rc);
    CHECK_EQ(failed, i);
    /* Validation happens before any I/O: no buffer was written. */
    for (int k = 0; k < 3; k++)
        CHECK_EQ(buf[k][0], 0x5a);
}

static void test_read_args(int backend, int flags)
{
    int64_t h;
    int rc = flm_reader_open(g_file->path, flags, backend, 4, 2, &h);
    CHECK_EQ(rc, 0);
    if (rc != 0)
        return;
    const int64_t size = g_file->size;
    int64_t some = (int64_t)(uintptr_t)malloc(64);
    expect_rejected(h, 2, size - 10, 20, some, FLM_E_PAST_EOF);
    expect_rejected(h, 1, size + 1, 0, some, FLM_E_PAST_EOF);
    expect_rejected(h, 0, INT64_MAX, INT64_MAX, some, FLM_E_PAST_EOF);
    expect_rejected(h, 1, 100, -1, some, FLM_E_BAD_ARG);
    expect_rejected(h, 0, -1, 10, some, FLM_E_BAD_ARG);
    expect_rejected(h, 2, 0, 10, 0, FLM_E_BAD_ARG);
    expect_rejected(h, 2, 0, 10, -4096, FLM_E_BAD_ARG);
    free((void *)(uintptr_t)some);

    int64_t off = 0, len = 1, dest = 0, failed = 5;
    unsigned char byte;
    dest = (int64_t)(uintptr_t)&byte;
    CHECK_EQ(flm_reader_read(h, 1, NULL, &len, &dest, &failed), FLM_E_BAD_ARG);
    CHECK_EQ(failed, -1);
    CHECK_EQ(flm_reader_read(h, 1, &off, NULL, &dest, &failed), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_read(h, 1, &off, &len, NULL, &failed), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_read(h, -1, &off, &len, &dest, &failed), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_read(h, (1 << 24) + 1, &off, &len, &dest, &failed), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_read(h, 1, &off, &len, &dest, NULL), 0); /* out_failed is optional */
    CHECK_EQ(byte, g_file->data[0]);
    CHECK_EQ(flm_reader_close(h), 0);
}

static void test_handles(void)
{
    int64_t h, info[FLM_INFO_COUNT], off = 0, len = 1, dest, failed;
    unsigned char byte;
    dest = (int64_t)(uintptr_t)&byte;
    const int64_t garbage[] = {0, -1, 1, 12345, INT64_MAX, INT64_MIN, 0xffff, 1 << 16};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        CHECK_EQ(flm_reader_read(garbage[i], 1, &off, &len, &dest, &failed), FLM_E_BAD_HANDLE);
        CHECK_EQ(failed, -1);
        CHECK_EQ(flm_reader_info(garbage[i], info, FLM_INFO_COUNT), FLM_E_BAD_HANDLE);
        CHECK_EQ(flm_reader_close(garbage[i]), FLM_E_BAD_HANDLE);
    }

    CHECK_EQ(flm_reader_open(g_file->path, 0, g_uring_ok ? FLM_BACKEND_AUTO : FLM_BACKEND_PREAD,
                             2, 2, &h), 0);
    CHECK(h > 0);
    CHECK_EQ(flm_reader_read(h + (1 << 16), 1, &off, &len, &dest, &failed), FLM_E_BAD_HANDLE);
    CHECK_EQ(flm_reader_read(h, 1, &off, &len, &dest, &failed), 0);
    CHECK_EQ(flm_reader_close(h), 0);
    CHECK_EQ(flm_reader_read(h, 1, &off, &len, &dest, &failed), FLM_E_BAD_HANDLE);
    CHECK_EQ(flm_reader_info(h, info, FLM_INFO_COUNT), FLM_E_BAD_HANDLE);
    CHECK_EQ(flm_reader_close(h), FLM_E_BAD_HANDLE); /* double close */

    /* The slot is reused, but the old handle stays dead. */
    int64_t h2;
    CHECK_EQ(flm_reader_open(g_file->path, 0, FLM_BACKEND_PREAD, 1, 1, &h2), 0);
    CHECK(h2 != h);
    CHECK_EQ(flm_reader_read(h, 1, &off, &len, &dest, &failed), FLM_E_BAD_HANDLE);
    CHECK_EQ(flm_reader_close(h), FLM_E_BAD_HANDLE);
    CHECK_EQ(flm_reader_read(h2, 1, &off, &len, &dest, &failed), 0);
    CHECK_EQ(flm_reader_close(h2), 0);
}

static void test_info_args(void)
{
    int64_t h, info[FLM_INFO_COUNT + 2];
    CHECK_EQ(flm_reader_open(g_file->path, 0, FLM_BACKEND_PREAD, 3, 2, &h), 0);
    for (int i = 0; i < FLM_INFO_COUNT + 2; i++)
        info[i] = -7;
    CHECK_EQ(flm_reader_info(h, info, 2), 0);
    CHECK_EQ(info[0], g_file->size);
    CHECK_EQ(info[1], FLM_BACKEND_PREAD);
    CHECK_EQ(info[2], -7); /* only n values are written */
    CHECK_EQ(flm_reader_info(h, info, FLM_INFO_COUNT + 2), 0);
    CHECK_EQ(info[FLM_INFO_COUNT], -7);
    CHECK_EQ(flm_reader_info(h, NULL, 0), 0);
    CHECK_EQ(flm_reader_info(h, NULL, 1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_info(h, info, -1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_reader_close(h), 0);
}

static void test_strerror(void)
{
    char buf[256];
    const int codes[] = {FLM_E_BAD_ARG,     FLM_E_BAD_HANDLE, FLM_E_PAST_EOF, FLM_E_NO_IO_URING,
                         FLM_E_NO_DIRECT,   FLM_E_NO_MEMORY,  FLM_E_TOO_MANY, 0,
                         -ENOENT, -EIO, -EINVAL, -100099, 12345, -99999999};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int n = flm_strerror(codes[i], buf, sizeof buf);
        CHECK(n > 0);
        CHECK_EQ((int)strlen(buf), n);
    }
    flm_strerror(FLM_E_PAST_EOF, buf, sizeof buf);
    CHECK(strcmp(buf, "read extends past the end of the file") == 0);
    flm_strerror(-ENOENT, buf, sizeof buf);
    CHECK(strcmp(buf, strerror(ENOENT)) == 0);
    flm_strerror(0, buf, sizeof buf);
    CHECK(strcmp(buf, "success") == 0);
    /* Distinct codes, distinct texts. */
    char other[256];
    flm_strerror(FLM_E_BAD_ARG, buf, sizeof buf);
    flm_strerror(FLM_E_BAD_HANDLE, other, sizeof other);
    CHECK(strcmp(buf, other) != 0);

    CHECK_EQ(flm_strerror(FLM_E_PAST_EOF, buf, 5), 4); /* truncated, still terminated */
    CHECK(strcmp(buf, "read") == 0);
    CHECK_EQ(flm_strerror(FLM_E_PAST_EOF, buf, 1), 0);
    CHECK_EQ(buf[0], '\0');
    CHECK_EQ(flm_strerror(FLM_E_PAST_EOF, buf, 0), FLM_E_BAD_ARG);
    CHECK_EQ(flm_strerror(FLM_E_PAST_EOF, NULL, 10), FLM_E_BAD_ARG);
    CHECK_EQ(flm_abi_version(), FLM_ABI_VERSION);
}

/*
 * The file shrinks under an open reader, so reads fail in the backend (not in validation)
 * while others are in flight. The error names a request past the new end, and the reader
 * works again once the file is restored.
 */
static void test_failure_mid_batch(int backend, int flags, int depth)
{
    const int64_t size = g_file->size, cut = 3 * 1024 * 1024 + 77;
    int64_t h;
    int rc = flm_reader_open(g_file->path, flags, backend, depth, 4, &h);
    CHECK_EQ(rc, 0);
    if (rc != 0)
        return;
    enum { N = 64, STRIDE = 65536 + 4096 };
    int64_t offs[N], lens[N], dests[N], failed = -5;
    unsigned char *arena = aligned_alloc(4096, (size_t)N * STRIDE);
    for (int i = 0; i < N; i++) {
        offs[i] = (int64_t)i * (size / N) + (i % 3) * 100;
        lens[i] = 65536 - (i % 2) * 1000;
        dests[i] = (int64_t)(uintptr_t)(arena + (size_t)i * STRIDE + (i % 5));
    }
    CHECK_EQ(truncate(g_file->path, cut), 0);
    CHECK_EQ(flm_reader_read(h, N, offs, lens, dests, &failed), FLM_E_PAST_EOF);
    CHECK(failed >= 0 && failed < N && offs[failed] + lens[failed] > cut);

    /* Restore the file and read everything again through the same reader. */
    int fd = open(g_file->path, O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ(pwrite(fd, g_file->data + cut, (size_t)(size - cut), cut), size - cut);
    fsync(fd);
    close(fd);
    CHECK_EQ(flm_reader_read(h, N, offs, lens, dests, &failed), 0);
    for (int i = 0; i < N; i++)
        CHECK(memcmp((void *)(uintptr_t)dests[i], g_file->data + offs[i], (size_t)lens[i]) == 0);
    CHECK_EQ(flm_reader_close(h), 0);
    free(arena);
}

int main(void)
{
    struct tu_file file;
    if (tu_file_create(&file, TU_FILE_SIZE) != 0)
        return 1;
    g_file = &file;
    int direct_ok = tu_direct_supported(&file);
    g_uring_ok = tu_backend_enabled(FLM_BACKEND_IO_URING);

    test_open_args();
    test_handles();
    test_info_args();
    test_strerror();
    for (int flags = 0; flags <= (direct_ok ? FLM_OPEN_DIRECT : 0); flags++) {
        if (g_uring_ok) {
            test_read_args(FLM_BACKEND_IO_URING, flags);
            test_failure_mid_batch(FLM_BACKEND_IO_URING, flags, 1);
            test_failure_mid_batch(FLM_BACKEND_IO_URING, flags, 16);
        }
        test_read_args(FLM_BACKEND_PREAD, flags);
        test_failure_mid_batch(FLM_BACKEND_PREAD, flags, 1);
    }
    tu_file_remove(&file);
    return tu_finish("errors");
}
