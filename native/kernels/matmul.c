/*
 * flm_matmul: Y = X W^T for a batch of B vectors, y[t * rows + r] = W[r, :] . x_t, so that a chunk of
 * B prompt tokens reads each weight once from memory instead of B times.
 *
 * The contract is flm_matvec's bits: y[t * rows + r] equals, bit for bit, flm_matvec's y[r] for x_t. A
 * (row, token) result is therefore computed with exactly the operations of matvec's row kernels
 * (matvec.c, matvec_legacy_q.c, matvec_k.c): the same 8 lane accumulators, the same order over the
 * columns, the same sum8 tree, and for the integer kernels the same quantized x (kern_quantize_x, once
 * per token) and the same float steps on the same exact integer sums. What changes is only the loop
 * order around those kernels:
 *
 *   - the block types: every token's x is quantized once. On AVX2 the token tiles of matmul_q.c: per
 *     tile of rows (sized to stay in L2), groups of MM_QTOK tokens, each row unpacked once per group.
 *     On the portable path every token runs matvec's own FLM_ROWS-row kernel (kern_q_rows) over the
 *     tile, so tokens 2..B find the tile's weights in cache.
 *   - f32, f16, bf16 on AVX2: a register tile of FLM_ROWS rows x MM_TOK tokens, each (row, token) in its
 *     own 8-lane FMA accumulator exactly as rows_f32_avx2 & co. compute one row, so each weight vector
 *     is loaded (and for f16/bf16 converted) once per MM_TOK tokens; columns in L1-sized chunks.
 *   - f32, f16, bf16 with AVX-512 (avx512f, unless FLASHLM_NO_AVX512=1): a tile of MM5_ROWS rows x MM5_TOK
 *     tokens, each zmm holding two of those 8-lane accumulators ([row r | row r + 1] for one token), so
 *     every lane sees the same FMAs in the same order; the rows after the last full MM5_ROWS take the AVX2
 *     tiles.
 *   - f32/f16/bf16 on the portable path or with rows whose length is not a multiple of 8: each token's
 *     flm_matvec on a tile of rows, whose result is matvec's by definition.
 * Batch 1 is flm_matvec itself.
 */
#include "flashlm.h"
#include "matmul_internal.h"

#include <stdlib.h>
#include <string.h>

/* The weights of a tile of rows that the tokens share: about this many bytes (L2 is 512 KiB to 2 MiB on
 * the CPUs this runs on, and x's tokens must fit beside it). */
#define MM_TILE_BYTES (128 * 1024)
/* The tokens a float tile keeps in registers: FLM_ROWS x MM_TOK accumulators (12 of 16 ymm). */
#define MM_TOK 3

/* Rows per tile: a multiple of FLM_ROWS near MM_TILE_BYTES of weights, at least FLM_ROWS. */
static int64_t tile_rows(int64_t row_bytes)
{
    int64_t n = MM_TILE_BYTES / row_bytes / FLM_ROWS * FLM_ROWS;
    return n < FLM_ROWS ? FLM_ROWS : n;
}

/* ---- the block types: x quantized per token; the token tiles, or matvec's row kernels per token ---- */

/* B tokens of x quantized (kern_quantize_x) into one heap block: token t's q, d and sum16. */
struct mm_qx {
    void *heap;
    int64_t n;
    int8_t *q;
    float *d;
    int16_t *sum16;
};

static int mm_qx_init(struct mm_qx *m, const float *x, int64_t n, int64_t batch)
{
    size_t per = (size_t)n + (size_t)(n / 32) * sizeof(float) + (size_t)(n / 16) * sizeof(int16_t);
    m->heap = malloc(per * (size_t)batch);
    if (!m->heap)
        return FLM_E_NO_MEMORY;
    m->n = n;
    m->q = m->heap;
    m->d = (float *)(m->q + n * batch);
    m->sum16 = (int16_t *)(m->d + n / 32 * batch);
    for (int64_t t = 0; t < batch; t++)
        kern_quantize_x(x + t * n, n, m->q + t * n, m->d + t * (n / 32), m->sum16 + t * (n / 16));
    return 0;
}

static inline kern_qx mm_qx_token(const struct mm_qx *m, int64_t t)
{
    return (kern_qx){m->q + t * m->n, m->d + t * (m->n / 32), m->sum16 + t * (m->n / 16)};
}

