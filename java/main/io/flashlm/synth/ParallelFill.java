package io.flashlm.synth;

import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * flm_synth_fill split by rows across threads. Each row is generated from its own stream, so the
 * bytes are the same for any number of threads.
 */
final class ParallelFill implements AutoCloseable {
    /** Below this many bytes one thread fills alone: handing off costs more. */
    private static final long PARALLEL_MIN_BYTES = 256 * 1024;

    private final int threads;
    private final ExecutorService pool;

    ParallelFill(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be positive, was " + threads);
        }
        this.threads = threads;
        this.pool = Executors.newFixedThreadPool(threads,
                r -> Thread.ofPlatform().daemon().name("flashlm-synth").unstarted(r));
    }

    /** rows x cols values of dtype at dst + r * stride, row r from stream (d.seed, firstRow + r). */
    void fill(DType dtype, MemorySegment dst, long rows, long cols, long stride, SyntheticWeights.Distribution d,
              long firstRow) throws IOException {
        long rowBytes = dtype.bytesFor(cols);
        int parts = (int) Math.min(threads, Math.max(1, rows * rowBytes / PARALLEL_MIN_BYTES));
        if (parts <= 1) {
            fillRange(dtype, dst, 0, rows, cols, stride, d, firstRow);
            return;
        }
        List<Callable<Void>> tasks = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            long begin = rows * p / parts;
            long end = rows * (p + 1) / parts;
            tasks.add(() -> {
                fillRange(dtype, dst, begin, end, cols, stride, d, firstRow);
                return null;
            });
        }
        try {
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while generating weights");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private static void fillRange(DType dtype, MemorySegment dst, long begin, long end, long cols, long stride,
                                  SyntheticWeights.Distribution d, long firstRow) {
        if (begin == end) {
            return;
        }
        long last = (end - 1) * stride + dtype.bytesFor(cols);
        MemorySegment region = dst.asSlice(begin * stride, last - begin * stride); // bounds-checked here, not in C
        Kernels.synthFill(dtype, region, end - begin, cols, stride, d.mean(), d.std(), d.seed(), firstRow + begin);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
