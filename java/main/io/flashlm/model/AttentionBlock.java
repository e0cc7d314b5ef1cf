package io.flashlm.model;

/**
 * The attention block of one transformer layer, with its norm and residual: reads the residual stream
 * of the state, stores this position's keys and values in the layer's KV cache, and adds its output
 * to the residual stream.
 */
@FunctionalInterface
public interface AttentionBlock {
    void apply(InferenceState s, int layer, int pos);
}
