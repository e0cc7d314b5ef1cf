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
 */
public record ModelConfig(Architecture architecture, int dim, int hiddenDim, int layers, int heads, int kvHeads,
                          int vocabSize, int contextLength, float normEps, float ropeTheta, RopeStyle rope,
                          Activation activation, boolean gatedFfn, int embedProjDim, boolean normBefore,
                          int positionOffset) {

    public enum Architecture { LLAMA, OPT }

    /** INTERLEAVED rotates (0,1),(2,3)... as llama2.c and GGUF do; HALF_SPLIT rotates (i, i+d/2) as Hugging Face does. */
    public enum RopeStyle { INTERLEAVED, HALF_SPLIT }

    public enum Activation { SILU, RELU, GELU }

    public ModelConfig {
        if (dim <= 0 || hiddenDim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocabSize <= 0
                || contextLength <= 0 || embedProjDim <= 0) {
            throw new IllegalArgumentException("model dimensions must be positive: " + this);
        }
        if (dim % heads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of the " + heads + " heads");
        }
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException(heads + " heads are not a multiple of the " + kvHeads + " kv heads");
        }
    }

    /** The same model with a shorter (or longer) context: sizes the KV cache of new states. */
    public ModelConfig withContextLength(int n) {
        return new ModelConfig(architecture, dim, hiddenDim, layers, heads, kvHeads, vocabSize, n, normEps, ropeTheta,
                rope, activation, gatedFfn, embedProjDim, normBefore, positionOffset);
    }

    public int headDim() {
        return dim / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }
}
