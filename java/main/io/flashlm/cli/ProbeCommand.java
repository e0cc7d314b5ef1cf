package io.flashlm.cli;

import io.flashlm.io.Backend;
import io.flashlm.io.FlashReader;
import io.flashlm.io.ReaderOptions;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.RecordAlignment;
import io.flashlm.planning.FlashProbe;
import io.flashlm.planning.ProbeFile;
import io.flashlm.planning.ProbeLocation;
import io.flashlm.planning.ProbeReport;
import io.flashlm.planning.ProbeResult;
import io.flashlm.planning.RecordProbe;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.MachineInfo;
import io.flashlm.util.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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

    @Option(names = "--json", description = "Where to write the JSON. Default: the device's file in the user's"
            + " cache, $XDG_CACHE_HOME/flashlm/probe-<major>-<minor>.json (~/.cache when unset), which generate,"
            + " bench and evaluate use for packs on the same device.")
    Path json;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    @Option(names = "--records", split = ",", description = "Measure the flash engine's FFN reads instead (issue 11):"
            + " batches of random runs of 1..--max-run consecutive records of these sizes (e.g. 8704 for q8_0 d 4096"
            + " ungated), for each --layouts entry, alternated for --rounds rounds; prints medians (no JSON).")
    List<String> records;

    @Option(names = "--layouts", split = ",", defaultValue = "4096,dio,back-to-back", description = "With --records:"
            + " record alignments to compare: a power of two (records padded to it), dio (padded to the O_DIRECT"
            + " alignment statx reports), auto (what convert would choose here for that record) or back-to-back (no padding; reads widened); LAYOUT/W also widens every read to"
            + " W-byte blocks (emulates a device of that O_DIRECT alignment). Default: ${DEFAULT-VALUE}.")
    List<String> layouts;

    @Option(names = "--max-run", defaultValue = "4", description = "With --records: longest run of consecutive"
            + " records in one read. Default: ${DEFAULT-VALUE}.")
    int maxRun;

    @Option(names = "--runs-per-batch", defaultValue = "64", description = "With --records: reads per batch (the"
            + " misses of one layer). Default: ${DEFAULT-VALUE}.")
    int runsPerBatch;

    @Option(names = "--rounds", defaultValue = "5", description = "With --records: rounds; each measures every"
            + " layout once, in turn. Default: ${DEFAULT-VALUE}.")
    int rounds;

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
        if (records != null && !records.isEmpty()) {
            return recordProbe(backendList.get(0));
        }
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
        Path target = json;
        if (target == null) {
            target = ProbeLocation.probeFile(file);
            Files.createDirectories(target.getParent());
        }
        report.writeJson(target);
        System.out.println("wrote " + target + (json == null ? " (this device's cost model for the flash engine)" : ""));
        return 0;
    }

    /** --records: every layout of every record size, alternated round by round; medians per layout. */
    private int recordProbe(Backend backend) throws Exception {
        if (maxRun < 1 || maxRun > 256 || runsPerBatch < 1 || runsPerBatch > 4096 || rounds < 1 || rounds > 1000) {
            throw new IllegalArgumentException("--max-run must be in 1..256, --runs-per-batch in 1..4096 and --rounds"
                    + " in 1..1000");
        }
        ReaderOptions options = ReaderOptions.defaults().withBackend(backend).withDirect(!buffered);
        long baseSeed = seed != null ? seed : System.nanoTime() ^ ProcessHandle.current().pid() * 0x9E3779B97F4A7C15L;
        Duration perPoint = Duration.ofNanos((long) (seconds * 1e9));
        try (FlashReader reader = FlashReader.open(file, options)) {
            long block = reader.direct() ? reader.blockSize() : 1;
            RecordAlignment.Device device = RecordAlignment.device(file);
            System.out.printf(Locale.ROOT, "flashlm probe --records: %s (%s), %s, O_DIRECT alignment %d, physical block %d,"
                            + " depth %d, %d runs of 1..%d records per batch, %d rounds of %.1f s per layout%n", file,
                    MachineInfo.describe(file).device(), reader.backend().label(), block, device.physical(),
                    reader.queueDepth(),
                    runsPerBatch, maxRun, rounds, seconds);
            System.out.printf(Locale.ROOT, "%8s %-17s %7s %9s %8s %9s %10s %11s %10s %8s%n", "record", "layout",
                    "stride", "dev B/B", "pblk/rec", "reads/s", "records/s", "useful MB/s", "batch us", "vs 1st");
            int n = 0;
            for (String recordText : records) {
                long recordBytes = ByteSizes.parse(recordText);
                List<RecordProbe.Layout> measured = new ArrayList<>();
                for (String layout : layouts) {
                    // "LAYOUT/W": as LAYOUT, each read widened to W-byte blocks (a device of that alignment)
                    String[] lw = layout.split("/", 2);
                    long widen = lw.length == 2 ? ByteSizes.parse(lw[1]) : 1;
                    int alignment = RecordAlignment.resolve(RecordAlignment.parse(lw[0], () -> block), recordBytes,
                            () -> device);
                    measured.add(new RecordProbe.Layout(RecordAlignment.stride(recordBytes, alignment), widen));
                }
                List<List<RecordProbe.Result>> byLayout = new ArrayList<>();
                layouts.forEach(l -> byLayout.add(new ArrayList<>()));
                for (int round = 0; round < rounds; round++) {
                    // the layouts take turns batch by batch inside a round (RecordProbe)
                    RecordProbe.Result[] rs = RecordProbe.measure(reader, recordBytes, measured, maxRun,
                            runsPerBatch, perPoint.multipliedBy(layouts.size()), baseSeed + ++n);
                    for (int i = 0; i < rs.length; i++) {
                        byLayout.get(i).add(rs[i]);
                    }
                }
                for (int i = 0; i < layouts.size(); i++) {
                    List<RecordProbe.Result> rs = byLayout.get(i);
                    // Paired with the first layout's figure of the same round.
                    double[] ratios = new double[rounds];
                    for (int round = 0; round < rounds; round++) {
                        ratios[round] = rs.get(round).usefulMegabytesPerSecond()
                                / byLayout.get(0).get(round).usefulMegabytesPerSecond();
                    }
                    java.util.Arrays.sort(ratios);
                    double ratio = rounds % 2 == 1 ? ratios[rounds / 2]
                            : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
                    System.out.printf(Locale.ROOT, "%8d %-17s %7d %9.3f %8.3f %9.0f %10.0f %11.1f %10.0f %8.3f%n",
                            recordBytes, layouts.get(i), rs.get(0).layout().stride(),
                            rs.get(0).deviceBytesPerUsefulByte(),
                            RecordAlignment.blocksTouched(recordBytes, rs.get(0).layout().stride(),
                                    Math.max(1, device.physical())),
                            median(rs, RecordProbe.Result::readsPerSecond),
                            median(rs, RecordProbe.Result::recordsPerSecond),
                            median(rs, RecordProbe.Result::usefulMegabytesPerSecond),
                            median(rs, RecordProbe.Result::medianBatchMicros), ratio);
                }
            }
            System.out.println("medians over the rounds; dev B/B = bytes the device transfers per useful record byte"
                    + " (padding and O_DIRECT widening); pblk/rec = physical blocks a single-record read touches (mean); MB/s = 10^6 bytes/s of records without padding; vs 1st = median over"
                    + " the rounds of useful MB/s / the first layout's in the same round.");
        }
        return 0;
    }

    private static double median(List<RecordProbe.Result> rs, java.util.function.ToDoubleFunction<RecordProbe.Result> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
