/*
 * file.c - opening the model file and learning the O_DIRECT alignment it needs.
 */
#define _GNU_SOURCE /* O_DIRECT, statx */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static int flm_is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/*
 * The alignment O_DIRECT needs for offsets, lengths and buffer addresses. statx
 * STATX_DIOALIGN (Linux 6.1) tells the truth; without it 4096 is safe on every
 * common device (logical blocks are 512 or 4096).
 */
static int flm_direct_block(int fd, int64_t *out)
{
    *out = FLM_FALLBACK_BLOCK;
#ifdef STATX_DIOALIGN
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN)) {
        /* Both zero means this file cannot do direct I/O although open() accepted it. */
        if (sx.stx_dio_offset_align == 0)
            return FLM_E_NO_DIRECT;
        uint32_t align = sx.stx_dio_offset_align;
        if (sx.stx_dio_mem_align > align)
            align = sx.stx_dio_mem_align;
        if (flm_is_pow2(align) && align <= FLM_SLOT_BYTES)
            *out = align;
    }
#else
    (void)fd;
#endif
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
