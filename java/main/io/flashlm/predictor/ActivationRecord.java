package io.flashlm.predictor;

import io.flashlm.model.FfnObserver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * What the dense model's FFNs saw and did over calibration text, per layer and position: the FFN input
 * x (dim f32, after the FFN's norm; what a predictor sees), off-heap, and the active set (neuron i is
 * active when its activation is non-zero: relu(fc1 x + b) > 0) as a bitset. As an {@link FfnObserver}
 * it records each position the model runs, up to its capacity.
 */
public final class ActivationRecord implements FfnObserver, AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final int layers;
    private final int dim;
    private final int neurons;
    private final int capacity;
    private final int words;
    private final MemorySegment[] xs;
    private final long[][] bits;
    private final int[] counts;

    public ActivationRecord(int layers, int dim, int neurons, int capacity) {
        this.layers = layers;
        this.dim = dim;
        this.neurons = neurons;
        this.capacity = capacity;
        this.words = (neurons + 63) >>> 6;
        xs = new MemorySegment[layers];
        bits = new long[layers][];
        counts = new int[layers];
        for (int l = 0; l < layers; l++) {
            xs[l] = arena.allocate(JAVA_FLOAT, (long) capacity * dim);
            bits[l] = new long[Math.multiplyExact(capacity, words)];
        }
    }

    @Override
    public void observe(int layer, MemorySegment ffnInput, MemorySegment activation) {
        int t = counts[layer];
        if (t >= capacity) {
            return;
        }
        MemorySegment.copy(ffnInput, 0, xs[layer], (long) t * dim * Float.BYTES, (long) dim * Float.BYTES);
        long[] b = bits[layer];
        int base = t * words;
        for (int i = 0; i < neurons; i++) {
            if (activation.getAtIndex(JAVA_FLOAT, i) != 0f) {
                b[base + (i >>> 6)] |= 1L << i;
            }
        }
        counts[layer] = t + 1;
    }

    /** Records one position by hand (tests): x and the active set of one layer. */
    public void add(int layer, float[] x, boolean[] active) {
        int t = counts[layer];
        MemorySegment.copy(x, 0, xs[layer], JAVA_FLOAT, (long) t * dim * Float.BYTES, dim);
        for (int i = 0; i < neurons; i++) {
            if (active[i]) {
                bits[layer][t * words + (i >>> 6)] |= 1L << i;
            }
        }
        counts[layer] = t + 1;
    }

    public int layers() {
        return layers;
    }

    public int dim() {
        return dim;
    }

    public int neurons() {
        return neurons;
    }

    /** Positions recorded for layer l. */
    public int count(int layer) {
        return counts[layer];
    }

    /** Position t's FFN input of layer l (dim f32). */
    public MemorySegment x(int layer, int t) {
        return xs[layer].asSlice((long) t * dim * Float.BYTES, (long) dim * Float.BYTES);
    }

    /** Copies position t's FFN input of layer l into dst. */
    public void x(int layer, int t, float[] dst) {
        MemorySegment.copy(xs[layer], JAVA_FLOAT, (long) t * dim * Float.BYTES, dst, 0, dim);
    }

    public boolean active(int layer, int t, int neuron) {
        return (bits[layer][t * words + (neuron >>> 6)] & (1L << neuron)) != 0;
    }

    /** All of layer l's recorded inputs, [capacity, dim] f32. */
    MemorySegment xs(int layer) {
        return xs[layer];
    }

    /** The active-set words of position t (words() longs from offset t * words()). */
    long[] bits(int layer) {
        return bits[layer];
    }

    int words() {
        return words;
    }

    /** Active neurons of layer l over all its positions. */
    public long activeCount(int layer) {
        long n = 0;
        long[] b = bits[layer];
        int end = counts[layer] * words;
        for (int i = 0; i < end; i++) {
            n += Long.bitCount(b[i]);
        }
        return n;
    }

    @Override
    public void close() {
        arena.close();
    }
}
