package io.flashlm.cli;

import io.flashlm.io.Backend;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.planning.FlashProbe;
import io.flashlm.planning.ProbeFile;
import io.flashlm.planning.ProbeReport;
import io.flashlm.planning.ProbeResult;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.MachineInfo;
import io.flashlm.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** flashlm probe: the flash cost model (throughput and latency by read size and queue depth). */
@Command(name = "probe", mixinStandardHelpOptions = true,
        description = {"Measure random-read throughput on the device holding a file, for read sizes and queue"
                + " depths, with O_DIRECT; prints a table and writes it as JSON (the read planner's cost model).",
                "A missing file is created with --size bytes of pseudo-random data; an existing file is only read."})
public final class ProbeCommand implements Callable<Integer> {
    @Option(names = "--file", required = true, description = "File on the device to measure (created if missing).")
    Path file;

    @Option(names = "--size", defaultValue = "4G", description = "Bytes to read over (and to write when the file is"
            + " missing); larger than the page cache and drive caches for honest figures. Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = "--chunks", split = ",", defaultValue = "4K,16K,64K,256K,1M",
            description = "Read sizes. Default: ${DEFAULT-VALUE}.")
    List<String> chunks;

    @Option(names = "--depths", split = ",", defaultValue = "1,4,16,32,64",
            description = "Queue depths (reads in flight). Default: ${DEFAULT-VALUE}.")
    List<Integer> depths;

    @Option(names = "--backends", split = ",", defaultValue = "io_uring,pread",
            description = "Backends to measure: io_uring, pread. Default: ${DEFAULT-VALUE}.")
    List<String> backends;

    @Option(names = "--seconds", defaultValue = "1.0", description = "Measured time per point. Default: ${DEFAULT-VALUE}.")
    double seconds;

    @Option(names = "--ios", description = "Measure a fixed number of reads per point instead of --seconds.")
    Long ios;

    @Option(names = "--buffered", description = "Read through the page cache instead of O_DIRECT (not a device figure).")
    boolean buffered;

    @Option(names = "--seed", description = "Seed of the random offsets (default: a new one per run, so that a"
            + " cache below the filesystem, e.g. a VM host's, never serves offsets an earlier run read).")
    Long seed;

    @Option(names = "--json", defaultValue = "flashlm-probe.json", description = "Where to write the JSON."
            + " Default: ${DEFAULT-VALUE}.")
    Path json;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        long requested = ByteSizes.parse(size);
        if (ios != null && (ios < 1 || ios > 100_000_000)) {
            throw new IllegalArgumentException("--ios must be in 1..100000000, was " + ios);
        }
        if (seconds <= 0 || seconds > 600) {
            throw new IllegalArgumentException("--seconds must be in (0, 600], was " + seconds);
        }
        List<Long> chunkBytes = new ArrayList<>();
        for (String c : chunks) {
            long b = ByteSizes.parse(c);
            if (b < 512 || b > (64L << 20)) {
                throw new IllegalArgumentException("--chunks: " + c + " is outside 512 B .. 64 MiB");
            }
            chunkBytes.add(b);
        }
        for (int d : depths) {
            if (d < 1 || d > 1024) {
                throw new IllegalArgumentException("--depths: " + d + " is outside 1..1024");
            }
        }
        List<Backend> backendList = backends.stream().map(Backend::parse).toList();
        long span = ProbeFile.prepare(file, requested, System.err, !quiet);
        long largest = chunkBytes.stream().mapToLong(Long::longValue).max().orElse(0);
        if (span < largest) {
            throw new IllegalArgumentException(file + " holds " + span + " bytes, less than the largest chunk "
                    + largest);
        }
        long baseSeed = seed != null ? seed : System.nanoTime() ^ ProcessHandle.current().pid() * 0x9E3779B97F4A7C15L;
        Duration perPoint = ios != null ? Duration.ZERO : Duration.ofNanos((long) (seconds * 1e9));
        long iosPerPoint = ios != null ? ios : 0;
        List<ProbeResult> results = new ArrayList<>();
        int total = backendList.size() * chunkBytes.size() * depths.size();
        int n = 0;
        for (Backend backend : backendList) {
            for (long chunk : chunkBytes) {
                for (int depth : depths) {
                    n++;
                    if (!quiet) {
                        System.err.printf("%sprobe %d/%d: %s, %s reads, depth %d%s", Progress.isTerminal() ? "\r" : "",
                                n, total, backend, ByteSizes.format(chunk), depth, Progress.isTerminal() ? "   " : "\n");
                    }
                    results.add(FlashProbe.measure(file, backend, !buffered, chunk, depth, span, perPoint, iosPerPoint,
                            baseSeed + n));
                }
            }
        }
        if (!quiet && Progress.isTerminal()) {
            System.err.println();
        }
        ProbeReport report = new ProbeReport(file, span, !buffered, seconds, baseSeed, MachineInfo.describe(file), results);
        report.printTable(System.out);
        report.writeJson(json);
        System.out.println("wrote " + json);
        return 0;
    }
}
