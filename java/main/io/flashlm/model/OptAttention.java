package io.flashlm.model;

import io.flashlm.kernels.ComputePool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.flashlm.model.VectorOps.add;
import static io.flashlm.model.VectorOps.addBias;
import static io.flashlm.model.VectorOps.layerNorm;

/**
 * OPT's attention block: h += out_proj(attention(q_proj(x) * scale, k_proj(x), v_proj(x))), all
 * projections biased, x = LayerNorm(h) before it (pre-norm) or h = LayerNorm(h) after it (post-norm).
 */
final class OptAttention implements AttentionBlock {
    private final ModelConfig c;
    private final ComputePool pool;
    private final OptWeights.Layer w;
    // f32, converted once
    private final MemorySegment normWeight;
    private final MemorySegment normBias;
    private final MemorySegment bq;
    private final MemorySegment bk;
    private final MemorySegment bv;
    private final MemorySegment bo;
    private final float scale;

    OptAttention(ModelConfig c, ComputePool pool, OptWeights.Layer w, Arena arena) {
        this.c = c;
        this.pool = pool;
        this.w = w;
        this.normWeight = VectorOps.toNative(w.attentionNormWeight(), arena);
        this.normBias = VectorOps.toNative(w.attentionNormBias(), arena);
        this.bq = VectorOps.toNative(w.bq(), arena);
        this.bk = VectorOps.toNative(w.bk(), arena);
        this.bv = VectorOps.toNative(w.bv(), arena);
        this.bo = VectorOps.toNative(w.bo(), arena);
        this.scale = (float) Math.pow(c.headDim(), -0.5);
    }

    @Override
    public void apply(InferenceState s, int layer, int pos) {
        int dim = c.dim();
        float eps = c.normEps();
        MemorySegment in = s.x;
        if (c.normBefore()) {
            layerNorm(s.xb, s.x, normWeight, normBias, dim, eps);
            in = s.xb;
        }
        Linear.apply(pool, w.wq(), in, s.q);
        addBias(s.q, bq, dim);
        VectorOps.scale(s.q, scale, dim);
        Linear.apply(pool, w.wk(), in, s.k);
        addBias(s.k, bk, dim);
        Linear.apply(pool, w.wv(), in, s.v);
        addBias(s.v, bv, dim);
        s.storeKeyValue(layer, pos);
        Attention.attend(s, c, layer, pos, 1f, s.xb);
        Linear.apply(pool, w.wo(), s.xb, s.xb2);
        addBias(s.xb2, bo, dim);
        add(s.x, s.xb2, dim);
        if (!c.normBefore()) {
            layerNorm(s.x, s.x, normWeight, normBias, dim, eps);
        }
    }
}
