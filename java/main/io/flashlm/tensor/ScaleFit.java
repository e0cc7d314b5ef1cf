package io.flashlm.tensor;

/**
 * Least-squares fits of a run of values to a grid of small integers, the step every quantizer of
 * {@link Quantizer} starts from. Two grids:
 * <ul>
 * <li>symmetric, x ≈ s * q with q an integer in [qmin, qmax] (q4_0, q6_k's sub-blocks);
 * <li>affine, x ≈ a * q - b with q in [0, qmax], a &gt; 0 and b &ge; 0 (q4_k's and q5_k's sub-blocks: b is the
 * sub-block's min, stored unsigned).
 * </ul>
 * Rounding x / s to the nearest level is the best q for a given s, and for given q the best s is the
 * least-squares one, Σ x q / Σ q²; so a fit tries a few starting scales (the largest value mapped to a
 * few levels near the end of the grid), refits each by least squares for the quants it gives, and keeps
 * the refit scale of the smallest squared error (the caller rounds again with the scale it stores, which
 * never raises the error). Trying several starts avoids the local minimum that max / qmax alone lands in
 * (one outlier stretching the grid). Deterministic: plain float arithmetic, fixed candidate order, ties
 * keep the first.
 */
final class ScaleFit {
    /** Symmetric starts per end of the grid: the extreme value at level L (1 - k / STEPS_DIVISOR), k < STEPS. */
    private static final int STEPS = 12;
    private static final float STEPS_DIVISOR = 32f;

    private ScaleFit() {
    }

    /**
     * The scale s minimising Σ (x - s q)² over x[off, off + n) with q = clamp(round(x / s), qmin, qmax);
     * 0 when every value is 0. The sign of s may be negative: with qmin = -qmax - 1 (q4_0, q6_k), the
     * extreme value can take the extra level of the negative side whatever its sign. Each start costs one
     * pass: its quants give the least-squares scale Σ x q / Σ q² and, in closed form, that scale's error
     * for those quants, Σ x² - (Σ x q)² / Σ q² (an upper bound of its error once rounded again).
     */
    static float symmetric(float[] x, int off, int n, int qmin, int qmax) {
        float extreme = 0;
        double xx = 0;
        for (int i = off; i < off + n; i++) {
            if (Math.abs(x[i]) > Math.abs(extreme)) {
                extreme = x[i];
            }
            xx += (double) x[i] * x[i];
        }
        if (extreme == 0) {
            return 0;
        }
        float best = extreme / qmax;
        double bestErr = Double.MAX_VALUE;
        // the extreme value at level L for L near qmin (negative s when it is positive) and near qmax
        for (int side = 0; side < 2; side++) {
            int end = side == 0 ? qmin : qmax;
            for (int k = 0; k < STEPS; k++) {
                float inv = end * (1 - k / STEPS_DIVISOR) / extreme;
                double xq = 0, qq = 0;
                for (int i = off; i < off + n; i++) {
                    int q = clamp(round(x[i] * inv), qmin, qmax);
                    xq += (double) x[i] * q;
                    qq += (double) q * q;
                }
                if (qq == 0) {
                    continue;
                }
                double err = xx - xq * xq / qq;
                if (err < bestErr) {
                    bestErr = err;
                    best = (float) (xq / qq);
                }
            }
        }
        return best;
    }

    /** Σ (x - s q)² with q = clamp(round(x / s), qmin, qmax). */
    static double symmetricError(float[] x, int off, int n, float s, int qmin, int qmax) {
        if (s == 0) {
            double e = 0;
            for (int i = off; i < off + n; i++) {
                e += (double) x[i] * x[i];
            }
            return e;
        }
        float inv = 1 / s;
        double e = 0;
        for (int i = off; i < off + n; i++) {
            int q = clamp(round(x[i] * inv), qmin, qmax);
            double r = x[i] - s * q;
            e += r * r;
        }
        return e;
    }

