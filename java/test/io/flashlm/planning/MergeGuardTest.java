package io.flashlm.planning;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The merge guard on synthetic figures, and on a simulated device with a planner misled by a fixed model. */
class MergeGuardTest {
    static final int W = MergeGuard.WINDOW;
    static final int T = MergeGuard.TRIAL;

    /** {@code tokens} tokens of 100 wanted records each; merged ones read {@code extra} more bytes. */
    static void tokens(MergeGuard g, int tokens, long mergedNanos, long plainNanos, long extra) {
        for (int i = 0; i < tokens; i++) {
            if (g.merging()) {
                g.add(100, extra, mergedNanos);
            } else {
                g.add(100, 0, plainNanos);
            }
            g.endToken();
        }
    }

    @Test
    void fallsBackWhenMergesReadMoreForLessThroughputAndComesBackWhenTheyPay() {
        MergeGuard g = new MergeGuard();
        assertTrue(g.merging());
        tokens(g, W, 1_000_000, 500_000, 1 << 20); // a merged window: 10 us per record
        assertFalse(g.merging(), "then a trial of the plain plan");
        tokens(g, T, 1_000_000, 500_000, 1 << 20); // plain: 5 us per record
        assertFalse(g.merging());
        assertTrue(g.fallenBack());
        assertEquals(1, g.fallbacks());
        tokens(g, W, 1_000_000, 500_000, 1 << 20); // plain window
        assertTrue(g.merging(), "a trial of merging");
        tokens(g, T, 1_000_000, 500_000, 1 << 20); // merges still do not pay
        assertFalse(g.merging());
        tokens(g, W, 200_000, 500_000, 1 << 20);
        tokens(g, T, 200_000, 500_000, 1 << 20); // now they do (2 us per record against 5)
        assertTrue(g.merging());
        assertFalse(g.fallenBack());
        assertTrue(g.describe().contains("2.00 us merged vs 5.00 us plain, merging paid again"), g.describe());
    }

    @Test
    void keepsMergesThatPayAndNeverTriesWhenNothingWasMerged() {
        MergeGuard g = new MergeGuard();
        tokens(g, W + T, 400_000, 500_000, 1 << 20);
        assertTrue(g.merging(), "merged 4 us per record against plain 5");
        MergeGuard idle = new MergeGuard();
        for (int i = 0; i < 10 * W; i++) {
            assertTrue(idle.merging(), "token " + i);
            idle.add(100, 0, 500_000); // the model merged nothing: the plans are the same
            idle.endToken();
        }
        assertEquals(0, idle.fallbacks());
    }

    /**
     * End to end on {@link FakeDevice}: a planner held to a fixed, wrong model (a probe taken while small
     * reads were throttled 10x) merges gaps the device does not reward; the guard, seeing only the I/O
     * time per wanted record, switches to the plain plan within one window and a trial, and the plain
     * tokens read fewer bytes per token in less time.
     */
    @Test
    void onASimulatedDeviceTheGuardOverridesAMisleadingFixedModel() {
        FakeDevice ssd = FakeDevice.slowSsd();
        FlashCostModel wrong = LearnedCostModelTest.pessimisticProbe(ssd);
        long stride = LearnedCostModelTest.PAGE;
        ReadPlanner p = new ReadPlanner(wrong, stride, 64, 4096);
        MergeGuard g = new MergeGuard();
        SplittableRandom rnd = new SplittableRandom(21);
        int[] ids = new int[4096];
        long[] bytesBy = new long[2];
        long[] nanosBy = new long[2];
        long[] tokensBy = new long[2];
        for (int token = 0; token < 3 * W; token++) {
            p.mergeGaps(g.merging());
            // 200 missing of 4096 neurons, in clusters (as activations are)
            int n = 0;
            for (int id = 0; id < 4096 && n < 200; id++) {
                if (rnd.nextInt(100) < 5) {
                    ids[n++] = id;
                }
            }
            int reads = p.plan(ids, n, ssd.queueDepth());
            long bytes = p.recordsCovered() * stride;
            long nanos = ssd.batchNanos(reads, bytes);
            int k = g.merging() ? 1 : 0;
            bytesBy[k] += bytes;
            nanosBy[k] += nanos;
            tokensBy[k]++;
            g.add(n, bytes - n * stride, nanos);
            g.endToken();
        }
        assertTrue(g.fallenBack(), g.describe());
        assertEquals(1, g.fallbacks(), g.describe());
        double mergedBytes = bytesBy[1] / (double) tokensBy[1];
        double plainBytes = bytesBy[0] / (double) tokensBy[0];
        assertTrue(mergedBytes > 1.1 * plainBytes, "merged " + mergedBytes + " vs plain " + plainBytes + " bytes/token");
        assertTrue(nanosBy[1] / (double) tokensBy[1] > nanosBy[0] / (double) tokensBy[0], "and slower");
    }
}
