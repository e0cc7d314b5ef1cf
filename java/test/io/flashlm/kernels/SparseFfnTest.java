package io.flashlm.kernels;

import io.flashlm.cache.WindowCache;
import io.flashlm.nativeabi.FfnActivation;
import io.flashlm.nativeabi.Kernels;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.pack.FfnPart;
import io.flashlm.pack.PackLayout;
import io.flashlm.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sparse FFN over a pack-style bundled record matrix against a dense FFN computed the same way
 * (up via flm_matvec over the dense up matrix, activation, down accumulated in neuron order with one
 * fma per element), bit for bit, and against a double reference; row permutations and thread counts
 * give the same bits.
 */
class SparseFfnTest {

    /** A layer's FFN: bundled records as in the pack, and the same parts as dense [neurons, dim] matrices. */
    private static final class Layer {
        final FfnGeometry g;
        final DType dtype;
        final MemorySegment records;
        final MemorySegment[] dense = new MemorySegment[3];
        final MemorySegment bias;

        Layer(DType dtype, boolean gated, int dim, int neurons, long seed, Arena arena) {
            g = new FfnGeometry(dim, neurons, dtype, gated, PackLayout.BUNDLED, 512);
            this.dtype = SparseFfn.requireSupported(dtype);
            records = arena.allocate(g.recordBytes() * neurons, 64);
            bias = arena.allocate(neurons * 4L);
            Random rnd = new Random(seed);
            MemorySegment src = arena.allocate(dim * 4L);
            List<FfnPart> parts = g.parts();
            for (int p = 0; p < parts.size(); p++) {
                dense[p] = arena.allocate(g.partBytes() * neurons, 64);
            }
            for (int n = 0; n < neurons; n++) {
                bias.setAtIndex(ValueLayout.JAVA_FLOAT, n, (float) (rnd.nextGaussian() * 0.2 - 0.05));
                for (int p = 0; p < parts.size(); p++) {
                    for (int j = 0; j < dim; j++) {
                        src.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) (rnd.nextGaussian() / Math.sqrt(dim)));
                    }
                    MemorySegment dst = records.asSlice(n * g.recordBytes() + g.offsetInUnit(parts.get(p)),
                            g.partBytes());
                    Kernels.encodeF32(this.dtype, src, dst, dim); // throws on a non-zero return
                    MemorySegment.copy(dst, 0, dense[p], n * g.partBytes(), g.partBytes());
                }
            }
        }

        int upPart() {
            return g.gated() ? 1 : 0;
        }

        int downPart() {
            return g.gated() ? 2 : 1;
        }

        /** Decoded value j of neuron n's part p (exact in f32). */
        float weight(int p, int n, int j) {
            long base = n * g.partBytes();
            return switch (g.dtype()) {
                case F32 -> dense[p].get(ValueLayout.JAVA_FLOAT_UNALIGNED, base + 4L * j);
                case F16 -> Float.float16ToFloat(dense[p].get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * j));
                case Q8_0 -> {
                    long blk = base + (j / 32) * 34L;
                    float d = Float.float16ToFloat(dense[p].get(ValueLayout.JAVA_SHORT_UNALIGNED, blk));
                    yield d * dense[p].get(ValueLayout.JAVA_BYTE, blk + 2 + j % 32);
                }
                default -> throw new AssertionError();
            };
        }
    }

    private static float act(FfnActivation activation, float v) {
        return activation == FfnActivation.RELU ? (v > 0 ? v : 0f) : (float) (v / (1.0 + Math.exp(-v)));
    }

    /** Dense: flm_matvec rows, activation, fma accumulation in neuron order. */
    private static float[] dense(Layer l, FfnActivation activation, boolean withBias, MemorySegment x, Arena arena) {
        int dim = l.g.dim(), neurons = l.g.neurons();
        MemorySegment u = arena.allocate(neurons * 4L), gt = arena.allocate(neurons * 4L);
        Kernels.matvec(l.dtype, l.dense[l.upPart()], neurons, dim, x, u, 0, neurons); // throws on a non-zero return
        if (l.g.gated()) {
            Kernels.matvec(l.dtype, l.dense[0], neurons, dim, x, gt, 0, neurons);
        }
        float[] y = new float[dim];
        for (int n = 0; n < neurons; n++) {
            float uu = u.getAtIndex(ValueLayout.JAVA_FLOAT, n);
            if (withBias) {
                uu = uu + l.bias.getAtIndex(ValueLayout.JAVA_FLOAT, n);
            }
            float h = l.g.gated() ? act(activation, gt.getAtIndex(ValueLayout.JAVA_FLOAT, n)) * uu : act(activation, uu);
            if (h == 0f) {
                continue;
            }
            for (int j = 0; j < dim; j++) {
                y[j] = Math.fma(h, l.weight(l.downPart(), n, j), y[j]);
            }
        }
        return y;
    }

    /**
     * x as the native kern_quantize_x gives it to the integer kernels: in blocks of 32, amax the block's largest
     * |x|, d = amax / 127 and q = rint(x * (127 / amax)) clamped to [-127, 127], all in float (a block below 2^-60
     * scaled by 2^64 first; d = q = 0 for a block of zeros); value i becomes d * q, exactly in double.
     */
    static double[] quantizedX(float[] x) {
        double[] out = new double[x.length];
        for (int b = 0; b < x.length / 32; b++) {
            float amax = 0f;
            for (int i = 32 * b; i < 32 * b + 32; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            float scale = amax < 0x1p-60f ? 0x1p64f : 1f;
            float inv = amax > 0f ? 127f / (amax * scale) : 0f;
            float d = amax / 127f;
            for (int i = 32 * b; i < 32 * b + 32; i++) {
                double q = Math.max(-127, Math.min(127, Math.rint(x[i] * scale * inv)));
                out[i] = (double) d * q;
            }
        }
        return out;
    }

    /**
     * Double reference: returns y and, in scale, sum |h w| per element. The rows dot x as the kernels see it:
     * quantized to int8 (quantizedX) for Q8_0, whose rows run on the integer kernels, as given otherwise.
     */
    private static double[] reference(Layer l, boolean withBias, MemorySegment x, double[] scale) {
        int dim = l.g.dim();
        double[] y = new double[dim];
        float[] xf = x.asSlice(0, dim * 4L).toArray(ValueLayout.JAVA_FLOAT);
        double[] xs = new double[dim];
        if (l.dtype == DType.Q8_0) {
            xs = quantizedX(xf);
        } else {
            for (int j = 0; j < dim; j++) {
                xs[j] = xf[j];
            }
        }
        for (int n = 0; n < l.g.neurons(); n++) {
            double u = 0, gt = 0;
            for (int j = 0; j < dim; j++) {
                double xj = xs[j];
                u += l.weight(l.upPart(), n, j) * xj;
                if (l.g.gated()) {
                    gt += l.weight(0, n, j) * xj;
                }
            }
            if (withBias) {
                u += l.bias.getAtIndex(ValueLayout.JAVA_FLOAT, n);
            }
            double h = l.g.gated() ? gt / (1 + Math.exp(-gt)) * u : Math.max(0, u);
            for (int j = 0; j < dim; j++) {
                double w = l.weight(l.downPart(), n, j);
                y[j] += h * w;
                scale[j] += Math.abs(h * w);
            }
        }
        return y;
    }

    /** Sparse over all neurons, loaded into a window cache in a shuffled order, rows passed in neuron order. */
    private static float[] sparse(Layer l, FfnActivation activation, boolean withBias, MemorySegment x, int threads, long seed,
                                  Arena arena) {
        int neurons = l.g.neurons(), dim = l.g.dim();
        WindowCache cache = new WindowCache(neurons, l.g.recordBytes(), l.g.recordBytes() + 8, neurons, 3,
                l.bias, arena);
        List<Integer> ids = new ArrayList<>();
        for (int n = 0; n < neurons; n++) {
            ids.add(n);
        }
        Collections.shuffle(ids, new Random(seed));
        int[] active = ids.stream().mapToInt(Integer::intValue).toArray();
        assertEquals(neurons, cache.plan(active, neurons));
        for (int i = 0; i < neurons; i++) {
            MemorySegment dst = MemorySegment.ofAddress(cache.rowAddress(cache.missingRow(i)))
                    .reinterpret(l.g.recordBytes());
            MemorySegment.copy(l.records, cache.missingNeuron(i) * l.g.recordBytes(), dst, 0, l.g.recordBytes());
        }
        int[] order = new int[neurons];
        assertEquals(neurons, cache.residentRowsByNeuron(order));
        MemorySegment y = arena.allocate(dim * 4L);
        try (SparseFfn ffn = new SparseFfn(threads, neurons, 0, arena)) {
            compute(ffn, cache, l.g.dtype(), dim, l.g.gated(), activation, withBias, order, neurons, x, y);
        }
        return y.toArray(ValueLayout.JAVA_FLOAT);
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length);
        for (int j = 0; j < expected.length; j++) {
            if (Float.floatToRawIntBits(expected[j]) != Float.floatToRawIntBits(actual[j])) {
                throw new AssertionError(what + ": element " + j + " is " + actual[j] + ", expected " + expected[j]);
            }
        }
    }

    @Test
    void sparseOverAllNeuronsIsBitIdenticalToDense() {
        for (DType dtype : new DType[] {DType.F32, DType.F16, DType.Q8_0}) {
            for (boolean gated : new boolean[] {false, true}) {
                for (int dim : new int[] {64, 288}) {
                    check(dtype, gated, dim, 173);
                }
            }
        }
    }

    private static void check(DType dtype, boolean gated, int dim, int neurons) {
        try (Arena arena = Arena.ofShared()) {
            Layer l = new Layer(dtype, gated, dim, neurons, dim * 31L + neurons, arena);
            MemorySegment x = arena.allocate(dim * 4L);
            Random rnd = new Random(dim);
            for (int j = 0; j < dim; j++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) rnd.nextGaussian());
            }
            String what = dtype + (gated ? " gated" : " relu") + " dim " + dim;
            // ReLU (and the gated FFN with a ReLU gate) is bit-identical to dense
            FfnActivation exactAct = FfnActivation.RELU;
            boolean withBias = !gated;
            float[] d = dense(l, exactAct, withBias, x, arena);
            float[] s1 = sparse(l, exactAct, withBias, x, 1, 1, arena);
            assertBits(d, s1, what + ", 1 thread");
            assertBits(d, sparse(l, exactAct, withBias, x, 2, 2, arena), what + ", 2 threads, another row order");
            assertBits(d, sparse(l, exactAct, withBias, x, 3, 3, arena), what + ", 3 threads, another row order");
            // SiLU gating: the same across threads and row orders, and close to dense and to double
            if (gated) {
                float[] g1 = sparse(l, FfnActivation.SILU, true, x, 1, 4, arena);
                assertBits(g1, sparse(l, FfnActivation.SILU, true, x, 2, 5, arena), what + " silu, 2 threads");
                float[] gd = dense(l, FfnActivation.SILU, true, x, arena);
                double[] scale = new double[dim];
                double[] ref = reference(l, true, x, scale);
                for (int j = 0; j < dim; j++) {
                    double tol = 1e-5 * (scale[j] + 1e-6);
                    assertTrue(Math.abs(g1[j] - ref[j]) <= tol, what + " silu element " + j + ": " + g1[j] + " vs "
                            + ref[j]);
                    assertTrue(Math.abs(g1[j] - gd[j]) <= tol, what + " silu vs dense " + j);
                }
            } else {
                double[] scale = new double[dim];
                double[] ref = reference(l, true, x, scale);
                for (int j = 0; j < dim; j++) {
                    double tol = 1e-5 * (scale[j] + 1e-6);
                    assertTrue(Math.abs(s1[j] - ref[j]) <= tol, what + " element " + j + ": " + s1[j] + " vs "
                            + ref[j] + " (scale " + scale[j] + ")");
                }
            }
        }
    }

    @Test
    void subsetsInNeuronOrderDoNotDependOnRowOrder() {
        try (Arena arena = Arena.ofShared()) {
            Layer l = new Layer(DType.F16, false, 96, 120, 7, arena);
            MemorySegment x = arena.allocate(96 * 4L);
            for (int j = 0; j < 96; j++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) Math.sin(j));
            }
            float[] first = null;
            for (int trial = 0; trial < 4; trial++) {
                // the same neurons reach the cache through different histories: different rows
                WindowCache cache = new WindowCache(120, l.g.recordBytes(), l.g.recordBytes(), 120, 2, l.bias, arena);
                Random rnd = new Random(trial);
                int[] act = new int[120];
                for (int t = 0; t < 5; t++) {
                    int m = 0;
                    for (int n = 0; n < 120; n++) {
                        if (t == 4 ? n % 3 == 0 : rnd.nextInt(4) == 0) {
                            act[m++] = n;
                        }
                    }
                    int loaded = cache.plan(act, m);
                    for (int i = 0; i < loaded; i++) {
                        MemorySegment.copy(l.records, cache.missingNeuron(i) * l.g.recordBytes(),
                                cache.matrix(), cache.missingRow(i) * cache.rowBytes(), l.g.recordBytes());
                    }
                    if (t == 4) {
                        int[] rows = new int[m];
                        cache.rowsOf(act, m, rows);
                        MemorySegment y = arena.allocate(96 * 4L);
                        try (SparseFfn ffn = new SparseFfn(1 + trial % 2, 120, 0, arena)) {
                            compute(ffn, cache, DType.F16, 96, false, FfnActivation.RELU, true, rows, m, x, y);
                        }
                        float[] out = y.toArray(ValueLayout.JAVA_FLOAT);
                        if (first == null) {
                            first = out;
                        } else {
                            assertBits(first, out, "trial " + trial);
                        }
                    }
                }
            }
        }
    }

    /** The per-token path (plan, fill, compute) allocates nothing on the Java heap once warm. */
    @Test
    void perTokenPathAllocatesNothing() {
        var threadBean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            Layer l = new Layer(DType.Q8_0, false, 64, 200, 11, arena);
            WindowCache cache = new WindowCache(200, l.g.recordBytes(), l.g.recordBytes(), 200, 4, l.bias, arena);
            MemorySegment x = arena.allocate(64 * 4L), y = arena.allocate(64 * 4L);
            int[][] sets = new int[16][];
            Random rnd = new Random(5);
            for (int s = 0; s < sets.length; s++) {
                sets[s] = rnd.ints(0, 200).distinct().limit(30).sorted().toArray();
            }
            int[] rows = new int[200];
            try (SparseFfn ffn = new SparseFfn(1, 200, 0, arena)) {
                // the least allocated over windows of 1000 tokens, once the JIT has compiled the path
                long least = Long.MAX_VALUE;
                long before = 0;
                long rec = l.g.recordBytes();
                for (int t = 0; t < 12_000; t++) {
                    if (t % 1000 == 0) {
                        long now = threadBean.getCurrentThreadAllocatedBytes();
                        if (t >= 6_000) {
                            least = Math.min(least, now - before);
                        }
                        before = now;
                    }
                    int[] set = sets[t % sets.length];
                    int loaded = cache.plan(set, set.length);
                    for (int i = 0; i < loaded; i++) {
                        MemorySegment.copy(l.records, cache.missingNeuron(i) * rec, cache.matrix(),
                                cache.missingRow(i) * cache.rowBytes(), rec);
                    }
                    cache.rowsOf(set, set.length, rows);
                    compute(ffn, cache, DType.Q8_0, 64, false, FfnActivation.RELU, true, rows, set.length, x, y);
                }
                long allocated = least;
                assertEquals(0, allocated, "bytes allocated by 1000 warm tokens");
            }
        }
    }

    @Test
    void badArgumentsAreRefused() {
        try (Arena arena = Arena.ofShared(); SparseFfn ffn = new SparseFfn(2, 4, arena)) {
            MemorySegment rows = arena.allocate(4 * 256L);
            MemorySegment x = arena.allocate(32 * 4L), y = arena.allocate(32 * 4L);
            assertThrows(IllegalArgumentException.class, () -> ffn.compute(DType.F32, rows, 4, 100, 32,
                    false, FfnActivation.RELU, null, new int[] {0}, 1, x, y));
            assertThrows(IllegalArgumentException.class, () -> ffn.compute(DType.F32, rows, 4, 256, 32,
                    false, FfnActivation.RELU, null, new int[] {4}, 1, x, y));
            assertThrows(IllegalArgumentException.class, () -> ffn.compute(DType.F32, rows, 5, 256, 32,
                    false, FfnActivation.RELU, null, new int[] {0}, 1, x, y));
            // an activation the kernels do not take cannot be named (FfnActivation); the native code's own
            // refusal of one is asserted on the raw ABI in io.flashlm.nativeabi.FlashNativeAbiTest
            // parts that are not whole blocks of their type, and bf16 (no storage type of a pack)
            assertThrows(IllegalArgumentException.class, () -> ffn.compute(DType.Q4_K, rows, 4, 256, 32,
                    false, FfnActivation.RELU, null, new int[] {0}, 1, x, y));
            assertThrows(IllegalArgumentException.class, () -> ffn.compute(DType.F32, DType.Q4_K, rows, 4, 256, 32,
                    false, FfnActivation.RELU, null, new int[] {0}, 1, x, y));
            assertThrows(IllegalArgumentException.class, () -> SparseFfn.requireSupported(DType.BF16));
        }
    }

    /** y += FFN over the cache's rows {@code rowOrder[0..n)}, with the cache's row biases when asked. */
    private static void compute(SparseFfn ffn, WindowCache cache, DType dtype, int dim, boolean gated,
                                FfnActivation activation, boolean withBias, int[] rowOrder, int n, MemorySegment x,
                                MemorySegment y) {
        ffn.compute(dtype, cache.matrix(), cache.count(), cache.rowBytes(), dim, gated, activation,
                withBias ? cache.rowBiases() : null, rowOrder, n, x, y);
    }
}
