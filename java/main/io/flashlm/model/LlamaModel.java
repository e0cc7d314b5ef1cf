package io.flashlm.model;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.flashlm.model.VectorOps.add;
import static io.flashlm.model.VectorOps.rmsNorm;

/**
 * The Llama forward pass: each layer an attention block (RMSNorm, RoPE, grouped-query attention:
 * {@link LlamaAttention}) and an FFN block after its RMSNorm (gated SiLU or ungated ReLU, or whatever
 * the {@link ModelAssembly} chose), with the weights wherever the loader left them (usually the mapped file).
 */
public final class LlamaModel extends TransformerModel {
    private final LlamaWeights w;
    private final AttentionBlock[] attention;
    // Norm weights as native f32 vectors, converted once.
    private final MemorySegment[] ffnNorm;
    private final MemorySegment finalNorm;

    public LlamaModel(ModelConfig c, LlamaWeights w, Tokenizer tokenizer, ComputePool pool, AutoCloseable source,
                      String description) {
        this(c, w, tokenizer, pool, source, description, ModelAssembly.dense());
    }

    public LlamaModel(ModelConfig c, LlamaWeights w, Tokenizer tokenizer, ComputePool pool, AutoCloseable source,
                      String description, ModelAssembly assembly) {
        super(c, tokenizer, pool, source, description, assembly);
        this.w = w;
        Rope rope = new Rope(c);
        List<LlamaWeights.Layer> layers = w.layers();
        attention = new AttentionBlock[c.layers()];
        ffnNorm = new MemorySegment[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer t = layers.get(l);
            attention[l] = new LlamaAttention(c, pool, rope, VectorOps.toNative(t.attentionNorm(), arena), t);
            ffnNorm[l] = VectorOps.toNative(t.ffnNorm(), arena);
        }
        finalNorm = VectorOps.toNative(w.finalNorm(), arena);
        MlpWeights[] mlp = new MlpWeights[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer t = layers.get(l);
            mlp[l] = new MlpWeights(t.up(), null, t.gate(), t.down());
        }
        assemble(assembly, mlp);
    }

    private LlamaModel(LlamaModel base, ModelAssembly.FfnDecorator decorator) {
        super(base, decorator);
        this.w = base.w;
        this.attention = base.attention;
        this.ffnNorm = base.ffnNorm;
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
        w.tokenEmbedding().rowToFloat(token, s.x);
        for (int l = 0; l < c.layers(); l++) {
            prelude.beforeLayer(l);
            attention[l].apply(s, l, pos);
            // FFN block: x += down(act(gate xn) * up xn), or down(act(up xn)) when ungated
            rmsNorm(s.xb, s.x, ffnNorm[l], dim, c.normEps());
            ffn[l].apply(s, s.xb, s.xb2);
            add(s.x, s.xb2, dim);
        }
        rmsNorm(s.x, s.x, finalNorm, dim, c.normEps());
        Linear.apply(pool, w.output(), s.x, s.logits);
        return s.logits;
    }

    public LlamaWeights weights() {
        return w;
    }
}
