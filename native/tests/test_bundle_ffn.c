/* Sparse FFN kernels over bundled records: against a dense computation (flm_matvec over the up
 * matrix, then fmaf accumulation of the down rows in neuron order) bit for bit, against a double
 * reference, for every dtype, gated and ReLU; column splits and row permutations give the same bits;
 * h == 0 is skipped; bad arguments are refused. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_ffn_internal.h"
#include "matvec_internal.h"
#include "test_util.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    float f;
    if (exp == 0) {
        f = ldexpf((float)man, -24);
        if (sign)
            f = -f;
        return f;
    }
    uint32_t bits = exp == 31 ? sign | 0x7f800000u | (man << 13) : sign | ((exp + 112) << 23) | (man << 13);
    memcpy(&f, &bits, 4);
    return f;
}

/* Decoded value j of a part: f32 and f16 here, q8_0 from the format, the other block types by the
 * portable decoder (whose AVX2 twin test_decode_paths compares, and whose values the Java tests
 * compare with the Java decoders). */
static float weight(int dtype, const uint8_t *p, int64_t j)
{
    if (dtype == FLM_DTYPE_F32) {
        float v;
        memcpy(&v, p + 4 * j, 4);
        return v;
    }
    if (dtype == FLM_DTYPE_F16) {
        uint16_t v;
        memcpy(&v, p + 2 * j, 2);
        return half_to_float(v);
    }
    if (dtype == FLM_DTYPE_Q8_0) {
        const uint8_t *blk = p + (j / 32) * 34;
        uint16_t d;
        memcpy(&d, blk, 2);
        return half_to_float(d) * (float)(int8_t)blk[2 + j % 32];
    }
    int64_t bv = kern_block_values(dtype);
    float w[256];
    kern_decode_block_portable(dtype, p + (j / bv) * flm_row_bytes(dtype, bv), w);
    return w[j % bv];
}

/* The f16 fields (scales, mins) of a block of each type the encoder does not write: byte offsets, -1 ends. */
static const int *f16_fields(int dtype)
{
    static const int d0[] = {0, -1}, d0m2[] = {0, 2, -1}, q6k[] = {208, -1}, q3k[] = {108, -1}, q2k[] = {80, 82, -1};
    switch (dtype) {
    case FLM_DTYPE_Q4_1:
    case FLM_DTYPE_Q5_1:
    case FLM_DTYPE_Q4_K:
    case FLM_DTYPE_Q5_K: return d0m2;
    case FLM_DTYPE_Q6_K: return q6k;
    case FLM_DTYPE_Q3_K: return q3k;
    case FLM_DTYPE_Q2_K: return q2k;
    default: return d0; /* q4_0, q5_0, iq4_nl, iq4_xs */
    }
}

/* A part of dim values in dtype: the encoder's for the types it writes, else random quants with
 * random f16 scales of about 1 / (16 sqrt(dim)) (mins likewise), every bit pattern of the quants and
 * sub-block scales occurring. */
static void make_part(int dtype, int64_t dim, uint8_t *dst)
{
    if (dtype == FLM_DTYPE_F32 || dtype == FLM_DTYPE_F16 || dtype == FLM_DTYPE_Q8_0) {
        float *src = malloc((size_t)dim * sizeof(float));
        for (int64_t j = 0; j < dim; j++)
            src[j] = frand() / sqrtf((float)dim) * 3;
        if (flm_encode_f32(dtype, src, dst, dim) != 0)
            CHECK_MSG(0, "encode");
        free(src);
        return;
    }
    int64_t bv = kern_block_values(dtype), bb = flm_row_bytes(dtype, bv);
    for (int64_t b = 0; b < dim / bv; b++) {
        uint8_t *blk = dst + b * bb;
        for (int64_t i = 0; i < bb; i++)
            blk[i] = (uint8_t)(frand() * 128 + 128);
        for (const int *f = f16_fields(dtype); *f >= 0; f++) {
            /* f16 of 2^-e (e from 8 to 11) with a random mantissa and sign */
            int e = 15 - 8 - (int)((frand() + 1) * 2);
            uint16_t h = (uint16_t)((e << 10) | ((int)((frand() + 1) * 511) & 0x3ff) | (frand() < 0 && *f == 0 ? 0x8000 : 0));
            blk[*f] = (uint8_t)h;
            blk[*f + 1] = (uint8_t)(h >> 8);
        }
    }
}

