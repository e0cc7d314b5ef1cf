package io.flashlm.engine;

import io.flashlm.model.FeedForward;
import io.flashlm.model.InferenceState;

import java.lang.foreign.MemorySegment;

/** One layer's view of the engine's FFN: the block the model's layer holds in every engine mode. */
record EngineLayerFfn(EngineFfn ffn, int layer) implements FeedForward {
    @Override
    public void apply(InferenceState s, MemorySegment x, MemorySegment y) {
        ffn.apply(layer, x, y);
    }

    @Override
    public void applyBatch(InferenceState s, MemorySegment x, int n, MemorySegment y, int dim) {
        ffn.applyBatch(layer, x, n, y);
    }
}
