/*
 * Sparse FFN kernels over a compact matrix of bundled neuron records (the window cache): row r is
 * a record [gate | up | down] (gated) or [up | down] (ReLU), each part dim values in the storage
 * dtype, rows record_bytes apart.
 *
 * Determinism, which is what lets a sparse FFN be bit-identical to a dense one:
 * - the up (and gate) dot of a row gives exactly the bits flm_matvec gives that row: the block types
 *   run matvec's own integer kernels (kern_q_rows) on x quantized once per call; f32 and f16 run
 *   four rows at once with the operations of matvec.c's AVX2 row kernels (dots4_avx2), and the
 *   portable path (and rows left over from groups of four) calls flm_matvec on the single part;
 *   the tests compare every row with flm_matvec over a dense matrix;
 * - the down accumulation is, for every output element j, y[j] = fma(h, w[j], y[j]) over the
 *   rows in the caller's order, skipping h == 0. Every decoded weight has the Java decoders' bits
 *   (decode_block.c: f16 widens exactly, a block value is the decoder's correctly rounded products),
 *   and fma rounds once, so an
 *   element's result depends only on the sequence of (h, w) and is the same on the AVX2 path, the
 *   portable path (fmaf) and Java (Math.fma), for any split of the columns. The AVX2 path applies
 *   the rows four at a time to 8 columns held in a register (one load and store of y per four rows,
 *   the fmas still in row order) and, for most block types, computes the weights in registers with
 *   the decoders' operations (kern_fma_blocks in decode_block.c) instead of storing decoded blocks:
 *   the same (h, w) sequence per element, so the same bits.
 */
#define _DEFAULT_SOURCE 1
#include "flashlm.h"
#include "bundle_ffn_internal.h"
#include "kernels_internal.h"
#include "matvec_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define BF_HAVE_X86 1
#endif

/* Columns of y (16 KiB, in L1) the vector path updates per pass over the rows; a multiple of 32. */
#define BF_CHUNK 4096
#define BF_MAX_DIM (INT64_C(1) << 30)

static int parts_of(int gated)
{
    return gated ? 3 : 2;
}

/* Whether the bundle kernels take dtype for the rows (gate, up) or for the down columns: f32, f16 and
 * every block type flm_matvec reads (bf16 is no storage type of a pack). */
static int takes(int dtype)
{
    return dtype == FLM_DTYPE_F32 || dtype == FLM_DTYPE_F16 || kern_block_values(dtype) > 0;
}

#define geometry kern_bundle_geometry

/* Validates the geometry shared by all entry points; 0 or a negative code. */
int kern_bundle_check_geometry(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
                          int64_t dim, int gated, struct geometry *g)
{
    if (!takes(row_dtype) || !takes(down_dtype))
        return FLM_E_BAD_ARG;
    if ((gated != 0 && gated != 1) || count < 0 || dim <= 0 || dim > BF_MAX_DIM || (count > 0 && !rows))
        return FLM_E_BAD_ARG;
    g->row_part = flm_row_bytes(row_dtype, dim);
    g->down_part = flm_row_bytes(down_dtype, dim);
    if (g->row_part <= 0 || g->down_part <= 0 || record_bytes > (INT64_C(1) << 40))
        return FLM_E_BAD_ARG;
    g->up_off = gated ? g->row_part : 0;
    g->down_off = (parts_of(gated) - 1) * g->row_part;
    if (record_bytes < g->down_off + g->down_part)
        return FLM_E_BAD_ARG;
    return 0;
}

/* Checks that every index of order[0..n) is a row in [0, count). */
int kern_bundle_check_order(const int32_t *order, int64_t n, int64_t count)
{
    if (n < 0 || n > count || (n > 0 && !order))
        return FLM_E_BAD_ARG;
    for (int64_t i = 0; i < n; i++)
        if (order[i] < 0 || order[i] >= count)
            return FLM_E_BAD_ARG;
    return 0;
}

/* erf with |error| < 1.5e-7 (Abramowitz and Stegun 7.1.26), the same double operations as the Java model's */
static double erf_as(double x)
{
    double t = 1.0 / (1.0 + 0.3275911 * fabs(x));
    double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t *
                       exp(-x * x);
    return x >= 0 ? y : -y;
}

