/* What matmul.c takes from matmul_q.c: the integer token tiles. Not part of the ABI. */
#ifndef FLASHLM_MATMUL_INTERNAL_H
#define FLASHLM_MATMUL_INTERNAL_H

#include "matvec_internal.h"

/* Tokens an integer tile takes at once (the 4 lanes matvec gives 4 rows). */
#define MM_QTOK 4

/* One row of weights at w dotted with the MM_QTOK tokens xs[k] (quantized by kern_quantize_x), token k's
 * result to *y[k]; each result bit-equal to the qrows_fn of kern_q_rows. (A batch short of MM_QTOK
 * repeats a token and discards its extra results.) */
typedef void (*mm_qtile_fn)(const uint8_t *w, const kern_qx *const xs[MM_QTOK], int64_t n, float *const y[MM_QTOK]);

/* The AVX2 tile of dtype, or NULL (no tile for dtype, or the portable path runs). matmul_q.c. */
mm_qtile_fn kern_mm_q_tile(int dtype);

#endif
