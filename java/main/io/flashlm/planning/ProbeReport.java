package io.flashlm.planning;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.flashlm.util.MachineInfo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The probe's results: a table for people and JSON for the read planner's cost model
 * (format "flashlm-probe", version 1).
 */
public record ProbeReport(Path file, long span, boolean direct, double secondsPerPoint, long seed, MachineInfo machine,
                          List<ProbeResult> results) {
    public static final String FORMAT = "flashlm-probe";
    public static final int VERSION = 1;

    public void printTable(PrintStream out) {
        out.printf(Locale.ROOT, "flashlm probe: %s (%s, %s), random reads over %.1f GiB, %s, %.1f s per point%n",
                file, machine.device(), machine.filesystem(), span / (double) (1L << 30),
                direct ? "O_DIRECT" : "buffered (page cache!)", secondsPerPoint);
        out.printf(Locale.ROOT, "%-9s %8s %6s %10s %10s %10s %10s %10s%n", "backend", "chunk", "depth", "MB/s",
                "IOPS", "p50 us", "p99 us", "mean us");
        for (ProbeResult r : results) {
            out.printf(Locale.ROOT, "%-9s %8s %6d %10.1f %10.0f %10.1f %10.1f %10.1f%n", r.backend().label(),
                    chunkLabel(r.chunk()), r.depth(), r.megabytesPerSecond(), r.iops(), r.p50Ns() / 1e3,
                    r.p99Ns() / 1e3, r.meanNs() / 1e3);
        }
        out.println("MB/s = 10^6 bytes per second, as fio prints it.");
    }

    static String chunkLabel(long chunk) {
        if (chunk >= (1 << 20) && chunk % (1 << 20) == 0) {
            return (chunk >> 20) + "M";
        }
        if (chunk >= 1024 && chunk % 1024 == 0) {
            return (chunk >> 10) + "K";
        }
        return Long.toString(chunk);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("created", Instant.now().toString());
        m.put("file", file.toAbsolutePath().toString());
        m.put("span_bytes", span);
        m.put("direct", direct);
        m.put("seconds_per_point", secondsPerPoint);
        m.put("seed", seed);
        m.put("machine", machine.toMap());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ProbeResult r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("backend", r.backend().label());
            row.put("chunk_bytes", r.chunk());
            row.put("queue_depth", r.depth());
            row.put("mb_per_s", round(r.megabytesPerSecond()));
            row.put("iops", round(r.iops()));
            row.put("p50_us", round(r.p50Ns() / 1e3));
            row.put("p99_us", round(r.p99Ns() / 1e3));
            row.put("mean_us", round(r.meanNs() / 1e3));
            row.put("max_us", round(r.maxNs() / 1e3));
            row.put("ios", r.ios());
            row.put("bytes", r.bytes());
            row.put("elapsed_ns", r.elapsedNs());
            rows.add(row);
        }
        m.put("results", rows);
        return m;
    }

    /** Writes the JSON next to its final name and renames it, so a reader never sees half a file. */
    public void writeJson(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), toMap());
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