/* The activations of flashlm.h, each as the Java model computes it (the same double operations). */
static float activate(int activation, float v)
{
    double d = v;
    switch (activation) {
    case FLM_ACT_RELU: return v > 0 ? v : 0.0f;
    case FLM_ACT_GELU: return (float)(0.5 * d * (1.0 + erf_as(d / sqrt(2.0))));
    case FLM_ACT_GELU_TANH:
        return (float)(0.5 * d * (1.0 + tanh(sqrt(2.0 / 3.141592653589793) * (d + 0.044715 * d * d * d))));
    default: return (float)(d / (1.0 + exp(-d))); /* SiLU */
    }
}

#ifdef BF_HAVE_X86
#define BF_AVX2 __attribute__((target("avx2,fma,f16c")))

/* The lane sum of matvec.c (sum8 / hsum8): the same additions in the same order. */
static inline float bf_sum8(const float l[8])
{
    return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
}

BF_AVX2 static inline float bf_hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/*
 * Four f32 or f16 dots of dim values at once, for rows at any four addresses: the operations of
 * matvec.c's AVX2 row kernels (rows_f32_avx2, rows_f16_avx2 with R = 4), which give each row
 * exactly the bits flm_matvec gives it; four independent FMA chains instead of one. The tests
 * compare every row with flm_matvec, so a change of matvec.c's arithmetic shows up there.
 */
BF_AVX2 static void dots4_avx2(int dtype, const uint8_t *const w[4], const float *x, int64_t n, float out[4])
{
    __m256 acc[4];
    for (int r = 0; r < 4; r++)
        acc[r] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i);
#pragma GCC unroll 4
        for (int r = 0; r < 4; r++) {
            __m256 wv = dtype == FLM_DTYPE_F32
                            ? _mm256_loadu_ps((const float *)w[r] + i)
                            : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w[r] + i)));
            acc[r] = _mm256_fmadd_ps(wv, xv, acc[r]);
        }
    }
    for (int r = 0; r < 4; r++) {
        float l[8];
        _mm256_storeu_ps(l, acc[r]);
        for (int64_t j = i, k = 0; j < n; j++, k++) {
            if (dtype == FLM_DTYPE_F32)
                l[k] += ((const float *)w[r])[j] * x[j];
            else
                l[k] += _cvtsh_ss(((const uint16_t *)w[r])[j]) * x[j];
        }
        out[r] = bf_sum8(l);
    }
}
#endif

/* h of row r from its dots. */
float kern_neuron_h(int gated, int activation, const float *bias, int64_t r, float u, float g)
{
    if (bias)
        u = u + bias[r];
    return gated ? activate(activation, g) * u : activate(activation, u);
}

/* The up half for row types with integer kernels (kern_q_rows): x quantized once per call, then
 * groups of FLM_ROWS rows and the rest one by one; a row's dot is flm_matvec's bits, whatever the
 * grouping (matvec_internal.h). */
static int up_integer(qrows_fn one, qrows_fn many, const uint8_t *base, int64_t record_bytes, const struct geometry *g,
                      int64_t dim, int gated, int activation, const float *bias, const float *x,
                      const int32_t *order, int64_t begin, int64_t end, float *h)
{
    struct kern_qx_buf buf;
    int rc = kern_qx_init(&buf, x, dim);
    if (rc != 0)
        return rc;
    int64_t i = begin;
    for (; i + FLM_ROWS <= end; i += FLM_ROWS) {
        int64_t r[FLM_ROWS];
        const uint8_t *up[FLM_ROWS], *gate[FLM_ROWS];
        for (int q = 0; q < FLM_ROWS; q++) {
            r[q] = order ? order[i + q] : i + q;
            gate[q] = base + r[q] * record_bytes;
            up[q] = gate[q] + g->up_off;
        }
        float u[FLM_ROWS], gt[FLM_ROWS] = {0};
        many(up, &buf.qx, dim, u, 1);
        if (gated)
            many(gate, &buf.qx, dim, gt, 1);
        for (int q = 0; q < FLM_ROWS; q++)
            h[r[q]] = kern_neuron_h(gated, activation, bias, r[q], u[q], gt[q]);
    }
    for (; i < end; i++) {
        int64_t r = order ? order[i] : i;
        const uint8_t *gate = base + r * record_bytes, *up = gate + g->up_off;
        float u, gt = 0;
        one(&up, &buf.qx, dim, &u, 0);
        if (gated)
            one(&gate, &buf.qx, dim, &gt, 0);
        h[r] = kern_neuron_h(gated, activation, bias, r, u, gt);
    }
    kern_qx_release(&buf);
    return 0;
}

