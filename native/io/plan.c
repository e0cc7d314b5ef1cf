/*
 * plan.c - cutting one request into reads the kernel accepts.
 *
 * Buffered: reads go straight into the caller's memory, at most direct_max bytes each.
 * O_DIRECT: the part of a request whose file offset, length and memory address can all be
 * block-aligned together (possible when dest - offset is a multiple of the block) is read
 * straight into dest; the unaligned head and tail (or the whole request when dest and
 * offset disagree) are widened to whole blocks and read through slot-sized bounce pieces.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static int64_t flm_min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t flm_round_down(int64_t v, int64_t block)
{
    return v & ~(block - 1);
}

static int64_t flm_round_up(int64_t v, int64_t block)
{
    return (v + block - 1) & ~(block - 1);
}

/* Slot size for `slots` bounce slots: 256 KiB each unless that busts the reader's budget. */
int64_t flm_slot_bytes(int slots, int64_t block)
{
    int64_t bytes = FLM_SLOT_BYTES;
    if (slots > 0 && bytes * slots > FLM_BOUNCE_BUDGET)
        bytes = FLM_BOUNCE_BUDGET / slots;
    if (bytes < FLM_SLOT_MIN_BYTES)
        bytes = FLM_SLOT_MIN_BYTES;
    /* Page-aligned slots, and never smaller than one block. */
    int64_t unit = block > FLM_BUFFER_ALIGN ? block : FLM_BUFFER_ALIGN;
    bytes = flm_round_down(bytes, unit);
    return bytes < unit ? unit : bytes;
}

int flm_needs_bounce(const struct flm_geometry *g, int64_t off, int64_t len, uintptr_t dest)
{
    if (g->block == 1 || len == 0)
        return 0;
    uint64_t mask = (uint64_t)g->block - 1;
    return (((uint64_t)off | (uint64_t)(off + len)) & mask) != 0
        || (((uint64_t)dest - (uint64_t)off) & mask) != 0;
}

static void flm_direct_piece(struct flm_piece *p, int64_t pos, int64_t n, char *dst)
{
    p->file_off = pos;
    p->read_len = n;
    p->needed = n;
    p->direct_dst = dst;
}

/*
 * Writes the next piece of request [off, off+len) -> dest, starting `*consumed` bytes into
 * it, and advances *consumed past the bytes that piece delivers. Returns 0 when the request
 * is exhausted, 1 when *out holds a piece.
 */
int flm_plan_next(const struct flm_geometry *g, int64_t off, int64_t len, uintptr_t dest,
                  int64_t *consumed, struct flm_piece *out)
{
    const int64_t bs = g->block;
    const int64_t end = off + len;
    const int64_t pos = off + *consumed;
    char *const dst = (char *)(dest + (uintptr_t)*consumed);
    if (pos >= end)
        return 0;
    memset(out, 0, sizeof *out);

    /* The block-aligned middle that can go straight to dest; empty means d_start == end. */
    int64_t d_start = end, d_end = end;
    if (bs == 1) {
        d_start = off;
    } else if ((((uint64_t)dest - (uint64_t)off) & (uint64_t)(bs - 1)) == 0) {
        int64_t s = flm_round_up(off, bs), e = flm_round_down(end, bs);
        if (s < e) {
            d_start = s;
            d_end = e;
        }
    }

    if (pos >= d_start && pos < d_end) {
        int64_t n = flm_min64(d_end - pos, g->direct_max);
        flm_direct_piece(out, pos, n, dst);
        *consumed += n;
        return 1;
    }

    /* Bounce: the unaligned region holding pos is [pos, region_end), widened to blocks. */
    int64_t region_end = pos < d_start ? d_start : end;
    int64_t first = flm_round_down(pos, bs);
    int64_t last = flm_min64(flm_round_up(region_end, bs), first + g->slot_bytes);
    int64_t copy_end = flm_min64(region_end, last);
    out->file_off = first;
    out->read_len = last - first;
    out->needed = copy_end - first;
    out->copy_dst = dst;
    out->copy_skip = pos - first;
    out->copy_len = copy_end - pos;
    *consumed += copy_end - pos;
    return 1;
}

/*
 * Accounts for a read of `res` bytes of piece p, of which `*done` bytes had already
 * arrived. Returns FLM_PIECE_DONE, FLM_PIECE_MORE (read again from *done), or an error.
 */
int flm_piece_advance(const struct flm_piece *p, int64_t block, int64_t *done, int64_t res)
{
    if (res < 0)
        return (int)res;
    if (res == 0)
        return FLM_E_PAST_EOF; /* the file ended before the bytes we need */
    int64_t now = *done + res;
    if (now >= p->needed) {
        *done = now;
        return FLM_PIECE_DONE;
    }
    /* O_DIRECT reads stop short on a block boundary unless they hit EOF. */
    if (block > 1 && (now & (block - 1)) != 0)
        return FLM_E_PAST_EOF;
    *done = now;
    return FLM_PIECE_MORE;
}
