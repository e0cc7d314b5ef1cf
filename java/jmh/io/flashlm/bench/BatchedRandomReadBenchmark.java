package io.flashlm.bench;

import io.flashlm.io.Backend;
import io.flashlm.io.FlashReader;
import io.flashlm.io.ReadBatch;
import io.flashlm.io.ReaderOptions;
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
import org.openjdk.jmh.infra.BenchmarkParams;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One batch of {@code batch} random chunk-aligned reads of {@code chunk} bytes through
 * {@link FlashReader}, O_DIRECT, from Java through FFM: the path the engine's read planner uses.
 * Throughput in MB/s = batch * chunk * (ops/s) / 1e6; compare with fio randread at
 * iodepth = batch (docs/benchmarks.md). The file (-p file=..., default /var/tmp/flashlm-probe.bin)
 * is made by `flashlm probe` and must be much larger than the drive's cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class BatchedRandomReadBenchmark {
    @Param({"/var/tmp/flashlm-probe.bin"})
    String file;

    @Param({"io_uring", "pread"})
    String backend;

    @Param({"4096", "65536"})
    int chunk;

    @Param({"32"})
    int batch;

    private FlashReader reader;
    private ReadBatch reads;
    private Arena arena;
    private MemorySegment buffer;
    private long chunks;
    private final SplittableRandom rnd = new SplittableRandom(42);

    @Setup(Level.Trial)
    public void open(BenchmarkParams params) throws IOException {
        ReaderOptions options = ReaderOptions.defaults().withBackend(Backend.parse(backend)).withQueueDepth(batch)
                .withThreads(Math.min(batch, 64));
        reader = FlashReader.open(Path.of(file), options);
        reads = new ReadBatch(batch);
        arena = Arena.ofShared();
        buffer = arena.allocate((long) chunk * batch, 4096);
        chunks = reader.fileSize() / chunk;
        if (chunks < 1024) {
            throw new IllegalStateException(file + " is too small for a random-read benchmark: run flashlm probe"
                    + " --file " + file + " first");
        }
    }

    @Benchmark
    public void batchedRandomRead() throws IOException {
        reads.clear();
        for (int i = 0; i < batch; i++) {
            reads.add(rnd.nextLong(chunks) * chunk, chunk, buffer, (long) i * chunk);
        }
        reader.read(reads);
    }

    @TearDown(Level.Trial)
    public void close() {
        reads.close();
        reader.close();
        arena.close();
    }
}
