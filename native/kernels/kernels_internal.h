/* Helpers shared by the kernel sources (not part of the ABI). */
#ifndef FLASHLM_KERNELS_INTERNAL_H
#define FLASHLM_KERNELS_INTERNAL_H

#include <stdint.h>

#include "../export.h"

float kern_f16_to_f32(uint16_t h);

#endif
