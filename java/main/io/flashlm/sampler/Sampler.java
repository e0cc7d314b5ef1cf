package io.flashlm.sampler;

import java.lang.foreign.MemorySegment;

/** Picks the next token from a vector of logits (f32, off-heap). Implementations may keep scratch state. */
public sealed interface Sampler permits GreedySampler, TopPSampler {

    int sample(MemorySegment logits, int vocabSize);

    /** Greedy when temperature is 0, else temperature + nucleus (top-p) sampling with a seeded generator. */
    static Sampler of(float temperature, float topP, long seed, int vocabSize) {
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, was " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], was " + topP);
        }
        return temperature == 0 ? new GreedySampler() : new TopPSampler(temperature, topP, seed, vocabSize);
    }
}
