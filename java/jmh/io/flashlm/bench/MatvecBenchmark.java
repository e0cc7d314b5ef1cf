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

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * {@link ComputePool#matvec} on rows x cols weight matrices (default 4096 x 4096) in each dense
 * dtype, on 1 and 2 threads, the way a token's forward pass runs it: the weights are not in any
 * cache. Each operation multiplies the next of several matrices of that shape, together at least
 * {@code footprintMiB} (default 512 MiB, far beyond the L3), so q4_0's 9 MiB matrix is read from
 * DRAM as f32's 64 MiB one is.
 *
 * <p>The {@code gigabytes} counter is the result: GB (10^9 bytes) of weights read per second (JMH
 * prints it with the unit ops/s). Compare it with {@link MemoryBandwidthBenchmark} in the same run;
 * the goal is within 2x of it. Weights are random with the spread of a trained model (finite f16
 * scales and values, no subnormal-heavy data).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 8, time = 1)
@Fork(1)
public class MatvecBenchmark {
    @Param({"f32", "f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl", "q6_k", "q4_k", "q5_k", "q3_k", "q2_k", "iq4_xs"})
    String dtype;

    @Param({"1", "2"})
    int threads;

    @Param({"4096"})
    int rows;

    @Param({"4096"})
    int cols;

    @Param({"512"})
    int footprintMiB;

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
    private ComputePool pool;
    private DType nativeType;
    private MemorySegment[] matrices;
    private long matrixBytes;
    private int next;
    private MemorySegment x;
    private MemorySegment y;

    @Setup(Level.Trial)
    public void setUp() {
        nativeType = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
        matrixBytes = rows * Kernels.rowBytes(nativeType, cols);
        int count = (int) Math.max(2, ((long) footprintMiB << 20) / matrixBytes + 1);
        arena = Arena.ofShared();
        matrices = new MemorySegment[count];
        long seed = 0x2545F4914F6CDD1DL;
        for (int i = 0; i < count; i++) {
            matrices[i] = arena.allocate(matrixBytes, 4096);
            seed = fill(matrices[i], seed);
        }
        x = arena.allocate((long) cols * Float.BYTES, 64);
        for (int c = 0; c < cols; c++) {
            seed = xorshift(seed);
            x.setAtIndex(JAVA_FLOAT, c, uniform(seed));
        }
        y = arena.allocate((long) rows * Float.BYTES, 64);
        pool = new ComputePool(threads);
        System.out.printf("%n%s %d x %d: %d matrices of %.1f MiB (%.0f MiB), %d threads, simd=%b%n", dtype, rows,
                cols, count, matrixBytes / 1048576.0, count * matrixBytes / 1048576.0, threads,
                Kernels.simd());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public MemorySegment matvec(Traffic traffic) {
        MemorySegment w = matrices[next];
        next = next + 1 == matrices.length ? 0 : next + 1;
        pool.matvec(nativeType, w, rows, cols, x, y);
        traffic.gigabytes += matrixBytes / 1e9;
        return y;
    }

    /** Random weights: values of about +-0.03 (f32/f16/bf16), or blocks with an f16 scale and random quants. */
    private long fill(MemorySegment m, long s) {
        long n = m.byteSize();
        switch (nativeType) {
            case F32 -> {
                for (long o = 0; o < n; o += 4) {
                    s = xorshift(s);
                    m.set(JAVA_FLOAT, o, 0.03f * uniform(s));
                }
            }
            case F16 -> {
                for (long o = 0; o < n; o += 2) {
                    s = xorshift(s);
                    m.set(JAVA_SHORT_UNALIGNED, o, Float.floatToFloat16(0.03f * uniform(s)));
                }
            }
            case BF16 -> {
                for (long o = 0; o < n; o += 2) {
                    s = xorshift(s);
                    m.set(JAVA_SHORT_UNALIGNED, o, (short) (Float.floatToRawIntBits(0.03f * uniform(s)) >>> 16));
                }
            }
            case Q6_K, Q4_K, Q5_K, Q3_K, Q2_K, IQ4_XS -> {
                // random quants, sub-block scales and mins; the f16 super-block scale d (and dmin) at their offsets
                // keep values within about +-0.03: |value| <= d * steps (+ dmin * 63)
                int block = nativeType.bytesPerBlock();
                int dAt = switch (nativeType) {
                    case Q6_K -> 208;
                    case Q3_K -> 108;
                    case Q2_K -> 80;
                    default -> 0;
                };
                int dminAt = switch (nativeType) {
                    case Q4_K, Q5_K -> 2;
                    case Q2_K -> 82;
                    default -> -1;
                };
                float steps = switch (nativeType) {
                    case Q6_K -> 128 * 32;
                    case Q4_K -> 63 * 15;
                    case Q3_K -> 32 * 4;
                    case Q2_K -> 15 * 3;
                    case IQ4_XS -> 32 * 127;
                    default -> 63 * 31; // Q5_K
                };
                short d = Float.floatToFloat16(Math.max(0.03f / steps, 0x1p-14f));
                short dmin = Float.floatToFloat16(0.03f / (nativeType == DType.Q2_K ? 15 : 63));
                for (long b = 0; b < n; b += block) {
                    s = randomBytes(m, b, block, s);
                    m.set(JAVA_SHORT_UNALIGNED, b + dAt, d);
                    if (dminAt >= 0) {
                        m.set(JAVA_SHORT_UNALIGNED, b + dminAt, dmin);
                    }
                }
            }
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL -> {
                int block = nativeType.bytesPerBlock();
                // the scale d (and the min m of q4_1 / q5_1) that keep values within about +-0.03
                float steps = switch (nativeType) {
                    case Q8_0, IQ4_NL -> 127;
                    case Q4_0 -> 8;
                    case Q5_0 -> 16;
                    case Q4_1 -> 7.5f;
                    default -> 15.5f; // Q5_1
                };
                short scale = Float.floatToFloat16(0.03f / steps);
                boolean withMin = nativeType == DType.Q4_1 || nativeType == DType.Q5_1;
                int header = withMin ? 4 : 2;
                for (long b = 0; b < n; b += block) {
                    m.set(JAVA_SHORT_UNALIGNED, b, scale);
                    if (withMin) {
                        m.set(JAVA_SHORT_UNALIGNED, b + 2, Float.floatToFloat16(-0.03f));
                    }
                    for (long o = b + header; o < b + block; o += 8) {
                        s = xorshift(s);
                        if (o + 8 <= b + block) {
                            m.set(JAVA_LONG_UNALIGNED, o, s);
                        } else {
                            for (long k = o; k < b + block; k++) {
                                m.set(JAVA_BYTE, k, (byte) (s >>> (8 * (k - o))));
                            }
                        }
                    }
                }
            }
        }
        return s;
    }

    /** Fills m[at, at + count) with random bytes; returns the generator's state. */
    private static long randomBytes(MemorySegment m, long at, int count, long s) {
        for (long o = at; o < at + count; o += 8) {
            s = xorshift(s);
            if (o + 8 <= at + count) {
                m.set(JAVA_LONG_UNALIGNED, o, s);
            } else {
                for (long k = o; k < at + count; k++) {
                    m.set(JAVA_BYTE, k, (byte) (s >>> (8 * (k - o))));
                }
            }
        }
        return s;
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
