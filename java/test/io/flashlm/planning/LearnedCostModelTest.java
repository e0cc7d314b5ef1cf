package io.flashlm.planning;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The learned cost model on a simulated device ({@link FakeDevice}): synthetic batches of completed
 * reads, exact figures (optionally with seeded noise), no clock. Tolerances are stated per test.
 */
class LearnedCostModelTest {
    static final long PAGE = 4096;

    /**
     * Feeds batches until {@code reads} reads: each batch 32..95 reads of 1..R pages, R drawn per
     * batch from 1..16 so that batches differ in mean size (what identifies per-read and per-byte
     * cost). {@code noise}: each batch's time is multiplied by a factor uniform in [1-noise, 1+noise].
     */
    static void feed(LearnedCostModel m, FakeDevice dev, long reads, double noise, SplittableRandom rnd) {
        for (long done = 0; done < reads; ) {
            int n = 32 + rnd.nextInt(64);
            int maxPages = 1 + rnd.nextInt(16);
            long bytes = 0;
            for (int i = 0; i < n; i++) {
                bytes += PAGE * (1 + rnd.nextInt(maxPages));
            }
            double f = 1 + noise * (2 * rnd.nextDouble() - 1);
            m.observe(n, bytes, dev.depth(n), Math.round(dev.batchNanos(n, bytes) * f));
            done += n;
        }
    }

    static void assertNear(double expected, double actual, double tolerance, String what) {
        assertTrue(Math.abs(actual - expected) <= tolerance * expected,
                what + ": expected " + expected + " within " + (100 * tolerance) + "%, was " + actual);
    }

    @Test
    void convergesToTheDeviceCurveAndFollowsADeviceChange() {
        SplittableRandom rnd = new SplittableRandom(13);
        LearnedCostModel m = LearnedCostModel.neutral();
        FakeDevice ssd = FakeDevice.slowSsd(); // 100 us + bytes / 500 MB/s, 32 in flight
        feed(m, ssd, LearnedCostModel.HORIZON_READS, 0.10, rnd);
        // after one horizon (4096 reads) with 10% noise per batch: within 5% over the sizes measured (the
        // batches' mean read sizes reach about 8 pages)
        for (long size : new long[]{PAGE, 4 * PAGE, 8 * PAGE}) {
            assertNear(ssd.readNanos(size), m.readNanos(size, 32), 0.05, "slow ssd, " + size + " B");
        }
        // beyond them, no extrapolation: a 1 MiB read is charged at the largest measured size's throughput,
        // never less than the device's time (whose throughput still rises)
        double trusted = m.trustedReadBytes(32);
        assertTrue(trusted >= 7 * PAGE && trusted <= 9 * PAGE, "trusted up to " + trusted);
        assertNear(m.readNanos((long) trusted, 32) * (256 * PAGE / trusted), m.readNanos(256 * PAGE, 32), 1e-4, "flat");
        assertTrue(m.readNanos(256 * PAGE, 32) >= ssd.readNanos(256 * PAGE));
        assertNear(100_000.0 / 32, m.perReadNanos(32), 0.10, "per-read cost");
        assertNear(500e6, m.bandwidthBytesPerSecond(32), 0.05, "bandwidth");
        // gaps pay up to a/b = 3125 ns * 0.5 B/ns = 1562 bytes
        assertNear(1562.5, m.mergeLimitBytes(32), 0.15, "merge limit");

        // the device changes (a throttled disk recovers): 20 us + bytes / 2000 MB/s
        FakeDevice fast = new FakeDevice(20_000, 2.0, 32);
        feed(m, fast, 200, 0, rnd);
        assertTrue(m.readNanos(PAGE, 32) > 1.5 * fast.readNanos(PAGE), "200 reads do not undo 4096");
        feed(m, fast, 6L * LearnedCostModel.HORIZON_READS, 0.10, rnd);
        // six horizons later the old device weighs e^-6 = 0.25%: within 5% again
        for (long size : new long[]{PAGE, 4 * PAGE, 8 * PAGE}) {
            assertNear(fast.readNanos(size), m.readNanos(size, 32), 0.05, "fast ssd, " + size + " B");
        }
        assertTrue(m.reads() >= 7L * LearnedCostModel.HORIZON_READS);
        assertTrue(m.describe().startsWith("learned from "), m.describe());
    }