static float act(int a, float v)
{
    return a == FLM_ACT_RELU ? (v > 0 ? v : 0.0f) : (float)((double)v / (1.0 + exp(-(double)v)));
}

struct ffn {
    int row_dtype, down_dtype, gated;
    int64_t dim, n, record;
    int64_t part[3], off[3]; /* bytes and record offset of each part */
    uint8_t *records;        /* n records */
    uint8_t *dense[3];       /* the same parts as dense row-major matrices [n, dim] */
    float *bias;
};

static int part_dtype(const struct ffn *f, int p)
{
    return p == (f->gated ? 2 : 1) ? f->down_dtype : f->row_dtype;
}

static void ffn_make(struct ffn *f, int row_dtype, int down_dtype, int gated, int64_t dim, int64_t n, int64_t pad)
{
    f->row_dtype = row_dtype;
    f->down_dtype = down_dtype;
    f->gated = gated;
    f->dim = dim;
    f->n = n;
    int parts = gated ? 3 : 2;
    int64_t at = 0;
    for (int p = 0; p < parts; p++) {
        f->part[p] = flm_row_bytes(part_dtype(f, p), dim);
        f->off[p] = at;
        at += f->part[p];
    }
    f->record = at + pad;
    f->records = calloc((size_t)(n * f->record), 1);
    f->bias = malloc((size_t)n * sizeof(float));
    for (int p = 0; p < 3; p++)
        f->dense[p] = p < parts ? malloc((size_t)(n * f->part[p])) : NULL;
    for (int64_t r = 0; r < n; r++) {
        f->bias[r] = 0.3f * frand() - 0.1f;
        for (int p = 0; p < parts; p++) {
            uint8_t *dst = f->records + r * f->record + f->off[p];
            make_part(part_dtype(f, p), dim, dst);
            if (r % 7 == 3 && p == parts - 1 && down_dtype == FLM_DTYPE_F32)
                memset(dst, 0, 4); /* some exact zeros */
            memcpy(f->dense[p] + r * f->part[p], dst, (size_t)f->part[p]);
        }
    }
}

static void ffn_free(struct ffn *f)
{
    free(f->records);
    free(f->bias);
    for (int p = 0; p < 3; p++)
        free(f->dense[p]);
}

/* Dense computation over neurons sel[0..k) (ascending ids): matvec over the dense matrices, then
 * fmaf accumulation in that order. */
static void dense_ffn(const struct ffn *f, int a, int use_bias, const float *x, const int32_t *sel, int64_t k,
                      float *y)
{
    float *u = malloc((size_t)f->n * sizeof(float)), *g = malloc((size_t)f->n * sizeof(float));
    int upp = f->gated ? 1 : 0, downp = f->gated ? 2 : 1;
    CHECK_MSG(flm_matvec(f->row_dtype, f->dense[upp], f->n, f->dim, x, u, 0, f->n) == 0, "matvec up");
    if (f->gated)
        CHECK_MSG(flm_matvec(f->row_dtype, f->dense[0], f->n, f->dim, x, g, 0, f->n) == 0, "matvec gate");
    for (int64_t i = 0; i < k; i++) {
        int32_t r = sel[i];
        float uu = use_bias ? u[r] + f->bias[r] : u[r];
        float h = f->gated ? act(a, g[r]) * uu : act(a, uu);
        if (h == 0)
            continue;
        const uint8_t *p = f->dense[downp] + r * f->part[downp];
        for (int64_t j = 0; j < f->dim; j++)
            y[j] = fmaf(h, weight(f->down_dtype, p, j), y[j]);
    }
    free(u);
    free(g);
}

