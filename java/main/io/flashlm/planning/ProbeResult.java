package io.flashlm.planning;

import io.flashlm.io.Backend;

/**
 * One point of the flash cost model: random reads of {@code chunk} bytes with {@code depth} in
 * flight, on one backend. Throughput in decimal MB/s (10^6 bytes), as fio prints it.
 */
public record ProbeResult(Backend backend, long chunk, int depth, long ios, long bytes, long elapsedNs,
                          long p50Ns, long p99Ns, long meanNs, long maxNs) {

    public double megabytesPerSecond() {
        return elapsedNs == 0 ? 0 : bytes / (elapsedNs / 1e9) / 1e6;
    }

    public double iops() {
        return elapsedNs == 0 ? 0 : ios / (elapsedNs / 1e9);
    }
}
