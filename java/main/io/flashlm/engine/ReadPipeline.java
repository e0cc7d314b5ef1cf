package io.flashlm.engine;

import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Overlaps reading with computing: a worker thread performs the reads of submitted {@link FfnReads} while the
 * engine's thread computes what arrived before. Each {@link Slot} is one FfnReads (its own batches and file
 * handles, so two slots never share a native reader) with a buffer the caller fills; the engine fills slot
 * B and submits it, waits for slot A, computes A, refills A, and so on (double buffering). The order in
 * which rows are computed is the caller's, so the results are those of reading and computing in turn.
 * The time the engine's thread waits counts as its I/O ({@link EngineStats.Token#ioNanos}), the worker's read
 * time as {@link EngineStats.Token#readNanos}; both are added by the engine's thread. Nothing is allocated per
 * read.
 */
final class ReadPipeline implements AutoCloseable {
    /** One in-flight unit: the reads and the outcome of its last submission. */
    static final class Slot {
        final FfnReads reads;
        private int layer;
        private boolean done = true;
        private IOException failure;
        private RuntimeException crash;
        private long nanos;

        Slot(FfnReads reads) {
            this.reads = reads;
        }
    }

    private final ArrayBlockingQueue<Slot> queue = new ArrayBlockingQueue<>(4);
    private final Slot stop = new Slot(null);
    private final Thread worker;
    private final EngineStats stats;

    ReadPipeline(EngineStats stats) {
        this.stats = stats;
        this.worker = Thread.ofPlatform().daemon().name("flashlm-reads").start(this::work);
    }

    /** Starts reading what was added to {@code slot}'s reads, from layer {@code layer}'s files. */
    void submit(Slot slot, int layer) {
        synchronized (slot) {
            if (!slot.done) {
                throw new IllegalStateException("slot submitted twice before it was awaited");
            }
            slot.done = false;
            slot.layer = layer;
            slot.failure = null;
            slot.crash = null;
        }
        try {
            queue.put(slot);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while submitting reads", e);
        }
    }

    /** Waits until {@code slot}'s reads have arrived; rethrows what they failed with. */
    void await(Slot slot) throws IOException {
        long t0 = System.nanoTime();
        synchronized (slot) {
            while (!slot.done) {
                try {
                    slot.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for reads", e);
                }
            }
            stats.ioNanos += System.nanoTime() - t0;
            stats.readNanos += slot.nanos;
            if (slot.failure != null) {
                throw slot.failure;
            }
            if (slot.crash != null) {
                throw slot.crash;
            }
        }
    }

    private void work() {
        while (true) {
            Slot s;
            try {
                s = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (s == stop) {
                return;
            }
            long t0 = System.nanoTime();
            IOException failure = null;
            RuntimeException crash = null;
            try {
                s.reads.read(s.layer);
            } catch (IOException e) {
                failure = e;
            } catch (RuntimeException e) {
                crash = e;
            }
            synchronized (s) {
                s.nanos = System.nanoTime() - t0;
                s.failure = failure;
                s.crash = crash;
                s.done = true;
                s.notifyAll();
            }
        }
    }

    /** Stops the worker after what is queued (the caller has awaited every slot it submitted). */
    @Override
    public void close() {
        try {
            queue.put(stop);
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            worker.interrupt();
        }
    }
}