/* Double-precision reference over the decoded weights; writes |h||w| sums into scale. The types with
 * integer kernels dot the rows with x as those kernels quantize it (matvec_internal.h), so the
 * reference is that of the arithmetic they are meant to do, not of f32 x. */
static void double_ffn(const struct ffn *f, int a, int use_bias, const float *x, const int32_t *sel, int64_t k,
                       double *y, double *scale)
{
    int upp = f->gated ? 1 : 0, downp = f->gated ? 2 : 1;
    double *xr = malloc((size_t)f->dim * sizeof(double));
    qrows_fn one, many;
    if (kern_q_rows(f->row_dtype, &one, &many)) {
        int8_t *q = malloc((size_t)f->dim);
        float *d = malloc((size_t)(f->dim / 32) * sizeof(float));
        int16_t *s16 = malloc((size_t)(f->dim / 16) * sizeof(int16_t));
        kern_quantize_x(x, f->dim, q, d, s16);
        for (int64_t j = 0; j < f->dim; j++)
            xr[j] = (double)d[j / 32] * q[j];
        free(q);
        free(d);
        free(s16);
    } else {
        for (int64_t j = 0; j < f->dim; j++)
            xr[j] = x[j];
    }
    for (int64_t j = 0; j < f->dim; j++)
        y[j] = scale[j] = 0;
    for (int64_t i = 0; i < k; i++) {
        int32_t r = sel[i];
        double u = 0, g = 0;
        for (int64_t j = 0; j < f->dim; j++) {
            u += (double)weight(f->row_dtype, f->dense[upp] + r * f->part[upp], j) * xr[j];
            if (f->gated)
                g += (double)weight(f->row_dtype, f->dense[0] + r * f->part[0], j) * xr[j];
        }
        if (use_bias)
            u += f->bias[r];
        double h;
        if (f->gated)
            h = (a == FLM_ACT_RELU ? (g > 0 ? g : 0) : g / (1 + exp(-g))) * u;
        else
            h = u > 0 ? u : 0;
        for (int64_t j = 0; j < f->dim; j++) {
            double w = weight(f->down_dtype, f->dense[downp] + r * f->part[downp], j);
            y[j] += h * w;
            scale[j] += fabs(h * w) + fabs(h) * 1e-3;
        }
    }
    free(xr);
}

static const char *dname(int d)
{
    static const char *names[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
                                  "iq4_nl", "q6_k", "q4_k", "q5_k", "q3_k", "q2_k", "iq4_xs"};
    return d >= 0 && d < 15 ? names[d] : "?";
}

