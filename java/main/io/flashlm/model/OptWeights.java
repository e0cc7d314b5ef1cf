package io.flashlm.model;

import io.flashlm.tensor.Tensor;

import java.util.List;

/**
 * An OPT model's tensors (Hugging Face OPTForCausalLM names and shapes). projectIn/projectOut are
 * null when word_embed_proj_dim equals the hidden size; finalNorm is null for post-norm models.
 * The output head is the token embedding (tied) unless a separate lm_head is given.
 */
public record OptWeights(Tensor tokenEmbedding, Tensor positionEmbedding, Tensor projectIn, Tensor projectOut,
                         Tensor finalNormWeight, Tensor finalNormBias, List<Layer> layers, Tensor output) {

    public record Layer(Tensor attentionNormWeight, Tensor attentionNormBias,
                        Tensor wq, Tensor bq, Tensor wk, Tensor bk, Tensor wv, Tensor bv, Tensor wo, Tensor bo,
                        Tensor ffnNormWeight, Tensor ffnNormBias, Tensor fc1, Tensor fc1Bias, Tensor fc2,
                        Tensor fc2Bias) {
    }
}