/* The integer token tiles: MM_QTOK tokens at a time (groups, their per-block lanes built once), per tile
 * of rows each row of the tile unpacked once for the group (matmul_q.c). A last group short of MM_QTOK
 * tokens repeats its last token into a scratch. */
static int matmul_q_tiled(mm_qtile_fn tile_fn, const uint8_t *base, int64_t stride, int64_t rows, int64_t cols,
                          const struct mm_qx *xs, int64_t batch, float *y, int64_t row_begin, int64_t row_end)
{
    const int64_t nb = cols / 32, groups = (batch + MM_QTOK - 1) / MM_QTOK;
    float *dx4 = malloc(sizeof(float) * (size_t)(groups * nb * 8));
    int32_t *s4 = malloc(sizeof(int32_t) * (size_t)(groups * nb * 8));
    kern_qx *qt = malloc(sizeof(kern_qx) * (size_t)(groups * MM_QTOK));
    mm_group *g = malloc(sizeof(mm_group) * (size_t)groups);
    int rc = dx4 && s4 && qt && g ? 0 : FLM_E_NO_MEMORY;
    for (int64_t i = 0; rc == 0 && i < groups; i++) {
        for (int k = 0; k < MM_QTOK; k++) {
            int64_t t = i * MM_QTOK + k < batch ? i * MM_QTOK + k : batch - 1;
            qt[i * MM_QTOK + k] = mm_qx_token(xs, t);
            g[i].x[k] = &qt[i * MM_QTOK + k];
        }
        float *d = dx4 + i * nb * 8;
        int32_t *s = s4 + i * nb * 8;
        for (int64_t b = 0; b < nb; b++)
            for (int l = 0; l < 8; l++) {
                d[8 * b + l] = g[i].x[l % 4]->d[b];
                s[8 * b + l] = g[i].x[l % 4]->sum16[2 * b + l / 4];
            }
        g[i].dx4 = d;
        g[i].s4 = s;
    }
    int64_t tile = tile_rows(stride);
    float scratch[MM_QTOK];
    for (int64_t r0 = row_begin; rc == 0 && r0 < row_end; r0 += tile) {
        int64_t r1 = row_end - r0 < tile ? row_end : r0 + tile;
        for (int64_t i = 0; i < groups; i++) {
            float *yp[MM_QTOK];
            for (int64_t r = r0; r < r1; r++) {
                for (int k = 0; k < MM_QTOK; k++)
                    yp[k] = i * MM_QTOK + k < batch ? y + (i * MM_QTOK + k) * rows + r : &scratch[k];
                tile_fn(base + r * stride, &g[i], cols, yp);
            }
        }
    }
    free(dx4);
    free(s4);
    free(qt);
    free(g);
    return rc;
}

static int matmul_q(int dtype, qrows_fn one, qrows_fn many, const uint8_t *base, int64_t stride, int64_t rows,
                    int64_t cols, const float *x, int64_t batch, float *y, int64_t row_begin, int64_t row_end)
{
    struct mm_qx xs;
    int rc = mm_qx_init(&xs, x, cols, batch);
    if (rc != 0)
        return rc;
    mm_qtile_fn tile_fn = kern_mm_q_tile(dtype);
    if (tile_fn) {
        rc = matmul_q_tiled(tile_fn, base, stride, rows, cols, &xs, batch, y, row_begin, row_end);
        free(xs.heap);
        return rc;
    }
    int64_t tile = tile_rows(stride);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += tile) {
        int64_t r1 = row_end - r0 < tile ? row_end : r0 + tile;
        int64_t full = r0 + (r1 - r0) / FLM_ROWS * FLM_ROWS;
        for (int64_t t = 0; t < batch; t++) {
            kern_qx qt = mm_qx_token(&xs, t);
            float *yt = y + t * rows;
            for (int64_t r = r0; r < full; r += FLM_ROWS) {
                const uint8_t *w[FLM_ROWS];
                for (int k = 0; k < FLM_ROWS; k++)
                    w[k] = base + (r + k) * stride;
                many(w, &qt, cols, yt + r, 1);
            }
            for (int64_t r = full; r < r1; r++) {
                const uint8_t *w1 = base + r * stride;
                one(&w1, &qt, cols, yt + r, 0);
            }
        }
    }
    free(xs.heap);
    return 0;
}

