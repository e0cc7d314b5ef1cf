package io.flashlm.compute;

import io.flashlm.nativeabi.FlashNative;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits native matrix-vector products across threads by rows: the caller takes the first range,
 * persistent workers the others. Workers spin briefly for the next product (a token's matvecs come
 * microseconds apart) and then park, so an idle engine costs no CPU. Nothing is allocated per call.
 * One caller at a time; the engine's forward pass is single-threaded apart from this.
 */
public final class ComputePool implements AutoCloseable {
    /**
     * Below this many weight bytes a product runs on the caller alone: waking a parked worker costs
     * tens of microseconds, more than a product of this size (JMH on stories260K: 2 threads with a
     * 64 KiB threshold ran several times slower than 1).
     */
    private static final long PARALLEL_MIN_BYTES = 1 << 20;
    private static final int SPINS_BEFORE_PARK = 20_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger remaining = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;

    // The current product; written by the caller before generation is bumped, read by workers after.
    private int dtype;
    private MemorySegment w;
    private MemorySegment x;
    private MemorySegment y;
    private long rows;
    private long cols;
    private volatile int error;

    public ComputePool(int threads) {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("compute threads must be in 1..256, was " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("flashlm-compute-" + part).start(() -> work(part));
        }
    }

    /** The number of threads the machine offers, at most {@code max}. */
    public static int defaultThreads(int max) {
        return Math.max(1, Math.min(max, Runtime.getRuntime().availableProcessors()));
    }

    public int threads() {
        return threads;
    }

    /**
     * y[0..rows) = W x, with W rows x cols of the native dtype {@code dtype} (FlashNative.DTYPE_*),
     * x cols floats, y rows floats. Sizes are checked here so the native code never reads past a segment.
     */
    public void matvec(int dtype, MemorySegment w, long rows, long cols, MemorySegment x, MemorySegment y) {
        long rowBytes = FlashNative.rowBytes(dtype, cols);
        if (rowBytes <= 0) {
            throw new IllegalArgumentException("matvec: " + cols + " columns are not valid for dtype " + dtype);
        }
        if (rows < 0 || w.byteSize() < rows * rowBytes) {
            throw new IllegalArgumentException("matvec: weight holds " + w.byteSize() + " bytes, " + rows + " x "
                    + cols + " needs " + rows * rowBytes);
        }
        if (x.byteSize() < cols * Float.BYTES || y.byteSize() < rows * Float.BYTES) {
            throw new IllegalArgumentException("matvec: x holds " + x.byteSize() + " bytes (needs " + cols * 4
                    + "), y holds " + y.byteSize() + " (needs " + rows * 4 + ")");
        }
        if (closed) {
            throw new IllegalStateException("compute pool is closed");
        }
        if (threads == 1 || rows * rowBytes < PARALLEL_MIN_BYTES || rows < threads) {
            check(FlashNative.matvec(dtype, w, rows, cols, x, y, 0, rows));
            return;
        }
        this.dtype = dtype;
        this.w = w;
        this.x = x;
        this.y = y;
        this.rows = rows;
        this.cols = cols;
        this.error = 0;
        remaining.set(workers.length);
        generation++;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
        runPart(0);
        int spins = 0;
        while (remaining.get() != 0) {
            if (++spins < SPINS_BEFORE_PARK) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        this.w = this.x = this.y = null;
        check(error);
    }

    private void runPart(int part) {
        long begin = rows * part / threads;
        long end = rows * (part + 1) / threads;
        int rc = FlashNative.matvec(dtype, w, rows, cols, x, y, begin, end);
        if (rc != 0) {
            error = rc;
        }
    }

    private void work(int part) {
        long seen = 0;
        while (true) {
            int spins = 0;
            long g;
            while ((g = generation) == seen) {
                if (closed) {
                    return;
                }
                if (++spins < SPINS_BEFORE_PARK) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = g;
            try {
                runPart(part);
            } catch (RuntimeException e) {
                error = FlashNative.E_BAD_ARG;
            } finally {
                remaining.decrementAndGet();
            }
        }
    }

    private static void check(int rc) {
        if (rc != 0) {
            throw new IllegalStateException("native matvec failed: " + FlashNative.describe(rc));
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }
}
