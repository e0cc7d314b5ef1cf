package io.flashlm.predictor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Synthetic activation traces: shape of the output, determinism, and the OPT-6.7B statistics. */
class TracePredictorTest {

    /** sets[token][layer], called as the engine does: every layer in order, then the next token. */
    private static int[][][] tokenMajor(TracePredictor p, int tokens) {
        int[][][] sets = new int[tokens][p.layers()][];
        int[] out = new int[p.neurons()];
        for (int t = 0; t < tokens; t++) {
            for (int l = 0; l < p.layers(); l++) {
                sets[t][l] = Arrays.copyOf(out, p.predict(l, MemorySegment.NULL, out));
            }
        }
        return sets;
    }

    @Test
    void setsAreAscendingDistinctInRangeAndOfTheSetSize() {
        TracePredictor p = new TracePredictor(3, 64, 1000, TracePredictor.opt67b());
        assertEquals("trace", p.kind().id());
        assertEquals(3, p.layers());
        assertEquals(64, p.dim());
        assertEquals(1000, p.neurons());
        assertEquals(100, p.setSize());
        for (int[][] token : tokenMajor(p, 50)) {
            for (int[] set : token) {
                assertEquals(100, set.length);
                for (int i = 0; i < set.length; i++) {
                    assertTrue(set[i] >= 0 && set[i] < 1000, "in range: " + set[i]);
                    assertTrue(i == 0 || set[i - 1] < set[i], "strictly ascending at " + i);
                }
            }
        }
        assertEquals(50, p.token(0));
    }

    @Test
    void sameSeedSameTraceOtherSeedAnother() {
        TracePredictor.Params params = TracePredictor.opt67b();
        int[][][] a = tokenMajor(new TracePredictor(2, 8, 2048, params), 20);
        int[][][] b = tokenMajor(new TracePredictor(2, 8, 2048, params), 20);
        int[][][] c = tokenMajor(new TracePredictor(2, 8, 2048, params.withSeed(2)), 20);
        assertTrue(Arrays.deepEquals(a, b));
        assertFalse(Arrays.deepEquals(a, c));
        assertFalse(Arrays.equals(a[5][0], a[5][1]), "layers have their own popularity and streams");
    }

    @Test
    void eachLayerIsItsOwnStreamWhateverTheCallOrderAndResetRewinds() {
        TracePredictor.Params params = TracePredictor.opt67b();
        int tokens = 12;
        int[][][] engine = tokenMajor(new TracePredictor(3, 8, 512, params), tokens);
        TracePredictor p = new TracePredictor(3, 8, 512, params);
        int[] out = new int[512];
        for (int rep = 0; rep < 2; rep++) {
            // Layer-major, last layer first: layer l's t-th call is still token t's set.
            for (int l = 2; l >= 0; l--) {
                for (int t = 0; t < tokens; t++) {
                    int c = p.predict(l, MemorySegment.NULL, out);
                    assertArrayEquals(engine[t][l], Arrays.copyOf(out, c), "layer " + l + " token " + t);
                }
            }
            p.reset();
            assertEquals(0, p.token(1));
        }
    }

    /**
     * A look-ahead guess draws the layer's next set early: the sets are the same with or without guesses, and a
     * guess holds about {@link TracePredictor#AHEAD_RECALL} of its set plus about {@link TracePredictor#AHEAD_EXTRA}
     * times its size of other neurons.
     */
    @Test
    void guessesLeaveTheSetsAsTheyAreAndHoldWhatTheyPromise() {
        TracePredictor plain = new TracePredictor(2, 8, 4096, TracePredictor.opt67b());
        TracePredictor guessed = new TracePredictor(2, 8, 4096, TracePredictor.opt67b());
        int[] a = new int[4096], b = new int[4096], g = new int[4096];
        long held = 0, truth = 0, extra = 0;
        for (int t = 0; t < 200; t++) {
            for (int l = 0; l < 2; l++) {
                int na = plain.predict(l, null, a);
                int ng = l == 1 ? guessed.predictAhead(l, null, g) : 0;
                int nb = guessed.predict(l, null, b);
                assertArrayEquals(Arrays.copyOf(a, na), Arrays.copyOf(b, nb), "token " + t + " layer " + l);
                if (l == 1) {
                    Set<Integer> set = new HashSet<>();
                    for (int i = 0; i < nb; i++) {
                        set.add(b[i]);
                    }
                    for (int i = 0; i < ng; i++) {
                        assertTrue(i == 0 || g[i - 1] < g[i], "ascending");
                        if (set.contains(g[i])) {
                            held++;
                        } else {
                            extra++;
                        }
                    }
                    truth += nb;
                }
            }
        }
        assertEquals(TracePredictor.AHEAD_RECALL, (double) held / truth, 0.02);
        assertEquals(TracePredictor.AHEAD_EXTRA, (double) extra / truth, 0.02);
    }