/* ---- f32, f16, bf16 on AVX2: FLM_ROWS rows x T tokens in registers ---- */
#ifdef FLM_HAVE_X86

/* 8 weights of row w at column i as floats: exact conversions (rows_f16_avx2's cvtph, rows_bf16_avx2's
 * shift), so the products are those of matvec's kernels. */
FLM_AVX2 FLM_INLINE __m256 mm_load_w(const int dtype, const uint8_t *w, int64_t i)
{
    if (dtype == FLM_DTYPE_F32)
        return _mm256_loadu_ps((const float *)w + i);
    const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
    if (dtype == FLM_DTYPE_F16)
        return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* R rows (stride apart) x T tokens (x_t at x + t * xstep), over the columns [i0, i1) (multiples of 8):
 * acc(r, t) = fma(w_r[i..i+8), x_t[i..i+8), acc(r, t)) for i = i0, i0 + 8, ..., the operations of
 * rows_*_avx2 for one row, in its order. The columns come in chunks so that the R rows' chunk stays in L1
 * while the tokens pass over it; between chunks acc(r, t) waits in st[(t * FLM_ROWS + r) * 8 ..] (a store
 * and a load of the exact lanes: the FMA sequence of every lane is matvec's). first: acc starts at +0;
 * last: y[t * ystep + r] = sum8(acc) (matvec's tree; its scalar tail is empty when cols is a multiple of 8). */
FLM_AVX2 FLM_INLINE void mm_float_tile(const int dtype, const uint8_t *w, int64_t stride, const float *x, int64_t xstep,
                                       int64_t i0, int64_t i1, float *st, int first, int last, float *y, int64_t ystep,
                                       const int R, const int T)
{
    __m256 acc[FLM_ROWS][MM_TOK];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++)
            acc[r][t] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(st + (t * FLM_ROWS + r) * 8);
    for (int64_t i = i0; i < i1; i += 8) {
        __m256 xv[MM_TOK];
#pragma GCC unroll 4
        for (int t = 0; t < T; t++)
            xv[t] = _mm256_loadu_ps(x + t * xstep + i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const __m256 wv = mm_load_w(dtype, w + r * stride, i);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++)
                acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            if (last) {
                float l[8];
                _mm256_storeu_ps(l, acc[r][t]);
                y[t * ystep + r] = sum8(l);
            } else {
                _mm256_storeu_ps(st + (t * FLM_ROWS + r) * 8, acc[r][t]);
            }
        }
}

typedef void (*mm_ftile_fn)(const uint8_t *w, int64_t stride, const float *x, int64_t xstep, int64_t i0, int64_t i1,
                            float *st, int first, int last, float *y, int64_t ystep);

/* One function per dtype, row count (FLM_ROWS or 1) and token count (1 .. MM_TOK): constants to unroll on. */
#define MM_FTILE(name, code, R, T)                                                                            \
    FLM_AVX2 static void mm_##name##_r##R##_t##T(const uint8_t *w, int64_t stride, const float *x,            \
                                                 int64_t xstep, int64_t i0, int64_t i1, float *st, int first,  \
                                                 int last, float *y, int64_t ystep)                            \
    {                                                                                                          \
        mm_float_tile(code, w, stride, x, xstep, i0, i1, st, first, last, y, ystep, R, T);                     \
    }
#define MM_FTILES(name, code)                                                                                 \
    MM_FTILE(name, code, 4, 1) MM_FTILE(name, code, 4, 2) MM_FTILE(name, code, 4, 3)                           \
    MM_FTILE(name, code, 1, 1) MM_FTILE(name, code, 1, 2) MM_FTILE(name, code, 1, 3)                           \
    static const mm_ftile_fn mm_##name##_tiles[2][MM_TOK] = {                                                  \
        {mm_##name##_r1_t1, mm_##name##_r1_t2, mm_##name##_r1_t3},                                             \
        {mm_##name##_r4_t1, mm_##name##_r4_t2, mm_##name##_r4_t3}};
MM_FTILES(f32, FLM_DTYPE_F32)
MM_FTILES(f16, FLM_DTYPE_F16)
MM_FTILES(bf16, FLM_DTYPE_BF16)

static const mm_ftile_fn (*mm_float_tiles(int dtype))[MM_TOK]
{
    switch (dtype) {
    case FLM_DTYPE_F32: return mm_f32_tiles;
    case FLM_DTYPE_F16: return mm_f16_tiles;
    case FLM_DTYPE_BF16: return mm_bf16_tiles;
    default: return NULL;
    }
}

/* ---- f32, f16, bf16 on AVX-512: MM5_ROWS rows x MM5_TOK tokens, two 8-lane accumulators per zmm ---- */

/* Rows and tokens of an AVX-512 tile: MM5_ROWS / 2 row pairs x MM5_TOK tokens = 24 zmm accumulators, 6 of x
 * and one of weights (of 32). */
#define MM5_ROWS 8
#define MM5_TOK 6
#define FLM_AVX512 __attribute__((target("avx2,fma,f16c,avx512f")))

/* Rows w0 and w1 at column i, 8 weights each, as [w0 | w1]: the conversions of mm_load_w per half. */
FLM_AVX512 FLM_INLINE __m512 mm5_load_w2(const int dtype, const uint8_t *w0, const uint8_t *w1, int64_t i)
{
    if (dtype == FLM_DTYPE_F32) {
        const __m256d lo = _mm256_castps_pd(_mm256_loadu_ps((const float *)w0 + i));
        const __m256d hi = _mm256_castps_pd(_mm256_loadu_ps((const float *)w1 + i));
        return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1));
    }
    const __m256i h = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)((const uint16_t *)w0 + i))),
        _mm_loadu_si128((const __m128i *)((const uint16_t *)w1 + i)), 1);
    if (dtype == FLM_DTYPE_F16)
        return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* mm_float_tile with MM5_ROWS rows: acc(r, t) is the half r % 2 of zmm acc[r / 2][t] = [row r & ~1 | row r | 1],
 * fma(w, [x_t | x_t], acc) per 8 columns: lane by lane the FMAs of mm_float_tile and of rows_*_avx2, in their
 * order. Between chunks acc(r, t) waits in st[(t * MM5_ROWS + r) * 8 ..]; last: y = sum8 of each half. */
