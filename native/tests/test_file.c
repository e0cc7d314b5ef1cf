/*
 * test_file.c - the generated test file (see test_util.h).
 */
#define _GNU_SOURCE

#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char tu_pattern(int64_t i)
{
    /* Differs between neighbouring bytes and between blocks, so misplaced data shows. */
    uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
    return (unsigned char)((x >> 56) ^ (uint64_t)(i >> 12));
}

static int tu_write_pattern(const char *path, int64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    unsigned char buf[65536];
    int rc = 0;
    for (int64_t pos = 0; pos < size && rc == 0;) {
        int64_t n = size - pos < (int64_t)sizeof buf ? size - pos : (int64_t)sizeof buf;
        for (int64_t i = 0; i < n; i++)
            buf[i] = tu_pattern(pos + i);
        if (write(fd, buf, (size_t)n) != (ssize_t)n)
            rc = -EIO;
        pos += n;
    }
    if (fsync(fd) != 0 && rc == 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* The reference copy comes from plain buffered pread, independent of libflashlm. */
static int tu_read_back(struct tu_file *f)
{
    f->data = malloc((size_t)f->size + 1);
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (f->data == NULL || fd < 0)
        return -1;
    int64_t done = 0;
    while (done < f->size) {
        ssize_t n = pread(fd, f->data + done, (size_t)(f->size - done), done);
        if (n <= 0)
            break;
        done += n;
    }
    close(fd);
    return done == f->size ? 0 : -1;
}

int tu_file_create(struct tu_file *f, int64_t size)
{
    memset(f, 0, sizeof *f);
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/var/tmp";
    snprintf(f->dir, sizeof f->dir, "%s/flm-test-XXXXXX", base);
    if (mkdtemp(f->dir) == NULL) {
        fprintf(stderr, "mkdtemp(%s): %s\n", f->dir, strerror(errno));
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/model.bin", f->dir);
    f->size = size;
    if (tu_write_pattern(f->path, size) != 0 || tu_read_back(f) != 0) {
        fprintf(stderr, "cannot create test file %s\n", f->path);
        tu_file_remove(f);
        return -1;
    }
    return 0;
}

void tu_file_remove(struct tu_file *f)
{
    free(f->data);
    f->data = NULL;
    if (f->path[0] != '\0')
        unlink(f->path);
    if (f->dir[0] != '\0')
        rmdir(f->dir);
}

int tu_direct_supported(const struct tu_file *f)
{
    int64_t h;
    int rc = flm_reader_open(f->path, FLM_OPEN_DIRECT, FLM_BACKEND_PREAD, 1, 1, &h);
    if (rc == 0)
        flm_reader_close(h);
    else
        printf("O_DIRECT unavailable on %s (%d): direct cases skipped\n", f->dir, rc);
    return rc == 0;
}
