package io.flashlm.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Faults injected into {@link FlashReader}'s reads, for tests of what a user sees when a device fails (issue 14):
 * an I/O error (EIO) on the requests that cover a chosen byte of a file, before anything is read, or bytes that
 * arrive corrupted (a chosen byte XORed after the read), each for a number of reads. A process-wide plan: install
 * it, run, {@link #clear()} it. Without a plan a read costs one volatile read more. Not for production use.
 */
public final class ReadFaults {
    /** What happens to a read that covers the fault's byte. */
    public enum Kind {
        /** The batch fails as the native reader fails on EIO (-5), at that request, before it is read. */
        EIO,
        /** The read lands, then the byte is XORed with 0x5A (a bad sector, a flipped bus bit). */
        CORRUPT
    }

    /**
     * A fault at byte {@code offset} of files whose name ends with {@code fileSuffix} (a negative offset: the first
     * byte of any request), for {@code times} reads.
     */
    public record Fault(Kind kind, String fileSuffix, long offset, int times) {
    }

    private static volatile Fault plan;
    private static int left;

    private ReadFaults() {
    }

    /** Installs a fault (replacing any other). */
    public static synchronized void install(Fault fault) {
        left = fault.times();
        plan = fault;
    }

    /** Removes the fault. */
    public static synchronized void clear() {
        plan = null;
        left = 0;
    }

    /** Reads the fault has still to hit. */
    public static synchronized int left() {
        return left;
    }

    /** The request of the batch the fault hits, or -1 (and consumes one hit when it returns one). */
    static int hit(Path file, ReadBatch batch, Kind kind) {
        Fault f = plan;
        if (f == null || f.kind() != kind || !file.toString().endsWith(f.fileSuffix())) {
            return -1;
        }
        synchronized (ReadFaults.class) {
            if (plan != f || left <= 0) {
                return -1;
            }
            for (int i = 0; i < batch.size(); i++) {
                if (f.offset() < 0 || (f.offset() >= batch.offset(i) && f.offset() < batch.offset(i) + batch.length(i))) {
                    left--;
                    return i;
                }
            }
            return -1;
        }
    }

    /** Applies a CORRUPT fault to the bytes request {@code i} of the batch read into {@code dest}. */
    static void corrupt(ReadBatch batch, int i, MemorySegment dest) {
        Fault f = plan;
        long at = f == null ? -1 : f.offset() < 0 ? 0 : f.offset() - batch.offset(i);
        if (at >= 0 && at < dest.byteSize()) {
            dest.set(ValueLayout.JAVA_BYTE, at, (byte) (dest.get(ValueLayout.JAVA_BYTE, at) ^ 0x5A));
        }
    }
}
