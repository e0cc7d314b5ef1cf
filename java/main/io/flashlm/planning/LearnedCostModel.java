package io.flashlm.planning;

import io.flashlm.util.ByteSizes;

import java.util.Locale;

/**
 * A read cost model that learns the device from the engine's own completed reads (issue 13), so that a
 * probe file measured on a bad day (a throttled virtual disk) stops steering the planner once the reads
 * themselves say otherwise.
 *
 * <p><b>The model.</b> With d reads in flight, a batch of n reads of S bytes in all completes after
 * <pre>  E = n a_d + S b_d   (ns)</pre>
 * a_d is the amortized cost of one read at that depth (latency over the parallelism, submission, the
 * device's per-command work), b_d the time per byte (1 / bandwidth). One read of B bytes costs
 * a_d + B b_d, so its throughput rises with B and saturates at 1/b_d, and merging two reads across a gap
 * of G bytes pays exactly when G b_d &lt; a_d: gaps are worth reading up to a_d / b_d bytes (the
 * latency-bandwidth product), which {@link #mergeLimitBytes} reports.
 *
 * <p>Why a line and not a mean throughput per read-size bucket: a batch mixes sizes, and one elapsed
 * time cannot be split among size buckets without already knowing their costs; the affine model splits
 * it exactly (n per-read terms plus S per-byte terms), and batches of different mean read sizes identify
 * both parameters.
 *
 * <p><b>The fit.</b> Per depth bucket (d = 1, 2-3, 4-7, ..., 1024 and more), weighted least squares of the
 * mean time per read y = E/n on x = (1, S/n) with weight n (a batch counts as many reads as it holds), with
 * exponential forgetting: before each batch of n reads, every bucket's sums are multiplied by
 * exp(-n / {@value #HORIZON_READS}), so a read {@value #HORIZON_READS} reads ago weighs 1/e of the newest and
 * a device that changes speed is re-learnt within a few horizons. The sums are five numbers per bucket;
 * observing and predicting allocate nothing.
 *
 * <p><b>The prior.</b> With a probe, each bucket starts with one pseudo-observation per probed read size c:
 * y = c / throughput(c, d) at x = (1, c), {@value #PRIOR_READS} reads' weight in all. It decays faster than
 * data, by exp(-n / {@value #PRIOR_READS}) per batch of n reads: a probe is one moment of the device (it may
 * have been taken while the disk was throttled), and its large sizes sit far from the engine's reads and
 * pull the line hard (leverage), so it only steers until the reads have spoken. After N reads it weighs
 * {@value #PRIOR_READS} e^(-N/{@value #PRIOR_READS}): 69 reads after 1024, 9 after 2048. Without one the prior is neutral: every bucket holds one
 * permanent read of 0 bytes taking 0 ns (a ridge pulling a_d to 0), so until batches of different mean
 * sizes show a per-read cost the model is pure bandwidth and merging across a gap never pays. A fit that
 * says a_d &lt; 0 is refitted with a_d = 0; one that says b_d &le; 0 (noise) falls back to pure bandwidth.
 *
 * <p><b>No extrapolation upward.</b> The line is trusted only up to the largest read size it has seen: the
 * largest mean read size of a batch in the bucket's data, or the probe's largest size while the probe still
 * weighs a read or more. Beyond it a read is charged at that size's throughput (flat): a slope fitted on
 * 4-32 KiB reads says little about 300 KiB ones, and a merged read larger than anything measured must
 * not look cheaper than the reads it replaces. Merges grow the sizes seen, so the range widens as merged
 * reads prove themselves.
 *
 * <p><b>Which bucket answers.</b> The bucket of the asked depth if it holds at least {@value #MIN_DATA_READS}
 * reads' weight of data, else the nearest bucket that does (learned figures at a neighbouring depth are
 * nearer the truth than a stale probe), else the nearest seeded one, else none: then a read costs its bytes
 * (flat: neighbours only).
 */
public final class LearnedCostModel implements ReadCostModel {
    /** Reads after which an observation weighs 1/e of a new one. */
    public static final int HORIZON_READS = 4096;
    /** The probe's weight in reads, spread over its read sizes; also the reads in which it decays by 1/e. */
    public static final int PRIOR_READS = 512;
    /** Data weight (reads, decayed) below which a bucket defers to a better-informed one. */
    public static final int MIN_DATA_READS = 64;
    static final int BUCKETS = 11; // depths 1 .. 1024+
    private static final double RIDGE = 1;

