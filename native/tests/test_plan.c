/*
 * test_plan.c - properties of the request planner (io/plan.c), checked on many random
 * requests: the pieces tile the request exactly, in order; direct pieces are aligned and
 * land at the right address; bounce pieces are aligned, fit a slot and copy the right bytes.
 */
#include <stdlib.h>

#include "internal.h"
#include "test_util.h"

static int64_t round_up(int64_t v, int64_t b)
{
    return (v + b - 1) / b * b;
}

static void check_direct(const struct flm_geometry *g, const struct flm_piece *p, int64_t off,
                         uintptr_t dest, int64_t pos)
{
    CHECK_EQ(p->file_off, pos);
    CHECK_EQ(p->needed, p->read_len);
    CHECK(p->read_len > 0 && p->read_len <= g->direct_max);
    CHECK_EQ((uintptr_t)p->direct_dst, dest + (uintptr_t)(pos - off));
    CHECK_EQ(p->file_off % g->block, 0);
    CHECK_EQ(p->read_len % g->block, 0);
    CHECK_EQ((uintptr_t)p->direct_dst % (uintptr_t)g->block, 0);
}

static void check_bounce(const struct flm_geometry *g, const struct flm_piece *p, int64_t off,
                         int64_t len, uintptr_t dest, int64_t pos)
{
    CHECK(g->block > 1);
    CHECK_EQ(p->file_off % g->block, 0);
    CHECK_EQ(p->read_len % g->block, 0);
    CHECK(p->read_len > 0 && p->read_len <= g->slot_bytes);
    CHECK_EQ(p->file_off + p->copy_skip, pos);
    CHECK(p->copy_len > 0);
    CHECK_EQ(p->needed, p->copy_skip + p->copy_len);
    CHECK(p->needed <= p->read_len);
    CHECK(p->file_off + p->read_len <= round_up(off + len, g->block));
    CHECK_EQ((uintptr_t)p->copy_dst, dest + (uintptr_t)(pos - off));
}

/* Walks all pieces of one request and checks they tile it. */
static void check_request(const struct flm_geometry *g, int64_t off, int64_t len, uintptr_t dest)
{
    int aligned = !flm_needs_bounce(g, off, len, dest);
    int64_t consumed = 0, pos = off;
    struct flm_piece p;
    int pieces = 0;
    while (flm_plan_next(g, off, len, dest, &consumed, &p)) {
        if (p.direct_dst != NULL) {
            check_direct(g, &p, off, dest, pos);
            pos += p.read_len;
        } else {
            CHECK(!aligned); /* an aligned request never needs a bounce buffer */
            check_bounce(g, &p, off, len, dest, pos);
            pos += p.copy_len;
        }
        CHECK_EQ(consumed, pos - off);
        if (++pieces > 100000) {
            CHECK(!"planner does not terminate");
            return;
        }
    }
    CHECK_EQ(pos, off + len);
    CHECK_EQ(consumed, len);
    if (len == 0)
        CHECK_EQ(pieces, 0);
}

static void test_random_requests(void)
{
    const int64_t blocks[] = {1, 512, 4096};
    const int64_t slots[] = {16384, 262144};
    const int64_t direct_max[] = {8192, 2 * 1024 * 1024};
    uint64_t rng = 42;
    for (int b = 0; b < 3; b++)
        for (int s = 0; s < 2; s++)
            for (int d = 0; d < 2; d++) {
                struct flm_geometry g = {blocks[b], slots[s], direct_max[d]};
                for (int i = 0; i < 3000; i++) {
                    int64_t len = tu_rand_range(&rng, 0, i % 10 == 0 ? 3 << 20 : 70000);
                    int64_t off = tu_rand_range(&rng, 0, 1 << 24);
                    uintptr_t dest = 0x10000000u + (uintptr_t)tu_rand_range(&rng, 0, 1 << 16);
                    if (i % 3 == 0) /* congruent with the offset: exercises head/middle/tail */
                        dest = 0x10000000u + (uintptr_t)(off % 4096);
                    if (i % 5 == 0) { /* fully aligned */
                        off -= off % 4096;
                        len -= len % 4096;
                        dest = 0x10000000u;
                    }
                    check_request(&g, off, len, dest);
                }
            }
}

static void test_congruent_split(void)
{
    /* Unaligned head and tail around an aligned middle that goes straight to dest. */
    struct flm_geometry g = {4096, 262144, 2 * 1024 * 1024};
    int64_t off = 4096 * 10 + 100, len = 4096 * 20;
    uintptr_t dest = 0x20000000u + 100;
    int64_t consumed = 0;
    struct flm_piece p;
    CHECK(flm_plan_next(&g, off, len, dest, &consumed, &p));
    CHECK(p.direct_dst == NULL);
    CHECK_EQ(p.file_off, 4096 * 10);
    CHECK_EQ(p.copy_len, 4096 - 100);
    CHECK(flm_plan_next(&g, off, len, dest, &consumed, &p));
    CHECK(p.direct_dst != NULL);
    CHECK_EQ(p.file_off, 4096 * 11);
    CHECK_EQ(p.read_len, 4096 * 19);
    CHECK(flm_plan_next(&g, off, len, dest, &consumed, &p));
    CHECK(p.direct_dst == NULL);
    CHECK_EQ(p.file_off, 4096 * 30);
    CHECK_EQ(p.copy_len, 100);
    CHECK(!flm_plan_next(&g, off, len, dest, &consumed, &p));
}

static void test_piece_advance(void)
{
    struct flm_piece p = {.file_off = 0, .read_len = 8192, .needed = 5000};
    int64_t done = 0;
    CHECK_EQ(flm_piece_advance(&p, 4096, &done, 4096), FLM_PIECE_MORE);
    CHECK_EQ(done, 4096);
    CHECK_EQ(flm_piece_advance(&p, 4096, &done, 904), FLM_PIECE_DONE); /* EOF after needed */
    done = 0;
    CHECK_EQ(flm_piece_advance(&p, 4096, &done, 0), FLM_E_PAST_EOF);
    CHECK_EQ(flm_piece_advance(&p, 4096, &done, 100), FLM_E_PAST_EOF); /* EOF before needed */
    CHECK_EQ(flm_piece_advance(&p, 4096, &done, -5), -5);
    done = 0;
    CHECK_EQ(flm_piece_advance(&p, 1, &done, 100), FLM_PIECE_MORE); /* buffered short read */
    CHECK_EQ(done, 100);
}

static void test_slot_bytes(void)
{
    CHECK_EQ(flm_slot_bytes(1, 512), 256 * 1024);
    CHECK_EQ(flm_slot_bytes(32, 4096), 256 * 1024);
    CHECK_EQ(flm_slot_bytes(4096, 512), 16 * 1024);  /* 64 MiB budget */
    CHECK_EQ(flm_slot_bytes(300, 512) % 4096, 0);
    CHECK(flm_slot_bytes(300, 512) * 300 <= 64 * 1024 * 1024);
    CHECK_EQ(flm_slot_bytes(4096, 65536), 65536);    /* never below one block */
}

int main(void)
{
    test_random_requests();
    test_congruent_split();
    test_piece_advance();
    test_slot_bytes();
    return tu_finish("plan");
}