FLM_EXPORT int flm_bundle_ffn_up(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes,
                                 int64_t dim, int gated, int activation, const float *bias, const float *x,
                                 const int32_t *order, int64_t begin, int64_t end, float *h)
{
    struct geometry g;
    int rc = kern_bundle_check_geometry(row_dtype, down_dtype, rows, count, record_bytes, dim, gated, &g);
    if (rc != 0)
        return rc;
    if (activation < FLM_ACT_RELU || activation > FLM_ACT_GELU_TANH || !x || !h || begin < 0 || begin > end ||
        end > count)
        return FLM_E_BAD_ARG;
    if (order && kern_bundle_check_order(order + begin, end - begin, count) != 0)
        return FLM_E_BAD_ARG;
    const uint8_t *base = (const uint8_t *)rows;
    qrows_fn qone, qmany;
    if (kern_q_rows(row_dtype, &qone, &qmany))
        return up_integer(qone, qmany, base, record_bytes, &g, dim, gated, activation, bias, x, order, begin, end, h);
    int64_t i = begin;
#ifdef BF_HAVE_X86
    /* the float-x types of dots4_avx2 (every block type runs on the integer kernels above) */
    if (flm_kernels_simd() && (row_dtype == FLM_DTYPE_F32 || row_dtype == FLM_DTYPE_F16)) {
        for (; i + 4 <= end; i += 4) {
            int64_t r[4];
            const uint8_t *up[4], *gate[4];
            for (int q = 0; q < 4; q++) {
                r[q] = order ? order[i + q] : i + q;
                gate[q] = base + r[q] * record_bytes;
                up[q] = gate[q] + g.up_off;
            }
            float u[4], gt[4] = {0, 0, 0, 0};
            dots4_avx2(row_dtype, up, x, dim, u);
            if (gated)
                dots4_avx2(row_dtype, gate, x, dim, gt);
            for (int q = 0; q < 4; q++)
                h[r[q]] = kern_neuron_h(gated, activation, bias, r[q], u[q], gt[q]);
        }
    }
#endif
    /* the rest (all of it on the portable path): flm_matvec on each row */
    for (; i < end; i++) {
        int64_t r = order ? order[i] : i;
        const uint8_t *rec = base + r * record_bytes;
        float u, gt = 0;
        rc = flm_matvec(row_dtype, rec + g.up_off, 1, dim, x, &u, 0, 1);
        if (rc == 0 && gated)
            rc = flm_matvec(row_dtype, rec, 1, dim, x, &gt, 0, 1);
        if (rc != 0)
            return rc;
        h[r] = kern_neuron_h(gated, activation, bias, r, u, gt);
    }
    return 0;
}

/* ---- down: y[j] += h * w[j] ---- */

/* Decoded weight j of a down part (exact in f32). */
static inline float down_weight(int dtype, const uint8_t *p, int64_t j)
{
    switch (dtype) {
    case FLM_DTYPE_F32: {
        float v;
        memcpy(&v, p + 4 * j, 4);
        return v;
    }
    case FLM_DTYPE_F16: {
        uint16_t v;
        memcpy(&v, p + 2 * j, 2);
        return kern_f16_to_f32(v);
    }
    default: { /* q8_0 */
        const uint8_t *blk = p + (j / 32) * 34;
        uint16_t d16;
        memcpy(&d16, blk, 2);
        return kern_f16_to_f32(d16) * (float)(int8_t)blk[2 + j % 32];
    }
    }
}

/* Columns [j0, j1) element by element: the reference arithmetic (bundle_ffn_internal.h). */
void kern_bundle_down_scalar(int dtype, const uint8_t *base, int64_t record_bytes, int64_t down_off, const float *h,
                        const int32_t *order, int64_t n, float *y, int64_t j0, int64_t j1)
{
    for (int64_t k = 0; k < n; k++) {
        int32_t r = order[k];
        float hv = h[r];
        if (hv == 0.0f)
            continue;
        const uint8_t *p = base + r * record_bytes + down_off;
        for (int64_t j = j0; j < j1; j++)
            y[j] = fmaf(hv, down_weight(dtype, p, j), y[j]);
    }
}

#ifdef BF_HAVE_X86
/* y[0..n) = fma(hv, w[0..n), y[0..n)) element by element, 8 at a time (the same single rounding per
 * element as fmaf, so the same bits). */
BF_AVX2 static void fma_run_avx2(float hv, const float *w, float *y, int64_t n)
{
    __m256 hb = _mm256_set1_ps(hv);
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(y + j, _mm256_fmadd_ps(hb, _mm256_loadu_ps(w + j), _mm256_loadu_ps(y + j)));
    for (; j < n; j++)
        y[j] = fmaf(hv, w[j], y[j]);
}
#endif

