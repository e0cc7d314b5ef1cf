/*
 * bundle_ffn_internal.h - one-thread compositions of flm_bundle_ffn_up and flm_bundle_ffn_down.
 *
 * Not part of the ABI: the Java side splits up and down across its own threads and never calls
 * these, so they stay hidden in libflashlm.so (no FLM_EXPORT). They exist for the C tests, which
 * reach them by linking the static build of the same objects (flashlm_internal in CMakeLists.txt).
 */
#ifndef FLASHLM_BUNDLE_FFN_INTERNAL_H
#define FLASHLM_BUNDLE_FFN_INTERNAL_H

#include <stdint.h>

/* flm_bundle_ffn_up (ReLU, ungated) over order[0..n), then flm_bundle_ffn_down over all dim
 * columns: y += sum over order of h_r * down_r. order is required (FLM_E_BAD_ARG when NULL). */
int flm_bundle_ffn_relu(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes, int64_t dim,
                        const float *bias, const float *x, float *h, const int32_t *order, int64_t n, float *y);

/* The same for a gated FFN (no bias): h_r = act(gate_r . x) * (up_r . x), activation FLM_ACT_*. */
int flm_bundle_ffn_gated(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes, int64_t dim,
                         int activation, const float *x, float *h, const int32_t *order, int64_t n, float *y);

#endif /* FLASHLM_BUNDLE_FFN_INTERNAL_H */
