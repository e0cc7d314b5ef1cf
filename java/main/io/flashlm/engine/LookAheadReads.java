package io.flashlm.engine;

import io.flashlm.cache.WindowCache;
import io.flashlm.predictor.Predictor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * The windowed modes' look-ahead (docs/engine.md): at layer l, a guess of layer l + 1's set from layer l's FFN
 * input ({@link Predictor#predictAhead}) is planned into layer l + 1's cache as that token's set, and its missing
 * records are read by a {@link ReadPipeline} worker (its own {@link FfnReads}, so its own file handles) while the
 * engine computes; at layer l + 1 the engine awaits them before it plans the true set
 * ({@link WindowCache#extend}). One guess is in flight at a time. Keeps what the guesses realised
 * ({@link LookAheadCounts}) and, when guarded, the {@link LookAheadGuard} that decides whether to guess at all.
 * Allocates nothing per token.
 */
final class LookAheadReads implements AutoCloseable {
    private final ReadPipeline pipe;
    private final ReadPipeline.Slot slot;
    private final EngineStats stats;
    private final int[] guess;
    private final int[] read;
    private int guessCount;
    private int readCount;
    /** The layer whose guessed reads are in flight (or landed and not yet awaited), or -1. */
    private int layer = -1;
    private final LookAheadCounts counts = new LookAheadCounts();
    private final LookAheadGuard guard; // null: a guess at every layer

    /** @param guarded guess only while it pays ({@link LookAheadGuard}), else at every layer */
    LookAheadReads(FfnReads reads, EngineStats stats, int neurons, int capacity, boolean guarded) {
        this.pipe = new ReadPipeline(stats);
        this.slot = new ReadPipeline.Slot(reads);
        this.stats = stats;
        this.guess = new int[neurons];
        this.read = new int[capacity];
        this.guard = guarded ? new LookAheadGuard() : null;
        stats.describeLookAheadWith(() -> counts.describe() + (guarded ? "; " + guard.describe() : ""));
    }

    /** The layer whose guess is in flight or not yet awaited, or -1. */
    int pendingLayer() {
        return layer;
    }

    /** Whether this token guesses (always, unless the guard says it does not pay). */
    boolean wanted() {
        return guard == null || guard.lookingAhead();
    }

    /** Closes a token whose FFN overheads (I/O wait, memory management, prediction) took {@code costNanos}. */
    void endToken(long costNanos) {
        if (guard != null) {
            guard.endToken(costNanos);
        }
    }

    /**
     * Guesses layer {@code next}'s set from the previous layer's input x, plans it into that layer's cache as the
     * next token's set, and hands the reads of its missing records to the worker: runs of neighbours in
     * consecutive rows as one read when {@code records} (a bundled pack), else one read per part. A guess larger
     * than the cache is dropped (the layer reads at its turn).
     */
    void start(int next, WindowCache cache, Predictor predictor, MemorySegment x, boolean records, long rowBytes) {
        long p0 = System.nanoTime();
        int a = predictor.predictAhead(next, x, guess);
        long m0 = System.nanoTime();
        stats.predictNanos += m0 - p0;
        if (a > cache.capacity()) {
            stats.memoryNanos += System.nanoTime() - m0;
            return;
        }
        guessCount = a;
        int missing = cache.plan(guess, a);
        int[] ids = cache.missingNeurons();
        int[] rows = cache.missingRows();
        System.arraycopy(ids, 0, read, 0, missing);
        readCount = missing;
        slot.reads.addNeurons(ids, 0, missing, rows, cache.matrix(), rowBytes, records);
        stats.memoryNanos += System.nanoTime() - m0;
        layer = next;
        pipe.submit(slot, next);
    }

    /**
     * Waits for the pending guess's reads and counts the guess against the true set {@code truth[0..n)}
     * (ascending); returns how many of the records read ahead the true set uses. On a failure the cache is
     * emptied (rows whose reads failed must not be taken for resident) before the error goes on.
     */
    int await(WindowCache cache, int[] truth, int n, long recordBytes) throws IOException {
        settle(cache);
        return counts.count(guess, guessCount, read, readCount, truth, n, recordBytes);
    }

    /** Lets the pending guess land (it stays its token's set); the cache is emptied if its reads failed. */
    void settle(WindowCache cache) throws IOException {
        layer = -1;
        try {
            pipe.await(slot);
        } catch (IOException | RuntimeException e) {
            cache.reset();
            throw e;
        }
    }

    /** Waits for a guess in flight (the worker must be done with the rows before they are freed), then stops. */
    @Override
    public void close() {
        if (layer >= 0) {
            layer = -1;
            try {
                pipe.await(slot);
            } catch (IOException | RuntimeException ignored) {
                // closing: the failure has no caller left
            }
        }
        pipe.close();
        slot.reads.close();
    }
}
