/*
 * dio.c - the O_DIRECT alignment of a file's device (issue 11: records stored back to back or
 * padded to the device's alignment, and the reader widening reads to it).
 *
 * Sources, best first:
 *  1. statx(STATX_DIOALIGN) (Linux 6.1): the filesystem's own answer, max(offset, memory) alignment;
 *  2. the logical block size of the block device under the file, from sysfs (the value BLKSSZGET
 *     returns, readable without opening the device): what ext4 and XFS demand of O_DIRECT;
 *  3. st_blksize, the filesystem's preferred I/O size (a multiple of 2 on the filesystems we know);
 *  4. 512, the smallest sector.
 */
#define _GNU_SOURCE /* statx, O_TMPFILE */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* glibc before 2.37 may lack the constant and the fields; they are the kernel's ABI (uapi
 * linux/stat.h): the mask bit, and two u32 at byte 0x98 (memory) and 0x9c (offset) of struct statx. */
#ifdef STATX_DIOALIGN
#define FLM_STATX_DIOALIGN STATX_DIOALIGN
#else
#define FLM_STATX_DIOALIGN 0x00002000U
#endif
#define FLM_STATX_DIO_MEM_OFF    0x98
#define FLM_STATX_DIO_OFFSET_OFF 0x9c

#define FLM_DIO_MAX (1 << 20)

static int flm_pow2_in(int64_t v, int64_t lo, int64_t hi)
{
    return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

/* 1 and the two alignments when statx knows them; 0 when it does not (old kernel or filesystem). */
static int flm_statx_dio(int fd, uint32_t *mem, uint32_t *offset)
{
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    if (statx(fd, "", AT_EMPTY_PATH, FLM_STATX_DIOALIGN, &sx) != 0 || !(sx.stx_mask & FLM_STATX_DIOALIGN))
        return 0;
    _Static_assert(sizeof(struct statx) >= FLM_STATX_DIO_OFFSET_OFF + 4, "struct statx is the kernel's 256 bytes");
    memcpy(mem, (const char *)&sx + FLM_STATX_DIO_MEM_OFF, sizeof *mem);
    memcpy(offset, (const char *)&sx + FLM_STATX_DIO_OFFSET_OFF, sizeof *offset);
    return 1;
}

static int64_t flm_read_sysfs_int(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    long long v = 0;
    if (fscanf(f, "%lld", &v) != 1)
        v = 0;
    fclose(f);
    return (int64_t)v;
}

/* A queue attribute (logical_block_size, physical_block_size) of the device st_dev names: the disk's
 * queue, or for a partition its parent's (a partition has no queue directory of its own). 0 when
 * unknown (tmpfs, NFS, overlay). */
static int64_t flm_queue_attr(dev_t dev, const char *name)
{
    char path[160];
    unsigned maj = major(dev), min = minor(dev);
    snprintf(path, sizeof path, "/sys/dev/block/%u:%u/queue/%s", maj, min, name);
    int64_t v = flm_read_sysfs_int(path);
    if (v == 0) {
        snprintf(path, sizeof path, "/sys/dev/block/%u:%u/../queue/%s", maj, min, name);
        v = flm_read_sysfs_int(path);
    }
    return v;
}

/* The device's physical block: the unit it transfers whatever part of it is asked for (reads
 * touching fewer of them are faster; docs/benchmarks.md). 0 when unknown. */
static int64_t flm_physical_block_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0;
    int64_t v = flm_queue_attr(st.st_dev, "physical_block_size");
    return flm_pow2_in(v, 512, FLM_DIO_MAX) ? v : 0;
}

int flm_dio_alignment_fd(int fd, int flags, int64_t *align, int *source)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    uint32_t mem = 0, offset = 0;
    if (!(flags & FLM_DIO_NO_STATX) && flm_statx_dio(fd, &mem, &offset)) {
        if (offset == 0)
            return FLM_E_NO_DIRECT; /* the filesystem says this file cannot do direct I/O */
        int64_t a = offset > mem ? offset : mem;
        if (flm_pow2_in(a, 1, FLM_DIO_MAX)) {
            *align = a;
            *source = FLM_DIO_SOURCE_STATX;
            return 0;
        }
    }
    int64_t logical = flm_queue_attr(st.st_dev, "logical_block_size");
    if (flm_pow2_in(logical, 512, FLM_DIO_MAX)) {
        *align = logical;
        *source = FLM_DIO_SOURCE_LOGICAL_BLOCK;
    } else if (flm_pow2_in(st.st_blksize, 512, FLM_DIO_MAX)) {
        *align = st.st_blksize;
        *source = FLM_DIO_SOURCE_BLKSIZE;
    } else {
        *align = 512;
        *source = FLM_DIO_SOURCE_DEFAULT;
    }
    return 0;
}

FLM_EXPORT int flm_dio_alignment(const char *path, int flags, int64_t *out, int n)
{
    if (path == NULL || (flags & ~FLM_DIO_NO_STATX) != 0 || n < 0 || (n > 0 && out == NULL))
        return FLM_E_BAD_ARG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    if (S_ISDIR(st.st_mode)) {
        /* A directory has no direct-I/O alignment of its own (ext4 reports it for regular files
         * only): ask an unnamed file in it, which vanishes on close. Refused (read-only, no
         * O_TMPFILE support), the directory itself answers through the fallbacks. */
        int tmp = open(path, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (tmp >= 0) {
            close(fd);
            fd = tmp;
        }
    }
    int64_t align = 0;
    int source = 0;
    int rc = flm_dio_alignment_fd(fd, flags, &align, &source);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    const int64_t values[3] = {align, source, flm_physical_block_fd(fd)};
    close(fd);
    for (int i = 0; i < n && i < 3; i++)
        out[i] = values[i];
    return 0;
}
