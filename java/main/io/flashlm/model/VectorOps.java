package io.flashlm.model;

import io.flashlm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The element-wise parts of a forward pass over f32 vectors in off-heap segments (native byte
 * order). They are O(dim) per token, next to the O(dim^2) matrix products done natively.
 */
public final class VectorOps {
    private VectorOps() {
    }

    /** A tensor's values as a native f32 segment (for norms, biases and other small vectors). */
    public static MemorySegment toNative(Tensor t, Arena arena) {
        if (t == null) {
            return null;
        }
        MemorySegment out = arena.allocate(JAVA_FLOAT, t.elementCount());
        for (long r = 0; r < t.rowCount(); r++) {
            t.rowToFloat(r, out.asSlice(r * t.rowLength() * Float.BYTES, t.rowLength() * Float.BYTES));
        }
        return out;
    }

    public static float get(MemorySegment v, long i) {
        return v.getAtIndex(JAVA_FLOAT, i);
    }

    public static void set(MemorySegment v, long i, float value) {
        v.setAtIndex(JAVA_FLOAT, i, value);
    }

    /** out = x / rms(x) * weight. */
    public static void rmsNorm(MemorySegment out, MemorySegment x, MemorySegment weight, int n, float eps) {
        rmsNormAt(out, x, 0, weight, n, eps);
    }

    /** As {@link #rmsNorm} over x[at .. at + n) into out[at .. at + n) (one head of a vector, in place or not). */
    public static void rmsNormAt(MemorySegment out, MemorySegment x, long at, MemorySegment weight, int n, float eps) {
        float ss = 0;
        for (int i = 0; i < n; i++) {
            float v = get(x, at + i);
            ss += v * v;
        }
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            set(out, at + i, get(weight, i) * (scale * get(x, at + i)));
        }
    }

    /** out = (x - mean) / sqrt(var + eps) * weight + bias (biased variance, as PyTorch's LayerNorm). */
    public static void layerNorm(MemorySegment out, MemorySegment x, MemorySegment weight, MemorySegment bias, int n,
                                 float eps) {
        double mean = 0;
        for (int i = 0; i < n; i++) {
            mean += get(x, i);
        }
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; i++) {
            double d = get(x, i) - mean;
            var += d * d;
        }
        var /= n;
        float inv = (float) (1.0 / Math.sqrt(var + eps));
        float m = (float) mean;
        for (int i = 0; i < n; i++) {
            float v = (get(x, i) - m) * inv;
            set(out, i, v * get(weight, i) + (bias == null ? 0f : get(bias, i)));
        }
    }

    /** x += y. */
    public static void add(MemorySegment x, MemorySegment y, int n) {
        for (int i = 0; i < n; i++) {
            set(x, i, get(x, i) + get(y, i));
        }
    }

    /** x += bias (no-op for a null bias). */
    public static void addBias(MemorySegment x, MemorySegment bias, int n) {
        if (bias != null) {
            add(x, bias, n);
        }
    }

    public static void scale(MemorySegment x, float s, int n) {
        for (int i = 0; i < n; i++) {
            set(x, i, get(x, i) * s);
        }
    }

    /** Softmax over x[0..n) in place. */
    public static void softmax(MemorySegment x, int offset, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, get(x, offset + i));
        }
        float sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(get(x, offset + i) - max);
            set(x, offset + i, e);
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            set(x, offset + i, get(x, offset + i) * inv);
        }
    }

    /** The FFN activation in place. */
    public static void activate(MemorySegment x, int n, ModelConfig.Activation activation) {
        for (int i = 0; i < n; i++) {
            set(x, i, activation(get(x, i), activation));
        }
    }

    /** gate = act(gate) * up, the gated FFN's combination, in place in gate. */
    public static void gatedActivate(MemorySegment gate, MemorySegment up, int n, ModelConfig.Activation activation) {
        for (int i = 0; i < n; i++) {
            set(gate, i, activation(get(gate, i), activation) * get(up, i));
        }
    }

    public static float activation(float v, ModelConfig.Activation activation) {
        return switch (activation) {
            case SILU -> (float) (v / (1.0 + Math.exp(-v)));
            case RELU -> v > 0 ? v : 0f;
            // PyTorch's exact (erf) GELU, which Hugging Face's "gelu" means.
            case GELU -> (float) (0.5 * v * (1.0 + erf(v / Math.sqrt(2.0))));
            // 0.5 v (1 + tanh(sqrt(2 / pi) (v + 0.044715 v^3))): PyTorch's approximate="tanh"
            case GELU_TANH -> (float) (0.5 * v * (1.0 + Math.tanh(Math.sqrt(2.0 / Math.PI) * (v + 0.044715 * v * v * v))));
        };
    }

    /** erf with absolute error below 1.5e-7 (Abramowitz and Stegun 7.1.26). */
    static double erf(double x) {
        double t = 1.0 / (1.0 + 0.3275911 * Math.abs(x));
        double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
                * t * Math.exp(-x * x);
        return x >= 0 ? y : -y;
    }
}
