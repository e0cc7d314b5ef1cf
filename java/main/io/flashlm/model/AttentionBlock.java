package io.flashlm.model;

import java.lang.foreign.MemorySegment;

/**
 * The attention block of one transformer layer, with its norm and residual: reads the residual stream
 * of the state, stores this position's keys and values in the layer's KV cache, and adds its output
 * to the residual stream.
 */
@FunctionalInterface
public interface AttentionBlock {
    void apply(InferenceState s, int layer, int pos);

    /**
     * The block for n tokens at positions pos.. whose residual streams are x (n vectors of dim floats, one
     * after another), updated in place, each exactly as {@link #apply} would. This default runs them one at a
     * time through the state's residual stream.
     */
    default void applyBatch(InferenceState s, int layer, int pos, MemorySegment x, int n, int dim) {
        long bytes = (long) dim * Float.BYTES;
        for (int t = 0; t < n; t++) {
            MemorySegment.copy(x, t * bytes, s.x, 0, bytes);
            apply(s, layer, pos + t);
            MemorySegment.copy(s.x, 0, x, t * bytes, bytes);
        }
    }
}
