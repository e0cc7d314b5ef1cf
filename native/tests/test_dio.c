/*
 * test_dio.c - flm_dio_alignment: statx's answer, the fallbacks without it, directories, bad
 * arguments, and that an O_DIRECT reader widens to what statx reports.
 */
#define _GNU_SOURCE

#include "test_util.h"

#include <errno.h>

static int is_pow2(int64_t v)
{
    return v > 0 && (v & (v - 1)) == 0;
}

static void check_file(const struct tu_file *f)
{
    int64_t out[3] = {0, 0, -1};
    CHECK_EQ(flm_dio_alignment(f->path, 0, out, 3), 0);
    CHECK_MSG(out[2] == 0 || (is_pow2(out[2]) && out[2] >= 512), "physical block %lld", (long long)out[2]);
    CHECK_MSG(is_pow2(out[0]) && out[0] <= (1 << 20), "alignment %lld", (long long)out[0]);
    CHECK_MSG(out[1] >= FLM_DIO_SOURCE_STATX && out[1] <= FLM_DIO_SOURCE_DEFAULT, "source %lld", (long long)out[1]);
    printf("  %s: alignment %lld (source %lld), physical block %lld\n", f->path, (long long)out[0],
           (long long)out[1], (long long)out[2]);

    /* Without statx: the logical block, st_blksize or 512; never below a sector. */
    int64_t fb[2] = {0, 0};
    CHECK_EQ(flm_dio_alignment(f->path, FLM_DIO_NO_STATX, fb, 2), 0);
    CHECK_MSG(is_pow2(fb[0]) && fb[0] >= 512, "fallback alignment %lld", (long long)fb[0]);
    CHECK(fb[1] == FLM_DIO_SOURCE_LOGICAL_BLOCK || fb[1] == FLM_DIO_SOURCE_BLKSIZE
          || fb[1] == FLM_DIO_SOURCE_DEFAULT);
    printf("  without statx: alignment %lld (source %lld)\n", (long long)fb[0], (long long)fb[1]);

    /* n smaller than the values: only the first is written. */
    int64_t one[2] = {-7, -7};
    CHECK_EQ(flm_dio_alignment(f->path, 0, one, 1), 0);
    CHECK_EQ(one[0], out[0]);
    CHECK_EQ(one[1], -7);

    /* The directory answers as a file in it would (a temporary file is asked). */
    int64_t dir[2] = {0, 0};
    CHECK_EQ(flm_dio_alignment(f->dir, 0, dir, 2), 0);
    CHECK(is_pow2(dir[0]));
    if (out[1] == FLM_DIO_SOURCE_STATX && dir[1] == FLM_DIO_SOURCE_STATX)
        CHECK_EQ(dir[0], out[0]);

    /* The O_DIRECT reader widens to statx's alignment when statx knows it. */
    if (out[1] == FLM_DIO_SOURCE_STATX && tu_direct_supported(f)) {
        int64_t h, info[FLM_INFO_COUNT];
        CHECK_EQ(flm_reader_open(f->path, FLM_OPEN_DIRECT, FLM_BACKEND_PREAD, 4, 1, &h), 0);
        CHECK_EQ(flm_reader_info(h, info, FLM_INFO_COUNT), 0);
        CHECK_EQ(info[FLM_INFO_BLOCK_SIZE], out[0]);
        CHECK_EQ(flm_reader_close(h), 0);
    }
}

int main(void)
{
    struct tu_file file;
    if (tu_file_create(&file, 1 << 20) != 0)
        return 1;
    check_file(&file);

    int64_t out[2];
    CHECK_EQ(flm_dio_alignment(NULL, 0, out, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_dio_alignment(file.path, 2, out, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_dio_alignment(file.path, 0, out, -1), FLM_E_BAD_ARG);
    CHECK_EQ(flm_dio_alignment(file.path, 0, NULL, 2), FLM_E_BAD_ARG);
    CHECK_EQ(flm_dio_alignment(file.path, 0, NULL, 0), 0);
    CHECK_EQ(flm_dio_alignment("/nonexistent/flashlm-dio", 0, out, 2), -ENOENT);

    tu_file_remove(&file);
    return tu_finish("dio");
}
