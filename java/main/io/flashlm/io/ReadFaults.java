package io.flashlm.io;

import io.flashlm.nativeabi.NativeReader;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Faults injected into {@link FlashReader}'s reads, for tests of what a user sees when a device fails (issue 14):
 * an I/O error (EIO) on the requests that cover a chosen byte of a file, before anything is read, bytes that
 * arrive corrupted (a chosen byte XORed after the read), or, inside the C reader, short reads and EAGAIN storms
 * that it must retry, each for a number of batches. A process-wide plan: install
 * it, run, {@link #clear()} it. Without a plan a read costs one volatile read more. Not for production use.
 */
public final class ReadFaults {
    /** What happens to a read that covers the fault's byte. */
    public enum Kind {
        /** The batch fails as the native reader fails on EIO (-5), at that request, before it is read. */
        EIO,
        /** The read lands, then the byte is XORed with 0x5A (a bad sector, a flipped bus bit). */
        CORRUPT,
        /**
         * The C reader's reads of the batch report about half of what arrived ({@code flm_reader_inject}), up to
         * {@link #NATIVE_READS} of them; it reads the rest again, so the bytes stay exact.
         */
        SHORT,
        /** The C reader's reads of the batch fail with EAGAIN, a storm of {@link #NATIVE_READS}; it tries again. */
        EAGAIN
    }

    /** Native reads a SHORT or EAGAIN hit arms for its batch. */
    public static final int NATIVE_READS = 48;

    /**
     * A fault at byte {@code offset} of files whose name ends with {@code fileSuffix} (a negative offset: the first
     * byte of any request), for {@code times} reads.
     */
    public record Fault(Kind kind, String fileSuffix, long offset, int times) {
    }

    private static volatile Fault plan;
    private static int left;
    private static long nativeTaken;

    private ReadFaults() {
    }

    /** Installs a fault (replacing any other). */
    public static synchronized void install(Fault fault) {
        left = fault.times();
        nativeTaken = 0;
        plan = fault;
    }

    /** Removes the fault. */
    public static synchronized void clear() {
        plan = null;
        left = 0;
        nativeTaken = 0;
    }

    /** Native reads that took a SHORT or EAGAIN fault since the plan was installed or cleared. */
    public static synchronized long nativeTaken() {
        return nativeTaken;
    }

    /** The native fault a SHORT or EAGAIN plan arms for this batch (consuming one hit), or null. */
    static NativeReader.Fault nativeFault(Path file, ReadBatch batch) {
        Fault f = plan;
        if (f == null || (f.kind() != Kind.SHORT && f.kind() != Kind.EAGAIN) || hit(file, batch, f.kind()) < 0) {
            return null;
        }
        return f.kind() == Kind.SHORT ? NativeReader.Fault.SHORT : NativeReader.Fault.EAGAIN;
    }

    static synchronized void countTaken(long reads) {
        nativeTaken += reads;
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
