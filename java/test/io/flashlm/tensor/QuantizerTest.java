package io.flashlm.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * decode(encode(x)) through the existing decoders ({@link QuantBlocks}, {@link SuperBlocks}) stays within
 * a per-type bound of the RMS error relative to the values' RMS, sqrt(Σ (x - y)² / Σ x²).
 *
 * <p>Measured (this test prints them), on 64 Ki N(0, 1) values: Q4_0 0.083, Q4_K 0.070, Q5_K 0.035, Q6_K
 * 0.016; Q4_0 with its scale set from the largest value alone (ggml's reference rule) gives 0.086 on the
 * same values. Negative-only values: 0.069, 0.027, 0.014, 0.014; N(0, 1e-5) (scales in f16's subnormal
 * range) about as N(0, 1); N(0, 1e-7): 0.175 for every type (the smallest f16 step, 5.96e-8, is the grid).
 * The bounds below leave about 10% headroom.
 */
class QuantizerTest {
    static final int N = 1 << 16;

    /** Per-type bound on the relative RMS error of N(0, 1) values. */
    static double gaussianBound(DType t) {
        return switch (t) {
            case Q4_0 -> 0.090;
            case Q4_K -> 0.078;
            case Q5_K -> 0.039;
            case Q6_K -> 0.018;
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    static float[] roundTrip(DType t, float[] x) {
        MemorySegment seg = MemorySegment.ofArray(new byte[(int) t.bytesFor(x.length)]);
        new Quantizer(t).encode(x, 0, x.length, seg, 0);
        float[] y = new float[x.length];
        for (int b = 0; b < x.length / t.blockSize(); b++) {
            QuantBlocks.decodeBlock(t, seg, (long) b * t.bytesPerBlock(), y, b * t.blockSize());
        }
        return y;
    }

    static double relativeRms(float[] x, float[] y) {
        double e = 0, s = 0;
        for (int i = 0; i < x.length; i++) {
            e += (double) (x[i] - y[i]) * (x[i] - y[i]);
            s += (double) x[i] * x[i];
        }
        return s == 0 ? Math.sqrt(e) : Math.sqrt(e / s);
    }

    static float[] gaussian(long seed, int n, double scale) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * scale);
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void gaussianValuesStayWithinTheTypesBound(DType t) {
        float[] x = gaussian(1, N, 1);
        double err = relativeRms(x, roundTrip(t, x));
        System.out.printf("%s: relative RMS error %.4f on N(0, 1)%n", t, err);
        assertTrue(err < gaussianBound(t), t + ": " + err);
        // the same relative error at the scale of real weights (std 0.02): nothing depends on the magnitude
        float[] w = gaussian(2, N, 0.02);
        assertTrue(relativeRms(w, roundTrip(t, w)) < gaussianBound(t), t + " at std 0.02");
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void deterministic(DType t) {
        float[] x = gaussian(3, 4096, 1);
        MemorySegment a = MemorySegment.ofArray(new byte[(int) t.bytesFor(x.length)]);
        MemorySegment b = MemorySegment.ofArray(new byte[(int) t.bytesFor(x.length)]);
        new Quantizer(t).encode(x, 0, x.length, a, 0);
        new Quantizer(t).encode(x.clone(), 0, x.length, b, 0);
        assertEquals(-1, a.mismatch(b));
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void allZerosAreExact(DType t) {
        float[] x = new float[512];
        assertArrayEquals(x, roundTrip(t, x));
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void constantsOfEitherSign(DType t) {
        for (float c : new float[] {0.37f, -0.37f, 1000f, -3e-3f}) {
            float[] x = new float[512];
            Arrays.fill(x, c);
            double err = relativeRms(x, roundTrip(t, x));
            // one value per block: only the f16 rounding of the scale (2^-11 relative) and the integer scales err
            assertTrue(err < 0.01, t + " constant " + c + ": " + err);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void negativeOnly(DType t) {
        float[] x = gaussian(4, 4096, 1);
        for (int i = 0; i < x.length; i++) {
            x[i] = -Math.abs(x[i]) - 0.5f;
        }
        double err = relativeRms(x, roundTrip(t, x));
        System.out.printf("%s: relative RMS error %.4f on negative-only values%n", t, err);
        assertTrue(err < gaussianBound(t), t + ": " + err);
    }

    /**
     * One huge value per block: it is kept to within its own grid step (it sets the scale), and the other
     * values of its block lose resolution but no more than the whole block's scale allows.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void oneHugeOutlier(DType t) {
        float[] x = gaussian(5, 4096, 1);
        x[100] = 1000f;
        float[] y = roundTrip(t, x);
        assertEquals(1000f, y[100], 1000f * 0.07f, t + " outlier");
        double err = relativeRms(x, y);
        System.out.printf("%s: relative RMS error %.4f with one outlier of 1000%n", t, err);
        assertTrue(err < gaussianBound(t), t + ": " + err);
        // the blocks without the outlier are as good as ever
        int block = t.blockSize();
        int outlierBlock = 100 / block;
        float[] xs = Arrays.copyOfRange(x, (outlierBlock + 1) * block, x.length);
        float[] ys = Arrays.copyOfRange(y, (outlierBlock + 1) * block, x.length);
        assertTrue(relativeRms(xs, ys) < gaussianBound(t) * 1.1, t + " other blocks");
    }

    /**
     * Values around 1e-5 (the f16 subnormal range starts below 6.1e-5): the scales, far below that, are f16
     * subnormals with few bits, or would round to 0. Rounding the super-block scale up (never to 0) keeps
     * every value representable; the relative error grows, bounded as below.
     */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void tinyValuesNearF16Subnormals(DType t) {
        float[] x = gaussian(6, 4096, 1e-5);
        float[] y = roundTrip(t, x);
        double err = relativeRms(x, y);
        System.out.printf("%s: relative RMS error %.4f on N(0, 1e-5)%n", t, err);
        assertTrue(err < 1.5 * gaussianBound(t), t + ": " + err);
        // 1e-7: the scales are a few f16 subnormal steps (5.96e-8 each); coarse, but not rounded away to 0
        float[] deep = gaussian(7, 4096, 1e-7);
        double deepErr = relativeRms(deep, roundTrip(t, deep));
        System.out.printf("%s: relative RMS error %.4f on N(0, 1e-7)%n", t, deepErr);
        assertTrue(deepErr < 0.7, t + " at 1e-7: " + deepErr);
    }

    /** Not a bound: the encoding speed, for convert's timing (printed). */
    @ParameterizedTest
    @EnumSource(names = {"Q4_0", "Q4_K", "Q5_K", "Q6_K"})
    void speed(DType t) {
        float[] x = gaussian(8, 1 << 20, 1);
        MemorySegment dst = MemorySegment.ofArray(new byte[(int) t.bytesFor(x.length)]);
        Quantizer q = new Quantizer(t);
        q.encode(x, 0, x.length, dst, 0); // warm-up
        long start = System.nanoTime();
        q.encode(x, 0, x.length, dst, 0);
        double s = (System.nanoTime() - start) / 1e9;
        System.out.printf("%s: %.1f M values/s on one thread%n", t, x.length / s / 1e6);
    }

    @Test
    void refusesNonFiniteValuesAndPartialBlocks() {
        float[] x = new float[256];
        x[7] = Float.NaN;
        MemorySegment dst = MemorySegment.ofArray(new byte[256]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Quantizer(DType.Q4_K).encode(x, 0, 256, dst, 0));
        assertTrue(e.getMessage().contains("value 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Quantizer(DType.Q4_K).encode(new float[100], 0, 100, dst, 0));
        assertThrows(IllegalArgumentException.class, () -> new Quantizer(DType.Q8_0));
    }

    /** The naive rule for comparison: Q4_0 with d = (the value of largest magnitude) / -8, as ggml's reference. */
    @Test
    void beatsTheMaxRuleForQ40() {
        float[] x = gaussian(1, N, 1);
        float[] y = new float[N];
        for (int b = 0; b < N / 32; b++) {
            float m = 0;
            for (int i = 0; i < 32; i++) {
                m = Math.abs(x[32 * b + i]) > Math.abs(m) ? x[32 * b + i] : m;
            }
            float d = Float16.toFloat(Float16.fromFloat(m / -8));
            for (int i = 0; i < 32; i++) {
                int q = d == 0 ? 0 : Math.max(-8, Math.min(7, Math.round(x[32 * b + i] / d)));
                y[32 * b + i] = d * q;
            }
        }
        double naive = relativeRms(x, y), ours = relativeRms(x, roundTrip(DType.Q4_0, x));
        System.out.printf("Q4_0: max rule %.4f, fitted %.4f%n", naive, ours);
        assertTrue(ours < naive);
    }
}
