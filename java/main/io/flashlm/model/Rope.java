package io.flashlm.model;

import java.lang.foreign.MemorySegment;

import static io.flashlm.model.VectorOps.get;
import static io.flashlm.model.VectorOps.set;

/**
 * Rotary position embedding of the queries and keys, in both layouts of the pairs: INTERLEAVED
 * (dims 2i, 2i+1: llama2.c, GGUF's llama) and HALF_SPLIT (dims i, i + headDim/2: Hugging Face, and GGUF
 * for the families llama.cpp runs with "NeoX" RoPE). The frequencies (with their {@link RopeScaling})
 * are computed once per model and layer kind.
 */
final class Rope {
    private final ModelConfig.RopeStyle style;
    private final int headDim;
    private final float[] inverseFrequency; // headDim / 2
    private final float attentionFactor;

    Rope(ModelConfig c) {
        this(c.rope(), c.headDim(), c.ropeTheta(), c.variant().rope());
    }

    Rope(ModelConfig.RopeStyle style, int headDim, double theta, RopeScaling scaling) {
        this.style = style;
        this.headDim = headDim;
        this.inverseFrequency = new float[headDim / 2];
        for (int j = 0; j < headDim / 2; j++) {
            inverseFrequency[j] = (float) scaling.inverseFrequency(j, headDim, theta);
        }
        this.attentionFactor = scaling.attentionFactor();
    }

    /** The rotation of layer {@code layer}: Gemma 3's sliding layers have their own base and no scaling. */
    static Rope forLayer(ModelConfig c, int layer) {
        ModelVariant v = c.variant();
        if (v.localRopeTheta() > 0 && v.slides(layer)) {
            return new Rope(c.rope(), c.headDim(), v.localRopeTheta(), RopeScaling.NONE);
        }
        return new Rope(c);
    }

    /** Rotates the first n floats of v (whole heads) for position pos. */
    void rotate(MemorySegment v, int n, int pos) {
        for (int head = 0; head < n; head += headDim) {
            for (int j = 0; j < headDim / 2; j++) {
                float angle = pos * inverseFrequency[j];
                float cos = (float) Math.cos(angle);
                float sin = (float) Math.sin(angle);
                if (attentionFactor != 1f) {
                    cos *= attentionFactor;
                    sin *= attentionFactor;
                }
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
