package io.flashlm.model;

import java.lang.foreign.MemorySegment;

import static io.flashlm.model.VectorOps.get;
import static io.flashlm.model.VectorOps.set;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** Causal multi-head attention over the KV cache, with grouped-query heads, an optional sliding window and soft-cap. */
final class Attention {
    private Attention() {
    }

    /**
     * out[h] = sum_t softmax_t(q[h] . k[t, g(h)] * scale) v[t, g(h)] for t in [0, pos], where the
     * kv head g(h) = h / (heads / kvHeads). Queries are in s.q; the result goes to out (qDim floats).
     */
    static void attend(InferenceState s, ModelConfig c, int layer, int pos, float scale, MemorySegment out) {
        attend(s, c, layer, 0, pos, scale, 0f, out);
    }

    /**
     * As {@link #attend(InferenceState, ModelConfig, int, int, float, MemorySegment)} over t in [first, pos]
     * (a sliding window), each score soft-capped to cap * tanh(score / cap) when cap > 0 (Gemma 2).
     */
    static void attend(InferenceState s, ModelConfig c, int layer, int first, int pos, float scale, float cap,
                       MemorySegment out) {
        attend(s, c, layer, first, pos, scale, cap, s.q, out);
    }

    /** As above with the queries in {@code q} (qDim floats) instead of the state's. */
    static void attend(InferenceState s, ModelConfig c, int layer, int first, int pos, float scale, float cap,
                       MemorySegment q, MemorySegment out) {
        int headDim = c.headDim();
        int group = c.heads() / c.kvHeads();
        int kvDim = c.kvDim();
        long layerBase = s.cacheOffset(layer, 0) / Float.BYTES;
        for (int h = 0; h < c.heads(); h++) {
            int qBase = h * headDim;
            int kvBase = (h / group) * headDim;
            int attBase = h * c.contextLength();
            for (int t = first; t <= pos; t++) {
                long kBase = layerBase + (long) t * kvDim + kvBase;
                float score = 0;
                for (int i = 0; i < headDim; i++) {
                    score += get(q, qBase + i) * s.keyCache.getAtIndex(JAVA_FLOAT, kBase + i);
                }
                score *= scale;
                set(s.att, attBase + t, cap > 0 ? (float) (cap * Math.tanh(score / cap)) : score);
            }
            VectorOps.softmax(s.att, attBase + first, pos + 1 - first);
            for (int i = 0; i < headDim; i++) {
                set(out, qBase + i, 0f);
            }
            for (int t = first; t <= pos; t++) {
                long vBase = layerBase + (long) t * kvDim + kvBase;
                float a = get(s.att, attBase + t);
                for (int i = 0; i < headDim; i++) {
                    set(out, qBase + i, get(out, qBase + i) + a * s.valueCache.getAtIndex(JAVA_FLOAT, vBase + i));
                }
            }
        }
    }
}
