package io.flashlm.model;

import io.flashlm.tensor.Tensor;

import java.util.List;

/**
 * A Llama-style model's tensors, in Hugging Face shapes (Linear weights [out, in]). Q and K rows
 * are in the order the config's {@link ModelConfig.RopeStyle} expects.
 */
public record LlamaWeights(Tensor tokenEmbedding, List<Layer> layers, Tensor finalNorm, Tensor finalNormBias,
                           Tensor output) {

    /** Weights whose final norm has no bias (every family but Falcon). */
    public LlamaWeights(Tensor tokenEmbedding, List<Layer> layers, Tensor finalNorm, Tensor output) {
        this(tokenEmbedding, layers, finalNorm, null, output);
    }

    /**
     * gate is null for an ungated FFN (down(act(up x))); gate, up and down are null where {@code extras}
     * holds a mixture of experts; ffnNorm is null in a parallel block that shares the attention's norm (Falcon).
     */
    public record Layer(Tensor attentionNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor ffnNorm,
                        Tensor gate, Tensor up, Tensor down, LayerExtras extras) {

        /** A plain Llama layer. */
        public Layer(Tensor attentionNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor ffnNorm, Tensor gate,
                     Tensor up, Tensor down) {
            this(attentionNorm, wq, wk, wv, wo, ffnNorm, gate, up, down, LayerExtras.NONE);
        }

        public Layer {
            if (extras == null) {
                throw new IllegalArgumentException("a layer's extras are LayerExtras.NONE, not null");
            }
        }
    }
}
