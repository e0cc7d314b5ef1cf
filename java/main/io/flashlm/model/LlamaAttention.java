package io.flashlm.model;

import io.flashlm.kernels.ComputePool;

import java.lang.foreign.MemorySegment;

import static io.flashlm.model.VectorOps.add;
import static io.flashlm.model.VectorOps.rmsNorm;

/**
 * Llama's attention block: xn = rmsnorm(x), x += wo(attention(rope(wq xn), rope(wk xn), wv xn)), with
 * grouped-query attention when there are fewer key/value heads than query heads.
 */
final class LlamaAttention implements AttentionBlock {
    private final ModelConfig c;
    private final ComputePool pool;
    private final Rope rope;
    private final MemorySegment norm; // f32, converted once
    private final LlamaWeights.Layer w;
    private final float scale;

    LlamaAttention(ModelConfig c, ComputePool pool, Rope rope, MemorySegment norm, LlamaWeights.Layer w) {
        this.c = c;
        this.pool = pool;
        this.rope = rope;
        this.norm = norm;
        this.w = w;
        this.scale = (float) (1.0 / Math.sqrt(c.headDim()));
    }

    @Override
    public void apply(InferenceState s, int layer, int pos) {
        int dim = c.dim();
        rmsNorm(s.xb, s.x, norm, dim, c.normEps());
        Linear.apply(pool, w.wq(), s.xb, s.q);
        Linear.apply(pool, w.wk(), s.xb, s.k);
        Linear.apply(pool, w.wv(), s.xb, s.v);
        rope.rotate(s.q, dim, pos);
        rope.rotate(s.k, c.kvDim(), pos);
        s.storeKeyValue(layer, pos);
        Attention.attend(s, c, layer, pos, scale, s.xb);
        Linear.apply(pool, w.wo(), s.xb, s.xb2);
        add(s.x, s.xb2, dim);
    }
}
