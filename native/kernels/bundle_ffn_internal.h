/*
 * bundle_ffn_internal.h - the bundle kernels' shared checks, and one-thread compositions of flm_bundle_ffn_up
 * and flm_bundle_ffn_down.
 *
 * Not part of the ABI: the Java side splits up and down across its own threads and never calls
 * these, so they stay hidden in libflashlm.so (no FLM_EXPORT). They exist for the C tests, which
 * reach them by linking the static build of the same objects (flashlm_internal in CMakeLists.txt).
 */
#ifndef FLASHLM_BUNDLE_FFN_INTERNAL_H
#define FLASHLM_BUNDLE_FFN_INTERNAL_H

#include <stdint.h>

/* A record's parts: rows of row_dtype ([gate,] up), then the down column in down_dtype. */
struct kern_bundle_geometry {
    int64_t row_part;  /* bytes of a gate or up part */
    int64_t down_part; /* bytes of the down part */
    int64_t up_off;    /* offset of the up part in a record */
    int64_t down_off;  /* offset of the down part */
};

/* The checks every bundle entry point makes (dtypes, sizes, record_bytes holding the parts), filling g;
 * 0 or FLM_E_BAD_ARG. Shared by bundle_ffn.c and bundle_ffn_batch.c. */
int kern_bundle_check_geometry(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
                               int64_t dim, int gated, struct kern_bundle_geometry *g);

/* 0 when every index of order[0..n) is a row in [0, count), else FLM_E_BAD_ARG. */
int kern_bundle_check_order(const int32_t *order, int64_t n, int64_t count);

/* y[j] = fmaf(h[r], down_r[j], y[j]) for r = order[0..n) with h[r] != 0, columns [j0, j1), element by element:
 * the reference arithmetic for f32, f16 and q8_0 down parts (which every path's bits equal). */
void kern_bundle_down_scalar(int dtype, const uint8_t *base, int64_t record_bytes, int64_t down_off, const float *h,
                             const int32_t *order, int64_t n, float *y, int64_t j0, int64_t j1);

/* h of row r from its dots u (up) and g (gate): act(g) * (u + bias[r]) when gated, else act(u + bias[r]). */
float kern_neuron_h(int gated, int activation, const float *bias, int64_t r, float u, float g);

/* flm_bundle_ffn_up (ReLU, ungated) over order[0..n), then flm_bundle_ffn_down over all dim
 * columns: y += sum over order of h_r * down_r. order is required (FLM_E_BAD_ARG when NULL). */
int flm_bundle_ffn_relu(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes, int64_t dim,
                        const float *bias, const float *x, float *h, const int32_t *order, int64_t n, float *y);

/* The same for a gated FFN (no bias): h_r = act(gate_r . x) * (up_r . x), activation FLM_ACT_*. */
int flm_bundle_ffn_gated(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes, int64_t dim,
                         int activation, const float *x, float *h, const int32_t *order, int64_t n, float *y);

#endif /* FLASHLM_BUNDLE_FFN_INTERNAL_H */