    @Test
    void neighbouringTokensShareNeurons() {
        TracePredictor p = new TracePredictor(1, 8, 4096, TracePredictor.opt67b());
        assertTrue(p.reuse() > 0.3 && p.reuse() < 0.8, "calibrated reuse " + p.reuse());
        int[][][] sets = tokenMajor(p, 10);
        for (int t = 1; t < 10; t++) {
            int[] prev = sets[t - 1][0];
            long shared = Arrays.stream(sets[t][0]).filter(v -> Arrays.binarySearch(prev, v) >= 0).count();
            // K kept for sure, plus popular neurons drawn again.
            assertTrue(shared >= Math.round(p.reuse() * p.setSize()), "token " + t + " shares " + shared);
        }
    }

    @Test
    void opt67bDefaultsRealiseThePapersShares() {
        TracePredictor.Stats s = TracePredictor.simulate(16384, TracePredictor.opt67b(), 5, 200);
        assertEquals(0.10, s.predictedShare(), 0.01, s.toString());
        assertEquals(0.024, s.newShare(), 0.006, s.toString());
        // A window holds more than one set, and a longer window brings in fewer new neurons.
        assertTrue(s.residentShare() > s.predictedShare() && s.residentShare() < 5 * s.predictedShare(), s.toString());
        assertTrue(s.overlap() >= s.reuse(), s.toString());
        TracePredictor.Stats one = TracePredictor.simulate(16384, TracePredictor.opt67b(), 1, 200);
        assertTrue(one.newShare() > s.newShare(), one + " vs " + s);
        assertEquals(new TracePredictor(1, 8, 16384, TracePredictor.opt67b()).reuse(), s.reuse());
    }

    @Test
    void popularitySkewConcentratesUse() {
        // Share of all uses that go to the 10% most used neurons, over 100 tokens.
        double flat = topDecileShare(0.0), skewed = topDecileShare(1.0);
        assertTrue(skewed > flat + 0.1, "skew 1: " + skewed + ", uniform: " + flat);
    }

    private static double topDecileShare(double skew) {
        TracePredictor p = new TracePredictor(1, 8, 2000, new TracePredictor.Params(0.10, 0.024, skew, 5L));
        int[] uses = new int[2000];
        long total = 0;
        for (int[][] token : tokenMajor(p, 100)) {
            for (int v : token[0]) {
                uses[v]++;
                total++;
            }
        }
        Arrays.sort(uses);
        long top = 0;
        for (int i = 1800; i < 2000; i++) {
            top += uses[i];
        }
        return (double) top / total;
    }

    @Test
    void badParametersAreRefusedClearly() {
        String m = assertThrows(IllegalArgumentException.class,
                () -> new TracePredictor.Params(0, 0.01, 1, 1)).getMessage();
        assertTrue(m.contains("predictedShare must be in (0, 1)"), m);
        assertThrows(IllegalArgumentException.class, () -> new TracePredictor.Params(1, 0.01, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new TracePredictor.Params(Double.NaN, 0.01, 1, 1));
        m = assertThrows(IllegalArgumentException.class, () -> new TracePredictor.Params(0.1, 0, 1, 1)).getMessage();
        assertTrue(m.contains("newShare must be in (0, 1)"), m);
        m = assertThrows(IllegalArgumentException.class, () -> new TracePredictor.Params(0.1, 0.2, 1, 1)).getMessage();
        assertTrue(m.contains("must not exceed predictedShare"), m);
        m = assertThrows(IllegalArgumentException.class, () -> new TracePredictor.Params(0.1, 0.02, -1, 1)).getMessage();
        assertTrue(m.contains("popularitySkew must be in"), m);
        // With a steep skew the popular neurons are always resident: too few new ones for the target.
        m = assertThrows(IllegalArgumentException.class,
                () -> new TracePredictor(1, 8, 4096, new TracePredictor.Params(0.1, 0.05, 2.0, 1))).getMessage();
        assertTrue(m.contains("out of reach"), m);
        assertThrows(IllegalArgumentException.class, () -> new TracePredictor(0, 8, 4096, TracePredictor.opt67b()));
        assertThrows(IllegalArgumentException.class, () -> new TracePredictor(1, 8, 0, TracePredictor.opt67b()));
        assertThrows(IllegalArgumentException.class, () -> TracePredictor.simulate(4096, TracePredictor.opt67b(), 0, 10));
    }
}
