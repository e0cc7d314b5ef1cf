package io.flashlm.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The activations of a chunk of tokens run through the model together (prefill), token-major: token t's
 * vector of width w at floats [t w, (t + 1) w). Allocated for {@code capacity} tokens in an arena of its
 * own, so that a state can replace them with larger ones.
 */
final class BatchBuffers implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    final int capacity;
    final MemorySegment x;   // residual streams (dim each)
    final MemorySegment xn;  // normed inputs (dim)
    final MemorySegment q;   // queries (qDim)
    final MemorySegment k;   // keys (kvDim)
    final MemorySegment v;   // values (kvDim)
    final MemorySegment att; // attention outputs (qDim)
    final MemorySegment out; // block outputs (dim)
    final MemorySegment h1;  // FFN hidden (hiddenDim): gate, or up when ungated
    final MemorySegment h2;  // FFN second hidden (hiddenDim): up when gated
    final MemorySegment ffn; // a parallel block's FFN outputs (dim)

    BatchBuffers(ModelConfig c, int capacity) {
        this.capacity = capacity;
        x = alloc(capacity, c.dim());
        xn = alloc(capacity, c.dim());
        q = alloc(capacity, c.qDim());
        k = alloc(capacity, c.kvDim());
        v = alloc(capacity, c.kvDim());
        att = alloc(capacity, c.qDim());
        out = alloc(capacity, c.dim());
        h1 = alloc(capacity, c.hiddenDim());
        h2 = alloc(capacity, c.hiddenDim());
        ffn = alloc(capacity, c.variant().parallelBlock() ? c.dim() : 0);
    }

    private MemorySegment alloc(int tokens, int width) {
        return arena.allocate(JAVA_FLOAT, (long) tokens * width);
    }

    /** Token t's vector of width w in a token-major buffer. */
    static MemorySegment row(MemorySegment buffer, int t, int w) {
        return buffer.asSlice((long) t * w * Float.BYTES, (long) w * Float.BYTES);
    }

    @Override
    public void close() {
        arena.close();
    }
}
