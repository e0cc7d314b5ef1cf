package io.flashlm.sampler;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greedy and temperature/top-p sampling. The seeded generator makes every draw reproducible, so the
 * statistical checks below are deterministic: their tolerances are several standard deviations wide.
 */
class SamplerTest {

    private static MemorySegment logits(float... values) {
        MemorySegment s = Arena.ofAuto().allocate(JAVA_FLOAT, values.length);
        MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, values.length);
        return s;
    }

    private static float[] randomLogits(Random rnd, int n, double spread) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * spread);
        }
        return v;
    }

    /** softmax(logits / t) in double precision. */
    private static double[] softmax(float[] logits, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / t);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    private static int[] draw(Sampler s, MemorySegment logits, int vocab, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.sample(logits, vocab);
        }
        return out;
    }

    // ---- greedy ----

    @Test
    void greedyPicksTheLargestLogit() {
        GreedySampler g = new GreedySampler();
        assertEquals(1, g.sample(logits(0.1f, 2.5f, -3f, 2.4f), 4));
        assertEquals(3, g.sample(logits(-5f, -4f, Float.NEGATIVE_INFINITY, -0.5f), 4));
        assertEquals(0, g.sample(logits(7f), 1));
        // Only the first vocabSize entries count.
        assertEquals(1, g.sample(logits(0f, 1f, 9f), 2));
    }

    @Test
    void greedyBreaksTiesTowardTheLowestId() {
        GreedySampler g = new GreedySampler();
        assertEquals(1, g.sample(logits(1f, 3f, 3f, 0f, 3f), 5));
        assertEquals(0, g.sample(logits(new float[100]), 100));
    }

    @Test
    void zeroTemperatureMeansGreedy() {
        assertInstanceOf(GreedySampler.class, Sampler.of(0f, 0.9f, 1, 10));
        assertInstanceOf(TopPSampler.class, Sampler.of(0.8f, 0.9f, 1, 10));
    }

    // ---- temperature and top-p ----

    @Test
    void aSeedGivesTheSameSequenceAndAnotherSeedADifferentOne() {
        int vocab = 64;
        MemorySegment l = logits(randomLogits(new Random(7), vocab, 1.5));
        for (float topP : new float[]{1f, 0.9f}) {
            int[] a = draw(Sampler.of(0.8f, topP, 42, vocab), l, vocab, 300);
            int[] b = draw(Sampler.of(0.8f, topP, 42, vocab), l, vocab, 300);
            int[] c = draw(Sampler.of(0.8f, topP, 43, vocab), l, vocab, 300);
            assertArrayEquals(a, b, "top-p " + topP);
            assertFalse(Arrays.equals(a, c), "seeds 42 and 43 gave the same 300 tokens, top-p " + topP);
            assertTrue(Arrays.stream(a).distinct().count() > 5, "hardly any variety: " + Arrays.toString(a));
        }
    }

    @Test
    void tinyTopPIsGreedy() {
        int vocab = 100;
        TopPSampler s = new TopPSampler(1f, 1e-6f, 5, vocab);
        Random rnd = new Random(11);
        for (int trial = 0; trial < 50; trial++) {
            float[] v = randomLogits(rnd, vocab, trial % 2 == 0 ? 2 : 0.01); // peaked and nearly flat
            MemorySegment l = logits(v);
            int expected = new GreedySampler().sample(l, vocab);
            for (int k = 0; k < 5; k++) {
                assertEquals(expected, s.sample(l, vocab), "trial " + trial);
            }
        }
        // A flat distribution: every token is as likely, the nucleus is the lowest id alone.
        assertEquals(0, s.sample(logits(new float[vocab]), vocab));
        float[] twoTop = new float[vocab];
        twoTop[30] = twoTop[60] = 1f;
        assertEquals(30, s.sample(logits(twoTop), vocab));
    }

    @Test
    void fullDistributionMatchesSoftmax() {
        float[] v = {1.0f, 0.5f, -0.3f, 2.0f, 0f, -1f, 1.5f, 0.2f};
        for (float t : new float[]{1f, 0.5f}) {
            double[] expected = softmax(v, t);
            int n = 200_000;
            double[] freq = frequencies(draw(new TopPSampler(t, 1f, 2024, v.length), logits(v), v.length, n),
                    v.length);
            for (int i = 0; i < v.length; i++) {
                // The standard deviation of a frequency is at most sqrt(0.25 / n) ~ 0.0011.
                assertEquals(expected[i], freq[i], 0.005, "token " + i + " at T=" + t);
            }
        }
    }

    @Test
    void topPHalfDrawsOnlyFromTheNucleusInProportion() {
        // 3 large probabilities at ids 7, 13, 2 (cumulative 0.30, 0.45, 0.57: the nucleus of 0.5), 17 small ones.
        int vocab = 20;
        double[] p = new double[vocab];
        Arrays.fill(p, 0.43 / 17);
        p[7] = 0.30;
        p[13] = 0.15;
        p[2] = 0.12;
        float[] v = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            v[i] = (float) (Math.log(p[i]) + 3); // softmax is shift-invariant
        }
        int n = 50_000;
        int[] picks = draw(new TopPSampler(1f, 0.5f, 99, vocab), logits(v), vocab, n);
        Set<Integer> seen = new TreeSet<>();
        for (int id : picks) {
            seen.add(id);
        }
        assertEquals(Set.of(2, 7, 13), seen, "tokens outside the nucleus were drawn");
        double[] freq = frequencies(picks, vocab);
        assertEquals(0.30 / 0.57, freq[7], 0.01);
        assertEquals(0.15 / 0.57, freq[13], 0.01);
        assertEquals(0.12 / 0.57, freq[2], 0.01);
    }

    @Test
    void invalidTemperatureOrTopPIsRejected() {
        for (float t : new float[]{-0.1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sampler.of(t, 0.9f, 1, 10));
            assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        }
        for (float p : new float[]{0f, -0.5f, 1.01f, Float.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sampler.of(1f, p, 1, 10));
            assertTrue(e.getMessage().contains("top-p"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> new TopPSampler(1f, p, 1, 10));
        }
        assertThrows(IllegalArgumentException.class, () -> new TopPSampler(0f, 0.9f, 1, 10));
        assertThrows(IllegalArgumentException.class, () -> new TopPSampler(Float.NaN, 0.9f, 1, 10));
        assertThrows(IllegalArgumentException.class, () -> new TopPSampler(Float.POSITIVE_INFINITY, 0.9f, 1, 10));
        // A vocabulary larger than the sampler was built for.
        TopPSampler small = new TopPSampler(1f, 0.9f, 1, 4);
        assertThrows(IllegalArgumentException.class, () -> small.sample(logits(new float[8]), 8));
    }

    private static double[] frequencies(int[] picks, int vocab) {
        double[] f = new double[vocab];
        for (int id : picks) {
            f[id] += 1.0 / picks.length;
        }
        return f;
    }
}
