package io.flashlm.planning;

/**
 * Turns "these neurons are missing" into reads of contiguous record ranges (ARCHITECTURE.md points
 * 1 and 5). Neighbouring records always share a read; two runs separated by a gap of unwanted
 * records are merged when the cost model says one larger read (gap included) is cheaper than two.
 * The gap records come along as real data, so a caller can keep them as resident neurons instead of
 * throwing them away. Arrays are allocated once; planning allocates nothing.
 *
 * <p>The cost model may be the probe's fixed curve or one that learns from the reads as they complete
 * ({@link LearnedCostModel}); {@link #mergeGaps(boolean) mergeGaps(false)} makes the plan the plain one
 * (neighbours only), which the engine's {@link MergeGuard} falls back to when merging does not pay.
 */
public final class ReadPlanner {
    private final ReadCostModel cost;
    private boolean mergeGaps = true;
    private final long stride;
    private final int maxGap;
    private final int[] firsts;
    private final int[] counts;
    private int reads;

    /**
     * @param cost     what a read costs; null to merge only neighbours
     * @param stride   bytes between neuron i and i+1 in the FFN file (the aligned record size)
     * @param maxGap   the longest run of unwanted records a merge may swallow
     * @param capacity the most missing neurons one plan may hold
     */
    public ReadPlanner(ReadCostModel cost, long stride, int maxGap, int capacity) {
        if (stride <= 0 || maxGap < 0 || capacity < 1) {
            throw new IllegalArgumentException("read planner: stride " + stride + ", max gap " + maxGap
                    + ", capacity " + capacity);
        }
        this.cost = cost;
        this.stride = stride;
        this.maxGap = maxGap;
        this.firsts = new int[capacity];
        this.counts = new int[capacity];
    }

    /**
     * Plans reads for {@code n} missing neuron ids in ascending order, expecting about
     * {@code depth} reads in flight. Returns the number of reads; read r covers records
     * {@code first(r) .. first(r) + count(r) - 1}.
     */
    public int plan(int[] sortedNeurons, int n, int depth) {
        if (n > firsts.length) {
            throw new IllegalArgumentException(n + " missing neurons exceed the planner's capacity " + firsts.length);
        }
        reads = 0;
        for (int i = 0; i < n; i++) {
            int id = sortedNeurons[i];
            if (reads > 0) {
                int end = firsts[reads - 1] + counts[reads - 1]; // one past the last record of the previous read
                if (id < end) {
                    throw new IllegalArgumentException("missing neurons must be strictly ascending: " + id
                            + " after " + (end - 1));
                }
                int gap = id - end;
                if (gap == 0 || (mergeGaps && cost != null && gap <= maxGap && mergeIsCheaper(counts[reads - 1], gap, depth))) {
                    counts[reads - 1] += gap + 1;
                    continue;
                }
            }
            firsts[reads] = id;
            counts[reads] = 1;
            reads++;
        }
        return reads;
    }

    private boolean mergeIsCheaper(int previousRecords, int gap, int depth) {
        double separate = cost.readNanos(previousRecords * stride, depth) + cost.readNanos(stride, depth);
        double merged = cost.readNanos((previousRecords + gap + 1L) * stride, depth);
        return merged < separate;
    }

    /** Whether gaps may be merged (true) or only neighbours share a read (false: the plain plan). */
    public void mergeGaps(boolean merge) {
        mergeGaps = merge;
    }

    public boolean mergesGaps() {
        return mergeGaps && cost != null && maxGap > 0;
    }

    /** The cost model the plan is made with, or null. */
    public ReadCostModel cost() {
        return cost;
    }

    /** Bytes between records in the file. */
    public long stride() {
        return stride;
    }

    public int reads() {
        return reads;
    }

    public int first(int read) {
        return firsts[java.util.Objects.checkIndex(read, reads)];
    }

    public int count(int read) {
        return counts[java.util.Objects.checkIndex(read, reads)];
    }

    /** Records covered by the plan, wanted or not. */
    public long recordsCovered() {
        long total = 0;
        for (int r = 0; r < reads; r++) {
            total += counts[r];
        }
        return total;
    }
}
