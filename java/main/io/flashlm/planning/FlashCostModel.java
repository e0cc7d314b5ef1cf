package io.flashlm.planning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The time one read takes, from the probe's measurements (ARCHITECTURE.md point 1): for a read of
 * {@code bytes} with {@code depth} reads in flight, bytes / throughput(size, depth), interpolated
 * log-linearly between the measured read sizes and taken at the nearest measured depth.
 */
public final class FlashCostModel implements ReadCostModel {
    private final long[] chunks;      // ascending
    private final int[] depths;       // ascending
    private final double[][] bytesPerNs; // [depth][chunk]
    private String source = "given";

    public FlashCostModel(long[] chunks, int[] depths, double[][] bytesPerNs) {
        if (chunks.length == 0 || depths.length == 0 || bytesPerNs.length != depths.length) {
            throw new IllegalArgumentException("cost model needs at least one read size and depth");
        }
        for (double[] row : bytesPerNs) {
            if (row.length != chunks.length || Arrays.stream(row).anyMatch(v -> !(v > 0))) {
                throw new IllegalArgumentException("cost model throughputs must be positive for every size and depth");
            }
        }
        this.chunks = chunks.clone();
        this.depths = depths.clone();
        this.bytesPerNs = bytesPerNs;
    }

    /** The io_uring rows of a flashlm-probe.json file. */
    public static FlashCostModel fromProbeJson(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        if (!ProbeReport.FORMAT.equals(root.path("format").asText())) {
            throw new IOException(file + ": format: expected \"" + ProbeReport.FORMAT + "\" (written by flashlm probe)");
        }
        long[] cs = root.path("results").findValues("chunk_bytes").stream().mapToLong(JsonNode::asLong)
                .distinct().sorted().toArray();
        int[] ds = root.path("results").findValues("queue_depth").stream().mapToInt(JsonNode::asInt)
                .distinct().sorted().toArray();
        double[][] t = new double[ds.length][cs.length];
        for (JsonNode r : root.path("results")) {
            if (!"io_uring".equals(r.path("backend").asText())) {
                continue;
            }
            int di = Arrays.binarySearch(ds, r.path("queue_depth").asInt());
            int ci = Arrays.binarySearch(cs, r.path("chunk_bytes").asLong());
            t[di][ci] = r.path("mb_per_s").asDouble() * 1e6 / 1e9;
        }
        try {
            FlashCostModel m = new FlashCostModel(cs, ds, t);
            m.source = file.toString();
            return m;
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": results: " + e.getMessage() + " (run flashlm probe with --backends io_uring)");
        }
    }

    /** The read sizes measured, ascending. */
    public long[] chunks() {
        return chunks.clone();
    }

    /** Where the figures come from (the probe file), for reports. */
    public String source() {
        return source;
    }

    @Override
    public String describe() {
        return "fixed, from " + source + " (flashlm probe)";
    }

    /** Nanoseconds that one read of {@code bytes} costs, with {@code depth} reads in flight. */
    @Override
    public double readNanos(long bytes, int depth) {
        double[] row = bytesPerNs[nearestDepth(depth)];
        if (bytes <= chunks[0]) {
            return bytes / row[0];
        }
        int last = chunks.length - 1;
        if (bytes >= chunks[last]) {
            return bytes / row[last];
        }
        int i = 0;
        while (chunks[i + 1] < bytes) {
            i++;
        }
        double f = (Math.log(bytes) - Math.log(chunks[i])) / (Math.log(chunks[i + 1]) - Math.log(chunks[i]));
        double throughput = row[i] + f * (row[i + 1] - row[i]);
        return bytes / throughput;
    }

    private int nearestDepth(int depth) {
        int best = 0;
        for (int i = 1; i < depths.length; i++) {
            if (Math.abs(depths[i] - depth) < Math.abs(depths[best] - depth)) {
                best = i;
            }
        }
        return best;
    }
}