static void fma_run(int simd, float hv, const float *w, float *y, int64_t n)
{
#ifdef BF_HAVE_X86
    if (simd) {
        fma_run_avx2(hv, w, y, n);
        return;
    }
#endif
    (void)simd;
    for (int64_t j = 0; j < n; j++)
        y[j] = fmaf(hv, w[j], y[j]);
}

/* Columns [j0, j1) for the block types kern_fma_blocks does not take (and every block type but q8_0
 * on the portable path): slices of at most BF_CHUNK columns of y (kept in L1) row after row; each of a
 * row's blocks that meet the slice is decoded (kern_decode_block: the Java decoders' values) and its
 * overlap with the slice accumulated with one fma per element. */
static void down_decoded(int dtype, const uint8_t *base, int64_t record_bytes, int64_t down_off, const float *h,
                         const int32_t *order, int64_t n, float *y, int64_t j0, int64_t j1)
{
    const int simd = flm_kernels_simd();
    const int64_t bv = kern_block_values(dtype), bb = flm_row_bytes(dtype, bv);
    _Alignas(32) float w[256];
    for (int64_t c0 = j0; c0 < j1; c0 += BF_CHUNK) {
        int64_t c1 = c0 + BF_CHUNK < j1 ? c0 + BF_CHUNK : j1;
        for (int64_t k = 0; k < n; k++) {
            int32_t r = order[k];
            float hv = h[r];
            if (hv == 0.0f)
                continue;
            const uint8_t *p = base + r * record_bytes + down_off;
            for (int64_t blk = c0 / bv; blk * bv < c1; blk++) {
                kern_decode_block(dtype, p + blk * bb, w);
                int64_t lo = blk * bv > c0 ? blk * bv : c0, hi = blk * bv + bv < c1 ? blk * bv + bv : c1;
                fma_run(simd, hv, w + (lo - blk * bv), y + lo, hi - lo);
            }
        }
    }
}

#ifdef BF_HAVE_X86
/*
 * The AVX2 path takes the rows with h != 0 four at a time (in the caller's order) and, for each 8
 * columns of y, loads them once, applies the four rows' fmas in order and stores them once:
 *     y[j] = fma(h_a, w_a[j], y[j]);  y[j] = fma(h_b, w_b[j], y[j]);  ...
 * which is, element by element, the sequence of the row-after-row loop (down_scalar), so the same bits
 * for any grouping of the rows; the rows left over (at most three) go one at a time.
 */
#define BF_GROUP 4

/* The next rows with h != 0 from order[*k ..): up to BF_GROUP of them, their down parts to p and
 * their h to hv, *k moved past them; returns how many. */
static int next_rows(const uint8_t *base, int64_t record_bytes, int64_t down_off, const float *h,
                     const int32_t *order, int64_t n, int64_t *k, const uint8_t *p[BF_GROUP], float hv[BF_GROUP])
{
    int c = 0;
    while (c < BF_GROUP && *k < n) {
        int32_t r = order[(*k)++];
        if (h[r] == 0.0f)
            continue;
        p[c] = base + r * record_bytes + down_off;
        hv[c] = h[r];
        c++;
    }
    return c;
}

/* f32 or f16 down parts, R rows (constant after inlining), columns [j0, j1), j1 - j0 a multiple of 8. */
BF_AVX2 static inline __attribute__((always_inline)) void float_rows_t(int dtype, int R, const uint8_t *const *p,
                                                                      const float *hv, float *y, int64_t j0,
                                                                      int64_t j1)
{
    __m256 hb[BF_GROUP];
    for (int r = 0; r < R; r++)
        hb[r] = _mm256_set1_ps(hv[r]);
    for (int64_t j = j0; j < j1; j += 8) {
        __m256 acc = _mm256_loadu_ps(y + j);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            __m256 w = dtype == FLM_DTYPE_F32
                           ? _mm256_loadu_ps((const float *)p[r] + j)
                           : _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p[r] + j)));
            acc = _mm256_fmadd_ps(hb[r], w, acc); /* f16 widens exactly */
        }
        _mm256_storeu_ps(y + j, acc);
    }
}

