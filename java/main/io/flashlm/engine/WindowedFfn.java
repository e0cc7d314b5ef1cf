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
import java.util.Arrays;

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
 *
 * <p>Look-ahead ({@link LookAheadReads}, when a reader for it is given): once layer l's own reads are in, the predictor guesses
 * layer l + 1's set from layer l's FFN input ({@link Predictor#predictAhead}), the guess is planned into layer
 * l + 1's cache as that token's set, and its missing records are read by the pipeline's worker while layer l's
 * FFN and layer l + 1's attention are computed. At layer l + 1 the true set is predicted, the guessed reads are
 * awaited, and the true set extends the token's set ({@link WindowCache#extend}): only what the guess missed is
 * read then. The computed neurons are the true set's, in ascending order, so look-ahead changes what is read
 * and when, never the result. Prompt chunks ({@link #runBatch}) do not look ahead.
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
    private final LookAheadReads ahead; // null without look-ahead
    private final ChunkSets chunk;

    /**
     * @param planner    null to read each part of each missing neuron on its own (window mode)
     * @param aheadReads the look-ahead's reader (its own file handles, read by a worker thread), or null for no
     *                   look-ahead; closed with this FFN
     * @param guarded    look-ahead only while it pays ({@link LookAheadGuard}), else at every layer
     */
    WindowedFfn(FfnGeometry g, ModelConfig c, MemorySegment[] biases, SparseFfn sparse, EngineStats stats,
                FfnReads reads, FfnReads aheadReads, boolean guarded, Predictor predictor, int capacity, int window,
                ReadPlanner planner, Arena arena) {
        super(g, c, biases, sparse, stats, capacity);
        this.reads = reads;
        this.predictor = predictor;
        this.planner = planner;
        this.rowBytes = ResidentFfn.rowBytes(g);
        this.caches = new WindowCache[c.layers()];
        for (int l = 0; l < caches.length; l++) {
            caches[l] = new WindowCache(g.neurons(), g.recordBytes(), rowBytes, capacity, window, biases[l], arena);
            reads.deferChecksOf(caches[l].matrix()); // checked after the layer's compute, from cache
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
        this.chunk = new ChunkSets(g.neurons());
        this.ahead = aheadReads == null ? null : new LookAheadReads(aheadReads, stats, g.neurons(), capacity, guarded);
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
        beginLayer(layer);
        long p0 = System.nanoTime();
        int n = predictor.predict(layer, x, active);
        stats.predictNanos += System.nanoTime() - p0;
        computeSet(layer, n, true, x, y);
    }

    /** Before a layer: the merge guard's token boundary at layer 0, and a guess a stopped pass left in flight. */
    private void beginLayer(int layer) throws IOException {
        if (guard != null && layer == 0) {
            if (tokenOpen) {
                guard.endToken();
            }
            tokenOpen = true;
            planner.mergeGaps(guard.merging());
        }
        if (ahead != null && ahead.pendingLayer() >= 0 && ahead.pendingLayer() != layer) {
            ahead.settle(caches[ahead.pendingLayer()]); // a pass that stopped early left a guess in flight
        }
    }

    /**
     * One token's layer over its predicted set {@code active[0..n)}: plan it into the window (extending the
     * token's guessed set when there is one), read what is missing, start the next layer's guess when
     * {@code guessNext}, and compute.
     */
    private void computeSet(int layer, int n, boolean guessNext, MemorySegment x, MemorySegment y)
            throws IOException {
        long m0 = System.nanoTime();
        stats.predicted += n;
        WindowCache cache = caches[layer];
        boolean guessed = ahead != null && ahead.pendingLayer() == layer;
        int usedAhead = 0; // records read ahead that this set uses: misses, though they arrived early
        if (guessed) {
            usedAhead = ahead.await(cache, active, n, g.recordBytes());
            m0 = System.nanoTime();
        }
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
        int missing = guessed ? cache.extend(active, n) : cache.plan(active, n); // n fits: the window shrinks if it must
        if (cache.earlyExpiredTokens() > 0) {
            stats.windowShrinks++;
        }
        stats.memoryNanos += System.nanoTime() - m0;
        stats.hits += n - missing - usedAhead;
        stats.misses += missing + usedAhead;
        try {
            if (missing > 0) {
                readMissing(layer, cache, missing);
            }
            if (ahead != null && guessNext) {
                if (layer + 1 < caches.length) {
                    if (ahead.wanted()) {
                        ahead.start(layer + 1, caches[layer + 1], predictor, x, planner != null, rowBytes);
                    }
                } else {
                    // the token's FFN overheads so far are all of them: the last layer's reads are in
                    ahead.endToken(stats.ioNanos + stats.memoryNanos + stats.predictNanos);
                }
            }
            long m1 = System.nanoTime();
            cache.rowsOf(active, n, order);
            stats.memoryNanos += System.nanoTime() - m1;
            computeRows(layer, cache, n, x, y);
            if (verifyReads()) { // a record failed its check and was read again: compute over the good bytes
                y.asSlice(0, dim * 4L).fill((byte) 0);
                computeRows(layer, cache, n, x, y);
            }
        } catch (IOException | RuntimeException e) {
            forget(cache);
            throw e;
        }
    }

    /**
     * After a failure between a layer's reads and their checks: the layer's cache starts empty (no row whose
     * read failed or went unchecked is taken for resident later) and the unchecked reads are forgotten.
     */
    private void forget(WindowCache cache) {
        cache.reset();
        reads.dropPending();
    }

    /**
     * Checks the records this layer read into its cache, now that the compute has brought them into the CPU's
     * caches (I/O time); true when one failed once and was read again.
     */
    private boolean verifyReads() throws IOException {
        long t0 = System.nanoTime();
        try {
            return reads.verifyPending() > 0;
        } finally {
            stats.ioNanos += System.nanoTime() - t0;
        }
    }

    /**
     * A prompt chunk: every token's set predicted first, then the tokens in groups whose union fits the cache:
     * a group's union is planned into the window as one token and its missing neurons read once; each token is
     * computed over its own set in ascending order, so it gets the bits it gets alone. A token whose set alone
     * exceeds the cache runs as a single token does. No look-ahead (the next call is the same layer's).
     */
    @Override
    protected void runBatch(int layer, MemorySegment x, int n, MemorySegment y) throws IOException {
        beginLayer(layer);
        if (ahead != null && ahead.pendingLayer() >= 0) {
            ahead.settle(caches[layer]); // a guess for this very layer: its token's set stays, the chunk plans its own
        }
        long vec = dim * 4L;
        long p0 = System.nanoTime();
        chunk.predict(predictor, layer, x, n, dim, active);
        stats.predictNanos += System.nanoTime() - p0;
        int capacity = caches[layer].capacity();
        int first = 0; // the group being gathered: tokens first..t-1, their union of u neurons
        int u = 0;
        chunk.clearUnion();
        for (int t = 0; t <= n; t++) {
            int grown = t < n ? u + chunk.fresh(t) : Integer.MAX_VALUE;
            if (grown > capacity && t > first) {
                computeGroup(layer, first, t, x, y);
                chunk.clearUnion();
                first = t;
                u = 0;
                grown = t < n ? chunk.fresh(t) : 0;
            }
            if (t == n) {
                break;
            }
            if (grown > capacity) { // this token alone exceeds the cache
                int k = chunk.copySet(t, active);
                computeSet(layer, k, false, x.asSlice(t * vec, vec), y.asSlice(t * vec, vec));
                first = t + 1;
                continue;
            }
            chunk.addToUnion(t);
            u = grown;
        }
    }

    /** Tokens first..end-1 of the chunk, whose union fits the cache: planned and read once, each token computed. */
    private void computeGroup(int layer, int first, int end, MemorySegment x, MemorySegment y) throws IOException {
        long vec = dim * 4L;
        long m0 = System.nanoTime();
        int u = chunk.union();
        WindowCache cache = caches[layer];
        int missing = cache.plan(chunk.unionIds(), u);
        if (cache.earlyExpiredTokens() > 0) {
            stats.windowShrinks++;
        }
        stats.memoryNanos += System.nanoTime() - m0;
        int sets = chunk.total(first, end);
        stats.predicted += sets;
        stats.hits += sets - missing;
        stats.misses += missing;
        try {
            if (missing > 0) {
                readMissing(layer, cache, missing);
            }
            computeTokens(layer, cache, first, end, x, y);
            if (verifyReads()) { // a record failed its check and was read again: compute over the good bytes
                y.asSlice(first * vec, (end - first) * vec).fill((byte) 0);
                computeTokens(layer, cache, first, end, x, y);
            }
        } catch (IOException | RuntimeException e) {
            forget(cache);
            throw e;
        }
    }

    /** Tokens first..end-1 of the chunk, each over its own set of the cache's rows. */
    private void computeTokens(int layer, WindowCache cache, int first, int end, MemorySegment x, MemorySegment y) {
        long vec = dim * 4L;
        for (int t = first; t < end; t++) {
            long m1 = System.nanoTime();
            int k = chunk.copySet(t, active);
            cache.rowsOf(active, k, order);
            stats.memoryNanos += System.nanoTime() - m1;
            computeRows(layer, cache, k, x.asSlice(t * vec, vec), y.asSlice(t * vec, vec));
        }
    }

    /** y += the FFN over the cache rows {@code order[0..n)} (a set in ascending neuron id). */
    private void computeRows(int layer, WindowCache cache, int n, MemorySegment x, MemorySegment y) {
        sparse.compute(rowDtype, downDtype, cache.matrix(), cache.count(), rowBytes, dim, gated, activation,
                biases[layer] == null ? null : cache.rowBiases(), order, n, x, y);
    }

    /** Reads the {@code missing} neurons the cache's last plan appended: planned on a bundled pack, else part by part. */
    private void readMissing(int layer, WindowCache cache, int missing) throws IOException {
        if (planner != null) {
            readPlanned(layer, cache, missing);
        } else {
            reads.addNeurons(cache.missingNeurons(), 0, missing, cache.missingRows(), cache.matrix(), rowBytes, false);
            reads.submit(layer);
        }
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
        if (ahead != null) {
            ahead.close();
        }
        super.close();
        reads.close();
    }

    @Override
    String describe() {
        WindowCache c = caches[0];
        return "the " + predictor.kind() + " predictor's neurons, a window of " + c.window() + " tokens in "
                + c.capacity() + " rows per layer, " + (planner != null ? "bundled records with read planning"
                : "one read per part") + (reads.direct() ? " (O_DIRECT)" : " (buffered)")
                + (ahead != null ? ", the next layer's reads started ahead from a guess" : "");
    }
}
