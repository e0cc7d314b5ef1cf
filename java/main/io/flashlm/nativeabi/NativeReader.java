package io.flashlm.nativeabi;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One open native reader (flm_reader_*): batched reads of one file through io_uring or a pread pool,
 * O_DIRECT or buffered. The handle stays inside; reads and close are serialized on this object, so a
 * close waits for a read in progress and a read after close is a clear error, never a stale handle.
 */
public final class NativeReader implements AutoCloseable {
    private final Path file;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment failedIndex = arena.allocate(JAVA_LONG);
    private final long fileSize;
    private final IoBackend backend;
    private final int blockSize;
    private final int queueDepth;
    private final int threads;
    private final boolean direct;
    private final boolean registeredFile;
    private final boolean registeredBuffers;
    private volatile long handle;

    private NativeReader(Path file, long handle, long[] info) {
        this.file = file;
        this.handle = handle;
        this.fileSize = info[FlashNative.INFO_FILE_SIZE];
        this.backend = IoBackend.ofCode((int) info[FlashNative.INFO_BACKEND]);
        this.blockSize = (int) info[FlashNative.INFO_BLOCK_SIZE];
        this.queueDepth = (int) info[FlashNative.INFO_QUEUE_DEPTH];
        this.threads = (int) info[FlashNative.INFO_THREADS];
        this.direct = info[FlashNative.INFO_DIRECT] != 0;
        this.registeredFile = info[FlashNative.INFO_REGISTERED_FILE] != 0;
        this.registeredBuffers = info[FlashNative.INFO_REGISTERED_BUFS] != 0;
    }

    /**
     * Opens a reader on file (read only). queueDepth: reads in flight at once (1..4096); threads: pread
     * workers (1..256, ignored by io_uring).
     *
     * @throws NativeIoException with the native text when the library refuses (e.g. {@link NativeError#NO_DIRECT},
     *                           {@link NativeError#NO_IO_URING}, a negated errno)
     */
    public static NativeReader open(Path file, boolean direct, IoBackend backend, int queueDepth, int threads)
            throws NativeIoException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            int rc = FlashNative.readerOpen(a.allocateFrom(file.toString()), direct ? FlashNative.OPEN_DIRECT : 0,
                    backend.code, queueDepth, threads, out);
            if (rc != 0) {
                throw new NativeIoException(rc, -1, FlashNative.describe(rc));
            }
            long h = out.get(JAVA_LONG, 0);
            MemorySegment info = a.allocate(JAVA_LONG, FlashNative.INFO_COUNT);
            rc = FlashNative.readerInfo(h, info, FlashNative.INFO_COUNT);
            if (rc != 0) {
                FlashNative.readerClose(h);
                throw new NativeIoException(rc, -1, "cannot query the reader: " + FlashNative.describe(rc));
            }
            return new NativeReader(file, h, info.toArray(JAVA_LONG));
        }
    }

    /**
     * Reads {@code count} requests and returns when all are done: request i reads lengths[i] bytes at
     * file offset offsets[i] into the memory at address addresses[i] (three arrays of int64, off-heap).
     * The caller vouches for the destinations (each address with room for its length, alive until the
     * call returns); this checks the arrays. Allocates nothing.
     *
     * @throws NativeIoException with the native text and the index of the failed request
     */
    public synchronized void read(int count, MemorySegment offsets, MemorySegment lengths, MemorySegment addresses)
            throws NativeIoException {
        long h = handle;
        if (h == 0) {
            throw new IllegalStateException("native reader for " + file + " is closed");
        }
        long bytes = count * 8L;
        if (count < 0 || offsets.byteSize() < bytes || lengths.byteSize() < bytes || addresses.byteSize() < bytes) {
            throw new IllegalArgumentException(count + " requests: offsets, lengths and addresses hold "
                    + offsets.byteSize() + ", " + lengths.byteSize() + " and " + addresses.byteSize() + " bytes");
        }
        if (count == 0) {
            return;
        }
        failedIndex.set(JAVA_LONG, 0, -1);
        int rc = FlashNative.readerRead(h, count, offsets, lengths, addresses, failedIndex);
        if (rc != 0) {
            throw new NativeIoException(rc, failedIndex.get(JAVA_LONG, 0), FlashNative.describe(rc));
        }
    }

    /** A fault the C reader reports instead of what the kernel returned (flm_reader_inject), for tests. */
    public enum Fault {
        /** Disarms. */
        NONE(FlashNative.FAULT_NONE),
        /** A read reports about half of what arrived (whole blocks under O_DIRECT); the reader reads the rest. */
        SHORT(FlashNative.FAULT_SHORT),
        /** A read fails with EAGAIN before reading; the reader tries again. */
        EAGAIN(FlashNative.FAULT_EAGAIN),
        /** A read fails with EIO; the call fails. */
        EIO(FlashNative.FAULT_EIO);

        final int code;

        Fault(int code) {
            this.code = code;
        }
    }

    /** Arms {@code fault} for the next {@code count} reads this reader makes (pieces and retries); NONE disarms. */
    public synchronized void inject(Fault fault, long count) throws NativeIoException {
        int rc = FlashNative.readerInject(liveHandle(), fault.code, count);
        if (rc != 0) {
            throw new NativeIoException(rc, -1, FlashNative.describe(rc));
        }
    }

    /** Armed faults not yet taken. */
    public synchronized long faultsLeft() {
        return info(FlashNative.INFO_FAULTS_LEFT);
    }

    /** io_uring slots holding a read: 0 between calls unless one leaked (always 0 for pread). */
    public synchronized long busySlots() {
        return info(FlashNative.INFO_SLOTS_BUSY);
    }

    /** Readers open in this process (native handles not yet closed), for leak checks. */
    public static int openReaders() {
        return FlashNative.readersOpen();
    }

    private long info(int index) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, FlashNative.INFO_COUNT);
            int rc = FlashNative.readerInfo(liveHandle(), out, FlashNative.INFO_COUNT);
            if (rc != 0) {
                throw new IllegalStateException("cannot query the reader of " + file + ": " + FlashNative.describe(rc));
            }
            return out.getAtIndex(JAVA_LONG, index);
        }
    }

    private long liveHandle() {
        if (handle == 0) {
            throw new IllegalStateException("native reader for " + file + " is closed");
        }
        return handle;
    }

    /** The handle, for tests of the raw ABI; 0 once closed. */
    long handle() {
        return handle;
    }

    public long fileSize() {
        return fileSize;
    }

    /** The backend actually in use (never AUTO). */
    public IoBackend backend() {
        return backend;
    }

    /** The alignment that O_DIRECT requests are widened to (1 when buffered). */
    public int blockSize() {
        return blockSize;
    }

    public int queueDepth() {
        return queueDepth;
    }

    public int threads() {
        return threads;
    }

    public boolean direct() {
        return direct;
    }

    public boolean registeredFile() {
        return registeredFile;
    }

    public boolean registeredBuffers() {
        return registeredBuffers;
    }

    public boolean isOpen() {
        return handle != 0;
    }

    @Override
    public synchronized void close() {
        long h = handle;
        if (h == 0) {
            return;
        }
        handle = 0;
        FlashNative.readerClose(h);
        arena.close();
    }
}
