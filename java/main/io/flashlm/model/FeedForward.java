package io.flashlm.model;

import java.lang.foreign.MemorySegment;

/**
 * The FFN block of one transformer layer, chosen when the model is assembled ({@link ModelAssembly}):
 * the dense MLP over the layer's matrices ({@link DenseMlp}), or the flash engine's resident,
 * streaming or windowed FFN over neurons read from flash. Decorators (calibration's
 * {@link ObservedFfn}) wrap a block; nothing patches a built model.
 */
@FunctionalInterface
public interface FeedForward {

    /**
     * Writes into {@code y} (dim f32) the FFN of input {@code x} (dim f32, after the FFN's norm):
     * down(act(up x + b)) or down(act(gate x) * up x), without the down projection's bias, which the
     * layer adds with the residual. Scratch space comes from the sequence's state {@code s}.
     */
    void apply(InferenceState s, MemorySegment x, MemorySegment y);

    /**
     * The FFN of {@code n} inputs at once: x holds n vectors of dim floats one after another, y receives n
     * outputs the same way; each exactly as {@link #apply} gives it. This default runs them one at a time.
     */
    default void applyBatch(InferenceState s, MemorySegment x, int n, MemorySegment y, int dim) {
        long bytes = (long) dim * Float.BYTES;
        for (int t = 0; t < n; t++) {
            apply(s, x.asSlice(t * bytes, bytes), y.asSlice(t * bytes, bytes));
        }
    }
}
