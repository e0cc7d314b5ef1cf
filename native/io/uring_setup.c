/*
 * uring_setup.c - creating rings and registering resources, shared by reader and probe.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"
#include "uring_setup.h"

/* kernel.io_uring_disabled = 2 (Linux 6.6+) refuses every ring; don't even try. */
static int flm_uring_disabled_by_sysctl(void)
{
    int fd = open("/proc/sys/kernel/io_uring_disabled", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char c = '0';
    ssize_t n = read(fd, &c, 1);
    close(fd);
    return n == 1 && c == '2';
}

/* Returns 0, FLM_E_NO_IO_URING when the kernel refuses io_uring, or a negated errno. */
int flm_uring_init(struct io_uring *ring, unsigned entries)
{
    if (flm_uring_disabled_by_sysctl())
        return FLM_E_NO_IO_URING;
    int rc = -EINVAL;
#ifdef IORING_SETUP_COOP_TASKRUN
    /* We always enter the kernel to wait, so completion work needs no interrupting IPI. */
    rc = io_uring_queue_init(entries, ring, IORING_SETUP_COOP_TASKRUN);
#endif
    if (rc == -EINVAL) /* kernel older than 5.19 */
        rc = io_uring_queue_init(entries, ring, 0);
    if (rc == -ENOSYS || rc == -EPERM || rc == -EACCES || rc == -EOPNOTSUPP)
        return FLM_E_NO_IO_URING;
    return rc;
}

/* Registering the fd saves a file lookup per read. Returns 1 when registered (index 0). */
int flm_uring_register_file(struct io_uring *ring, int fd)
{
    return io_uring_register_files(ring, &fd, 1) == 0;
}

/*
 * Registers `slots` consecutive buffers of slot_bytes each (buffer index = slot), so reads
 * into them skip the per-I/O page pinning. Returns 1 when registered; 0 (not an error)
 * when the kernel refuses, e.g. over RLIMIT_MEMLOCK on older kernels.
 */
int flm_uring_register_slots(struct io_uring *ring, char *base, int64_t slot_bytes, int slots)
{
    struct iovec *iov = calloc((size_t)slots, sizeof *iov);
    if (iov == NULL)
        return 0;
    for (int i = 0; i < slots; i++) {
        iov[i].iov_base = base + (size_t)i * (size_t)slot_bytes;
        iov[i].iov_len = (size_t)slot_bytes;
    }
    int rc = io_uring_register_buffers(ring, iov, (unsigned)slots);
    free(iov);
    return rc == 0;
}
