package io.flashlm.io;

import io.flashlm.nativeabi.FlashNative;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Batched reads of one file through the native reader (io_uring or a pread pool, O_DIRECT by
 * default). Any offset, length and destination is accepted; unaligned O_DIRECT requests are widened
 * inside the native library and the caller gets exactly the bytes it asked for.
 *
 * <p>Reads on one reader are serialized (a batch is already parallel inside the native library);
 * use one reader per thread for parallel submission. Closing waits for a read in progress.
 */
public final class FlashReader implements AutoCloseable {
    private final Path file;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment failedIndex = arena.allocate(JAVA_LONG);
    private final ReadBatch single = new ReadBatch(1);
    private final long fileSize;
    private final Backend backend;
    private final int blockSize;
    private final int queueDepth;
    private final int threads;
    private final boolean direct;
    private final boolean registeredFile;
    private final boolean registeredBuffers;
    private volatile long handle;

    private FlashReader(Path file, long handle, long[] info) {
        this.file = file;
        this.handle = handle;
        this.fileSize = info[FlashNative.INFO_FILE_SIZE];
        this.backend = Backend.fromNative((int) info[FlashNative.INFO_BACKEND]);
        this.blockSize = (int) info[FlashNative.INFO_BLOCK_SIZE];
        this.queueDepth = (int) info[FlashNative.INFO_QUEUE_DEPTH];
        this.threads = (int) info[FlashNative.INFO_THREADS];
        this.direct = info[FlashNative.INFO_DIRECT] != 0;
        this.registeredFile = info[FlashNative.INFO_REGISTERED_FILE] != 0;
        this.registeredBuffers = info[FlashNative.INFO_REGISTERED_BUFS] != 0;
    }

    public static FlashReader open(Path file) throws IOException {
        return open(file, ReaderOptions.defaults());
    }

    public static FlashReader open(Path file, ReaderOptions options) throws IOException {
        if (file == null) {
            throw new IllegalArgumentException("file must not be null");
        }
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "flash file does not exist");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            int flags = options.direct() ? FlashNative.OPEN_DIRECT : 0;
            int rc = FlashNative.readerOpen(a.allocateFrom(file.toString()), flags, options.backend().nativeCode(),
                    options.queueDepth(), options.threads(), out);
            if (rc != 0) {
                String hint = switch (rc) {
                    case FlashNative.E_NO_DIRECT -> "; the filesystem does not support O_DIRECT: open it buffered"
                            + " (ReaderOptions.withDirect(false), --buffered)";
                    case FlashNative.E_NO_IO_URING -> "; use the pread backend or auto";
                    default -> "";
                };
                throw new FlashIOException(file, -1, -1, rc, "cannot open " + file + " for flash reads ("
                        + options.backend() + (options.direct() ? ", O_DIRECT" : ", buffered") + "): "
                        + FlashNative.describe(rc) + hint);
            }
            long h = out.get(JAVA_LONG, 0);
            MemorySegment infoSeg = a.allocate(JAVA_LONG, FlashNative.INFO_COUNT);
            rc = FlashNative.readerInfo(h, infoSeg, FlashNative.INFO_COUNT);
            if (rc != 0) {
                FlashNative.readerClose(h);
                throw new FlashIOException(file, -1, -1, rc, "cannot query reader for " + file + ": "
                        + FlashNative.describe(rc));
            }
            return new FlashReader(file, h, infoSeg.toArray(JAVA_LONG));
        }
    }

    /** Reads every request of the batch; returns when all are done or throws for the first that failed. */
    public synchronized void read(ReadBatch batch) throws IOException {
        long h = checkOpen();
        if (batch.size() == 0) {
            return;
        }
        batch.checkDestinationsAlive();
        int rc = FlashNative.readerRead(h, batch.size(), batch.offsets, batch.lengths, batch.addresses, failedIndex);
        if (rc != 0) {
            throw failure(rc, batch);
        }
    }

    /** Reads {@code destination.byteSize()} bytes at {@code offset} into {@code destination}. */
    public synchronized void read(long offset, MemorySegment destination) throws IOException {
        checkOpen();
        single.clear();
        single.add(offset, destination.byteSize(), destination);
        try {
            read(single);
        } finally {
            single.clear();
        }
    }

    private long checkOpen() {
        long h = handle;
        if (h == 0) {
            throw new IllegalStateException("flash reader for " + file + " is closed");
        }
        return h;
    }

    private IOException failure(int rc, ReadBatch batch) {
        if (rc == FlashNative.E_BAD_HANDLE) {
            return new FlashIOException(file, -1, -1, rc, "flash reader for " + file + " was closed during the read");
        }
        long index = failedIndex.get(JAVA_LONG, 0);
        String what = FlashNative.describe(rc);
        if (index >= 0 && index < batch.size()) {
            long off = batch.offset((int) index);
            long len = batch.length((int) index);
            return new FlashIOException(file, off, len, rc, "read of " + len + " bytes at offset " + off + " in "
                    + file + " failed: " + what + (rc == FlashNative.E_PAST_EOF ? " (file size " + fileSize + ")" : ""));
        }
        return new FlashIOException(file, -1, -1, rc, "batch read of " + batch.size() + " requests in " + file
                + " failed: " + what);
    }

    public Path file() {
        return file;
    }

    public long fileSize() {
        return fileSize;
    }

    /** The backend actually in use (never AUTO). */
    public Backend backend() {
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
        single.close();
        arena.close();
    }

    @Override
    public String toString() {
        return "FlashReader[" + file + ", " + backend + (direct ? ", O_DIRECT block " + blockSize : ", buffered")
                + ", depth " + queueDepth + "]";
    }
}