    /**
     * The scale a &gt; 0 and min b &ge; 0 minimising Σ (x - (a q - b))² over x[off, off + n) with
     * q = clamp(round((x + b) / a), 0, qmax); written to out[0] = a, out[1] = b. Starts: the range
     * [min(0, min x), max x] spread over qmax + δ levels, δ from -1 to 1 (a slightly larger or smaller step
     * than the plain range / qmax); each refit by least squares as a line x ≈ a q + c through the points
     * (q, x), with c = -b held at 0 when the line would need a negative min. When all values are equal
     * and at most 0, a = 0 and b = -x (the min alone carries the value).
     */
    static void affine(float[] x, int off, int n, int qmax, float[] out) {
        float lo = 0, hi = -Float.MAX_VALUE;
        for (int i = off; i < off + n; i++) {
            lo = Math.min(lo, x[i]);
            hi = Math.max(hi, x[i]);
        }
        if (hi <= lo) { // every value equals lo <= 0 (all zeros included)
            out[0] = 0;
            out[1] = -lo;
            return;
        }
        double xx = 0;
        for (int i = off; i < off + n; i++) {
            xx += (double) x[i] * x[i];
        }
        float bestA = (hi - lo) / qmax, bestB = -lo;
        double bestErr = affineError(x, off, n, qmax, bestA, bestB);
        for (int k = -10; k <= 10; k++) {
            float a0 = (hi - lo) / (qmax + k / 10f);
            float b0 = -lo;
            // least-squares line x ≈ a q + c through the points (q, x) for the quants (a0, b0) give
            double sq = 0, sqq = 0, sx = 0, sxq = 0;
            float inv = 1 / a0;
            for (int i = off; i < off + n; i++) {
                int q = clamp(round((x[i] + b0) * inv), 0, qmax);
                sq += q;
                sqq += (double) q * q;
                sx += x[i];
                sxq += (double) x[i] * q;
            }
            double det = n * sqq - sq * sq;
            if (det <= 0) {
                continue; // every value on one level: the start itself was scored above or by a sibling
            }
            double a = (n * sxq - sq * sx) / det;
            double c = (sqq * sx - sq * sxq) / det;
            if (c > 0) { // a min must be >= 0: fit the line through the origin instead
                c = 0;
                a = sxq / sqq;
            }
            if (!(a > 0)) {
                continue;
            }
            // Σ (x - a q - c)² expanded over the sums: the line's error for these quants, an upper bound of
            // its error once they are rounded again for it
            double err = xx - 2 * a * sxq - 2 * c * sx + a * a * sqq + 2 * a * c * sq + n * c * c;
            if (err < bestErr) {
                bestErr = err;
                bestA = (float) a;
                bestB = (float) -c;
            }
        }
        out[0] = bestA;
        out[1] = bestB;
    }

    /** Σ (x - (a q - b))² with q = clamp(round((x + b) / a), 0, qmax) (q = 0 when a = 0). */
    static double affineError(float[] x, int off, int n, int qmax, float a, float b) {
        float inv = a > 0 ? 1 / a : 0;
        double e = 0;
        for (int i = off; i < off + n; i++) {
            int q = a > 0 ? clamp(round((x[i] + b) * inv), 0, qmax) : 0;
            double r = x[i] - (a * q - b);
            e += r * r;
        }
        return e;
    }

    /** v to the nearest integer, ties to even (Math.rint: one instruction on x86, unlike Math.round). */
    static int round(float v) {
        return (int) Math.rint(v);
    }

    static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /**
     * The f16 nearest to v whose magnitude is at least |v|: a scale stored as it never shrinks, so values
     * the unrounded scale put on the grid's end levels stay on the grid instead of being clipped. Throws
     * when |v| overflows f16 (values beyond about 65504 times the grid's largest level).
     */
    static short f16Cover(float v) {
        short h = Float16.fromFloat(v);
        if (Math.abs(Float16.toFloat(h)) < Math.abs(v)) {
            h = (short) (h + 1); // the next f16 away from zero: bits of sign-magnitude values
        }
        if (Float.isInfinite(Float16.toFloat(h))) {
            throw new IllegalArgumentException("scale " + v + " overflows f16: the values are too large to quantize");
        }
        return h;
    }

    /** The nearest f16 to v, refusing overflow as {@link #f16Cover} does. */
    static short f16(float v) {
        short h = Float16.fromFloat(v);
        if (Float.isInfinite(Float16.toFloat(h))) {
            throw new IllegalArgumentException("scale " + v + " overflows f16: the values are too large to quantize");
        }
        return h;
    }
}
