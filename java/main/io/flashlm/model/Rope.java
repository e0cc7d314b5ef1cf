package io.flashlm.model;

import java.lang.foreign.MemorySegment;

import static io.flashlm.model.VectorOps.get;
import static io.flashlm.model.VectorOps.set;

/**
 * Rotary position embedding of the queries and keys, in both layouts of the pairs: INTERLEAVED
 * (dims 2i, 2i+1: llama2.c, GGUF) and HALF_SPLIT (dims i, i + headDim/2: Hugging Face).
 * The frequencies are computed once per model.
 */
final class Rope {
    private final ModelConfig.RopeStyle style;
    private final int headDim;
    private final float[] inverseFrequency; // headDim / 2

    Rope(ModelConfig c) {
        this.style = c.rope();
        this.headDim = c.headDim();
        this.inverseFrequency = new float[headDim / 2];
        for (int j = 0; j < headDim / 2; j++) {
            inverseFrequency[j] = (float) (1.0 / Math.pow(c.ropeTheta(), (2.0 * j) / headDim));
        }
    }

    /** Rotates the first n floats of v (whole heads) for position pos. */
    void rotate(MemorySegment v, int n, int pos) {
        for (int head = 0; head < n; head += headDim) {
            for (int j = 0; j < headDim / 2; j++) {
                float angle = pos * inverseFrequency[j];
                float cos = (float) Math.cos(angle);
                float sin = (float) Math.sin(angle);
                int a = style == ModelConfig.RopeStyle.INTERLEAVED ? head + 2 * j : head + j;
                int b = style == ModelConfig.RopeStyle.INTERLEAVED ? a + 1 : a + headDim / 2;
                float x0 = get(v, a);
                float x1 = get(v, b);
                set(v, a, x0 * cos - x1 * sin);
                set(v, b, x0 * sin + x1 * cos);
            }
        }
    }
}
