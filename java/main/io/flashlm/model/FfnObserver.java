package io.flashlm.model;

import java.lang.foreign.MemorySegment;

/**
 * Sees each layer's FFN as a forward pass runs it: the FFN's input (after its norm, {@code dim} f32) and
 * the activation ({@code hiddenDim} f32: {@code act(up x + b)}, or {@code act(gate x) * up x} for gated
 * FFNs), right after the activation and before the down projection. Used to record calibration data for
 * the sparsity predictors, and to evaluate them: an observer may overwrite the activation in place (for
 * instance zero the neurons a predictor left out) and the down projection then uses what it wrote.
 */
@FunctionalInterface
public interface FfnObserver {
    void observe(int layer, MemorySegment ffnInput, MemorySegment activation);

    /**
     * A view of {@code model} whose every FFN is observed by {@code observer}: the same weights, threads
     * and tokenizer, each layer's dense FFN wrapped in an {@link ObservedFfn}. Closing the view leaves the
     * model open.
     *
     * @throws IllegalArgumentException if the model's FFNs are not dense (an engine's FFN from flash)
     */
    static LanguageModel observing(LanguageModel model, FfnObserver observer) {
        return model.reassembled((layer, ffn) -> switch (ffn) {
            case DenseMlp d -> new ObservedFfn(layer, d, observer);
            case ObservedFfn o -> new ObservedFfn(layer, o.inner(), observer);
            default -> throw new IllegalArgumentException("only a dense FFN can be observed; layer " + layer
                    + " runs " + ffn.getClass().getSimpleName());
        });
    }
}
