package io.flashlm.predictor;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The training-free predictor: per layer, the top-r right singular subspace Q [d, r] of the up
 * projection W [n, d] by randomized subspace iteration (Q = orth(W^T W Q), a few rounds from a
 * Gaussian start), then A = Q^T and B = W Q, so B A x = W Q Q^T x is W x projected on the subspace
 * that carries most of W's energy, and the score B A x + b approximates the pre-activation. Neurons
 * with a positive approximate pre-activation (or above a margin) are predicted active.
 */
public final class SvdBuilder {
    private SvdBuilder() {
    }

    public static LowRankPredictor build(FfnLayers ffn, int rank, int lastRank, int lastLayers, int iterations,
                                         long seed, PrintStream progress) {
        if (ffn.gated()) {
            throw new IllegalArgumentException("the svd predictor predicts the sign of a ReLU FFN's up projection;"
                    + " this model's FFN is gated (use threshold)");
        }
        int d = ffn.dim(), n = ffn.neurons();
        Arena arena = Arena.ofAuto();
        LowRankPredictor.Layer[] out = new LowRankPredictor.Layer[ffn.layers()];
        for (int l = 0; l < ffn.layers(); l++) {
            int r = Math.min(d, l >= ffn.layers() - lastLayers ? lastRank : rank);
            float[] w = ffn.layer(l).up().toFloatArray(); // [n][d]
            double[][] q = new double[r][d];              // Q^T: r orthonormal rows
            SplittableRandom rnd = new SplittableRandom(seed + l);
            for (double[] row : q) {
                for (int j = 0; j < d; j++) {
                    row[j] = Trainer.gauss(rnd);
                }
            }
            orthonormalize(q);
            double[] y = new double[n];
            for (int it = 0; it < iterations; it++) {
                for (double[] row : q) {
                    // row = W^T (W row)
                    for (int i = 0; i < n; i++) {
                        double s = 0;
                        for (int j = 0; j < d; j++) {
                            s += w[i * d + j] * row[j];
                        }
                        y[i] = s;
                    }
                    java.util.Arrays.fill(row, 0);
                    for (int i = 0; i < n; i++) {
                        double yi = y[i];
                        for (int j = 0; j < d; j++) {
                            row[j] += w[i * d + j] * yi;
                        }
                    }
                }
                orthonormalize(q);
            }
            MemorySegment a = arena.allocate(JAVA_FLOAT, (long) r * d);
            MemorySegment b = arena.allocate(JAVA_FLOAT, (long) n * r);
            MemorySegment c = arena.allocate(JAVA_FLOAT, n);
            for (int k = 0; k < r; k++) {
                for (int j = 0; j < d; j++) {
                    a.setAtIndex(JAVA_FLOAT, (long) k * d + j, (float) q[k][j]);
                }
            }
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < r; k++) {
                    double s = 0;
                    for (int j = 0; j < d; j++) {
                        s += w[i * d + j] * q[k][j];
                    }
                    b.setAtIndex(JAVA_FLOAT, (long) i * r + k, (float) s);
                }
                MemorySegment bias = ffn.layer(l).upBias();
                c.setAtIndex(JAVA_FLOAT, i, bias == null ? 0f : bias.getAtIndex(JAVA_FLOAT, i));
            }
            out[l] = new LowRankPredictor.Layer(r, a, b, c, 0f);
            if (progress != null) {
                progress.printf(Locale.ROOT, "svd: layer %d rank %d done%n", l, r);
            }
        }
        return new LowRankPredictor(PredictorKind.SVD, d, n, false, out);
    }

    /** Modified Gram-Schmidt on the rows (twice, for stability). */
    static void orthonormalize(double[][] q) {
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < q.length; k++) {
                for (int p = 0; p < k; p++) {
                    double dot = 0;
                    for (int j = 0; j < q[k].length; j++) {
                        dot += q[k][j] * q[p][j];
                    }
                    for (int j = 0; j < q[k].length; j++) {
                        q[k][j] -= dot * q[p][j];
                    }
                }
                double norm = 0;
                for (double v : q[k]) {
                    norm += v * v;
                }
                norm = Math.sqrt(norm);
                if (norm < 1e-30) {
                    norm = 1;
                }
                for (int j = 0; j < q[k].length; j++) {
                    q[k][j] /= norm;
                }
            }
        }
    }
}
