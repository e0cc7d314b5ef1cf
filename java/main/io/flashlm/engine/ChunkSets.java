package io.flashlm.engine;

import io.flashlm.predictor.Predictor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A prompt chunk's predicted sets, one per token, and the union of a group of consecutive tokens' sets, for the
 * windowed modes' prompt chunks (a group whose union fits the cache is planned and read once). Grows only when a
 * chunk predicts more neurons than any before.
 */
final class ChunkSets {
    private int[] sets = new int[0];
    private int[] start = new int[1];
    private int tokens;
    private final long[] union;
    private final int[] unionIds;

    ChunkSets(int neurons) {
        this.union = new long[(neurons + 63) >>> 6];
        this.unionIds = new int[neurons];
    }

    /** Predicts layer {@code layer}'s set for each of the n inputs in x (vectors of dim floats); scratch holds n ints. */
    void predict(Predictor predictor, int layer, MemorySegment x, int n, int dim, int[] scratch) {
        long vec = dim * 4L;
        if (start.length < n + 1) {
            start = new int[n + 1];
        }
        int total = 0;
        for (int t = 0; t < n; t++) {
            int k = predictor.predict(layer, x.asSlice(t * vec, vec), scratch);
            if (sets.length < total + k) {
                sets = Arrays.copyOf(sets, Math.max(total + k, 2 * sets.length));
            }
            System.arraycopy(scratch, 0, sets, total, k);
            start[t] = total;
            total += k;
        }
        start[n] = total;
        tokens = n;
    }

    /** Neurons in tokens first..end-1's sets, counted with repeats. */
    int total(int first, int end) {
        return start[end] - start[first];
    }

    /** Copies token t's set (ascending) into out and returns its size. */
    int copySet(int t, int[] out) {
        int k = start[t + 1] - start[t];
        System.arraycopy(sets, start[t], out, 0, k);
        return k;
    }

    /** Empties the group's union. */
    void clearUnion() {
        Arrays.fill(union, 0L);
    }

    /** Neurons of token t's set not yet in the union. */
    int fresh(int t) {
        int k = 0;
        for (int i = start[t]; i < start[t + 1]; i++) {
            int v = sets[i];
            if ((union[v >>> 6] & 1L << v) == 0) {
                k++;
            }
        }
        return k;
    }

    /** Adds token t's set to the union. */
    void addToUnion(int t) {
        for (int i = start[t]; i < start[t + 1]; i++) {
            int v = sets[i];
            union[v >>> 6] |= 1L << v;
        }
    }

    /** Lists the union (ascending) in {@link #unionIds()} and returns its size. */
    int union() {
        int u = 0;
        for (int w = 0; w < union.length; w++) {
            for (long word = union[w]; word != 0; word &= word - 1) {
                unionIds[u++] = (w << 6) + Long.numberOfTrailingZeros(word);
            }
        }
        return u;
    }

    /** The union as the last {@link #union()} listed it (valid up to the size it returned). */
    int[] unionIds() {
        return unionIds;
    }

    int tokens() {
        return tokens;
    }
}
