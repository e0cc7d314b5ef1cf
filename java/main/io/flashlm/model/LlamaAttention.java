package io.flashlm.model;

import io.flashlm.kernels.ComputePool;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.flashlm.model.VectorOps.add;
import static io.flashlm.model.VectorOps.addBias;

/**
 * The Llama family's attention block: xn = norm(x); q = wq xn + bq, k = wk xn + bk, v = wv xn + bv (biases
 * where the layer has them: Qwen 2); q and k RMS-normed per head or as a whole where the layer has those
 * norms (Qwen 3, Gemma 3, OLMoE); RoPE of the layer's kind; grouped-query attention over the layer's
 * window with the variant's scale and soft-cap; o = wo attention + bo, RMS-normed where the layer has a
 * post-attention norm (Gemma 2/3); x += o.
 */
final class LlamaAttention implements AttentionBlock {
    private final ModelConfig c;
    private final ComputePool pool;
    private final Rope rope;
    private final BlockNorm norm;
    private final LlamaWeights.Layer w;
    private final MemorySegment qBias, kBias, vBias, oBias; // f32 or null
    private final MemorySegment qNorm, kNorm, postNorm;     // f32 or null
    private final boolean qNormPerHead, kNormPerHead;
    private final float scale;
    private final float softcap;

    LlamaAttention(ModelConfig c, ComputePool pool, Rope rope, BlockNorm norm, LlamaWeights.Layer w,
                   Arena arena) {
        this.c = c;
        this.pool = pool;
        this.rope = rope;
        this.norm = norm;
        this.w = w;
        LayerExtras e = w.extras();
        this.qBias = VectorOps.toNative(e.qBias(), arena);
        this.kBias = VectorOps.toNative(e.kBias(), arena);
        this.vBias = VectorOps.toNative(e.vBias(), arena);
        this.oBias = VectorOps.toNative(e.oBias(), arena);
        this.qNorm = VectorOps.toNative(e.qNorm(), arena);
        this.kNorm = VectorOps.toNative(e.kNorm(), arena);
        this.postNorm = VectorOps.toNative(e.postAttentionNorm(), arena);
        this.qNormPerHead = e.qNorm() != null && e.qNorm().elementCount() == c.headDim();
        this.kNormPerHead = e.kNorm() != null && e.kNorm().elementCount() == c.headDim();
        float s = c.variant().attentionScale();
        this.scale = s > 0 ? s : (float) (1.0 / Math.sqrt(c.headDim()));
        this.softcap = c.variant().attentionSoftcap();
    }

    @Override
    public void apply(InferenceState s, int layer, int pos) {
        int dim = c.dim();
        norm.apply(s.xb, s.x, dim);
        Linear.apply(pool, w.wq(), s.xb, s.q);
        Linear.apply(pool, w.wk(), s.xb, s.k);
        Linear.apply(pool, w.wv(), s.xb, s.v);
        addBias(s.q, qBias, c.qDim());
        addBias(s.k, kBias, c.kvDim());
        addBias(s.v, vBias, c.kvDim());
        if (qNorm != null) {
            normHeads(s.q, qNorm, qNormPerHead, c.qDim());
        }
        if (kNorm != null) {
            normHeads(s.k, kNorm, kNormPerHead, c.kvDim());
        }
        rope.rotate(s.q, c.qDim(), pos);
        rope.rotate(s.k, c.kvDim(), pos);
        s.storeKeyValue(layer, pos);
        Attention.attend(s, c, layer, c.variant().firstVisible(layer, pos), pos, scale, softcap, s.xb);
        Linear.apply(pool, w.wo(), s.xb, s.xb2);
        addBias(s.xb2, oBias, dim);
        if (postNorm != null) {
            VectorOps.rmsNorm(s.xb2, s.xb2, postNorm, dim, c.normEps());
        }
        add(s.x, s.xb2, dim);
    }

    /** {@link #apply} for n tokens with matrix products over all of them (the same bits, token by token). */
    @Override
    public void applyBatch(InferenceState s, int layer, int pos, MemorySegment x, int n, int dim) {
        BatchBuffers b = s.batch(n);
        int q = c.qDim(), kv = c.kvDim();
        for (int t = 0; t < n; t++) {
            norm.apply(BatchBuffers.row(b.xn, t, dim), BatchBuffers.row(x, t, dim), dim);
        }
        Linear.applyBatch(pool, w.wq(), b.xn, n, b.q);
        Linear.applyBatch(pool, w.wk(), b.xn, n, b.k);
        Linear.applyBatch(pool, w.wv(), b.xn, n, b.v);
        for (int t = 0; t < n; t++) {
            MemorySegment qt = BatchBuffers.row(b.q, t, q), kt = BatchBuffers.row(b.k, t, kv);
            MemorySegment vt = BatchBuffers.row(b.v, t, kv);
            addBias(qt, qBias, q);
            addBias(kt, kBias, kv);
            addBias(vt, vBias, kv);
            if (qNorm != null) {
                normHeads(qt, qNorm, qNormPerHead, q);
            }
            if (kNorm != null) {
                normHeads(kt, kNorm, kNormPerHead, kv);
            }
            rope.rotate(qt, q, pos + t);
            rope.rotate(kt, kv, pos + t);
            s.storeKeyValue(layer, pos + t, kt, vt);
        }
        // every key and value of the chunk is stored; token t attends only up to its own position
        for (int t = 0; t < n; t++) {
            int p = pos + t;
            Attention.attend(s, c, layer, c.variant().firstVisible(layer, p), p, scale, softcap,
                    BatchBuffers.row(b.q, t, q), BatchBuffers.row(b.att, t, q));
        }
        Linear.applyBatch(pool, w.wo(), b.att, n, b.out);
        for (int t = 0; t < n; t++) {
            MemorySegment o = BatchBuffers.row(b.out, t, dim);
            addBias(o, oBias, dim);
            if (postNorm != null) {
                VectorOps.rmsNorm(o, o, postNorm, dim, c.normEps());
            }
            add(BatchBuffers.row(x, t, dim), o, dim);
        }
    }

    /** RMSNorm of each head of v (weight [headDim]) or of all n values at once (weight [n]). */
    private void normHeads(MemorySegment v, MemorySegment weight, boolean perHead, int n) {
        if (!perHead) {
            VectorOps.rmsNorm(v, v, weight, n, c.normEps());
            return;
        }
        int hd = c.headDim();
        for (int h = 0; h < n; h += hd) {
            VectorOps.rmsNormAt(v, v, h, weight, hd, c.normEps());
        }
    }
}
