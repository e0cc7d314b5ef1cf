package io.flashlm.engine;

import io.flashlm.cache.WindowCache;
import io.flashlm.kernels.SparseFfn;
import io.flashlm.model.ModelConfig;
import io.flashlm.pack.FfnGeometry;
import io.flashlm.planning.MergeGuard;
import io.flashlm.planning.ReadPlanner;
import io.flashlm.predictor.Predictor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * {@link EngineMode#WINDOW} and {@link EngineMode#FLASH}: per layer, a {@link WindowCache} keeps the
 * neurons active in the last k tokens; each token the predictor's set is planned against it and only
 * the neurons that are not resident are read, straight into their rows.
 *
 * <p>With a planner (flash), the missing neurons are read as bundled records, neighbours in one read
 * and runs across small gaps merged when the cost model says one larger read is cheaper: a run of
 * missing neurons lands in consecutive rows (the cache appends them in ascending order), a merged run
 * goes through a staging buffer from which the wanted records are copied. Without one (window), each
 * part of each missing neuron is its own read, as unbundled storage needs.
 *
 * <p>The planner's cost model learns from the reads as they complete ({@link FfnReads#observeWith}), and a
 * {@link MergeGuard} compares, over windows of tokens, the I/O time per wanted record of merged plans
 * with the plain one (neighbours only) and falls back to plain when merging does not pay. A token starts
 * at layer 0. Which records are read never changes what is computed: the wanted ones land in the same rows.
 *
 * <p>If the window would outgrow the cache, it shrinks for that token: the oldest tokens' neurons
 * leave early (counted in {@code windowShrinks}); a set larger than the whole cache is streamed
 * through it in chunks, after which the cache starts empty.
 */
final class WindowedFfn extends EngineFfn {
    /** Rows of the staging buffer for merged reads: a merged run longer than this is read record by record. */
    static final int STAGING_ROWS = 256;

    private final FfnReads reads;
    private final Predictor predictor;
    private final WindowCache[] caches;
    private final ReadPlanner planner;
    private final MergeGuard guard; // null without a planner that may merge gaps
    private boolean tokenOpen;
    private final MemorySegment staging;
    private final long rowBytes;
    private final int[] active;
    private final int[] order;
    // merged runs waiting in the staging buffer: first neuron, staging row, index into the missing list, wanted
    private final int[] stagedFirst = new int[STAGING_ROWS];
    private final int[] stagedRow = new int[STAGING_ROWS];
    private final int[] stagedMissing = new int[STAGING_ROWS];
    private final int[] stagedWanted = new int[STAGING_ROWS];
    private int stagedRuns;
    private int stagedRows;

    /** @param planner null to read each part of each missing neuron on its own (window mode) */
    WindowedFfn(FfnGeometry g, ModelConfig c, MemorySegment[] biases, SparseFfn sparse, EngineStats stats,
                FfnReads reads, Predictor predictor, int capacity, int window, ReadPlanner planner, Arena arena) {
        super(g, c, biases, sparse, stats, capacity);
        this.reads = reads;
        this.predictor = predictor;
        this.planner = planner;
        this.rowBytes = ResidentFfn.rowBytes(g);
        this.caches = new WindowCache[c.layers()];
        for (int l = 0; l < caches.length; l++) {
            caches[l] = new WindowCache(g.neurons(), g.recordBytes(), rowBytes, capacity, window, biases[l], arena);
        }
        this.staging = planner == null ? null : arena.allocate(rowBytes * STAGING_ROWS, 4096);
        this.guard = planner != null && planner.mergesGaps() ? new MergeGuard() : null;
        if (planner != null && planner.cost() != null) {
            reads.observeWith(planner.cost());
            stats.describeCostModelWith(() -> planner.cost().describe()
                    + (guard == null ? "" : "; " + guard.describe()));
        }
        this.active = new int[g.neurons()];
        this.order = new int[capacity];
    }

    /**
     * Bytes per layer of a cache of {@code capacity} rows, for the budget: the rows and their biases,
     * and the cache's index arrays (row to neuron, the last {@code window} active sets, missing lists, order).
     */
    static long cacheBytes(FfnGeometry g, int capacity, int window) {
        return cacheRowBytes(g, window) * capacity + 12L * g.neurons();
    }

    /** The part of {@link #cacheBytes} that grows with each row. */
    static long cacheRowBytes(FfnGeometry g, int window) {
        return ResidentFfn.rowBytes(g) + 4 + 4L * (window + 4);
    }

    static long stagingBytes(FfnGeometry g) {
        return ResidentFfn.rowBytes(g) * STAGING_ROWS;
    }

    @Override
    protected void run(int layer, MemorySegment x, MemorySegment y) throws IOException {
        if (guard != null && layer == 0) {
            if (tokenOpen) {
                guard.endToken();
            }
            tokenOpen = true;
            planner.mergeGaps(guard.merging());
        }
        long p0 = System.nanoTime();
        int n = predictor.predict(layer, x, active);
        long m0 = System.nanoTime();
        stats.predictNanos += m0 - p0;
        stats.predicted += n;
        WindowCache cache = caches[layer];
        if (n > cache.capacity()) {
            // more active neurons than rows: stream them through the cache's matrix, then start afresh
            cache.reset();
            stats.windowShrinks++;
            stats.misses += n;
            streamThrough(reads, layer, active, n, cache.matrix(), rowBytes, cache.capacity(), cache.rowBiases(),
                    planner != null, x, y);
            cache.reset();
            return;
        }
        int missing = cache.plan(active, n); // n fits: the window shrinks if it must
        if (cache.earlyExpiredTokens() > 0) {
            stats.windowShrinks++;
        }
        stats.memoryNanos += System.nanoTime() - m0;
        stats.hits += n - missing;
        stats.misses += missing;
        if (missing > 0) {
            if (planner != null) {
                readPlanned(layer, cache, missing);
            } else {
                for (int i = 0; i < missing; i++) {
                    reads.addParts(cache.missingNeuron(i), cache.matrix(), cache.missingRow(i) * rowBytes);
                }
                reads.submit(layer);
            }
        }
        long m1 = System.nanoTime();
        cache.rowsOf(active, n, order);
        stats.memoryNanos += System.nanoTime() - m1;
        sparse.compute(rowDtype, downDtype, cache.matrix(), cache.count(), rowBytes, dim, gated, activation,
                biases[layer] == null ? null : cache.rowBiases(), order, n, x, y);
    }

    private void readPlanned(int layer, WindowCache cache, int missing) throws IOException {
        int[] ids = cache.missingNeurons();
        int[] rows = cache.missingRows();
        // as many reads in flight as the queue allows, fewer when the layer misses fewer records
        int runs = planner.plan(ids, missing, Math.min(reads.queueDepth(), missing));
        MemorySegment matrix = cache.matrix();
        long io0 = stats.ioNanos;
        long extra = 0; // gap records read along
        int j = 0;
        for (int r = 0; r < runs; r++) {
            int first = planner.first(r);
            int count = planner.count(r);
            int wanted = 0;
            while (j + wanted < missing && ids[j + wanted] < first + count) {
                wanted++;
            }
            if (wanted == count && rows[j + count - 1] - rows[j] == count - 1) {
                reads.addRecords(first, count, matrix, rows[j] * rowBytes); // straight into consecutive rows
            } else if (count <= STAGING_ROWS) {
                if (stagedRows + count > STAGING_ROWS) {
                    reads.submit(layer);
                    copyStaged(cache);
                }
                stagedFirst[stagedRuns] = first;
                stagedRow[stagedRuns] = stagedRows;
                stagedMissing[stagedRuns] = j;
                stagedWanted[stagedRuns] = wanted;
                stagedRuns++;
                reads.addRecords(first, count, staging, stagedRows * rowBytes);
                stagedRows += count;
                extra += count - wanted;
            } else {
                for (int i = j; i < j + wanted; i++) {
                    reads.addRecords(ids[i], 1, matrix, rows[i] * rowBytes);
                }
            }
            j += wanted;
        }
        reads.submit(layer);
        copyStaged(cache);
        if (guard != null) {
            guard.add(missing, extra * g.stride(), stats.ioNanos - io0);
        }
    }

    /** Copies the wanted records of the merged runs from the staging buffer into their rows. */
    private void copyStaged(WindowCache cache) {
        if (stagedRuns == 0) {
            return;
        }
        long m0 = System.nanoTime();
        int[] ids = cache.missingNeurons();
        int[] rows = cache.missingRows();
        long recordBytes = g.recordBytes();
        for (int s = 0; s < stagedRuns; s++) {
            for (int i = stagedMissing[s], end = i + stagedWanted[s]; i < end; i++) {
                long from = (stagedRow[s] + (long) (ids[i] - stagedFirst[s])) * rowBytes;
                MemorySegment.copy(staging, from, cache.matrix(), rows[i] * rowBytes, recordBytes);
            }
        }
        stagedRuns = 0;
        stagedRows = 0;
        stats.memoryNanos += System.nanoTime() - m0;
    }

    /** The layer's cache (for tests and reports). */
    WindowCache cache(int layer) {
        return caches[layer];
    }

    @Override
    public void close() {
        super.close();
        reads.close();
    }

    @Override
    String describe() {
        WindowCache c = caches[0];
        return "the " + predictor.kind() + " predictor's neurons, a window of " + c.window() + " tokens in "
                + c.capacity() + " rows per layer, " + (planner != null ? "bundled records with read planning"
                : "one read per part") + (reads.direct() ? " (O_DIRECT)" : " (buffered)");
    }
}
