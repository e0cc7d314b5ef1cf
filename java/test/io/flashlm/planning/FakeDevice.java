package io.flashlm.planning;

/**
 * A simulated device for the cost model's tests: a read takes {@code latencyNanos} of its own and its
 * bytes at {@code bytesPerNs}; with d reads in flight the latencies overlap, so a batch of n reads of
 * S bytes in all takes n L / d + S / B, d = min(queue depth, n). No clock is read: every figure is exact.
 */
record FakeDevice(double latencyNanos, double bytesPerNs, int queueDepth) {
    /** 100 us a read, 500 MB/s, 32 in flight. */
    static FakeDevice slowSsd() {
        return new FakeDevice(100_000, 0.5, 32);
    }

    int depth(int reads) {
        return Math.min(queueDepth, reads);
    }

    long batchNanos(int reads, long bytes) {
        return Math.round(reads * latencyNanos / depth(reads) + bytes / bytesPerNs);
    }

    /** What one read of {@code bytes} costs, amortized, with a full queue: L / depth + bytes / B. */
    double readNanos(long bytes) {
        return latencyNanos / queueDepth + bytes / bytesPerNs;
    }

    /** The probe's figure for reads of {@code chunk} bytes at full depth, in bytes per ns. */
    double throughput(long chunk) {
        return chunk / readNanos(chunk);
    }
}
