package io.flashlm.bench;

import io.flashlm.kernels.ComputePool;
import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * {@link ComputePool#matmul}, the batched product of prefill (issue 13), on a rows x cols weight matrix
 * ({@code shape}, default 4096x4096 and 2048x8192) for a batch of tokens: batch 1 is the token-at-a-time
 * matvec, larger batches read each weight once for all of them. As in {@link MatvecBenchmark} each
 * operation takes the next of several matrices of that shape, together at least {@code footprintMiB}, so
 * the weights come from DRAM, as in a real forward pass.
 *
 * <p>The results are the counters: {@code tokens} (token-rows products per second: the batch per
 * operation, so a layer of this one matrix would prefill that many tokens per second) and
 * {@code gflops} (2 rows cols batch / 10^9 per second). JMH prints both with the unit ops/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MatmulBenchmark {
    @Param({"f16", "q8_0", "q4_k"})
    String dtype;

    @Param({"4096x4096", "2048x8192"})
    String shape;

    @Param({"1", "8", "32", "64"})
    int batch;

    @Param({"1"})
    int threads;

    @Param({"256"})
    int footprintMiB;

    /** Tokens and floating-point work done, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Work {
        public double tokens;
        public double gflops;

        @Setup(Level.Iteration)
        public void reset() {
            tokens = 0;
            gflops = 0;
        }
    }

    private Arena arena;
    private ComputePool pool;
    private DType nativeType;
    private int rows;
    private int cols;
    private MemorySegment[] matrices;
    private int next;
    private MemorySegment x;
    private MemorySegment y;

    @Setup(Level.Trial)
    public void setUp() {
        nativeType = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
        String[] rc = shape.split("x");
        rows = Integer.parseInt(rc[0]);
        cols = Integer.parseInt(rc[1]);
        long rowBytes = Kernels.rowBytes(nativeType, cols);
        long matrixBytes = rows * rowBytes;
        int count = (int) Math.max(2, ((long) footprintMiB << 20) / matrixBytes + 1);
        arena = Arena.ofShared();
        matrices = new MemorySegment[count];
        boolean plain = Kernels.encodes(nativeType);
        for (int i = 0; i < count; i++) {
            matrices[i] = arena.allocate(matrixBytes, 4096);
            // values of about +-0.03: normal for the encodable types, random quants under fixed scales else
            Kernels.synthFill(nativeType, matrices[i], rows, cols, rowBytes, 0f, 0.02f, 0x5EED + i, 0);
        }
        x = arena.allocate((long) batch * cols * Float.BYTES, 64);
        long s = 0x2545F4914F6CDD1DL;
        for (long i = 0; i < (long) batch * cols; i++) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            x.setAtIndex(JAVA_FLOAT, i, (s >> 40) * 0x1p-23f);
        }
        y = arena.allocate((long) batch * rows * Float.BYTES, 64);
        pool = new ComputePool(threads);
        System.out.printf("%n%s %d x %d, batch %d: %d matrices of %.1f MiB, %d threads, simd=%b (plain=%b)%n", dtype,
                rows, cols, batch, count, matrixBytes / 1048576.0, threads, Kernels.simd(), plain);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public MemorySegment matmul(Work work) {
        MemorySegment w = matrices[next];
        next = next + 1 == matrices.length ? 0 : next + 1;
        pool.matmul(nativeType, w, rows, cols, x, batch, y);
        work.tokens += batch;
        work.gflops += 2.0 * rows * cols * batch / 1e9;
        return y;
    }
}
