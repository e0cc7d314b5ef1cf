package io.flashlm.model;

/**
 * The shape and conventions of a decoder-only transformer, whatever file it came from.
 *
 * @param architecture   LLAMA (RMSNorm, RoPE, gated or plain FFN) or OPT (LayerNorm, learned positions)
 * @param dim            model width (d_model)
 * @param hiddenDim      FFN width (n_ffn)
 * @param layers         decoder layers
 * @param heads          query heads
 * @param kvHeads        key/value heads (grouped-query attention when fewer than heads)
 * @param vocabSize      vocabulary size
 * @param contextLength  positions the model was trained for
 * @param normEps        epsilon of RMSNorm / LayerNorm
 * @param ropeTheta      RoPE base (LLAMA)
 * @param rope           which pairs RoPE rotates (LLAMA)
 * @param activation     FFN activation
 * @param gatedFfn       down(act(gate x) * up x) when true, down(act(up x)) otherwise
 * @param embedProjDim   OPT's word_embed_proj_dim (== dim when there is no project_in/out)
 * @param normBefore     OPT's do_layer_norm_before (pre-norm); LLAMA is always pre-norm
 * @param positionOffset OPT's learned-position offset (2); 0 otherwise
 * @param variant        what a Llama-family architecture changes in the Llama block ({@link ModelVariant#LLAMA}
 *                       for Llama itself and for OPT); hiddenDim is the experts' FFN width in a mixture of experts
 */
public record ModelConfig(Architecture architecture, int dim, int hiddenDim, int layers, int heads, int kvHeads,
                          int vocabSize, int contextLength, float normEps, float ropeTheta, RopeStyle rope,
                          Activation activation, boolean gatedFfn, int embedProjDim, boolean normBefore,
                          int positionOffset, ModelVariant variant) {

    public enum Architecture { LLAMA, OPT }

    /** INTERLEAVED rotates (0,1),(2,3)... as llama2.c and GGUF do; HALF_SPLIT rotates (i, i+d/2) as Hugging Face does. */
    public enum RopeStyle { INTERLEAVED, HALF_SPLIT }

    /** GELU is PyTorch's exact (erf) GELU; GELU_TANH its tanh approximation ("gelu_pytorch_tanh", Gemma). */
    public enum Activation { SILU, RELU, GELU, GELU_TANH }

    /** A Llama ({@link ModelVariant#LLAMA}) or OPT config. */
    public ModelConfig(Architecture architecture, int dim, int hiddenDim, int layers, int heads, int kvHeads,
                       int vocabSize, int contextLength, float normEps, float ropeTheta, RopeStyle rope,
                       Activation activation, boolean gatedFfn, int embedProjDim, boolean normBefore, int positionOffset) {
        this(architecture, dim, hiddenDim, layers, heads, kvHeads, vocabSize, contextLength, normEps, ropeTheta, rope,
                activation, gatedFfn, embedProjDim, normBefore, positionOffset, ModelVariant.LLAMA);
    }

    public ModelConfig {
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocabSize <= 0
                || contextLength <= 0 || embedProjDim <= 0) {
            throw new IllegalArgumentException("model dimensions must be positive: " + this);
        }
        if (variant == null) {
            throw new IllegalArgumentException("a model config needs a variant (ModelVariant.LLAMA for Llama and OPT)");
        }
        if (variant.headDim() == 0 && dim % heads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of the " + heads + " heads");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " heads are not a multiple of the " + kvHeads + " kv heads");
        }
    }

    /** The same model with a shorter (or longer) context: sizes the KV cache of new states. */
    public ModelConfig withContextLength(int n) {
        return new ModelConfig(architecture, dim, hiddenDim, layers, heads, kvHeads, vocabSize, n, normEps, ropeTheta,
                rope, activation, gatedFfn, embedProjDim, normBefore, positionOffset, variant);
    }

    /** The same model with another variant. */
    public ModelConfig withVariant(ModelVariant v) {
        return new ModelConfig(architecture, dim, hiddenDim, layers, heads, kvHeads, vocabSize, contextLength, normEps,
                ropeTheta, rope, activation, gatedFfn, embedProjDim, normBefore, positionOffset, v);
    }

    public int headDim() {
        return variant.headDim() > 0 ? variant.headDim() : dim / heads;
    }

    /** Width of all query heads together (dim unless the variant sets its own head width). */
    public int qDim() {
        return heads * headDim();
    }

    public int kvDim() {
        return kvHeads * headDim();
    }
}
