package io.flashlm.bench;

import io.flashlm.io.Backend;
import io.flashlm.io.FlashIOException;
import io.flashlm.nativeabi.FlashNative;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG, FlashNative.PROBE_COUNT);
            int rc = FlashNative.probe(arena.allocateFrom(file.toString()), direct ? FlashNative.OPEN_DIRECT : 0,
                    backend.nativeCode(), chunk, depth, span, duration.toNanos(), maxIos, seed, out,
                    FlashNative.PROBE_COUNT);
            if (rc != 0) {
                throw new FlashIOException(file, -1, chunk, rc, "probe of " + file + " (" + backend + ", "
                        + chunk + " B reads, depth " + depth + ") failed: " + FlashNative.describe(rc));
            }
            long[] v = out.toArray(JAVA_LONG);
            return new ProbeResult(backend, chunk, depth, v[FlashNative.PROBE_IOS], v[FlashNative.PROBE_BYTES],
                    v[FlashNative.PROBE_ELAPSED_NS], v[FlashNative.PROBE_P50_NS], v[FlashNative.PROBE_P99_NS],
                    v[FlashNative.PROBE_MEAN_NS], v[FlashNative.PROBE_MAX_NS]);
        }
    }
}
