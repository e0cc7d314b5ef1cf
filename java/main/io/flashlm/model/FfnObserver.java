package io.flashlm.model;

import java.lang.foreign.MemorySegment;

/**
 * Sees each layer's FFN as a forward pass runs it: the FFN's input (after its norm, {@code dim} f32) and
 * the activation ({@code hiddenDim} f32: {@code act(up x + b)}, or {@code act(gate x) * up x} for gated
 * FFNs), right after the activation and before the down projection. Used to record calibration data for
 * the sparsity predictors, and to evaluate them: an observer may overwrite the activation in place (for
 * instance zero the neurons a predictor left out) and the down projection then uses what it wrote.
 * Unset (null) by default, when it costs one null check per layer.
 */
@FunctionalInterface
public interface FfnObserver {
    void observe(int layer, MemorySegment ffnInput, MemorySegment activation);
}
