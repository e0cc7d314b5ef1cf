package io.flashlm.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A reusable list of reads (file offset, length, destination) handed to the native reader in one
 * call. The offsets, lengths and addresses live off-heap in arrays allocated once, so filling and
 * submitting a batch allocates nothing. Not thread-safe: one batch per thread.
 */
public final class ReadBatch implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final int capacity;
    final MemorySegment offsets;
    final MemorySegment lengths;
    final MemorySegment addresses;
    // Kept so that a destination freed before the read is caught in Java, not written into by C.
    private final MemorySegment[] destinations;
    private int size;

    public ReadBatch(int capacity) {
        if (capacity < 1 || capacity > (1 << 24)) {
            throw new IllegalArgumentException("batch capacity must be in 1.." + (1 << 24) + ", was " + capacity);
        }
        this.capacity = capacity;
        this.offsets = arena.allocate(JAVA_LONG, capacity);
        this.lengths = arena.allocate(JAVA_LONG, capacity);
        this.addresses = arena.allocate(JAVA_LONG, capacity);
        this.destinations = new MemorySegment[capacity];
    }

    /**
     * Adds a read of {@code length} bytes at {@code offset} into the start of {@code destination},
     * a native segment of at least {@code length} bytes.
     */
    public ReadBatch add(long offset, long length, MemorySegment destination) {
        return add(offset, length, destination, 0);
    }

    /**
     * Adds a read of {@code length} bytes at file offset {@code offset} into {@code destination} at
     * byte {@code destinationOffset}; lets a caller fill one large buffer without making slices.
     */
    public ReadBatch add(long offset, long length, MemorySegment destination, long destinationOffset) {
        Objects.requireNonNull(destination, "destination segment must not be null");
        if (size == capacity) {
            throw new IllegalStateException("read batch is full (capacity " + capacity + ")");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("read offset must be >= 0, was " + offset);
        }
        if (length < 0) {
            throw new IllegalArgumentException("read length must be >= 0, was " + length);
        }
        if (!destination.isNative()) {
            throw new IllegalArgumentException("destination must be a native (off-heap) segment");
        }
        if (destinationOffset < 0 || destinationOffset > destination.byteSize() - length) {
            throw new IllegalArgumentException("destination holds " + destination.byteSize() + " bytes; a read of "
                    + length + " bytes at destination offset " + destinationOffset + " does not fit");
        }
        offsets.setAtIndex(JAVA_LONG, size, offset);
        lengths.setAtIndex(JAVA_LONG, size, length);
        addresses.setAtIndex(JAVA_LONG, size, destination.address() + destinationOffset);
        destinations[size] = destination;
        size++;
        return this;
    }

    public void clear() {
        java.util.Arrays.fill(destinations, 0, size, null);
        size = 0;
    }

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    public long offset(int i) {
        return offsets.getAtIndex(JAVA_LONG, Objects.checkIndex(i, size));
    }

    public long length(int i) {
        return lengths.getAtIndex(JAVA_LONG, Objects.checkIndex(i, size));
    }

    /** Throws if a destination's memory was freed after it was added. */
    void checkDestinationsAlive() {
        for (int i = 0; i < size; i++) {
            if (!destinations[i].scope().isAlive()) {
                throw new IllegalStateException("destination of read " + i + " (offset " + offset(i)
                        + ") was freed before the batch was read");
            }
        }
    }

    @Override
    public void close() {
        clear();
        arena.close();
    }
}
