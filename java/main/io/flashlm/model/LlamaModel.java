package io.flashlm.model;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.flashlm.model.VectorOps.add;
import static io.flashlm.model.VectorOps.get;
import static io.flashlm.model.VectorOps.set;

/**
 * The forward pass of the Llama family (Llama 1-3, Mistral, Qwen 2/3, Phi-3, Gemma 2/3, Falcon and the
 * mixtures of experts), as its {@link ModelVariant} and each layer's {@link LayerExtras} shape it:
 * x = embedding(token) * embeddingScale; per layer an attention block ({@link LlamaAttention}) and an FFN
 * block after its norm (gated or plain MLP, a mixture of experts, or whatever the {@link ModelAssembly}
 * chose), each output RMS-normed where the layer has a post-norm, added to x in sequence, or both from the
 * same x in a parallel block (Falcon); then the final norm, the output projection and the final soft-cap.
 * The weights stay wherever the loader left them (usually the mapped file).
 */
public final class LlamaModel extends TransformerModel {
    private final LlamaWeights w;
    private final AttentionBlock[] attention;
    private final BlockNorm[] attentionNorm;
    private final BlockNorm[] ffnNorm;        // null in a parallel block sharing the attention's norm
    private final MemorySegment[] postFfnNorm; // f32 or null
    private final BlockNorm finalNorm;

    public LlamaModel(ModelConfig c, LlamaWeights w, Tokenizer tokenizer, ComputePool pool, AutoCloseable source,
                      String description) {
        this(c, w, tokenizer, pool, source, description, ModelAssembly.dense());
    }

    public LlamaModel(ModelConfig c, LlamaWeights w, Tokenizer tokenizer, ComputePool pool, AutoCloseable source,
                      String description, ModelAssembly assembly) {
        super(c, tokenizer, pool, source, description, assembly);
        this.w = w;
        List<LlamaWeights.Layer> layers = w.layers();
        attention = new AttentionBlock[c.layers()];
        attentionNorm = new BlockNorm[c.layers()];
        ffnNorm = new BlockNorm[c.layers()];
        postFfnNorm = new MemorySegment[c.layers()];
        MlpWeights[] mlp = new MlpWeights[c.layers()];
        FeedForward[] experts = new FeedForward[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer t = layers.get(l);
            LayerExtras e = t.extras();
            attentionNorm[l] = BlockNorm.of(c, t.attentionNorm(), e.attentionNormBias(), arena);
            attention[l] = new LlamaAttention(c, pool, Rope.forLayer(c, l), attentionNorm[l], t, arena);
            if (t.ffnNorm() != null) {
                ffnNorm[l] = BlockNorm.of(c, t.ffnNorm(), e.ffnNormBias(), arena);
            } else if (!c.variant().parallelBlock()) {
                throw new IllegalArgumentException("layer " + l + " has no FFN norm, which only a parallel block may omit");
            }
            postFfnNorm[l] = VectorOps.toNative(e.postFfnNorm(), arena);
            mlp[l] = new MlpWeights(t.up(), null, t.gate(), t.down());
            if (e.experts() != null) {
                experts[l] = new MoeFfn(c, e.experts(), pool, arena);
            }
        }
        finalNorm = BlockNorm.of(c, w.finalNorm(), w.finalNormBias(), arena);
        assemble(assembly, mlp, experts);
    }

    private LlamaModel(LlamaModel base, ModelAssembly.FfnDecorator decorator) {
        super(base, decorator);
        this.w = base.w;
        this.attention = base.attention;
        this.attentionNorm = base.attentionNorm;
        this.ffnNorm = base.ffnNorm;
        this.postFfnNorm = base.postFfnNorm;
        this.finalNorm = base.finalNorm;
    }

    @Override
    public LlamaModel reassembled(ModelAssembly.FfnDecorator decorator) {
        return new LlamaModel(this, decorator);
    }

