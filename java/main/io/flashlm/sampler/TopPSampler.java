package io.flashlm.sampler;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Temperature then nucleus sampling: softmax(logits / T), keep the most probable tokens whose
 * probabilities sum to at least p, draw from them. Seeded with its own xorshift generator so a
 * seed gives the same tokens on every JVM. Scratch arrays are allocated once per vocabulary.
 */
public final class TopPSampler implements Sampler {
    private final float temperature;
    private final float topP;
    private long state;
    private final float[] probs;
    private final int[] order;

    public TopPSampler(float temperature, float topP, long seed, int vocabSize) {
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be > 0 and finite, was " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], was " + topP);
        }
        this.temperature = temperature;
        this.topP = topP;
        this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
        this.probs = new float[vocabSize];
        this.order = new int[vocabSize];
    }

    @Override
    public int sample(MemorySegment logits, int vocabSize) {
        if (vocabSize > probs.length) {
            throw new IllegalArgumentException("vocabulary " + vocabSize + " larger than the sampler's " + probs.length);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocabSize; i++) {
            max = Math.max(max, logits.getAtIndex(JAVA_FLOAT, i));
        }
        double sum = 0;
        for (int i = 0; i < vocabSize; i++) {
            float p = (float) Math.exp((logits.getAtIndex(JAVA_FLOAT, i) - max) / temperature);
            probs[i] = p;
            sum += p;
        }
        float coin = nextFloat();
        if (topP >= 1) {
            return drawFrom(coin * sum, vocabSize);
        }
        // Only tokens above (1-p)/(n-1) of the mass can be in the nucleus: sort just those. The most
        // probable token (probs = exp(0) = 1) always is, even when p < 1/n makes the bound exceed it.
        float cutoff = (float) Math.min(1.0, (1 - topP) / Math.max(1, vocabSize - 1) * sum);
        int n = 0;
        for (int i = 0; i < vocabSize; i++) {
            if (probs[i] >= cutoff) {
                order[n++] = i;
            }
        }
        sortByProbabilityDescending(n);
        double mass = 0;
        int last = n - 1;
        for (int i = 0; i < n; i++) {
            mass += probs[order[i]];
            if (mass >= topP * sum) {
                last = i;
                break;
            }
        }
        double target = coin * mass;
        double acc = 0;
        for (int i = 0; i <= last; i++) {
            acc += probs[order[i]];
            if (target < acc) {
                return order[i];
            }
        }
        return order[last];
    }

    private int drawFrom(double target, int vocabSize) {
        double acc = 0;
        for (int i = 0; i < vocabSize; i++) {
            acc += probs[i];
            if (target < acc) {
                return i;
            }
        }
        return vocabSize - 1;
    }

    /** Insertion sort on the (usually short) candidate list; ties keep the lower id first. */
    private void sortByProbabilityDescending(int n) {
        if (n > 64) {
            shellSort(n);
            return;
        }
        for (int i = 1; i < n; i++) {
            int id = order[i];
            int j = i - 1;
            while (j >= 0 && before(id, order[j])) {
                order[j + 1] = order[j];
                j--;
            }
            order[j + 1] = id;
        }
    }

    private void shellSort(int n) {
        for (int gap = n / 2; gap > 0; gap /= 2) {
            for (int i = gap; i < n; i++) {
                int id = order[i];
                int j = i;
                while (j >= gap && before(id, order[j - gap])) {
                    order[j] = order[j - gap];
                    j -= gap;
                }
                order[j] = id;
            }
        }
    }

    private boolean before(int a, int b) {
        return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);
    }

    private float nextFloat() {
        state ^= state >>> 12;
        state ^= state << 25;
        state ^= state >>> 27;
        return ((state * 0x2545F4914F6CDD1DL) >>> 40) / (float) (1 << 24);
    }
}