static void test_one(int row_dtype, int down_dtype, int gated, int a, int64_t dim, int64_t n)
{
    struct ffn f;
    ffn_make(&f, row_dtype, down_dtype, gated, dim, n, down_dtype == FLM_DTYPE_F32 ? 0 : 6);
    float *x = malloc((size_t)dim * sizeof(float));
    for (int64_t j = 0; j < dim; j++)
        x[j] = frand();
    /* a subset of neurons, ascending */
    int32_t *sel = malloc((size_t)n * sizeof(int32_t));
    int64_t k = 0;
    for (int64_t r = 0; r < n; r++)
        if (r % 3 != 1)
            sel[k++] = (int32_t)r;
    int use_bias = !gated || a == FLM_ACT_SILU;

    float *y0 = malloc((size_t)dim * sizeof(float)), *y1 = malloc((size_t)dim * sizeof(float));
    float *h = malloc((size_t)n * sizeof(float));
    for (int64_t j = 0; j < dim; j++)
        y0[j] = y1[j] = 0.01f * (float)(j % 5);
    dense_ffn(&f, a, use_bias, x, sel, k, y0);

    /* cache: the selected neurons' records in a shuffled row order */
    int32_t *perm = malloc((size_t)k * sizeof(int32_t));
    for (int64_t i = 0; i < k; i++)
        perm[i] = (int32_t)i;
    for (int64_t i = k - 1; i > 0; i--) {
        int64_t s = (int64_t)((rng = rng * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (i + 1);
        int32_t t = perm[i];
        perm[i] = perm[s];
        perm[s] = t;
    }
    uint8_t *cache = malloc((size_t)(k * f.record));
    float *cbias = malloc((size_t)k * sizeof(float));
    int32_t *order = malloc((size_t)k * sizeof(int32_t)); /* rows in ascending neuron id */
    for (int64_t i = 0; i < k; i++) {
        int64_t row = perm[i];
        memcpy(cache + row * f.record, f.records + (int64_t)sel[i] * f.record, (size_t)f.record);
        cbias[row] = f.bias[sel[i]];
        order[i] = (int32_t)row;
    }
    int rc;
    if (gated && !use_bias) {
        rc = flm_bundle_ffn_gated(row_dtype, down_dtype, cache, k, f.record, dim, a, x, h, order, k, y1);
    } else if (!gated) {
        rc = flm_bundle_ffn_relu(row_dtype, down_dtype, cache, k, f.record, dim, cbias, x, h, order, k, y1);
    } else {
        rc = flm_bundle_ffn_up(row_dtype, down_dtype, cache, k, f.record, dim, 1, a, cbias, x, order, 0, k, h);
        if (rc == 0)
            rc = flm_bundle_ffn_down(row_dtype, down_dtype, cache, k, f.record, dim, 1, h, order, k, y1, 0, dim);
    }
    CHECK_MSG(rc == 0, "%s/%s gated=%d rc %d", dname(row_dtype), dname(down_dtype), gated, rc);
    int diff = 0;
    for (int64_t j = 0; j < dim; j++)
        diff += memcmp(&y0[j], &y1[j], 4) != 0;
    CHECK_MSG(diff == 0, "%s/%s gated=%d act=%d dim=%lld: %d elements differ from the dense computation",
              dname(row_dtype), dname(down_dtype), gated, a, (long long)dim, diff);

    /* double reference (starting from y's initial value) */
    double *yd = malloc((size_t)dim * sizeof(double)), *sc = malloc((size_t)dim * sizeof(double));
    double_ffn(&f, a, use_bias, x, sel, k, yd, sc);
    int bad = 0;
    for (int64_t j = 0; j < dim; j++) {
        double ref = yd[j] + 0.01f * (float)(j % 5);
        if (fabs(y1[j] - ref) > 1e-5 * (sc[j] + 1e-3))
            bad++;
    }
    CHECK_MSG(bad == 0, "%s/%s gated=%d: %d elements off the double reference", dname(row_dtype), dname(down_dtype), gated, bad);

    /* column splits, including unaligned ones, give the same bits; up split by rows too */
    const int64_t cuts[][3] = {{0, 32, dim}, {0, 7, dim}, {0, dim / 2 + 3, dim}, {0, 1, dim}};
    for (int c = 0; c < 4; c++) {
        float *y2 = malloc((size_t)dim * sizeof(float)), *h2 = malloc((size_t)k * sizeof(float));
        for (int64_t j = 0; j < dim; j++)
            y2[j] = 0.01f * (float)(j % 5);
        int64_t mid = cuts[c][1] < dim ? cuts[c][1] : dim / 2;
        int64_t rmid = k / 3;
        rc = flm_bundle_ffn_up(row_dtype, down_dtype, cache, k, f.record, dim, gated, a, use_bias ? cbias : NULL, x, order, rmid, k,
                               h2);
        rc |= flm_bundle_ffn_up(row_dtype, down_dtype, cache, k, f.record, dim, gated, a, use_bias ? cbias : NULL, x, order, 0, rmid,
                                h2);
        rc |= flm_bundle_ffn_down(row_dtype, down_dtype, cache, k, f.record, dim, gated, h2, order, k, y2, mid, dim);
        rc |= flm_bundle_ffn_down(row_dtype, down_dtype, cache, k, f.record, dim, gated, h2, order, k, y2, 0, mid);
        CHECK_MSG(rc == 0, "split rc");
        CHECK_MSG(memcmp(y1, y2, (size_t)dim * 4) == 0, "%s/%s gated=%d: split at %lld differs", dname(row_dtype), dname(down_dtype), gated,
                  (long long)mid);
        free(y2);
        free(h2);
    }
    free(yd);
    free(sc);
    free(x);
    free(sel);
    free(y0);
    free(y1);
    free(h);
    free(perm);
    free(cache);
    free(cbias);
    free(order);
    ffn_free(&f);
}

static void test_zero_skip_and_args(void)
{
    enum { D = 64 };
    float rec[2 * D], x[D], y[D], h[1];
    for (int j = 0; j < D; j++) {
        rec[j] = 0;
        rec[D + j] = INFINITY; /* down: would poison y unless skipped */
        x[j] = 1;
        y[j] = 2;
    }
    int32_t order[1] = {0};
    float bias[1] = {-1};
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, order, 1, y) == 0, "relu");
    CHECK_MSG(h[0] == 0, "h %f", h[0]);
    for (int j = 0; j < D; j++)
        CHECK_MSG(y[j] == 2, "y[%d] = %f", j, y[j]);
    /* bad arguments */
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_BF16, FLM_DTYPE_BF16, rec, 1, sizeof rec, D, bias, x, h, order, 1, y) == FLM_E_BAD_ARG,
              "bf16");
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec - 4, D, bias, x, h, order, 1, y) == FLM_E_BAD_ARG,
              "short record");
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, NULL, 1, y) == FLM_E_BAD_ARG,
              "order");
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, order, 2, y) == FLM_E_BAD_ARG, "n");
    int32_t bad[1] = {1};
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, bad, 1, y) == FLM_E_BAD_ARG, "row");
    CHECK_MSG(flm_bundle_ffn_down(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec, D, 0, h, order, 1, y, 0, D + 1) == FLM_E_BAD_ARG,
              "cols");
    CHECK_MSG(flm_bundle_ffn_down(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec, D, 2, h, order, 1, y, 0, D) == FLM_E_BAD_ARG,
              "gated");
    CHECK_MSG(flm_bundle_ffn_up(FLM_DTYPE_F32, FLM_DTYPE_F32, rec, 1, sizeof rec, D, 0, 7, NULL, x, order, 0, 1, h) == FLM_E_BAD_ARG,
              "activation");
    CHECK_MSG(flm_bundle_ffn_up(FLM_DTYPE_Q8_0, FLM_DTYPE_Q8_0, rec, 1, sizeof rec, 48, 0, 0, NULL, x, order, 0, 1, h) == FLM_E_BAD_ARG,
              "q8_0 dim");
    CHECK_MSG(flm_bundle_ffn_gated(FLM_DTYPE_F32, FLM_DTYPE_F32, NULL, 1, sizeof rec, D, 0, x, h, order, 1, y) == FLM_E_BAD_ARG,
              "null");
    CHECK_MSG(flm_bundle_ffn_down(FLM_DTYPE_F32, FLM_DTYPE_F32, NULL, 0, sizeof rec, D, 0, NULL, NULL, 0, y, 0, D) == 0, "empty");
    CHECK_MSG(flm_advise_hugepage(NULL, 1) == FLM_E_BAD_ARG, "advise null");
    void *big = malloc(8 << 20);
    CHECK_MSG(flm_advise_hugepage(big, 8 << 20) >= 0, "advise");
    free(big);
}

