/*
 * test_fallback.c - behaviour on a kernel that refuses io_uring. A child process installs
 * a seccomp filter that fails io_uring_setup (with ENOSYS, then EPERM, as old kernels and
 * container sandboxes do); there FLM_BACKEND_IO_URING must fail with FLM_E_NO_IO_URING and
 * FLM_BACKEND_AUTO must quietly use pread.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static int refuse_io_uring(int err)
{
#ifdef __NR_io_uring_setup
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
    (void)err;
    return -1;
#endif
}

static void check_refused(const struct tu_file *f, int flags)
{
    int64_t h = 0, info[FLM_INFO_COUNT], out[FLM_PROBE_COUNT];
    CHECK_EQ(flm_reader_open(f->path, flags, FLM_BACKEND_IO_URING, 8, 2, &h), FLM_E_NO_IO_URING);
    CHECK_EQ(flm_reader_open(f->path, flags, FLM_BACKEND_AUTO, 8, 2, &h), 0);
    CHECK_EQ(flm_reader_info(h, info, FLM_INFO_COUNT), 0);
    CHECK_EQ(info[FLM_INFO_BACKEND], FLM_BACKEND_PREAD);
    CHECK_EQ(info[FLM_INFO_REGISTERED_FILE], 0);

    unsigned char buf[1000];
    int64_t off = 4097, len = sizeof buf, dest = (int64_t)(uintptr_t)buf;
    CHECK_EQ(flm_reader_read(h, 1, &off, &len, &dest, NULL), 0);
    for (int i = 0; i < (int)sizeof buf; i++)
        if (buf[i] != f->data[off + i]) {
            CHECK(!"wrong data");
            break;
        }
    CHECK_EQ(flm_reader_close(h), 0);

    CHECK_EQ(flm_probe(f->path, flags, FLM_BACKEND_IO_URING, 4096, 2, f->size, 0, 10, 1, out,
                       FLM_PROBE_COUNT), FLM_E_NO_IO_URING);
    CHECK_EQ(flm_probe(f->path, flags, FLM_BACKEND_AUTO, 4096, 2, f->size, 0, 10, 1, out,
                       FLM_PROBE_COUNT), 0);
    CHECK_EQ(out[FLM_PROBE_IOS], 10);
}

/* Runs the checks in a child, whose filter must not leak into this process. */
static void run_refused(const struct tu_file *f, int err, int direct_ok)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (refuse_io_uring(err) != 0) {
            printf("seccomp unavailable: fallback test skipped\n");
            _exit(0);
        }
        for (int flags = 0; flags <= (direct_ok ? FLM_OPEN_DIRECT : 0); flags++)
            check_refused(f, flags);
        fflush(NULL);
        _exit(tu_failures == 0 ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    struct tu_file file;
    if (tu_file_create(&file, TU_FILE_SIZE) != 0)
        return 1;
    int direct_ok = tu_direct_supported(&file);
    run_refused(&file, ENOSYS, direct_ok);
    run_refused(&file, EPERM, direct_ok);
    tu_file_remove(&file);
    return tu_finish("fallback");
}
