package io.flashlm.model;

import io.flashlm.tensor.Tensor;

/**
 * The tensors some Llama-family architectures add to a layer; null where a family has none.
 *
 * @param qBias             bias of the query projection [qDim] (Qwen 2; also k and v)
 * @param kBias             bias of the key projection [kvDim]
 * @param vBias             bias of the value projection [kvDim]
 * @param oBias             bias of the output projection [dim]
 * @param qNorm             RMSNorm weight of the queries before RoPE: [headDim], applied to each head (Qwen 3,
 *                          Gemma 3), or [qDim], applied to all heads at once (OLMoE)
 * @param kNorm             the same for the keys: [headDim] or [kvDim]
 * @param attentionNormBias the bias of a LayerNorm before attention (Falcon)
 * @param postAttentionNorm RMSNorm weight of the attention output before the residual add (Gemma 2/3)
 * @param ffnNormBias       the bias of a LayerNorm before the FFN (Falcon's separate FFN norm)
 * @param postFfnNorm       RMSNorm weight of the FFN output before the residual add (Gemma 2/3)
 * @param experts           the layer's mixture of experts, which then replaces its MLP
 */
public record LayerExtras(Tensor qBias, Tensor kBias, Tensor vBias, Tensor oBias, Tensor qNorm, Tensor kNorm,
                          Tensor attentionNormBias, Tensor postAttentionNorm, Tensor ffnNormBias, Tensor postFfnNorm,
                          MoeWeights experts) {

    public static final LayerExtras NONE = new LayerExtras(null, null, null, null, null, null, null, null, null, null,
            null);

    /** Whether the layer carries nothing beyond the Llama tensors. */
    public boolean isEmpty() {
        return equals(NONE);
    }
}
