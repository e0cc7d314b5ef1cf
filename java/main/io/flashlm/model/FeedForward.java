package io.flashlm.model;

import java.lang.foreign.MemorySegment;

/**
 * Runs the FFN blocks of a forward pass in place of the model's own dense matrices: the flash engine
 * plugs in here to read neurons from flash and compute over its neuron caches. Installed with
 * {@link TransformerModel#setFeedForward}; the model then never touches its FFN weight tensors.
 */
public interface FeedForward {

    /** Called before layer {@code layer}'s attention runs, so that an engine may fetch the layer's weights. */
    default void beginLayer(int layer) {
    }

    /**
     * Writes into {@code y} (dim f32) the FFN of {@code layer} for input {@code x} (dim f32, after the
     * FFN's norm): down(act(up x + b)) or down(act(gate x) * up x), without the down projection's
     * bias, which the model adds.
     */
    void apply(int layer, MemorySegment x, MemorySegment y);
}
