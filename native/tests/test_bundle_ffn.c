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

/* Decoded value j of a part. */
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
    const uint8_t *blk = p + (j / 32) * 34;
    uint16_t d;
    memcpy(&d, blk, 2);
    return half_to_float(d) * (float)(int8_t)blk[2 + j % 32];
}

static float act(int a, float v)
{
    return a == FLM_ACT_RELU ? (v > 0 ? v : 0.0f) : (float)((double)v / (1.0 + exp(-(double)v)));
}

struct ffn {
    int dtype, gated;
    int64_t dim, n, part, record;
    uint8_t *records;  /* n records */
    uint8_t *dense[3]; /* the same parts as dense row-major matrices [n, dim] */
    float *bias;
};

static void ffn_make(struct ffn *f, int dtype, int gated, int64_t dim, int64_t n, int64_t pad)
{
    f->dtype = dtype;
    f->gated = gated;
    f->dim = dim;
    f->n = n;
    f->part = flm_row_bytes(dtype, dim);
    int parts = gated ? 3 : 2;
    f->record = parts * f->part + pad;
    f->records = calloc((size_t)(n * f->record), 1);
    f->bias = malloc((size_t)n * sizeof(float));
    float *src = malloc((size_t)dim * sizeof(float));
    for (int p = 0; p < 3; p++)
        f->dense[p] = p < parts ? malloc((size_t)(n * f->part)) : NULL;
    for (int64_t r = 0; r < n; r++) {
        f->bias[r] = 0.3f * frand() - 0.1f;
        for (int p = 0; p < parts; p++) {
            for (int64_t j = 0; j < dim; j++)
                src[j] = frand() / sqrtf((float)dim) * 3;
            if (r % 7 == 3 && p == parts - 1)
                src[0] = 0; /* some exact zeros */
            uint8_t *dst = f->records + r * f->record + p * f->part;
            if (flm_encode_f32(dtype, src, dst, dim) != 0)
                CHECK_MSG(0, "encode");
            memcpy(f->dense[p] + r * f->part, dst, (size_t)f->part);
        }
    }
    free(src);
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
    CHECK_MSG(flm_matvec(f->dtype, f->dense[upp], f->n, f->dim, x, u, 0, f->n) == 0, "matvec up");
    if (f->gated)
        CHECK_MSG(flm_matvec(f->dtype, f->dense[0], f->n, f->dim, x, g, 0, f->n) == 0, "matvec gate");
    for (int64_t i = 0; i < k; i++) {
        int32_t r = sel[i];
        float uu = use_bias ? u[r] + f->bias[r] : u[r];
        float h = f->gated ? act(a, g[r]) * uu : act(a, uu);
        if (h == 0)
            continue;
        const uint8_t *p = f->dense[downp] + r * f->part;
        for (int64_t j = 0; j < f->dim; j++)
            y[j] = fmaf(h, weight(f->dtype, p, j), y[j]);
    }
    free(u);
    free(g);
}

/* Double-precision reference over the decoded weights; writes |h||w| sums into scale. */
static void double_ffn(const struct ffn *f, int a, int use_bias, const float *x, const int32_t *sel, int64_t k,
                       double *y, double *scale)
{
    int upp = f->gated ? 1 : 0, downp = f->gated ? 2 : 1;
    for (int64_t j = 0; j < f->dim; j++)
        y[j] = scale[j] = 0;
    for (int64_t i = 0; i < k; i++) {
        int32_t r = sel[i];
        double u = 0, g = 0;
        for (int64_t j = 0; j < f->dim; j++) {
            u += (double)weight(f->dtype, f->dense[upp] + r * f->part, j) * x[j];
            if (f->gated)
                g += (double)weight(f->dtype, f->dense[0] + r * f->part, j) * x[j];
        }
        if (use_bias)
            u += f->bias[r];
        double h;
        if (f->gated)
            h = (a == FLM_ACT_RELU ? (g > 0 ? g : 0) : g / (1 + exp(-g))) * u;
        else
            h = u > 0 ? u : 0;
        for (int64_t j = 0; j < f->dim; j++) {
            double w = weight(f->dtype, f->dense[downp] + r * f->part, j);
            y[j] += h * w;
            scale[j] += fabs(h * w) + fabs(h) * 1e-3;
        }
    }
}