BF_AVX2 static void float_rows_avx2(int dtype, int R, const uint8_t *const *p, const float *hv, float *y, int64_t j0,
                                    int64_t j1)
{
    if (R == BF_GROUP && dtype == FLM_DTYPE_F32)
        float_rows_t(FLM_DTYPE_F32, BF_GROUP, p, hv, y, j0, j1);
    else if (R == BF_GROUP)
        float_rows_t(FLM_DTYPE_F16, BF_GROUP, p, hv, y, j0, j1);
    else
        for (int r = 0; r < R; r++)
            float_rows_t(dtype, 1, p + r, hv + r, y, j0, j1);
}

/* Columns [j0, j1) of f32 or f16 down parts, j1 - j0 a multiple of 8: BF_CHUNK slices of y (in L1),
 * each row's part streaming through once per slice. */
static void down_float_avx2(int dtype, const uint8_t *base, int64_t record_bytes, int64_t down_off, const float *h,
                            const int32_t *order, int64_t n, float *y, int64_t j0, int64_t j1)
{
    for (int64_t c0 = j0; c0 < j1; c0 += BF_CHUNK) {
        int64_t c1 = c0 + BF_CHUNK < j1 ? c0 + BF_CHUNK : j1;
        const uint8_t *p[BF_GROUP];
        float hv[BF_GROUP];
        int64_t k = 0;
        int R;
        while ((R = next_rows(base, record_bytes, down_off, h, order, n, &k, p, hv)) > 0)
            float_rows_avx2(dtype, R, p, hv, y, c0, c1);
    }
}

/* y[0..m) = fma(hv[r], w[r][0..m), y) for r = 0 .. R-1 in order, 8 columns at a time, then the rest
 * with fmaf (one rounding per fma either way). */
BF_AVX2 static void fma_rows_avx2(int R, const float *const *w, const float *hv, float *y, int64_t m)
{
    __m256 hb[BF_GROUP];
    for (int r = 0; r < R; r++)
        hb[r] = _mm256_set1_ps(hv[r]);
    int64_t j = 0;
    for (; j + 8 <= m; j += 8) {
        __m256 acc = _mm256_loadu_ps(y + j);
        for (int r = 0; r < R; r++)
            acc = _mm256_fmadd_ps(hb[r], _mm256_loadu_ps(w[r] + j), acc);
        _mm256_storeu_ps(y + j, acc);
    }
    for (; j < m; j++) {
        float a = y[j];
        for (int r = 0; r < R; r++)
            a = fmaf(hv[r], w[r][j], a);
        y[j] = a;
    }
}

/* Block blk of R rows, its overlap [lo, hi) with the columns: the blocks decoded (kern_decode_block),
 * then accumulated in row order. */
static void decoded_block(int dtype, int64_t bv, int64_t bb, int R, const uint8_t *const *p, const float *hv,
                          int64_t blk, int64_t lo, int64_t hi, float *y)
{
    _Alignas(32) float w[BF_GROUP][256];
    const float *wr[BF_GROUP];
    for (int r = 0; r < R; r++) {
        kern_decode_block(dtype, p[r] + blk * bb, w[r]);
        wr[r] = w[r] + (lo - blk * bv);
    }
    fma_rows_avx2(R, wr, hv, y + lo, hi - lo);
}

/* Columns [j0, j1) of block-typed down parts (any split: blocks cut by j0 or j1 are decoded and only
 * their overlap used; dtype one kern_fma_blocks takes): BF_CHUNK slices of y, rows in groups; the
 * whole blocks of a slice go through kern_fma_blocks (the decode fused into the fmas), the cut ones at
 * the ends through decoded_block. */
static void down_blocks_avx2(int dtype, const uint8_t *base, int64_t record_bytes, int64_t down_off, const float *h,
                             const int32_t *order, int64_t n, float *y, int64_t j0, int64_t j1)
{
    const int64_t bv = kern_block_values(dtype), bb = flm_row_bytes(dtype, bv);
    for (int64_t c0 = j0; c0 < j1; c0 += BF_CHUNK) {
        int64_t c1 = c0 + BF_CHUNK < j1 ? c0 + BF_CHUNK : j1;
        int64_t first = c0 / bv, last = (c1 + bv - 1) / bv;   /* the blocks that meet [c0, c1) */
        int64_t whole0 = (c0 + bv - 1) / bv, whole1 = c1 / bv; /* those inside it */
        const uint8_t *p[BF_GROUP];
        float hv[BF_GROUP];
        int64_t k = 0;
        int R;
        while ((R = next_rows(base, record_bytes, down_off, h, order, n, &k, p, hv)) > 0) {
            int fused = whole0 < whole1 && kern_fma_blocks(dtype, R, p, hv, whole0, whole1, y);
            for (int64_t blk = first; blk < last; blk++) {
                if (fused && blk >= whole0 && blk < whole1)
                    continue;
                int64_t lo = blk * bv > c0 ? blk * bv : c0, hi = blk * bv + bv < c1 ? blk * bv + bv : c1;
                decoded_block(dtype, bv, bb, R, p, hv, blk, lo, hi, y);
            }
        }
    }
}
#endif

