package io.flashlm.io;

/**
 * How a {@link FlashReader} opens its file.
 *
 * @param backend    io_uring, pread, or auto (io_uring when the kernel allows it)
 * @param direct     O_DIRECT: bypass the page cache, so that DRAM use is what flashlm accounts for
 * @param queueDepth reads in flight at once (io_uring ring size), 1..4096
 * @param threads    pread worker threads, 1..256 (ignored by io_uring)
 */
public record ReaderOptions(Backend backend, boolean direct, int queueDepth, int threads) {
    public static final int MAX_QUEUE_DEPTH = 4096;
    public static final int MAX_THREADS = 256;

    public ReaderOptions {
        if (backend == null) {
            throw new IllegalArgumentException("backend must not be null");
        }
        if (queueDepth < 1 || queueDepth > MAX_QUEUE_DEPTH) {
            throw new IllegalArgumentException("queueDepth must be in 1.." + MAX_QUEUE_DEPTH + ", was " + queueDepth);
        }
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be in 1.." + MAX_THREADS + ", was " + threads);
        }
    }

    /** O_DIRECT, automatic backend, queue depth 64, 4 pread threads. */
    public static ReaderOptions defaults() {
        return new ReaderOptions(Backend.AUTO, true, 64, 4);
    }

    public ReaderOptions withBackend(Backend b) {
        return new ReaderOptions(b, direct, queueDepth, threads);
    }

    public ReaderOptions withDirect(boolean d) {
        return new ReaderOptions(backend, d, queueDepth, threads);
    }

    public ReaderOptions withQueueDepth(int q) {
        return new ReaderOptions(backend, direct, q, threads);
    }

    public ReaderOptions withThreads(int t) {
        return new ReaderOptions(backend, direct, queueDepth, t);
    }
}
