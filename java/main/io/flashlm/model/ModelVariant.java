package io.flashlm.model;

import java.util.Locale;

/**
 * What a Llama-family architecture changes in the Llama block (everything {@link ModelConfig} does not
 * say): the plain Llama / llama2.c model is {@link #LLAMA}. Each field states the definition it follows;
 * per-layer tensors that some families add (biases, q/k norms, post-norms, experts) are not flags here but
 * present or absent in {@link LlamaWeights.Layer#extras()}.
 *
 * @param family          the architecture's name as GGUF spells it ({@code llama}, {@code qwen2}, {@code gemma2},
 *                        ...), for descriptions and packs
 * @param headDim         query/key/value width per head; 0 means dim / heads (Qwen3 and Gemma set it apart)
 * @param rope            how RoPE's frequencies are scaled ({@link RopeScaling#NONE} for plain RoPE)
 * @param slidingWindow   0, or the number of positions a sliding-window layer attends to: position p sees
 *                        positions t with p - t < slidingWindow (Mistral, Gemma 2/3)
 * @param slidingPattern  which layers slide: 0 every layer (Mistral); n > 0 every layer but those with
 *                        (layer + 1) % n == 0 (Gemma 2: n = 2, so even layers slide; Gemma 3: n = 6)
 * @param localRopeTheta  RoPE base of the sliding layers when it differs from the global one (Gemma 3: 10000),
 *                        else 0; sliding layers then also skip {@link #rope}'s scaling (Gemma 3 scales only its
 *                        global layers)
 * @param embeddingScale  the token embedding is multiplied by this (Gemma: sqrt(dim)); 1 otherwise
 * @param attentionScale  scores are q . k times this; 0 means 1 / sqrt(headDim) (Gemma: query_pre_attn_scalar^-1/2)
 * @param attentionSoftcap 0, or c: scores become c * tanh(score / c) before the softmax (Gemma 2)
 * @param finalSoftcap    0, or c: logits become c * tanh(logit / c) (Gemma 2)
 * @param norm            RMS (x / rms(x) * w) or LAYER (PyTorch LayerNorm with its bias: Falcon)
 * @param parallelBlock   x + attention(norm(x)) + ffn(norm'(x)) from the same x (Falcon), instead of the
 *                        sequential x += attention(norm(x)); x += ffn(norm(x))
 * @param experts         0, or the number of experts of a mixture-of-experts FFN (Mixtral, Qwen3-MoE, OLMoE)
 * @param expertsUsed     experts each token runs (top-k of the router's softmax)
 * @param normalizeTopK   whether the top-k routing weights are renormalised to sum to 1 (Mixtral, Qwen3-MoE with
 *                        norm_topk_prob) or used as the softmax left them (OLMoE)
 */
public record ModelVariant(String family, int headDim, RopeScaling rope, int slidingWindow, int slidingPattern,
                           float localRopeTheta, float embeddingScale, float attentionScale, float attentionSoftcap,
                           float finalSoftcap, Norm norm, boolean parallelBlock, int experts, int expertsUsed,
                           boolean normalizeTopK) {

    public enum Norm { RMS, LAYER }

    /** Llama as llama2.c, Meta's Llama 2 and TinyLlama define it. */
    public static final ModelVariant LLAMA = new ModelVariant("llama", 0, RopeScaling.NONE, 0, 0, 0f, 1f, 0f, 0f, 0f,
            Norm.RMS, false, 0, 0, false);

    public ModelVariant {
        if (family == null || family.isBlank() || rope == null || norm == null) {
            throw new IllegalArgumentException("a model variant needs a family, a RoPE scaling and a norm");
        }
        if (headDim < 0 || slidingWindow < 0 || slidingPattern < 0 || experts < 0 || expertsUsed < 0) {
            throw new IllegalArgumentException("negative size in model variant " + family);
        }
        if (experts > 0 && (expertsUsed <= 0 || expertsUsed > experts)) {
            throw new IllegalArgumentException(family + ": " + expertsUsed + " experts used per token of " + experts
                    + "; expected 1.." + experts);
        }
        if (!(embeddingScale > 0) || attentionScale < 0 || attentionSoftcap < 0 || finalSoftcap < 0 || localRopeTheta < 0) {
            throw new IllegalArgumentException(family + ": scales must be positive and soft-caps >= 0");
        }
    }

    /** The plain Llama block under another family name (Mistral without a window, SmolLM, ...). */
    public static ModelVariant llamaNamed(String family) {
        return LLAMA.withFamily(family);
    }

    public ModelVariant withFamily(String name) {
        return new ModelVariant(name.toLowerCase(Locale.ROOT), headDim, rope, slidingWindow, slidingPattern,
                localRopeTheta, embeddingScale, attentionScale, attentionSoftcap, finalSoftcap, norm, parallelBlock,
                experts, expertsUsed, normalizeTopK);
    }

    public ModelVariant withHeadDim(int d) {
        return new ModelVariant(family, d, rope, slidingWindow, slidingPattern, localRopeTheta, embeddingScale,
                attentionScale, attentionSoftcap, finalSoftcap, norm, parallelBlock, experts, expertsUsed, normalizeTopK);
    }

    public ModelVariant withRope(RopeScaling r) {
        return new ModelVariant(family, headDim, r, slidingWindow, slidingPattern, localRopeTheta, embeddingScale,
                attentionScale, attentionSoftcap, finalSoftcap, norm, parallelBlock, experts, expertsUsed, normalizeTopK);
    }

    public ModelVariant withSlidingWindow(int window, int pattern, float localTheta) {
        return new ModelVariant(family, headDim, rope, window, pattern, localTheta, embeddingScale, attentionScale,
                attentionSoftcap, finalSoftcap, norm, parallelBlock, experts, expertsUsed, normalizeTopK);
    }

    public ModelVariant withScales(float embedding, float attention, float attentionCap, float finalCap) {
        return new ModelVariant(family, headDim, rope, slidingWindow, slidingPattern, localRopeTheta, embedding,
                attention, attentionCap, finalCap, norm, parallelBlock, experts, expertsUsed, normalizeTopK);
    }

    public ModelVariant withBlock(Norm n, boolean parallel) {
        return new ModelVariant(family, headDim, rope, slidingWindow, slidingPattern, localRopeTheta, embeddingScale,
                attentionScale, attentionSoftcap, finalSoftcap, n, parallel, experts, expertsUsed, normalizeTopK);
    }

    public ModelVariant withExperts(int count, int used, boolean normalize) {
        return new ModelVariant(family, headDim, rope, slidingWindow, slidingPattern, localRopeTheta, embeddingScale,
                attentionScale, attentionSoftcap, finalSoftcap, norm, parallelBlock, count, used, normalize);
    }

    /** Whether layer {@code layer} attends through the sliding window. */
    public boolean slides(int layer) {
        return slidingWindow > 0 && (slidingPattern == 0 || (layer + 1) % slidingPattern != 0);
    }

    /** The first position that position {@code pos} attends to in layer {@code layer}. */
    public int firstVisible(int layer, int pos) {
        return slides(layer) ? Math.max(0, pos - slidingWindow + 1) : 0;
    }

    public boolean isMixtureOfExperts() {
        return experts > 0;
    }
}