    private final String seed; // the probe file, or null
    // per bucket: weighted sums of 1, m, m^2, y, m y (prior and data), and the data's weight alone
    private final double[] sw = new double[BUCKETS];
    private final double[] sm = new double[BUCKETS];
    private final double[] smm = new double[BUCKETS];
    private final double[] sy = new double[BUCKETS];
    private final double[] smy = new double[BUCKETS];
    private final double[] data = new double[BUCKETS];
    private final double[] seenMax = new double[BUCKETS]; // the largest batch mean read size in the data
    private double probeMax; // the probe's largest read size
    // the probe's pseudo-observations, kept apart because they decay faster
    private final double[] pw = new double[BUCKETS];
    private final double[] pm = new double[BUCKETS];
    private final double[] pmm = new double[BUCKETS];
    private final double[] py = new double[BUCKETS];
    private final double[] pmy = new double[BUCKETS];
    // the fitted a (ns per read) and b (ns per byte), refreshed lazily
    private final double[] a = new double[BUCKETS];
    private final double[] b = new double[BUCKETS];
    private final boolean[] stale = new boolean[BUCKETS];
    // how the predictions fared, decayed like the fit: bytes, observed and predicted ns, reads
    private double seenBytes;
    private double seenNanos;
    private double predictedNanos;
    private double seenReads;
    private long reads;
    private long batches;

    private LearnedCostModel(String seed) {
        this.seed = seed;
        for (int k = 0; k < BUCKETS; k++) {
            sw[k] = RIDGE; // the neutral read: 0 bytes in 0 ns
            stale[k] = true;
        }
    }

    /** A model that knows nothing yet: pure bandwidth (no merges across gaps) until reads teach it. */
    public static LearnedCostModel neutral() {
        return new LearnedCostModel(null);
    }

    /** A model seeded with the probe's curve, {@value #PRIOR_READS} reads' worth per depth bucket. */
    public static LearnedCostModel seededBy(FlashCostModel probe) {
        LearnedCostModel m = new LearnedCostModel(probe.source());
        long[] chunks = probe.chunks();
        double w = (double) PRIOR_READS / chunks.length;
        m.probeMax = chunks[chunks.length - 1];
        for (int k = 0; k < BUCKETS; k++) {
            for (long c : chunks) {
                double y = probe.readNanos(c, 1 << k);
                m.pw[k] += w;
                m.pm[k] += w * c;
                m.pmm[k] += w * (double) c * c;
                m.py[k] += w * y;
                m.pmy[k] += w * c * y;
            }
        }
        return m;
    }

    static int bucket(int depth) {
        return 31 - Integer.numberOfLeadingZeros(Math.max(1, Math.min(depth, 1 << (BUCKETS - 1))));
    }

    private void add(int k, double w, double meanBytes, double meanNanos) {
        sw[k] += w;
        sm[k] += w * meanBytes;
        smm[k] += w * meanBytes * meanBytes;
        sy[k] += w * meanNanos;
        smy[k] += w * meanBytes * meanNanos;
        stale[k] = true;
    }

    @Override
    public void observe(int n, long bytes, int depth, long nanos) {
        if (n <= 0 || bytes <= 0 || nanos <= 0) {
            return;
        }
        int k = bucket(depth);
        double decay = Math.exp(-n / (double) HORIZON_READS);
        int answering = answering(k);
        if (answering >= 0) { // how the model, before it sees this batch, would have predicted it
            seenBytes = seenBytes * decay + bytes;
            seenNanos = seenNanos * decay + nanos;
            predictedNanos = predictedNanos * decay + n * a(answering) + bytes * b(answering);
            seenReads = seenReads * decay + n;
        }
        double priorDecay = Math.exp(-n / (double) PRIOR_READS);
        for (int j = 0; j < BUCKETS; j++) {
            pw[j] *= priorDecay;
            pm[j] *= priorDecay;
            pmm[j] *= priorDecay;
            py[j] *= priorDecay;
            pmy[j] *= priorDecay;
            // the ridge read is permanent: take it out, decay the rest, put it back
            sw[j] = (sw[j] - RIDGE) * decay + RIDGE;
            sm[j] *= decay;
            smm[j] *= decay;
            sy[j] *= decay;
            smy[j] *= decay;
            data[j] *= decay;
            stale[j] = true;
        }
        add(k, n, bytes / (double) n, nanos / (double) n);
        seenMax[k] = Math.max(seenMax[k], bytes / (double) n);
        data[k] += n;
        reads += n;
        batches++;
    }

    @Override
    public double readNanos(long bytes, int depth) {
        int k = answering(bucket(depth));
        if (k < 0) {
            return bytes;
        }
        double limit = trustedBytes(k);
        return bytes <= limit ? a(k) + bytes * b(k) : (a(k) + limit * b(k)) * (bytes / limit);
    }

    /** The largest read size bucket k's line is trusted for (see the class comment). */
    private double trustedBytes(int k) {
        double limit = Math.max(seenMax[k], pw[k] >= 1 ? probeMax : 0);
        return limit > 0 ? limit : Double.POSITIVE_INFINITY; // no data and no probe: the ridge alone, a = 0
    }