    @Test
    void theNeutralPriorNeverMergesAcrossAGapUntilMeasured() {
        LearnedCostModel m = LearnedCostModel.neutral();
        ReadPlanner p = new ReadPlanner(m, PAGE, 64, 64);
        assertEquals(2, p.plan(new int[]{0, 2}, 2, 32), "no data: neighbours only");
        assertEquals(0, m.mergeLimitBytes(32));
        // one size only: no way to tell a per-read cost from bandwidth, so still pure bandwidth
        for (int i = 0; i < 100; i++) {
            m.observe(64, 64 * PAGE, 32, FakeDevice.slowSsd().batchNanos(64, 64 * PAGE));
        }
        assertEquals(2, p.plan(new int[]{0, 2}, 2, 32), "one read size: neighbours only");
        // a device where reads are expensive and bytes cheap: 1 ms a read at depth 1, 2 GB/s
        FakeDevice latent = new FakeDevice(1_000_000, 2.0, 32);
        feed(m, latent, 5L * LearnedCostModel.HORIZON_READS, 0, new SplittableRandom(1));
        // a/b = 31250 ns * 2 B/ns = 62500 bytes, within reads of about 8 pages (the sizes measured): a
        // 5-page gap pays; a read of 22 pages is beyond what was measured, so a 20-page gap does not
        String limit = "merge limit " + m.mergeLimitBytes(32) + ", trusted up to " + m.trustedReadBytes(32);
        assertEquals(1, p.plan(new int[]{0, 2}, 2, 32), "measured: the gap pays; " + limit);
        assertEquals(1, p.plan(new int[]{0, 6}, 2, 32), "5 pages; " + limit);
        assertEquals(2, p.plan(new int[]{0, 21}, 2, 32), "20 pages; " + limit);
    }

    /** A probe that saw small reads 10x slower than the device gives them (a throttled moment). */
    static FlashCostModel pessimisticProbe(FakeDevice dev) {
        long[] chunks = {PAGE, 16 * PAGE, 64 * PAGE, 256 * PAGE};
        double[] factor = {0.1, 0.3, 0.6, 1.0};
        double[][] t = new double[1][chunks.length];
        for (int i = 0; i < chunks.length; i++) {
            t[0][i] = dev.throughput(chunks[i]) * factor[i];
        }
        return new FlashCostModel(chunks, new int[]{32}, t);
    }

    @Test
    void aPessimisticProbeStopsDrivingMergesOnceTheReadsOutweighIt() {
        FakeDevice ssd = FakeDevice.slowSsd();
        FlashCostModel probe = pessimisticProbe(ssd);
        LearnedCostModel m = LearnedCostModel.seededBy(probe);
        ReadPlanner p = new ReadPlanner(m, PAGE, 64, 64);
        // the probe alone: 4 KiB reads cost 10x what they do, so gaps of many pages look worth reading
        assertTrue(m.mergeLimitBytes(32) > 8 * PAGE, "probe's merge limit " + m.mergeLimitBytes(32));
        assertEquals(1, p.plan(new int[]{0, 2}, 2, 32), "seeded: merges a 1-page gap");
        assertEquals(1, p.plan(new int[]{0, 6}, 2, 32), "seeded: merges a 5-page gap");
        // the engine's own reads, from the true device: runs of 1..R pages as the plain plan reads them
        SplittableRandom rnd = new SplittableRandom(5);
        double seeded = m.mergeLimitBytes(32);
        feed(m, ssd, 2L * LearnedCostModel.PRIOR_READS, 0.10, rnd);
        // twice the prior's weight in reads (it has decayed to e^-2): the limit is under 5 pages
        assertTrue(m.mergeLimitBytes(32) < seeded / 4, "limit " + m.mergeLimitBytes(32) + " from " + seeded);
        assertEquals(2, p.plan(new int[]{0, 6}, 2, 32), "after " + 2 * LearnedCostModel.PRIOR_READS + " reads");
        feed(m, ssd, LearnedCostModel.HORIZON_READS - 2L * LearnedCostModel.PRIOR_READS, 0.10, rnd);
        // one horizon (4096 reads): the probe weighs 512 e^-8, nothing; the truth (gaps up to 1562 B) rules
        assertEquals(2, p.plan(new int[]{0, 2}, 2, 32), "after a horizon: not even a 1-page gap");
        assertNear(1562.5, m.mergeLimitBytes(32), 0.25, "merge limit");
        assertTrue(m.describe().contains("seeded by"), m.describe());
    }

    @Test
    void depthsAreLearntApartAndAnUnmeasuredDepthAsksTheNearestMeasuredOne() {
        LearnedCostModel m = LearnedCostModel.neutral();
        FakeDevice ssd = FakeDevice.slowSsd();
        feed(m, ssd, LearnedCostModel.HORIZON_READS, 0, new SplittableRandom(2)); // all at depth 32
        // single reads at depth 1: a whole latency each
        for (int i = 0; i < 200; i++) {
            long bytes = PAGE * (1 + i % 8);
            m.observe(1, bytes, 1, ssd.batchNanos(1, bytes));
        }
        assertNear(100_000 + PAGE / 0.5, m.readNanos(PAGE, 1), 0.02, "depth 1");
        assertNear(ssd.readNanos(PAGE), m.readNanos(PAGE, 32), 0.02, "depth 32");
        assertNear(ssd.readNanos(PAGE), m.readNanos(PAGE, 48), 0.02, "depth 48: the d32 bucket");
        assertNear(ssd.readNanos(PAGE), m.readNanos(PAGE, 1024), 0.02, "depth 1024: nearest measured is d32");
        assertEquals(5, LearnedCostModel.bucket(32));
        assertEquals(5, LearnedCostModel.bucket(63));
        assertEquals(0, LearnedCostModel.bucket(1));
        assertEquals(10, LearnedCostModel.bucket(5000));
    }
}
