package io.flashlm.model;

import io.flashlm.compute.ComputePool;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.flashlm.model.VectorOps.add;
import static io.flashlm.model.VectorOps.rmsNorm;

/**
 * The Llama forward pass (RMSNorm, RoPE, grouped-query attention, gated SiLU FFN or an ungated
 * ReLU FFN), with the weights wherever the loader left them (usually the mapped file).
 */
public final class LlamaModel extends TransformerModel {
    private final LlamaWeights w;
    private final Rope rope;
    // Norm weights as native f32 vectors, converted once.
    private final MemorySegment[] attentionNorm;
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
        this.rope = new Rope(c);
        List<LlamaWeights.Layer> layers = w.layers();
        attentionNorm = new MemorySegment[c.layers()];
        ffnNorm = new MemorySegment[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            attentionNorm[l] = VectorOps.toNative(layers.get(l).attentionNorm(), arena);
            ffnNorm[l] = VectorOps.toNative(layers.get(l).ffnNorm(), arena);
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
        this.rope = base.rope;
        this.attentionNorm = base.attentionNorm;
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
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        for (int l = 0; l < c.layers(); l++) {
            LlamaWeights.Layer layer = w.layers().get(l);
            prelude.beforeLayer(l);
            // attention block: x += wo(attention(rope(wq xn), rope(wk xn), wv xn))
            rmsNorm(s.xb, s.x, attentionNorm[l], dim, c.normEps());
            Linear.apply(pool, layer.wq(), s.xb, s.q);
            Linear.apply(pool, layer.wk(), s.xb, s.k);
            Linear.apply(pool, layer.wv(), s.xb, s.v);
            rope.rotate(s.q, dim, pos);
            rope.rotate(s.k, c.kvDim(), pos);
            s.storeKeyValue(l, pos);
            Attention.attend(s, c, l, pos, scale, s.xb);
            Linear.apply(pool, layer.wo(), s.xb, s.xb2);
            add(s.x, s.xb2, dim);
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