    /** The bucket that answers for bucket q (see the class comment), or -1 when none knows anything. */
    private int answering(int q) {
        int seeded = -1;
        for (int dist = 0; dist < BUCKETS; dist++) {
            int lo = q - dist;
            int hi = q + dist;
            if (lo >= 0 && data[lo] >= MIN_DATA_READS) {
                return lo;
            }
            if (hi < BUCKETS && data[hi] >= MIN_DATA_READS) {
                return hi;
            }
            if (seeded < 0 && lo >= 0 && pw[lo] > 1e-9) {
                seeded = lo;
            } else if (seeded < 0 && hi < BUCKETS && pw[hi] > 1e-9) {
                seeded = hi;
            }
        }
        if (seeded >= 0) {
            return seeded;
        }
        // little data anywhere and no seed: the bucket with the most data, if any
        int best = -1;
        for (int k = 0; k < BUCKETS; k++) {
            if (data[k] > 0 && (best < 0 || data[k] > data[best])) {
                best = k;
            }
        }
        return best;
    }

    private double a(int k) {
        fit(k);
        return a[k];
    }

    private double b(int k) {
        fit(k);
        return b[k];
    }

    /** Solves the 2x2 normal equations of bucket k: [sw sm; sm smm] (a, b) = (sy, smy). */
    private void fit(int k) {
        if (!stale[k]) {
            return;
        }
        stale[k] = false;
        double w = sw[k] + pw[k];
        double m = sm[k] + pm[k];
        double mm = smm[k] + pmm[k];
        double y = sy[k] + py[k];
        double my = smy[k] + pmy[k];
        double det = w * mm - m * m;
        boolean solvable = det > 1e-12 * w * mm;
        double ak = solvable ? (y * mm - m * my) / det : 0;
        double bk = solvable ? (w * my - m * y) / det : -1;
        if (ak < 0 || !(bk > 0)) {
            // through the origin: pure bandwidth, b = sum(w m y) / sum(w m^2)
            ak = 0;
            bk = mm > 0 ? my / mm : 1;
            if (!(bk > 0)) {
                bk = 1;
            }
        }
        a[k] = ak;
        b[k] = bk;
    }

    /** Nanoseconds per read that the model charges at {@code depth} (a_d), 0 when it knows nothing. */
    public double perReadNanos(int depth) {
        int k = answering(bucket(depth));
        return k < 0 ? 0 : a(k);
    }

    /** Bytes per second the model's bandwidth term allows at {@code depth} (1 / b_d), NaN when it knows nothing. */
    public double bandwidthBytesPerSecond(int depth) {
        int k = answering(bucket(depth));
        return k < 0 ? Double.NaN : 1e9 / b(k);
    }

    /**
     * The longest gap worth reading through at {@code depth} between two single records: a_d / b_d
     * bytes by the line (0: only neighbours merge), at most the largest read size measured.
     */
    public double mergeLimitBytes(int depth) {
        int k = answering(bucket(depth));
        return k < 0 ? 0 : Math.min(a(k) / b(k), trustedBytes(k));
    }

    /** The largest read size the model is trusted for at {@code depth} (see the class comment), 0 when none. */
    public double trustedReadBytes(int depth) {
        int k = answering(bucket(depth));
        return k < 0 || Double.isInfinite(trustedBytes(k)) ? 0 : trustedBytes(k);
    }

    /** Reads observed since the model was made. */
    public long reads() {
        return reads;
    }

    /** The probe file that seeded the model, or null for the neutral prior. */
    public String seed() {
        return seed;
    }

    /** Recent reads' throughput in bytes/s (decayed like the fit), NaN before any was predicted. */
    public double observedBytesPerSecond() {
        return seenNanos > 0 ? seenBytes / seenNanos * 1e9 : Double.NaN;
    }

    /** What the model predicted for the same reads, in bytes/s, NaN before any. */
    public double predictedBytesPerSecond() {
        return predictedNanos > 0 ? seenBytes / predictedNanos * 1e9 : Double.NaN;
    }

    /** The depth most of the recent data came from (1 when none). */
    public int typicalDepth() {
        int best = 0;
        for (int k = 1; k < BUCKETS; k++) {
            if (data[k] > data[best]) {
                best = k;
            }
        }
        return 1 << best;
    }

    @Override
    public String describe() {
        StringBuilder s = new StringBuilder("learned from ").append(reads).append(" reads in ").append(batches)
                .append(" batches (").append(seed == null ? "neutral prior: no probe" : "seeded by " + seed)
                .append(')');
        int d = typicalDepth();
        if (!Double.isNaN(observedBytesPerSecond())) {
            s.append(String.format(Locale.ROOT, "; observed %.1f MB/s vs predicted %.1f MB/s at %s/d%d",
                    observedBytesPerSecond() / 1e6, predictedBytesPerSecond() / 1e6,
                    ByteSizes.format(Math.round(seenBytes / Math.max(1e-9, seenReads))), d));
        }
        if (answering(bucket(d)) >= 0) {
            s.append(String.format(Locale.ROOT, "; model at d%d: %.1f us per read + %.1f MB/s up to %s reads, gaps"
                            + " merged up to %s", d, perReadNanos(d) / 1e3, bandwidthBytesPerSecond(d) / 1e6,
                    ByteSizes.format(Math.round(trustedReadBytes(d))), ByteSizes.format(Math.round(mergeLimitBytes(d)))));
        }
        return s.toString();
    }
}
