package io.flashlm.planning;

import io.flashlm.io.Backend;
import io.flashlm.io.FlashIOException;
import io.flashlm.nativeabi.NativeIo;
import io.flashlm.nativeabi.NativeIoException;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Measures random-read throughput and latency on the device holding a file, the way fio's
 * randread job does (reads kept in flight continuously at the given depth). The native library
 * does the timing, so the JVM adds nothing to the figures.
 */
public final class FlashProbe {
    private FlashProbe() {
    }

    /** Random reads for {@code duration} (after a short warm-up). */
    public static ProbeResult measure(Path file, Backend backend, boolean direct, long chunk, int depth, long span,
                                      Duration duration, long seed) throws IOException {
        return measure(file, backend, direct, chunk, depth, span, duration, 0, seed);
    }

    /**
     * Random reads for {@code duration}, or until {@code maxIos} reads when the duration is zero
     * (a fixed amount of work, e.g. for tests that must not depend on timing).
     */
    public static ProbeResult measure(Path file, Backend backend, boolean direct, long chunk, int depth, long span,
                                      Duration duration, long maxIos, long seed) throws IOException {
        NativeIo.ProbeFigures v;
        try {
            v = NativeIo.probe(file, direct, backend.nativeBackend(), chunk, depth, span, duration.toNanos(), maxIos,
                    seed);
        } catch (NativeIoException e) {
            FlashIOException f = new FlashIOException(file, -1, chunk, e.code(), "probe of " + file + " (" + backend
                    + ", " + chunk + " B reads, depth " + depth + ") failed: " + e.getMessage());
            f.initCause(e);
            throw f;
        }
        return new ProbeResult(backend, chunk, depth, v.ios(), v.bytes(), v.elapsedNs(), v.p50Ns(), v.p99Ns(),
                v.meanNs(), v.maxNs());
    }
}