FLM_EXPORT int flm_bundle_ffn_down(int row_dtype, int down_dtype, const void *rows, int64_t count,
                                   int64_t record_bytes, int64_t dim, int gated, const float *h, const int32_t *order,
                                   int64_t n, float *y, int64_t col_begin, int64_t col_end)
{
    struct geometry g;
    int rc = kern_bundle_check_geometry(row_dtype, down_dtype, rows, count, record_bytes, dim, gated, &g);
    if (rc != 0)
        return rc;
    if (!y || (n > 0 && !h) || col_begin < 0 || col_begin > col_end || col_end > dim)
        return FLM_E_BAD_ARG;
    if (kern_bundle_check_order(order, n, count) != 0)
        return FLM_E_BAD_ARG;
    const uint8_t *base = (const uint8_t *)rows;
    const int dtype = down_dtype;
    const int64_t down_off = g.down_off;
    const int is_float = dtype == FLM_DTYPE_F32 || dtype == FLM_DTYPE_F16;
#ifdef BF_HAVE_X86
    if (flm_kernels_simd()) {
        if (!is_float && !kern_fma_blocks_takes(dtype)) {
            down_decoded(dtype, base, record_bytes, down_off, h, order, n, y, col_begin, col_end);
            return 0;
        }
        if (!is_float) {
            down_blocks_avx2(dtype, base, record_bytes, down_off, h, order, n, y, col_begin, col_end);
            return 0;
        }
        /* whole vectors [col_begin, b), the rest element by element (the same arithmetic, so any split
         * gives the same bits) */
        int64_t b = col_begin + (col_end - col_begin) / 8 * 8;
        down_float_avx2(dtype, base, record_bytes, down_off, h, order, n, y, col_begin, b);
        kern_bundle_down_scalar(dtype, base, record_bytes, down_off, h, order, n, y, b, col_end);
        return 0;
    }
#endif
    if (is_float || dtype == FLM_DTYPE_Q8_0)
        kern_bundle_down_scalar(dtype, base, record_bytes, down_off, h, order, n, y, col_begin, col_end);
    else
        down_decoded(dtype, base, record_bytes, down_off, h, order, n, y, col_begin, col_end);
    return 0;
}

/* Hidden, for the C tests (bundle_ffn_internal.h). */
int flm_bundle_ffn_relu(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes, int64_t dim,
                        const float *bias, const float *x, float *h, const int32_t *order, int64_t n, float *y)
{
    if (!order)
        return FLM_E_BAD_ARG;
    int rc = flm_bundle_ffn_up(row_dtype, down_dtype, rows, count, record_bytes, dim, 0, FLM_ACT_RELU, bias, x, order, 0, n, h);
    if (rc != 0)
        return rc;
    return flm_bundle_ffn_down(row_dtype, down_dtype, rows, count, record_bytes, dim, 0, h, order, n, y, 0, dim);
}

int flm_bundle_ffn_gated(int row_dtype, int down_dtype, const void *rows, int64_t count, int64_t record_bytes, int64_t dim,
                         int activation, const float *x, float *h, const int32_t *order, int64_t n, float *y)
{
    if (!order)
        return FLM_E_BAD_ARG;
    int rc = flm_bundle_ffn_up(row_dtype, down_dtype, rows, count, record_bytes, dim, 1, activation, NULL, x, order, 0, n, h);
    if (rc != 0)
        return rc;
    return flm_bundle_ffn_down(row_dtype, down_dtype, rows, count, record_bytes, dim, 1, h, order, n, y, 0, dim);
}

FLM_EXPORT int flm_advise_hugepage(void *p, int64_t bytes)
{
    if (!p || bytes < 0)
        return FLM_E_BAD_ARG;
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + (uintptr_t)bytes) & ~(huge - 1);
    if (end <= start)
        return 0;
    if (madvise((void *)start, end - start, MADV_HUGEPAGE) != 0)
        return 1; /* advice only: the memory works either way */
    return 0;
#else
    return 1;
#endif
}