FLM_AVX512 FLM_INLINE void mm5_float_tile(const int dtype, const uint8_t *w, int64_t stride, const float *x,
                                          int64_t xstep, int64_t i0, int64_t i1, float *st, int first, int last,
                                          float *y, int64_t ystep, const int T)
{
    enum { P = MM5_ROWS / 2 };
    __m512 acc[P][MM5_TOK];
#pragma GCC unroll 8
    for (int p = 0; p < P; p++)
#pragma GCC unroll 8
        for (int t = 0; t < T; t++)
            acc[p][t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(st + (t * MM5_ROWS + 2 * p) * 8);
    for (int64_t i = i0; i < i1; i += 8) {
        __m512 xv[MM5_TOK];
#pragma GCC unroll 8
        for (int t = 0; t < T; t++)
            xv[t] = _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(x + t * xstep + i))));
#pragma GCC unroll 8
        for (int p = 0; p < P; p++) {
            const __m512 wv = mm5_load_w2(dtype, w + 2 * p * stride, w + (2 * p + 1) * stride, i);
#pragma GCC unroll 8
            for (int t = 0; t < T; t++)
                acc[p][t] = _mm512_fmadd_ps(wv, xv[t], acc[p][t]);
        }
    }
#pragma GCC unroll 8
    for (int p = 0; p < P; p++)
#pragma GCC unroll 8
        for (int t = 0; t < T; t++) {
            if (last) {
                float l[16];
                _mm512_storeu_ps(l, acc[p][t]);
                y[t * ystep + 2 * p] = sum8(l);
                y[t * ystep + 2 * p + 1] = sum8(l + 8);
            } else {
                _mm512_storeu_ps(st + (t * MM5_ROWS + 2 * p) * 8, acc[p][t]);
            }
        }
}