/* The AVX2 block decoders give the portable decoder's bits, for random blocks of every type. */
static void test_decode_paths(void)
{
    const int types[] = {FLM_DTYPE_Q8_0, FLM_DTYPE_Q4_0, FLM_DTYPE_Q4_1, FLM_DTYPE_Q5_0, FLM_DTYPE_Q5_1,
                         FLM_DTYPE_IQ4_NL, FLM_DTYPE_Q6_K, FLM_DTYPE_Q4_K, FLM_DTYPE_Q5_K, FLM_DTYPE_Q3_K,
                         FLM_DTYPE_Q2_K, FLM_DTYPE_IQ4_XS};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        uint8_t blk[8 * 256];
        int64_t bv = kern_block_values(types[t]);
        for (int rep = 0; rep < 50; rep++) {
            make_part(types[t], 8 * bv > 2048 ? bv : 8 * bv, blk);
            float a[256], b[256];
            kern_decode_block(types[t], blk, a);
            kern_decode_block_portable(types[t], blk, b);
            CHECK_MSG(memcmp(a, b, (size_t)bv * 4) == 0, "%s: the decoders differ", dname(types[t]));
        }
    }
}

int main(void)
{
    const int dtypes[] = {FLM_DTYPE_F32, FLM_DTYPE_F16, FLM_DTYPE_Q8_0};
    const int64_t dims[] = {32, 96, 256, 1024};
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < 4; i++) {
            test_one(dtypes[d], dtypes[d], 0, FLM_ACT_RELU, dims[i], 61);
            test_one(dtypes[d], dtypes[d], 1, FLM_ACT_SILU, dims[i], 45);
            test_one(dtypes[d], dtypes[d], 1, FLM_ACT_RELU, dims[i], 45);
        }
    /* f32 and f16 also take dims that are not multiples of 8 */
    test_one(FLM_DTYPE_F32, FLM_DTYPE_F32, 0, FLM_ACT_RELU, 75, 40);
    test_one(FLM_DTYPE_F16, FLM_DTYPE_F16, 1, FLM_ACT_SILU, 75, 40);
    /* past one column chunk of the vector path */
    test_one(FLM_DTYPE_F32, FLM_DTYPE_F32, 0, FLM_ACT_RELU, 8203, 9);
    test_one(FLM_DTYPE_Q8_0, FLM_DTYPE_Q8_0, 1, FLM_ACT_SILU, 8256, 9);
    /* every block type as rows and as down columns, alone and mixed (a quantized GGUF's rows kept as
     * stored, its down columns re-quantized) */
    const int blocks[] = {FLM_DTYPE_Q4_0, FLM_DTYPE_Q4_1, FLM_DTYPE_Q5_0, FLM_DTYPE_Q5_1, FLM_DTYPE_IQ4_NL,
                          FLM_DTYPE_Q6_K, FLM_DTYPE_Q4_K, FLM_DTYPE_Q5_K, FLM_DTYPE_Q3_K, FLM_DTYPE_Q2_K,
                          FLM_DTYPE_IQ4_XS};
    for (size_t t = 0; t < sizeof blocks / sizeof blocks[0]; t++) {
        test_one(blocks[t], blocks[t], 0, FLM_ACT_RELU, 512, 21);
        test_one(blocks[t], blocks[t], 1, FLM_ACT_SILU, 768, 13);
        test_one(blocks[t], FLM_DTYPE_Q8_0, 1, FLM_ACT_RELU, 256, 17);
        test_one(FLM_DTYPE_F16, blocks[t], 1, FLM_ACT_SILU, 256, 17);
    }
    test_one(FLM_DTYPE_Q4_K, FLM_DTYPE_Q6_K, 1, FLM_ACT_SILU, 8448, 5);
    test_decode_paths();
    test_zero_skip_and_args();
    return tu_finish(flm_kernels_simd() ? "bundle_ffn (simd)" : "bundle_ffn (portable)");
}
