/*
 * file.c - opening the model file and learning the O_DIRECT alignment it needs.
 */
#define _GNU_SOURCE /* O_DIRECT, statx */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/*
 * The alignment O_DIRECT needs for offsets, lengths and buffer addresses. statx STATX_DIOALIGN
 * (Linux 6.1) tells the truth (dio.c). Without it the reader is conservative: at least 4096, and
 * more if the device's logical block or st_blksize is larger; a wider alignment only widens
 * reads, a narrower one than the filesystem's would make them fail (btrfs, for one, wants its
 * 4096-byte sector on a 512-byte disk).
 */
static int flm_direct_block(int fd, int64_t *out)
{
    int64_t align = 0;
    int source = 0;
    int rc = flm_dio_alignment_fd(fd, 0, &align, &source);
    if (rc != 0)
        return rc;
    if (source != FLM_DIO_SOURCE_STATX && align < FLM_FALLBACK_BLOCK)
        align = FLM_FALLBACK_BLOCK;
    if (align > FLM_SLOT_BYTES)
        align = FLM_FALLBACK_BLOCK; /* beyond any real device; the old, safe guess */
    *out = align;
    return 0;
}

int flm_file_open(const char *path, int flags, struct flm_file *out)
{
    int direct = (flags & FLM_OPEN_DIRECT) != 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
    if (fd < 0) {
        /* open() reports a filesystem without O_DIRECT support as EINVAL. */
        return (direct && errno == EINVAL) ? FLM_E_NO_DIRECT : -errno;
    }

    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (S_ISDIR(st.st_mode))
        rc = -EISDIR;
    else if (!S_ISREG(st.st_mode))
        rc = -EINVAL; /* block devices and pipes have no usable st_size */

    int64_t block = 1;
    if (rc == 0 && direct)
        rc = flm_direct_block(fd, &block);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    out->fd = fd;
    out->direct = direct;
    out->size = st.st_size;
    out->block = block;
    return 0;
}

void flm_file_close(struct flm_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}
