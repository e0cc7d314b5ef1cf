package io.flashlm.sampler;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** Argmax; the lowest id wins a tie, so the result is reproducible. */
public record GreedySampler() implements Sampler {
    @Override
    public int sample(MemorySegment logits, int vocabSize) {
        return argmax(logits, vocabSize);
    }

    /** The index of the largest of {@code logits[0..n)}, the lowest on a tie. */
    public static int argmax(MemorySegment logits, int vocabSize) {
        int best = 0;
        float bestValue = logits.getAtIndex(JAVA_FLOAT, 0);
        for (int i = 1; i < vocabSize; i++) {
            float v = logits.getAtIndex(JAVA_FLOAT, i);
            if (v > bestValue) {
                bestValue = v;
                best = i;
            }
        }
        return best;
    }
}
