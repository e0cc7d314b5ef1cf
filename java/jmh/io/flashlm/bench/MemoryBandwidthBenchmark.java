package io.flashlm.bench;

import io.flashlm.nativeabi.Kernels;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The machine's memory-read bandwidth, the limit the dense matvec kernels are measured against
 * ({@link MatvecBenchmark}): a streaming read of a buffer far larger than the caches (default
 * 512 MiB of random bytes) by the native {@code flm_stream_read}: AVX2 loads over eight streams in
 * lockstep (groups of eight 16 KiB chunks, like a multi-row matvec), which gets more from DRAM than
 * one sequential stream. {@code read1}: one thread reads the whole buffer; {@code read2}: two
 * threads each read their own half at the same time.
 *
 * <p>{@code javaRead1} is the same read as a plain Java loop over the segment (four long
 * accumulators), for comparison only: C2's loop loads about as fast from the L2 cache as DRAM
 * delivers, so it measures itself rather than the memory, and under-reports the bandwidth.
 *
 * <p>The {@code gigabytes} counter is the result: GB (10^9 bytes) read per second by all threads
 * together (JMH prints it with the unit ops/s).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(1)
public class MemoryBandwidthBenchmark {
    /** The buffer all threads share; each thread streams over its own slice. */
    @State(Scope.Benchmark)
    public static class Buffer {
        @Param({"512"})
        int mib;

        Arena arena;
        MemorySegment data;

        @Setup(Level.Trial)
        public void allocate() {
            arena = Arena.ofShared();
            data = arena.allocate((long) mib << 20, 4096);
            // Distinct random bytes on every page: a constant fill could be merged into shared pages
            // by the hypervisor and then read from the cache.
            long s = 0x9E3779B97F4A7C15L;
            for (long o = 0; o < data.byteSize(); o += 8) {
                s ^= s << 13;
                s ^= s >>> 7;
                s ^= s << 17;
                data.set(JAVA_LONG, o, s);
            }
        }

        @TearDown(Level.Trial)
        public void free() {
            arena.close();
        }
    }

    /** Bytes read, reported per second. */
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
    private MemorySegment slice;
    private MemorySegment checksum;

    @Setup(Level.Trial)
    public void slice(Buffer buffer, ThreadParams thread) {
        long lines = buffer.data.byteSize() / 64;
        long begin = lines * thread.getThreadIndex() / thread.getThreadCount() * 64;
        long end = lines * (thread.getThreadIndex() + 1) / thread.getThreadCount() * 64;
        slice = buffer.data.asSlice(begin, end - begin);
        arena = Arena.ofConfined();
        checksum = arena.allocate(JAVA_LONG);
    }

    @TearDown(Level.Trial)
    public void free() {
        arena.close();
    }

    @Benchmark
    @Threads(1)
    public long read1(Traffic traffic) {
        return nativeRead(traffic);
    }

    @Benchmark
    @Threads(2)
    public long read2(Traffic traffic) {
        return nativeRead(traffic);
    }

    @Benchmark
    @Threads(1)
    public long javaRead1(Traffic traffic) {
        traffic.gigabytes += slice.byteSize() / 1e9;
        long a = 0, b = 0, c = 0, d = 0;
        long n = slice.byteSize();
        for (long o = 0; o < n; o += 32) {
            a += slice.get(JAVA_LONG, o);
            b += slice.get(JAVA_LONG, o + 8);
            c += slice.get(JAVA_LONG, o + 16);
            d += slice.get(JAVA_LONG, o + 24);
        }
        return a ^ b ^ c ^ d;
    }

    private long nativeRead(Traffic traffic) {
        long sum = Kernels.streamRead(slice, checksum);
        traffic.gigabytes += slice.byteSize() / 1e9;
        return sum;
    }
}
