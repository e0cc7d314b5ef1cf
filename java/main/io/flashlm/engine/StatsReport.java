package io.flashlm.engine;

import io.flashlm.util.ByteSizes;

import java.util.Locale;

/** Human-readable lines for the engine's statistics (generate --stats, bench). */
public final class StatsReport {
    private StatsReport() {
    }

    /** The header of {@link #tokenLine}. */
    public static String tokenHeader() {
        return String.format(Locale.ROOT, "%6s %9s %8s %8s %8s %8s %8s %7s %7s %10s %6s", "token", "ms", "io", "mem",
                "predict", "compute", "predicted", "hits", "misses", "read", "reads");
    }

    /** One token's figures, times in milliseconds. */
    public static String tokenLine(int index, EngineStats.Token t) {
        return String.format(Locale.ROOT, "%6d %9.2f %8.2f %8.2f %8.2f %8.2f %8d %7d %7d %10s %6d", index, t.nanos() / 1e6,
                t.ioNanos() / 1e6, t.memoryNanos() / 1e6, t.predictNanos() / 1e6, t.computeNanos() / 1e6, t.predicted(),
                t.hits(), t.misses(), ByteSizes.format(t.bytesRead()), t.reads());
    }

    /** "cost model: ..." for the engine's read planner, or empty in the modes that plan no reads. */
    public static java.util.Optional<String> costModel(EngineStats stats) {
        return stats.costModel().map(d -> "cost model: " + d);
    }

    /** A summary paragraph over a run of tokens. */
    public static String summary(String label, EngineStats.Summary s) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%s: %d tokens, %.2f ms median, %.2f ms p90 (%.2f tokens/s)%n", label,
                s.tokens(), s.medianNanos() / 1e6, s.p90Nanos() / 1e6, s.tokensPerSecond()));
        b.append(String.format(Locale.ROOT, "  per token (mean): io %.2f ms, memory management %.2f ms, predict %.2f ms,"
                        + " compute %.2f ms%n", s.meanIoNanos() / 1e6, s.meanMemoryNanos() / 1e6,
                s.meanPredictNanos() / 1e6, s.meanComputeNanos() / 1e6));
        b.append(String.format(Locale.ROOT, "  neurons (mean, all layers): %.0f computed, %.0f hits, %.0f read%s%n",
                s.meanPredicted(), s.meanHits(), s.meanMisses(),
                Double.isNaN(s.hitRate()) ? "" : String.format(Locale.ROOT, " (hit rate %.1f%%)", 100 * s.hitRate())));
        b.append(String.format(Locale.ROOT, "  read per token: %s in %.0f reads (mean %s), %.1f MB/s while reading%s",
                ByteSizes.format((long) s.meanBytesRead()), s.meanReads(), ByteSizes.format((long) s.meanReadBytes()),
                s.readBytesPerSecond() / 1e6, s.windowShrinks() > 0 ? ", " + s.windowShrinks() + " layer-tokens with the window shrunk to fit the cache" : ""));
        return b.toString();
    }
}
