package io.flashlm.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The per-sequence buffers of a forward pass, allocated once: activations, the KV cache and the
 * logits. A token's forward pass allocates nothing.
 */
public final class InferenceState implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    final MemorySegment x;      // residual stream (dim)
    final MemorySegment xb;     // normed input of a block, attention output (max(dim, embedProjDim, qDim))
    final MemorySegment xb2;    // block output (dim)
    final MemorySegment q;      // queries (qDim)
    final MemorySegment k;      // this position's keys (kvDim), copied into the cache
    final MemorySegment v;      // this position's values (kvDim)
    final MemorySegment att;    // attention scores (heads x contextLength)
    final MemorySegment hb;     // FFN hidden (hiddenDim)
    final MemorySegment hb2;    // FFN second hidden (hiddenDim, gated FFNs)
    final MemorySegment keyCache;   // layers x contextLength x kvDim
    final MemorySegment valueCache; // layers x contextLength x kvDim
    final MemorySegment logits;     // vocabSize
    final MemorySegment routerLogits; // a mixture of experts' router output (experts), or empty
    final MemorySegment expertOut;    // one expert's output (dim), or empty
    final MemorySegment parallelOut;  // the FFN output of a parallel block (dim), or empty
    final int[] expertsChosen;        // a mixture of experts' top k (expertsUsed), or empty
    final boolean[] expertTaken;      // scratch of the top-k search (experts), or empty
    final long layerCacheFloats;
    final int kvDim;
    private final ModelConfig config;
    private BatchBuffers batch; // prefill's chunk buffers, allocated on first use

    public InferenceState(ModelConfig c) {
        this.config = c;
        int wide = wideFloats(c);
        x = alloc(wide);
        xb = alloc(wide);
        xb2 = alloc(wide);
        q = alloc(c.qDim());
        k = alloc(c.kvDim());
        v = alloc(c.kvDim());
        att = alloc((long) c.heads() * c.contextLength());
        hb = alloc(c.hiddenDim());
        hb2 = alloc(c.hiddenDim());
        kvDim = c.kvDim();
        layerCacheFloats = (long) c.contextLength() * kvDim;
        keyCache = alloc(layerCacheFloats * c.layers());
        valueCache = alloc(layerCacheFloats * c.layers());
        logits = alloc(c.vocabSize());
        routerLogits = alloc(c.variant().experts());
        expertOut = alloc(c.variant().isMixtureOfExperts() ? c.dim() : 0);
        parallelOut = alloc(c.variant().parallelBlock() ? c.dim() : 0);
        expertsChosen = new int[c.variant().expertsUsed()];
        expertTaken = new boolean[c.variant().experts()];
    }

    private static int wideFloats(ModelConfig c) {
        return Math.max(Math.max(c.dim(), c.embedProjDim()), c.qDim());
    }

    private MemorySegment alloc(long floats) {
        return arena.allocate(JAVA_FLOAT, floats);
    }

    /** Byte offset of position pos of layer l in the key and value caches. */
    long cacheOffset(int layer, int pos) {
        return (layer * layerCacheFloats + (long) pos * kvDim) * Float.BYTES;
    }

    /** Stores this position's k and v into the caches. */
    void storeKeyValue(int layer, int pos) {
        storeKeyValue(layer, pos, k, v);
    }

    /** Stores key and value (kvDim floats each) as position pos's. */
    void storeKeyValue(int layer, int pos, MemorySegment key, MemorySegment value) {
        long off = cacheOffset(layer, pos);
        MemorySegment.copy(key, 0, keyCache, off, (long) kvDim * Float.BYTES);
        MemorySegment.copy(value, 0, valueCache, off, (long) kvDim * Float.BYTES);
    }

    /** Buffers for a chunk of at least {@code tokens} tokens (kept, and replaced only by larger ones). */
    BatchBuffers batch(int tokens) {
        if (batch == null || batch.capacity < tokens) {
            if (batch != null) {
                batch.close();
            }
            batch = new BatchBuffers(config, tokens);
        }
        return batch;
    }

    /** The logits of the last forward pass. */
    public MemorySegment logits() {
        return logits;
    }

    /** Bytes a state for this config holds (mostly the KV cache), without allocating one. */
    public static long bytesFor(ModelConfig c) {
        long wide = wideFloats(c);
        long floats = wide * 3 + c.qDim() + 2L * c.kvDim() + (long) c.heads() * c.contextLength() + 2L * c.hiddenDim()
                + 2L * c.layers() * c.contextLength() * c.kvDim() + c.vocabSize() + c.variant().experts()
                + (c.variant().isMixtureOfExperts() ? c.dim() : 0) + (c.variant().parallelBlock() ? c.dim() : 0);
        return floats * Float.BYTES;
    }

    /** Bytes held by this state (mostly the KV cache). */
    public long byteSize() {
        return (x.byteSize() * 3 + q.byteSize() + k.byteSize() * 2 + att.byteSize() + hb.byteSize() * 2 + keyCache.byteSize() * 2
                + logits.byteSize() + routerLogits.byteSize() + expertOut.byteSize()
                + parallelOut.byteSize());
    }

    @Override
    public void close() {
        if (batch != null) {
            batch.close();
        }
        arena.close();
    }
}