    @Override
    public MemorySegment forward(InferenceState s, int token, int pos) {
        checkInput(token, pos);
        int dim = c.dim();
        ModelVariant v = c.variant();
        w.tokenEmbedding().rowToFloat(token, s.x);
        if (v.embeddingScale() != 1f) {
            VectorOps.scale(s.x, v.embeddingScale(), dim);
        }
        for (int l = 0; l < c.layers(); l++) {
            prelude.beforeLayer(l);
            if (v.parallelBlock()) {
                // x + attention(norm(x)) + ffn(norm'(x)): the FFN first, while x is still the layer's input
                (ffnNorm[l] != null ? ffnNorm[l] : attentionNorm[l]).apply(s.xb, s.x, dim);
                ffn[l].apply(s, s.xb, s.parallelOut);
                attention[l].apply(s, l, pos);
                add(s.x, s.parallelOut, dim);
                continue;
            }
            attention[l].apply(s, l, pos);
            // FFN block: x += down(act(gate xn) * up xn), or down(act(up xn)) when ungated
            ffnNorm[l].apply(s.xb, s.x, dim);
            ffn[l].apply(s, s.xb, s.xb2);
            if (postFfnNorm[l] != null) {
                VectorOps.rmsNorm(s.xb2, s.xb2, postFfnNorm[l], dim, c.normEps());
            }
            add(s.x, s.xb2, dim);
        }
        return logits(s);
    }

    /**
     * {@link #forward} for a chunk of tokens: the attention and dense FFN blocks run matrix products over the
     * whole chunk, element-wise steps token by token in the same order, and only the last token's logits are
     * computed; the logits and cache are bit for bit those of token-at-a-time forward passes.
     */
    @Override
    public MemorySegment forwardBatch(InferenceState s, int[] tokens, int from, int count, int pos) {
        if (count < 1 || from < 0 || from + count > tokens.length) {
            throw new IllegalArgumentException("tokens [" + from + ", " + (from + count) + ") of " + tokens.length);
        }
        if (count == 1) {
            return forward(s, tokens[from], pos);
        }
        for (int t = 0; t < count; t++) {
            checkInput(tokens[from + t], pos + t);
        }
        int dim = c.dim();
        ModelVariant v = c.variant();
        BatchBuffers b = s.batch(count);
        for (int t = 0; t < count; t++) {
            MemorySegment x = BatchBuffers.row(b.x, t, dim);
            w.tokenEmbedding().rowToFloat(tokens[from + t], x);
            if (v.embeddingScale() != 1f) {
                VectorOps.scale(x, v.embeddingScale(), dim);
            }
        }
        for (int l = 0; l < c.layers(); l++) {
            prelude.beforeLayer(l);
            if (v.parallelBlock()) {
                BlockNorm n = ffnNorm[l] != null ? ffnNorm[l] : attentionNorm[l];
                for (int t = 0; t < count; t++) {
                    n.apply(BatchBuffers.row(b.xn, t, dim), BatchBuffers.row(b.x, t, dim), dim);
                }
                ffn[l].applyBatch(s, b.xn, count, b.ffn, dim);
                attention[l].applyBatch(s, l, pos, b.x, count, dim);
                add(b.x, b.ffn, count * dim);
                continue;
            }
            attention[l].applyBatch(s, l, pos, b.x, count, dim);
            for (int t = 0; t < count; t++) {
                ffnNorm[l].apply(BatchBuffers.row(b.xn, t, dim), BatchBuffers.row(b.x, t, dim), dim);
            }
            ffn[l].applyBatch(s, b.xn, count, b.out, dim);
            for (int t = 0; t < count; t++) {
                MemorySegment o = BatchBuffers.row(b.out, t, dim);
                if (postFfnNorm[l] != null) {
                    VectorOps.rmsNorm(o, o, postFfnNorm[l], dim, c.normEps());
                }
                add(BatchBuffers.row(b.x, t, dim), o, dim);
            }
        }
        // the logits of the last token only, from the state's residual stream as forward() computes them
        MemorySegment.copy(b.x, (long) (count - 1) * dim * Float.BYTES, s.x, 0, (long) dim * Float.BYTES);
        return logits(s);
    }

    /** The final norm, the output projection and the soft-cap of the residual stream in s.x. */
    private MemorySegment logits(InferenceState s) {
        int dim = c.dim();
        finalNorm.apply(s.x, s.x, dim);
        Linear.apply(pool, w.output(), s.x, s.logits);
        float cap = c.variant().finalSoftcap();
        if (cap > 0) {
            for (int i = 0; i < c.vocabSize(); i++) {
                set(s.logits, i, (float) (cap * Math.tanh(get(s.logits, i) / cap)));
            }
        }
        return s.logits;
    }

    public LlamaWeights weights() {
        return w;
    }
}
