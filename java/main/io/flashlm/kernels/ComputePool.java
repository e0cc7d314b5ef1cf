package io.flashlm.kernels;

import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Splits native matrix-vector (and batched matrix) products across threads by rows ({@link WorkerGang}: the caller
 * takes the first range). Nothing is allocated per call. One caller at a time; the engine's forward
 * pass is single-threaded apart from this.
 */
public final class ComputePool implements AutoCloseable {
    /**
     * Below this many weight bytes a product runs on the caller alone: waking a parked worker costs
     * tens of microseconds, more than a product of this size (JMH on stories260K: 2 threads with a
     * 64 KiB threshold ran several times slower than 1).
     */
    private static final long PARALLEL_MIN_BYTES = 1 << 20;

    private final WorkerGang gang;
    private final WorkerGang.Part productPart = this::runPart;

    // The current product; set by the caller before the gang runs it.
    private DType dtype;
    private MemorySegment w;
    private MemorySegment x;
    private MemorySegment y;
    private long rows;
    private long cols;
    private int batch;

    public ComputePool(int threads) {
        this.gang = new WorkerGang(threads, "flashlm-compute");
    }

    /** The number of threads the machine offers, at most {@code max}. */
    public static int defaultThreads(int max) {
        return Math.max(1, Math.min(max, Runtime.getRuntime().availableProcessors()));
    }

    public int threads() {
        return gang.threads();
    }

    /**
     * y[0..rows) = W x, with W rows x cols of {@code dtype}, x cols floats, y rows floats. Sizes are
     * checked (by {@link Kernels#matvec}) before the native code runs, so it never reads past a segment.
     */
    public void matvec(DType dtype, MemorySegment w, long rows, long cols, MemorySegment x, MemorySegment y) {
        product(dtype, w, rows, cols, x, 1, y);
    }

    /**
     * The batched product (see {@link Kernels#matmul}): y[t * rows + r] = W[r, :] . x_t for the batch
     * tokens x_t (token-major, cols floats each) and every row; each entry is {@link #matvec}'s for x_t
     * bit for bit. The rows are split across the threads as matvec's; batch 1 is matvec. Sizes are checked
     * (by {@link Kernels#matmul}) before the native code runs.
     */
    public void matmul(DType dtype, MemorySegment w, long rows, long cols, MemorySegment x, int batch, MemorySegment y) {
        product(dtype, w, rows, cols, x, batch, y);
    }

    /** matvec (batch 1) or matmul, on this thread when small, else with the rows split across the threads. */
    private void product(DType dtype, MemorySegment w, long rows, long cols, MemorySegment x, int batch,
                         MemorySegment y) {
        long rowBytes = Kernels.rowBytes(dtype, cols);
        if (gang.isClosed()) {
            throw new IllegalStateException("compute pool is closed");
        }
        if (gang.threads() == 1 || rows * rowBytes < PARALLEL_MIN_BYTES || rows < gang.threads()) {
            part(dtype, w, rows, cols, x, batch, y, 0, rows);
            return;
        }
        this.dtype = dtype;
        this.w = w;
        this.x = x;
        this.y = y;
        this.rows = rows;
        this.cols = cols;
        this.batch = batch;
        try {
            gang.run(productPart);
        } finally {
            this.w = this.x = this.y = null;
        }
    }

    private static void part(DType dtype, MemorySegment w, long rows, long cols, MemorySegment x, int batch,
                             MemorySegment y, long begin, long end) {
        if (batch == 1) {
            Kernels.matvec(dtype, w, rows, cols, x, y, begin, end);
        } else {
            Kernels.matmul(dtype, w, rows, cols, x, batch, y, begin, end);
        }
    }

    private void runPart(int p, int parts) {
        part(dtype, w, rows, cols, x, batch, y, rows * p / parts, rows * (p + 1) / parts);
    }

    @Override
    public void close() {
        gang.close();
    }
}
