package io.flashlm.nativeabi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** The native I/O calls besides a reader's own ({@link NativeReader}): the random-read probe and error texts. */
public final class NativeIo {
    private NativeIo() {
    }

    /** What one probe measured. */
    public record ProbeFigures(long ios, long bytes, long elapsedNs, long p50Ns, long p99Ns, long meanNs,
                               long maxNs) {
    }

    /**
     * Random reads of chunk bytes at chunk-aligned offsets within the first span bytes of file, depth
     * reads kept in flight, for durationNs after a short warm-up or until maxIos reads (0: no limit;
     * durationNs 0 runs until maxIos), the way fio's randread job does; seed fixes the offsets.
     *
     * @throws NativeIoException with the native text when the probe cannot run
     */
    public static ProbeFigures probe(Path file, boolean direct, IoBackend backend, long chunk, int depth, long span,
                                     long durationNs, long maxIos, long seed) throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG, FlashNative.PROBE_COUNT);
            int rc = FlashNative.probe(arena.allocateFrom(file.toString()), direct ? FlashNative.OPEN_DIRECT : 0,
                    backend.code, chunk, depth, span, durationNs, maxIos, seed, out, FlashNative.PROBE_COUNT);
            if (rc != 0) {
                throw new NativeIoException(rc, -1, FlashNative.describe(rc));
            }
            long[] v = out.toArray(JAVA_LONG);
            return new ProbeFigures(v[FlashNative.PROBE_IOS], v[FlashNative.PROBE_BYTES],
                    v[FlashNative.PROBE_ELAPSED_NS], v[FlashNative.PROBE_P50_NS], v[FlashNative.PROBE_P99_NS],
                    v[FlashNative.PROBE_MEAN_NS], v[FlashNative.PROBE_MAX_NS]);
        }
    }

    /** The native library's text for any code a native call returned: a negated errno or a {@link NativeError}'s. */
    public static String describe(int code) {
        return FlashNative.describe(code);
    }
}