#define MM5_FTILE(name, code, T)                                                                              \
    FLM_AVX512 static void mm5_##name##_t##T(const uint8_t *w, int64_t stride, const float *x, int64_t xstep, \
                                             int64_t i0, int64_t i1, float *st, int first, int last, float *y, \
                                             int64_t ystep)                                                    \
    {                                                                                                          \
        mm5_float_tile(code, w, stride, x, xstep, i0, i1, st, first, last, y, ystep, T);                       \
    }
#define MM5_FTILES(name, code)                                                                                \
    MM5_FTILE(name, code, 1) MM5_FTILE(name, code, 2) MM5_FTILE(name, code, 3) MM5_FTILE(name, code, 4)      \
    MM5_FTILE(name, code, 5) MM5_FTILE(name, code, 6)                                                         \
    static const mm_ftile_fn mm5_##name##_tiles[MM5_TOK] = {mm5_##name##_t1, mm5_##name##_t2, mm5_##name##_t3, \
                                                            mm5_##name##_t4, mm5_##name##_t5, mm5_##name##_t6};
MM5_FTILES(f32, FLM_DTYPE_F32)
MM5_FTILES(f16, FLM_DTYPE_F16)
MM5_FTILES(bf16, FLM_DTYPE_BF16)

static const mm_ftile_fn *mm5_float_tiles(int dtype)
{
    switch (dtype) {
    case FLM_DTYPE_F32: return mm5_f32_tiles;
    case FLM_DTYPE_F16: return mm5_f16_tiles;
    case FLM_DTYPE_BF16: return mm5_bf16_tiles;
    default: return NULL;
    }
}

/* Whether the AVX-512 tiles run: the CPU (and its OS) has avx512f and FLASHLM_NO_AVX512=1 is not set (tests,
 * comparisons: then the AVX2 tiles run). */
static int have_avx512(void)
{
    static int use = -1;
    if (use < 0) {
        const char *off = getenv("FLASHLM_NO_AVX512");
        __builtin_cpu_init();
        use = !(off && off[0] == '1') && __builtin_cpu_supports("avx512f");
    }
    return use;
}

/* Tokens per pass of the float path: their accumulators between column chunks, MM5_ROWS x 8 floats each,
 * on the stack (48 KiB); a larger batch runs in passes of MM_FCHUNK tokens (a multiple of MM_TOK and
 * MM5_TOK). */
#define MM_FCHUNK (32 * MM5_TOK)

/* Per pass of tokens, per group of FLM_ROWS rows (then single rows), per chunk of columns (16 KiB of
 * the group's weights: L1), the tokens MM_TOK at a time. */
static void matmul_float(const mm_ftile_fn tiles[2][MM_TOK], const mm_ftile_fn *tiles5, const uint8_t *base,
                         int64_t stride, int64_t row_bytes, int64_t rows, int64_t cols, const float *x, int64_t batch,
                         float *y, int64_t row_begin, int64_t row_end)
{
    float st[MM_FCHUNK * MM5_ROWS * 8];
    const int64_t kc = 16384 / FLM_ROWS / (row_bytes / cols) / 8 * 8; /* row_bytes / cols: bytes per value */
    const int64_t kc5 = 16384 / MM5_ROWS / (row_bytes / cols) / 8 * 8;
    for (int64_t c0 = 0; c0 < batch; c0 += MM_FCHUNK) {
        int64_t c1 = batch - c0 < MM_FCHUNK ? batch : c0 + MM_FCHUNK;
        for (int64_t r = row_begin; r < row_end;) {
            if (tiles5 && row_end - r >= MM5_ROWS) {
                for (int64_t i0 = 0; i0 < cols; i0 += kc5) {
                    int64_t i1 = cols - i0 < kc5 ? cols : i0 + kc5;
                    for (int64_t t = c0; t < c1; t += MM5_TOK) {
                        int64_t T = c1 - t < MM5_TOK ? c1 - t : MM5_TOK;
                        tiles5[T - 1](base + r * stride, stride, x + t * cols, cols, i0, i1,
                                      st + (t - c0) * MM5_ROWS * 8, i0 == 0, i1 == cols, y + t * rows + r, rows);
                    }
                }
                r += MM5_ROWS;
                continue;
            }
            const int wide = row_end - r >= FLM_ROWS;
            for (int64_t i0 = 0; i0 < cols; i0 += kc) {
                int64_t i1 = cols - i0 < kc ? cols : i0 + kc;
                for (int64_t t = c0; t < c1; t += MM_TOK) {
                    int64_t T = c1 - t < MM_TOK ? c1 - t : MM_TOK;
                    tiles[wide][T - 1](base + r * stride, stride, x + t * cols, cols, i0, i1,
                                       st + (t - c0) * FLM_ROWS * 8, i0 == 0, i1 == cols, y + t * rows + r, rows);
                }
            }
            r += wide ? FLM_ROWS : 1;
        }
    }
}
#endif

