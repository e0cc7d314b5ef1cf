/* Helpers shared by the kernel sources (not part of the ABI). */
#ifndef FLASHLM_KERNELS_INTERNAL_H
#define FLASHLM_KERNELS_INTERNAL_H

#include <stdint.h>

/* Everything is hidden (-fvisibility=hidden); only the ABI functions carry this. */
#define FLM_EXPORT __attribute__((visibility("default")))

float kern_f16_to_f32(uint16_t h);

#endif
