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

    /** Where an O_DIRECT alignment came from, best first (flm_dio_alignment's FLM_DIO_SOURCE_*). */
    public enum DioSource {
        /** statx STATX_DIOALIGN: the filesystem's own answer (Linux 6.1 and later). */
        STATX,
        /** The logical block size of the device under the file (BLKSSZGET's value, from sysfs). */
        LOGICAL_BLOCK,
        /** st_blksize, the filesystem's preferred I/O size. */
        BLKSIZE,
        /** None of those: 512, the smallest sector. */
        DEFAULT
    }

    /**
     * An O_DIRECT alignment in bytes (a power of two), where it came from, and the device's physical block
     * (the unit it transfers; 0 when unknown).
     */
    public record DioAlignment(long bytes, DioSource source, long physicalBlock) {
    }

    /**
     * The O_DIRECT alignment of the device holding {@code path}: a file, or a directory (then of a file
     * created in it). {@code statx} false skips statx, to see the fallback.
     *
     * @throws NativeIoException with the native text (no such file, or a file statx says cannot do direct I/O)
     */
    public static DioAlignment dioAlignment(Path path, boolean statx) throws NativeIoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG, 3);
            int rc = FlashNative.dioAlignment(arena.allocateFrom(path.toString()), statx ? 0 : FlashNative.DIO_NO_STATX,
                    out, 3);
            if (rc != 0) {
                throw new NativeIoException(rc, -1, FlashNative.describe(rc));
            }
            long[] v = out.toArray(JAVA_LONG);
            return new DioAlignment(v[0], DioSource.values()[(int) v[1] - 1], v[2]);
        }
    }

    /** The native library's text for any code a native call returned: a negated errno or a {@link NativeError}'s. */
    public static String describe(int code) {
        return FlashNative.describe(code);
    }
}
