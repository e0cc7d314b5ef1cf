package io.flashlm.io;

import io.flashlm.nativeabi.NativeError;
import io.flashlm.nativeabi.NativeIoException;
import io.flashlm.nativeabi.NativeReader;

import java.io.IOException;
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
    private final NativeReader reader;
    private final ReadBatch single = new ReadBatch(1);
    private final Backend backend;
    /** -EIO, as the native reader reports an I/O error. */
    private static final int EIO = -5;

    private FlashReader(Path file, NativeReader reader) {
        this.file = file;
        this.reader = reader;
        this.backend = Backend.fromNative(reader.backend());
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
        try {
            return new FlashReader(file, NativeReader.open(file, options.direct(), options.backend().nativeBackend(),
                    options.queueDepth(), options.threads()));
        } catch (NativeIoException e) {
            String hint = e.is(NativeError.NO_DIRECT) ? "; the filesystem does not support O_DIRECT: open it buffered"
                    + " (ReaderOptions.withDirect(false), --buffered)"
                    : e.is(NativeError.NO_IO_URING) ? "; use the pread backend or auto" : "";
            FlashIOException f = new FlashIOException(file, -1, -1, e.code(), "cannot open " + file
                    + " for flash reads (" + options.backend() + (options.direct() ? ", O_DIRECT" : ", buffered")
                    + "): " + e.getMessage() + hint);
            f.initCause(e);
            throw f;
        }
    }

    /** Reads every request of the batch; returns when all are done or throws for the first that failed. */
    public synchronized void read(ReadBatch batch) throws IOException {
        checkOpen();
        if (batch.size() == 0) {
            return;
        }
        batch.checkDestinationsAlive();
        int eio = ReadFaults.hit(file, batch, ReadFaults.Kind.EIO);
        if (eio >= 0) {
            long off = batch.offset(eio), len = batch.length(eio);
            throw new FlashIOException(file, off, len, EIO, "read of " + len + " bytes at offset " + off + " in "
                    + file + " failed: Input/output error (injected by ReadFaults)");
        }
        NativeReader.Fault armed = ReadFaults.nativeFault(file, batch);
        try {
            if (armed != null) {
                reader.inject(armed, ReadFaults.NATIVE_READS);
            }
            reader.read(batch.size(), batch.offsets, batch.lengths, batch.addresses);
        } catch (NativeIoException e) {
            throw failure(e, batch);
        } finally {
            if (armed != null) {
                ReadFaults.countTaken(ReadFaults.NATIVE_READS - reader.faultsLeft());
                disarm();
            }
        }
        int bad = ReadFaults.hit(file, batch, ReadFaults.Kind.CORRUPT);
        if (bad >= 0) {
            ReadFaults.corrupt(batch, bad, MemorySegment.ofAddress(batch.addresses.getAtIndex(JAVA_LONG, bad))
                    .reinterpret(batch.length(bad)));
        }
    }

    private void disarm() throws IOException {
        try {
            reader.inject(NativeReader.Fault.NONE, 0);
        } catch (NativeIoException e) {
            throw failure(e, single);
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

    private void checkOpen() {
        if (!reader.isOpen()) {
            throw new IllegalStateException("flash reader for " + file + " is closed");
        }
    }

    private IOException failure(NativeIoException e, ReadBatch batch) {
        int rc = e.code();
        FlashIOException f;
        if (e.is(NativeError.BAD_HANDLE)) {
            f = new FlashIOException(file, -1, -1, rc, "flash reader for " + file + " was closed during the read");
        } else if (e.failedIndex() >= 0 && e.failedIndex() < batch.size()) {
            int index = (int) e.failedIndex();
            long off = batch.offset(index);
            long len = batch.length(index);
            f = new FlashIOException(file, off, len, rc, "read of " + len + " bytes at offset " + off + " in "
                    + file + " failed: " + e.getMessage()
                    + (e.is(NativeError.PAST_EOF) ? " (file size " + fileSize() + ")" : ""));
        } else {
            f = new FlashIOException(file, -1, -1, rc, "batch read of " + batch.size() + " requests in " + file
                    + " failed: " + e.getMessage());
        }
        f.initCause(e);
        return f;
    }

    public Path file() {
        return file;
    }

    public long fileSize() {
        return reader.fileSize();
    }

    /** The backend actually in use (never AUTO). */
    public Backend backend() {
        return backend;
    }

    /** The alignment that O_DIRECT requests are widened to (1 when buffered). */
    public int blockSize() {
        return reader.blockSize();
    }

    public int queueDepth() {
        return reader.queueDepth();
    }

    public int threads() {
        return reader.threads();
    }

    public boolean direct() {
        return reader.direct();
    }

    public boolean registeredFile() {
        return reader.registeredFile();
    }

    public boolean registeredBuffers() {
        return reader.registeredBuffers();
    }

    public boolean isOpen() {
        return reader.isOpen();
    }

    @Override
    public synchronized void close() {
        if (!reader.isOpen()) {
            return;
        }
        reader.close();
        single.close();
    }

    @Override
    public String toString() {
        return "FlashReader[" + file + ", " + backend + (direct() ? ", O_DIRECT block " + blockSize() : ", buffered")
                + ", depth " + queueDepth() + "]";
    }
}
