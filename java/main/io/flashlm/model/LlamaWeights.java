package io.flashlm.model;

import io.flashlm.tensor.Tensor;

import java.util.List;

/**
 * A Llama-style model's tensors, in Hugging Face shapes (Linear weights [out, in]). Q and K rows
 * are in the order the config's {@link ModelConfig.RopeStyle} expects.
 */
public record LlamaWeights(Tensor tokenEmbedding, List<Layer> layers, Tensor finalNorm, Tensor output) {

    /** gate is null for an ungated FFN (down(act(up x))). */
    public record Layer(Tensor attentionNorm, Tensor wq, Tensor wk, Tensor wv, Tensor wo, Tensor ffnNorm,
                        Tensor gate, Tensor up, Tensor down) {
    }
}
