/* Helpers shared by the kernel sources (not part of the ABI). */
#ifndef FLASHLM_KERNELS_INTERNAL_H
#define FLASHLM_KERNELS_INTERNAL_H

#include <stdint.h>

#include "../export.h"

float kern_f16_to_f32(uint16_t h);

/* The sparse FFN's down accumulation over whole blocks with the decode fused in (decode_block.c):
 * for the nrows (1..4) down parts rows[r] with factors h[r], and every column j of the blocks
 * blk0 .. blk1 (y indexed from column 0 of the part), y[j] = fma(h[r], w_r[j], y[j]) for r in order,
 * w_r[j] the value kern_decode_block gives. Returns 1 when done (AVX2 and dtype q8_0, q4_0, q4_k,
 * q5_k or q6_k), else 0 with y untouched; kern_fma_blocks_takes says which without doing anything. */
int kern_fma_blocks_takes(int dtype);
int kern_fma_blocks(int dtype, int nrows, const uint8_t *const *rows, const float *h, int64_t blk0, int64_t blk1,
                    float *y);

#endif
