package io.flashlm.pack;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Large sequential writes on a background thread, so that producing the next buffer overlaps
 * writing the last one: a pack is written at the speed of the slower of the two, not of their sum.
 * A few off-heap buffers circulate: {@link #take()} a free one, fill it, {@link #write} it.
 * Writes happen in submission order; the first failure is reported by the next call.
 */
public final class WriteBehind implements AutoCloseable {
    /** Buffer size that keeps the device busy without much memory. */
    static final long DEFAULT_BUFFER_BYTES = 8L << 20;
    /** Buffer addresses are aligned for O_DIRECT on any device block size up to this. */
    static final long BUFFER_ALIGNMENT = 4096;

    private final Arena arena = Arena.ofShared();
    private final BlockingQueue<MemorySegment> free;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(
            r -> Thread.ofPlatform().daemon().name("flashlm-pack-writer").unstarted(r));
    private final long bufferBytes;
    private volatile IOException failure;

    /** @param minBufferBytes buffers are at least this large (and at least {@link #DEFAULT_BUFFER_BYTES}) */
    public WriteBehind(int buffers, long minBufferBytes) {
        this.bufferBytes = Math.max(DEFAULT_BUFFER_BYTES, minBufferBytes);
        this.free = new ArrayBlockingQueue<>(buffers);
        for (int i = 0; i < buffers; i++) {
            free.add(arena.allocate(bufferBytes, BUFFER_ALIGNMENT));
        }
    }

    long bufferBytes() {
        return bufferBytes;
    }

    /** A free buffer, all zero (padding is then whatever is not filled). */
    MemorySegment take() throws IOException {
        check();
        try {
            MemorySegment buf = free.take();
            buf.fill((byte) 0);
            return buf;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the disk");
        }
    }

    /** Queues writing the first {@code bytes} of {@code buf} at the channel's position; buf returns to the pool. */
    void write(FileChannel channel, MemorySegment buf, long bytes) throws IOException {
        check();
        writer.execute(() -> {
            try {
                if (failure == null) {
                    ByteBuffer b = buf.asSlice(0, bytes).asByteBuffer();
                    while (b.hasRemaining()) {
                        channel.write(b);
                    }
                }
            } catch (IOException e) {
                failure = e;
            } finally {
                free.add(buf);
            }
        });
    }

    /** Waits until every queued write is done. */
    void flush() throws IOException {
        try {
            writer.submit(() -> { }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the disk");
        } catch (ExecutionException e) {
            throw new IOException("write failed: " + e.getCause(), e.getCause());
        }
        check();
    }

    private void check() throws IOException {
        IOException e = failure;
        if (e != null) {
            throw new IOException("writing the pack failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(1, TimeUnit.HOURS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        arena.close();
    }
}