/* Any dtype: each token's flm_matvec over a tile of rows (bits: matvec's, trivially); rows stride bytes apart
 * (one flm_matvec per row when they are not back to back). */
static int matmul_by_matvec(int dtype, const uint8_t *base, int64_t stride, int64_t row_bytes, int64_t rows,
                            int64_t cols, const float *x, int64_t batch, float *y, int64_t row_begin, int64_t row_end)
{
    int64_t tile = tile_rows(row_bytes);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += tile) {
        int64_t r1 = row_end - r0 < tile ? row_end : r0 + tile;
        for (int64_t t = 0; t < batch; t++) {
            if (stride == row_bytes) {
                int rc = flm_matvec(dtype, base, rows, cols, x + t * cols, y + t * rows, r0, r1);
                if (rc != 0)
                    return rc;
                continue;
            }
            for (int64_t r = r0; r < r1; r++) {
                int rc = flm_matvec(dtype, base + r * stride, 1, cols, x + t * cols, y + t * rows + r, 0, 1);
                if (rc != 0)
                    return rc;
            }
        }
    }
    return 0;
}

FLM_EXPORT int flm_matmul_strided(int dtype, const void *w, int64_t stride, int64_t rows, int64_t cols,
                                  const float *x, int64_t batch, float *y, int64_t row_begin, int64_t row_end)
{
    if (!w || !x || !y || rows < 0 || cols <= 0 || cols > (INT64_C(1) << 40) || batch < 0 ||
        batch > (INT64_C(1) << 24) || row_begin < 0 || row_end > rows || row_begin > row_end)
        return FLM_E_BAD_ARG;
    /* x (batch x cols floats) and y (batch x rows) cannot be 2^60 bytes or more: so no size below (the
     * quantized x, the tiles' buffers: about 1.2 bytes per value of x) overflows */
    if (batch > 0 && (rows > (INT64_C(1) << 58) / batch || cols > (INT64_C(1) << 58) / batch))
        return FLM_E_BAD_ARG;
    int64_t row_bytes = flm_row_bytes(dtype, cols);
    if (row_bytes <= 0 || stride < row_bytes || stride > (INT64_C(1) << 40))
        return FLM_E_BAD_ARG;
    if (batch == 0 || row_begin == row_end)
        return 0;
    const uint8_t *base = (const uint8_t *)w;
    if (batch == 1 && stride == row_bytes)
        return flm_matvec(dtype, w, rows, cols, x, y, row_begin, row_end);
    qrows_fn qone, qmany;
    if (kern_q_rows(dtype, &qone, &qmany))
        return matmul_q(dtype, qone, qmany, base, stride, rows, cols, x, batch, y, row_begin, row_end);
#ifdef FLM_HAVE_X86
    const mm_ftile_fn(*tiles)[MM_TOK] = mm_float_tiles(dtype);
    if (tiles && flm_kernels_simd() && cols % 8 == 0) {
        matmul_float(tiles, have_avx512() ? mm5_float_tiles(dtype) : NULL, base, stride, row_bytes, rows, cols, x,
                     batch, y, row_begin, row_end);
        return 0;
    }
#endif
    return matmul_by_matvec(dtype, base, stride, row_bytes, rows, cols, x, batch, y, row_begin, row_end);
}

FLM_EXPORT int flm_matmul(int dtype, const void *w, int64_t rows, int64_t cols, const float *x, int64_t batch,
                          float *y, int64_t row_begin, int64_t row_end)
{
    int64_t row_bytes = flm_row_bytes(dtype, cols > 0 ? cols : 1);
    return flm_matmul_strided(dtype, w, row_bytes > 0 ? row_bytes : 1, rows, cols, x, batch, y, row_begin, row_end);
}
