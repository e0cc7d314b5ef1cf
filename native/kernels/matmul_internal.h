/* What matmul.c takes from matmul_q.c: the integer token tiles. Not part of the ABI. */
#ifndef FLASHLM_MATMUL_INTERNAL_H
#define FLASHLM_MATMUL_INTERNAL_H

#include "matvec_internal.h"

/* Tokens an integer tile takes at once (the 4 lanes matvec gives 4 rows). */
#define MM_QTOK 4

/* MM_QTOK tokens quantized by kern_quantize_x (x[k]: token k), and what the legacy tiles read per block b of
 * 32 values in matvec's lane order (lane k: token k's first half, 4 + k: its second): dx4[8 b + l] = the
 * block scale d of token l % 4, s4[8 b + l] = its S_{l / 4} (the sum of q over half l / 4). Built once per
 * group, not once per row. */
typedef struct {
    const kern_qx *x[MM_QTOK];
    const float *dx4;
    const int32_t *s4;
} mm_group;

/* One row of weights at w dotted with the group's tokens, token k's result to *y[k]; each result
 * bit-equal to the qrows_fn of kern_q_rows. (A batch short of MM_QTOK repeats a token and discards its
 * extra results.) */
typedef void (*mm_qtile_fn)(const uint8_t *w, const mm_group *g, int64_t n, float *const y[MM_QTOK]);

/* The AVX2 tile of dtype, or NULL (no tile for dtype, or the portable path runs). matmul_q.c. */
mm_qtile_fn kern_mm_q_tile(int dtype);

#endif
