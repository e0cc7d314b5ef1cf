package io.flashlm.bench;

import io.flashlm.kernels.SparseFfn;
import io.flashlm.nativeabi.FfnActivation;
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

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The sparse bundle FFN kernels ({@link SparseFfn#compute(int, MemorySegment, int, long, int, boolean, int,
 * MemorySegment, int[], int, MemorySegment, MemorySegment)}) over a record matrix laid out as a
 * {@link io.flashlm.cache.WindowCache} lays it out, the way a token's forward pass runs them: one
 * layer of an OPT-6.7B-like model (d_model 4096, 16384 neurons) with the window cache holding 10% of
 * the neurons ({@code rows} 1638) and all of them in the active set ({@code n = rows}).
 *
 * <p>{@code ffn}: {@code relu} is OPT's FFN, records [up | down] and a bias per row; {@code silu} the
 * gated (Llama-like) FFN, records [gate | up | down] and no bias, on the same number of rows. Rows are
 * {@code rowAlignment} (default 4096, the pack's stride) apart, so q8_0's 8704-byte ReLU records sit in
 * 12288-byte rows; a matrix of 2 MiB or more is 2 MiB-aligned and advised to use huge pages, as the
 * window cache does (setup prints the process's AnonHugePages: with THP in madvise mode the advice
 * mostly comes too late, since the arena has already zeroed the pages). Each operation runs the next of several such matrices, together at least
 * {@code footprintMiB} (default 512 MiB, far beyond the L3), so the weights come from DRAM, as they
 * do when the 31 other layers ran in between.
 *
 * <p>The {@code gigabytes} counter is the result: GB (10^9 bytes) of weights the kernels read per
 * second (JMH prints it with the unit ops/s). The up (and gate) part of every row is read; the down
 * part only of rows with h != 0, since the down kernel skips the others: random weights and x give
 * h > 0 for about half the ReLU rows and h != 0 for every SiLU row (setup prints the fractions). So an
 * operation reads {@code n * (parts - 1) * partBytes + active * partBytes} bytes; row padding is not
 * counted. Compare the counter with {@link MemoryBandwidthBenchmark} ({@code read1} for 1 thread,
 * {@code read2} for 2) in the same run, as for {@link MatvecBenchmark}. Weights come from
 * {@code flm_synth_fill} (approximately normal, std 0.03; real q8_0 blocks with varying scales).
 *
 * <p>{@code -p threads=1 -p phase=up,down} times the two native kernels apart (see {@link #phase}); with
 * {@code -p rows=400 -p footprintMiB=1} the matrices stay in the L3, which separates compute limits from
 * memory limits.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(1)
public class SparseFfnBenchmark {
    private static final long HUGE = 2L << 20;

    /** The storage type of every part: f32, f16 or a block type by its name (q8_0, q4_k, q6_k, ...). */
    @Param({"f32", "f16", "q8_0"})
    String dtype;

    @Param({"1", "2"})
    int threads;

    /** relu: ungated [up | down] with bias (OPT); silu: gated [gate | up | down] without (Llama). */
    @Param({"relu", "silu"})
    String ffn;

    @Param({"4096"})
    int dim;

    /** Rows of the record matrix (the window cache's resident neurons), all of them computed. */
    @Param({"1638"})
    int rows;

    /** Row stride alignment in bytes (the pack's unit alignment). */
    @Param({"4096"})
    int rowAlignment;

    @Param({"512"})
    int footprintMiB;

    /**
     * both: {@link SparseFfn#compute}, the result. up, down: one phase alone, a diagnostic: the native
     * kernel on the calling thread over all rows ({@code -p threads=1 -p phase=up,down}), the down phase
     * with each matrix's h from setup; the counter then counts that phase's bytes.
     */
    @Param({"both"})
    String phase;

    /** Weight bytes read, reported per second. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Traffic {
        public double gigabytes;

        @Setup(Level.Iteration)
        public void reset() {
            gigabytes = 0;
        }
    }

    private Arena arena;
    private SparseFfn sparse;
    private DType nativeType;
    private boolean gated;
    private FfnActivation activation;
    private long rowBytes;
    private MemorySegment[] matrices;
    private MemorySegment[] biases;
    private double[] gigabytesPerOp;
    private MemorySegment[] hs;
    private MemorySegment orderSegment;
    private MemorySegment upH;
    private int[] order;
    private int next;
    private MemorySegment x;
    private MemorySegment y;

    @Setup(Level.Trial)
    public void setUp() {
        // f32, f16 or any block type (q8_0, q4_0, q4_k, q6_k, ...): the kernels take every storage type
        nativeType = DType.valueOf(dtype.toUpperCase(java.util.Locale.ROOT));
        if (nativeType == DType.BF16) {
            throw new IllegalArgumentException("the sparse FFN kernels take f32, f16 and the block types, not bf16");
        }
        switch (ffn) {
            case "relu" -> {
                gated = false;
                activation = FfnActivation.RELU;
            }
            case "silu" -> {
                gated = true;
                activation = FfnActivation.SILU;
            }
            default -> throw new IllegalArgumentException("unknown ffn " + ffn);
        }
        int parts = gated ? 3 : 2;
        long partBytes = Kernels.rowBytes(nativeType, dim);
        long recordBytes = parts * partBytes;
        rowBytes = (recordBytes + rowAlignment - 1) / rowAlignment * rowAlignment;
        long matrixBytes = rowBytes * rows;
        int count = (int) Math.max(2, ((long) footprintMiB << 20) / matrixBytes + 1);

        arena = Arena.ofShared();
        sparse = new SparseFfn(threads, rows, arena);
        x = arena.allocate((long) dim * Float.BYTES, 64);
        long s = 0x2545F4914F6CDD1DL;
        for (int c = 0; c < dim; c++) {
            s = xorshift(s);
            x.setAtIndex(JAVA_FLOAT, c, uniform(s));
        }
        y = arena.allocate((long) dim * Float.BYTES, 64);
        if (!phase.equals("both") && (!phase.equals("up") && !phase.equals("down") || threads != 1)) {
            throw new IllegalArgumentException("phase " + phase + " on " + threads + " threads: up and down run on 1");
        }
        order = new int[rows];
        orderSegment = arena.allocate(rows * 4L, 64);
        upH = arena.allocate(rows * 4L, 64);
        for (int r = 0; r < rows; r++) {
            order[r] = r;
            orderSegment.setAtIndex(JAVA_INT, r, r);
        }

        matrices = new MemorySegment[count];
        biases = new MemorySegment[count];
        gigabytesPerOp = new double[count];
        hs = new MemorySegment[count];
        long active = 0;
        for (int i = 0; i < count; i++) {
            // as WindowCache allocates its matrix
            matrices[i] = arena.allocate(matrixBytes, matrixBytes >= HUGE ? HUGE : 4096);
            if (matrixBytes >= HUGE) {
                Kernels.adviseHugepage(matrices[i]);
            }
            for (int p = 0; p < parts; p++) {
                Kernels.synthFill(nativeType, matrices[i].asSlice(p * partBytes), rows, dim, rowBytes, 0f, 0.03f,
                        0x9E3779B97F4A7C15L + 1000L * i + p, 0);
            }
            if (!gated) {
                biases[i] = arena.allocate((long) rows * Float.BYTES, 64);
                for (int r = 0; r < rows; r++) {
                    s = xorshift(s);
                    biases[i].setAtIndex(JAVA_FLOAT, r, 0.03f * uniform(s));
                }
            }
            // h of every row is fixed by the matrix and x: count the rows whose down part is read
            sparse.compute(nativeType, matrices[i], rows, rowBytes, dim, gated, activation, biases[i], order, rows,
                    x, y);
            hs[i] = arena.allocate(rows * 4L, 64);
            int nonzero = 0;
            for (int r = 0; r < rows; r++) {
                float h = sparse.h(r);
                hs[i].setAtIndex(JAVA_FLOAT, r, h);
                if (h != 0f) {
                    nonzero++;
                }
            }
            active += nonzero;
            long upBytes = (long) rows * (parts - 1) * partBytes;
            long downBytes = (long) nonzero * partBytes;
            gigabytesPerOp[i] = switch (phase) {
                case "up" -> upBytes;
                case "down" -> downBytes;
                default -> upBytes + downBytes;
            } / 1e9;
        }
        System.out.printf("%n%s %s, dim %d: %d matrices of %d rows (records of %d bytes, rows %d apart; %.1f MiB,"
                        + " %.0f MiB in all), h != 0 for %.1f%% of rows, %.2f MB read per op (%s), %d threads, simd=%b,"
                        + " %s%n", ffn, dtype, dim, count, rows, recordBytes, rowBytes, matrixBytes / 1048576.0,
                count * matrixBytes / 1048576.0, 100.0 * active / ((long) count * rows),
                gigabytesPerOp[0] * 1e3, phase, threads, Kernels.simd(), hugePages());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        sparse.close();
        arena.close();
    }

    @Benchmark
    public MemorySegment compute(Traffic traffic) {
        int i = next;
        next = next + 1 == matrices.length ? 0 : next + 1;
        y.fill((byte) 0);
        switch (phase) {
            case "up" -> Kernels.bundleFfnUp(nativeType, nativeType, matrices[i], rows, rowBytes, dim, gated, activation, biases[i],
                    x, orderSegment, 0, rows, upH);
            case "down" -> Kernels.bundleFfnDown(nativeType, nativeType, matrices[i], rows, rowBytes, dim, gated, hs[i],
                    orderSegment, rows, y, 0, dim);
            default -> sparse.compute(nativeType, matrices[i], rows, rowBytes, dim, gated, activation, biases[i], order,
                    rows, x, y);
        }
        traffic.gigabytes += gigabytesPerOp[i];
        return y;
    }

    /** The process's transparent huge pages (AnonHugePages), to see whether the advice was taken. */
    private static String hugePages() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
                if (line.startsWith("AnonHugePages:")) {
                    return line.replaceAll("\\s+", " ");
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no smaps_rollup: nothing to report
        }
        return "AnonHugePages: n/a";
    }

    private static long xorshift(long s) {
        s ^= s << 13;
        s ^= s >>> 7;
        s ^= s << 17;
        return s;
    }

    /** Uniform in [-1, 1). */
    private static float uniform(long s) {
        return (s >> 40) * 0x1p-23f;
    }
}