static const char *dname(int d)
{
    return d == FLM_DTYPE_F32 ? "f32" : d == FLM_DTYPE_F16 ? "f16" : "q8_0";
}

static void test_one(int dtype, int gated, int a, int64_t dim, int64_t n)
{
    struct ffn f;
    ffn_make(&f, dtype, gated, dim, n, dtype == FLM_DTYPE_Q8_0 ? 6 : 0);
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
        rc = flm_bundle_ffn_gated(dtype, cache, k, f.record, dim, a, x, h, order, k, y1);
    } else if (!gated) {
        rc = flm_bundle_ffn_relu(dtype, cache, k, f.record, dim, cbias, x, h, order, k, y1);
    } else {
        rc = flm_bundle_ffn_up(dtype, cache, k, f.record, dim, 1, a, cbias, x, order, 0, k, h);
        if (rc == 0)
            rc = flm_bundle_ffn_down(dtype, cache, k, f.record, dim, 1, h, order, k, y1, 0, dim);
    }
    CHECK_MSG(rc == 0, "%s gated=%d rc %d", dname(dtype), gated, rc);
    int diff = 0;
    for (int64_t j = 0; j < dim; j++)
        diff += memcmp(&y0[j], &y1[j], 4) != 0;
    CHECK_MSG(diff == 0, "%s gated=%d act=%d dim=%lld: %d elements differ from the dense computation", dname(dtype),
              gated, a, (long long)dim, diff);

    /* double reference (starting from y's initial value) */
    double *yd = malloc((size_t)dim * sizeof(double)), *sc = malloc((size_t)dim * sizeof(double));
    double_ffn(&f, a, use_bias, x, sel, k, yd, sc);
    int bad = 0;
    for (int64_t j = 0; j < dim; j++) {
        double ref = yd[j] + 0.01f * (float)(j % 5);
        if (fabs(y1[j] - ref) > 1e-5 * (sc[j] + 1e-3))
            bad++;
    }
    CHECK_MSG(bad == 0, "%s gated=%d: %d elements off the double reference", dname(dtype), gated, bad);

    /* column splits, including unaligned ones, give the same bits; up split by rows too */
    const int64_t cuts[][3] = {{0, 32, dim}, {0, 7, dim}, {0, dim / 2 + 3, dim}, {0, 1, dim}};
    for (int c = 0; c < 4; c++) {
        float *y2 = malloc((size_t)dim * sizeof(float)), *h2 = malloc((size_t)k * sizeof(float));
        for (int64_t j = 0; j < dim; j++)
            y2[j] = 0.01f * (float)(j % 5);
        int64_t mid = cuts[c][1] < dim ? cuts[c][1] : dim / 2;
        int64_t rmid = k / 3;
        rc = flm_bundle_ffn_up(dtype, cache, k, f.record, dim, gated, a, use_bias ? cbias : NULL, x, order, rmid, k,
                               h2);
        rc |= flm_bundle_ffn_up(dtype, cache, k, f.record, dim, gated, a, use_bias ? cbias : NULL, x, order, 0, rmid,
                                h2);
        rc |= flm_bundle_ffn_down(dtype, cache, k, f.record, dim, gated, h2, order, k, y2, mid, dim);
        rc |= flm_bundle_ffn_down(dtype, cache, k, f.record, dim, gated, h2, order, k, y2, 0, mid);
        CHECK_MSG(rc == 0, "split rc");
        CHECK_MSG(memcmp(y1, y2, (size_t)dim * 4) == 0, "%s gated=%d: split at %lld differs", dname(dtype), gated,
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
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, order, 1, y) == 0, "relu");
    CHECK_MSG(h[0] == 0, "h %f", h[0]);
    for (int j = 0; j < D; j++)
        CHECK_MSG(y[j] == 2, "y[%d] = %f", j, y[j]);
    /* bad arguments */
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_BF16, rec, 1, sizeof rec, D, bias, x, h, order, 1, y) == FLM_E_BAD_ARG,
              "bf16");
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, rec, 1, sizeof rec - 4, D, bias, x, h, order, 1, y) == FLM_E_BAD_ARG,
              "short record");
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, NULL, 1, y) == FLM_E_BAD_ARG,
              "order");
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, order, 2, y) == FLM_E_BAD_ARG, "n");
    int32_t bad[1] = {1};
    CHECK_MSG(flm_bundle_ffn_relu(FLM_DTYPE_F32, rec, 1, sizeof rec, D, bias, x, h, bad, 1, y) == FLM_E_BAD_ARG, "row");
    CHECK_MSG(flm_bundle_ffn_down(FLM_DTYPE_F32, rec, 1, sizeof rec, D, 0, h, order, 1, y, 0, D + 1) == FLM_E_BAD_ARG,
              "cols");
    CHECK_MSG(flm_bundle_ffn_down(FLM_DTYPE_F32, rec, 1, sizeof rec, D, 2, h, order, 1, y, 0, D) == FLM_E_BAD_ARG,
              "gated");
    CHECK_MSG(flm_bundle_ffn_up(FLM_DTYPE_F32, rec, 1, sizeof rec, D, 0, 7, NULL, x, order, 0, 1, h) == FLM_E_BAD_ARG,
              "activation");
    CHECK_MSG(flm_bundle_ffn_up(FLM_DTYPE_Q8_0, rec, 1, sizeof rec, 48, 0, 0, NULL, x, order, 0, 1, h) == FLM_E_BAD_ARG,
              "q8_0 dim");
    CHECK_MSG(flm_bundle_ffn_gated(FLM_DTYPE_F32, NULL, 1, sizeof rec, D, 0, x, h, order, 1, y) == FLM_E_BAD_ARG,
              "null");
    CHECK_MSG(flm_bundle_ffn_down(FLM_DTYPE_F32, NULL, 0, sizeof rec, D, 0, NULL, NULL, 0, y, 0, D) == 0, "empty");
    CHECK_MSG(flm_advise_hugepage(NULL, 1) == FLM_E_BAD_ARG, "advise null");
    void *big = malloc(8 << 20);
    CHECK_MSG(flm_advise_hugepage(big, 8 << 20) >= 0, "advise");
    free(big);
}

int main(void)
{
    const int dtypes[] = {FLM_DTYPE_F32, FLM_DTYPE_F16, FLM_DTYPE_Q8_0};
    const int64_t dims[] = {32, 96, 256, 1024};
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < 4; i++) {
            test_one(dtypes[d], 0, FLM_ACT_RELU, dims[i], 61);
            test_one(dtypes[d], 1, FLM_ACT_SILU, dims[i], 45);
            test_one(dtypes[d], 1, FLM_ACT_RELU, dims[i], 45);
        }
    /* f32 and f16 also take dims that are not multiples of 8 */
    test_one(FLM_DTYPE_F32, 0, FLM_ACT_RELU, 75, 40);
    test_one(FLM_DTYPE_F16, 1, FLM_ACT_SILU, 75, 40);
    /* past one column chunk of the vector path */
    test_one(FLM_DTYPE_F32, 0, FLM_ACT_RELU, 8203, 9);
    test_one(FLM_DTYPE_Q8_0, 1, FLM_ACT_SILU, 8256, 9);
    test_zero_skip_and_args();
    return tu_finish(flm_kernels_simd() ? "bundle_ffn (simd)" : "bundle_ffn (portable)");
}
