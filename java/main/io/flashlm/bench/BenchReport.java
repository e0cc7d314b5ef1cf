package io.flashlm.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.flashlm.api.Session;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineStats;
import io.flashlm.planning.FlashCostModel;
import io.flashlm.predictor.TracePredictor;
import io.flashlm.util.ByteSizes;
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
import java.util.Optional;

/**
 * `flashlm bench`'s results: a table shaped like the paper's (one row per mode: latency, its
 * breakdown, bytes read and how fast), the targets (met, missed by how much, or why not
 * checked), and JSON (format "flashlm-bench", version 1) with the machine, the pack and the options.
 */
public record BenchReport(Setup setup, MachineInfo machine, List<EngineBench.Result> results,
                          Map<String, PageCache.DropResult> drops, MmapBound mmap, FlashCostModel costs,
                          Instant created) {
    public static final String FORMAT = "flashlm-bench";
    public static final int VERSION = 1;

    /** Where the targets come from: the paper's setting, not necessarily this run's. */
    public static final String TARGET_SETTING = "opt-6.7b f16 with --memory half the model";
    public static final double NAIVE_SPEEDUP = 5.0;
    public static final double MMAP_SPEEDUP = 3.0;
    public static final double IO_EFFICIENCY = 1.5;
    public static final double BUNDLING_GAIN = 1.7;
    public static final double MEMORY_SHARE = 0.15;
    /** Prompt tokens per second against generated ones, with the model in DRAM (the native engine: 6.2x). */
    public static final double PREFILL_SPEEDUP = 5.0;

    /**
     * What was run, on what.
     *
     * @param model       the model's description (architecture, sizes, dtype)
     * @param shape       e.g. "opt, 12 layers, d_model 2048, FFN 8192, vocab 50272"
     * @param packBytes   dram.bin plus the FFN files
     * @param predictor   the predictor kind the predicting modes use
     * @param traces      the synthetic traces' parameters when the predictor is "trace", else null
     * @param traceStats  what those traces realise on this pack's FFN width, else null
     * @param probe       the probe JSON giving the cost model, or null
     */
    public record Setup(Path pack, String model, String shape, long packBytes, long dramBytes, long ffnBytes,
                        long memoryBytes, int promptTokens, int tokens, int threads, int queueDepth, String backend,
                        boolean direct, int window, String predictor, TracePredictor.Params traces,
                        TracePredictor.Stats traceStats, Path probe) {
    }

    /**
     * How mmap's page cache was held: {@code bounded} when it ran in a memory cgroup of
     * {@code limitBytes} (= --memory + {@code jvmAllowanceBytes}); else {@code how} says why not.
     * {@code peakBytes} and {@code oomKills} are -1 where unknown.
     */
    public record MmapBound(boolean bounded, String how, long limitBytes, long jvmAllowanceBytes, long peakBytes,
                            long oomKills) {
        public static MmapBound unbounded(String why) {
            return new MmapBound(false, why, 0, 0, -1, -1);
        }
    }

    /** One target: its measured value (NaN when not checked), what it needs, and the verdict. */
    public record Target(String name, double measured, String unit, boolean atLeast, double required, String status,
                         String detail) {
        public boolean checked() {
            return !Double.isNaN(measured);
        }

        String measuredText() {
            return !checked() ? "n/a"
                    : unit.equals("%") ? fmt("%.1f%%", 100 * measured) : fmt("%.2f%s", measured, unit);
        }

        String requiredText() {
            String v = unit.equals("%") ? fmt("%.0f%%", 100 * required) : fmt("%.1f%s", required, unit);
            return (atLeast ? ">= " : unit.equals("%") ? "< " : "<= ") + v;
        }
    }

    public Optional<EngineBench.Result> result(EngineMode mode) {
        return results.stream().filter(r -> r.mode().equals(mode.id())).findFirst();
    }

    private Optional<EngineStats.Summary> ran(EngineMode mode) {
        return result(mode).filter(EngineBench.Result::ok).map(EngineBench.Result::summary);
    }

    /** Speed-up of {@code r} over naive (median latencies), or NaN. */
    public double speedupVsNaive(EngineBench.Result r) {
        Optional<EngineStats.Summary> naive = ran(EngineMode.NAIVE);
        if (naive.isEmpty() || !r.ok() || r.summary().medianNanos() <= 0) {
            return Double.NaN;
        }
        return naive.get().medianNanos() / r.summary().medianNanos();
    }

    /** The targets for the flash mode, each checked where this run allows. */
    public List<Target> targets() {
        List<Target> t = new ArrayList<>();
        Optional<EngineStats.Summary> flash = ran(EngineMode.FLASH);
        String noFlash = "flash " + notRun(EngineMode.FLASH);

        Optional<EngineStats.Summary> naive = ran(EngineMode.NAIVE);
        t.add(flash.isEmpty() ? na("flash vs naive (median latency)", "x", true, NAIVE_SPEEDUP, noFlash)
                : naive.isEmpty() ? na("flash vs naive (median latency)", "x", true, NAIVE_SPEEDUP,
                "naive " + notRun(EngineMode.NAIVE))
                : check("flash vs naive (median latency)", naive.get().medianNanos() / flash.get().medianNanos(), "x",
                true, NAIVE_SPEEDUP, ""));

        Optional<EngineStats.Summary> mm = ran(EngineMode.MMAP);
        String mmapName = "flash vs mmap (median latency)";
        if (flash.isEmpty()) {
            t.add(na(mmapName, "x", true, MMAP_SPEEDUP, noFlash));
        } else if (mm.isEmpty()) {
            t.add(na(mmapName, "x", true, MMAP_SPEEDUP, "mmap " + notRun(EngineMode.MMAP)));
        } else if (mmap == null || !mmap.bounded()) {
            t.add(na(mmapName, "x", true, MMAP_SPEEDUP, "mmap's page cache was not held to --memory ("
                    + (mmap == null ? "no memory cgroup" : mmap.how()) + "), so the ratio would not compare like"
                    + " with like"));
        } else {
            t.add(check(mmapName, mm.get().medianNanos() / flash.get().medianNanos(), "x", true, MMAP_SPEEDUP, ""));
        }

        String ioName = "flash I/O time vs the probe's (bytes / throughput)";
        if (flash.isEmpty()) {
            t.add(na(ioName, "x", false, IO_EFFICIENCY, noFlash));
        } else if (costs == null) {
            t.add(na(ioName, "x", false, IO_EFFICIENCY, "no probe: target not checked (run flashlm probe, or pass"
                    + " --probe flashlm-probe.json)"));
        } else if (flash.get().meanReads() == 0 || flash.get().meanIoNanos() == 0) {
            t.add(na(ioName, "x", false, IO_EFFICIENCY, "flash read nothing in the generated tokens"));
        } else {
            EngineStats.Summary f = flash.get();
            long size = Math.max(1, Math.round(f.meanReadBytes()));
            // throughput(size, depth) is the device's rate with depth reads of that size in flight, so
            // the expected time is the bytes over that rate: bytes * readNanos(size, depth) / size.
            double expected = f.meanBytesRead() * costs.readNanos(size, setup.queueDepth()) / size;
            t.add(check(ioName, f.meanIoNanos() / expected, "x", false, IO_EFFICIENCY, fmt("%.2f ms measured,"
                    + " %.2f ms expected for %s per token at %s reads, depth %d", f.meanIoNanos() / 1e6,
                    expected / 1e6, ByteSizes.format((long) f.meanBytesRead()), ByteSizes.format(size),
                    setup.queueDepth())));
        }

        String bundleName = "bundling: flash read throughput vs window's";
        Optional<EngineStats.Summary> window = ran(EngineMode.WINDOW);
        if (flash.isEmpty()) {
            t.add(na(bundleName, "x", true, BUNDLING_GAIN, noFlash));
        } else if (window.isEmpty()) {
            t.add(na(bundleName, "x", true, BUNDLING_GAIN, "window " + notRun(EngineMode.WINDOW)));
        } else if (window.get().readBytesPerSecond() == 0 || flash.get().readBytesPerSecond() == 0) {
            t.add(na(bundleName, "x", true, BUNDLING_GAIN, "a mode read nothing in the generated tokens"));
        } else {
            t.add(check(bundleName, flash.get().readBytesPerSecond() / window.get().readBytesPerSecond(), "x", true,
                    BUNDLING_GAIN, fmt("%.1f vs %.1f MB/s", flash.get().readBytesPerSecond() / 1e6,
                            window.get().readBytesPerSecond() / 1e6)));
        }

        String prefillName = "dense prefill vs decode (tokens/s)";
        Optional<EngineBench.Result> dense = result(EngineMode.DENSE).filter(EngineBench.Result::ok);
        if (dense.isEmpty()) {
            t.add(na(prefillName, "x", true, PREFILL_SPEEDUP, "dense " + notRun(EngineMode.DENSE)));
        } else if (Double.isNaN(dense.get().prefillTokensPerSecond())) {
            t.add(na(prefillName, "x", true, PREFILL_SPEEDUP, "no prefill figure"));
        } else {
            double decode = 1e9 / dense.get().summary().medianNanos();
            t.add(check(prefillName, dense.get().prefillTokensPerSecond() / decode, "x", true, PREFILL_SPEEDUP,
                    fmt("%.1f vs %.1f tokens/s", dense.get().prefillTokensPerSecond(), decode)));
        }

        String memName = "flash memory management share of latency";
        t.add(flash.isEmpty() ? na(memName, "%", false, MEMORY_SHARE, noFlash)
                : check(memName, flash.get().meanMemoryNanos() / flash.get().meanNanos(), "%", false, MEMORY_SHARE,
                fmt("%.2f of %.2f ms (means)", flash.get().meanMemoryNanos() / 1e6, flash.get().meanNanos() / 1e6)));
        return t;
    }

    private String notRun(EngineMode mode) {
        return result(mode).map(r -> r.ok() ? "ran" : r.status().label() + (r.error().isEmpty() ? ""
                : ": " + r.error())).orElse("was not run (see --modes)");
    }

    private static Target na(String name, String unit, boolean atLeast, double required, String why) {
        return new Target(name, Double.NaN, unit, atLeast, required, "n/a", why);
    }

    /** Pass, or MISS with how far off: short by a share of the requirement, or over it by a share. */
    private static Target check(String name, double measured, String unit, boolean atLeast, double required,
                                String detail) {
        boolean pass = atLeast ? measured >= required : unit.equals("%") ? measured < required : measured <= required;
        String status;
        if (pass) {
            status = "pass";
        } else if (atLeast) {
            status = fmt("MISS: %.0f%% short", 100 * (1 - measured / required));
        } else {
            status = fmt("MISS: %.0f%% over", 100 * (measured / required - 1));
        }
        return new Target(name, measured, unit, atLeast, required, status, detail);
    }

    // ---------------------------------------------------------------- the table

    public void print(PrintStream out) {
        Setup s = setup;
        out.printf(Locale.ROOT, "flashlm bench: %s%n", s.pack());
        out.printf(Locale.ROOT, "  model: %s; %s in all: DRAM part %s, FFN %s%n", s.shape(),
                ByteSizes.format(s.packBytes()), ByteSizes.format(s.dramBytes()), ByteSizes.format(s.ffnBytes()));
        out.printf(Locale.ROOT, "  machine: %s, %d cores, %s RAM; %s; %s on %s (%s); %s%n", machine.cpu(),
                machine.cores(), ByteSizes.format(machine.memoryBytes()), machine.kernel(), s.pack(),
                machine.device(), machine.filesystem(), machine.jdk());
        out.printf(Locale.ROOT, "  budget: --memory %s (%.0f%% of the model); %d prompt tokens, then %d generated"
                        + " greedily; figures are over the generated tokens%n", ByteSizes.format(s.memoryBytes()),
                100.0 * s.memoryBytes() / s.packBytes(), s.promptTokens(), s.tokens());
        out.printf(Locale.ROOT, "  reads: %s, backend %s, queue depth %d, %d compute threads%n", s.direct()
                ? "O_DIRECT (the page cache is bypassed)" : "buffered (through the page cache!)", s.backend(),
                s.queueDepth(), s.threads());
        out.printf(Locale.ROOT, "  cost model: %s%n", s.probe() == null ? "learned from the reads from a neutral"
                + " start (no probe: flash merges only neighbouring records until its reads show that gaps pay; the"
                + " I/O target is not checked)" : "learned from the reads, seeded by " + s.probe()
                + " (flashlm probe); per mode below, as each run left it");
        out.printf(Locale.ROOT, "  page cache: %s%n", cacheMethod());
        out.printf(Locale.ROOT, "  predictor: %s%n", predictorText());
        if (result(EngineMode.MMAP).isPresent()) {
            out.printf(Locale.ROOT, "  mmap: %s%n", mmapText());
        }
        out.println();
        out.printf(Locale.ROOT, "%-10s %9s %9s %9s | %9s %9s %9s %9s | %10s %8s %9s %6s | %8s | %9s%n", "mode",
                "median ms", "p90 ms", "mean ms", "I/O ms", "mem ms", "compute", "predict", "read/tok", "MB/s",
                "mean read", "hits", "speed-up", "prefill/s");
        for (EngineBench.Result r : results) {
            String name = r.mode() + (r.mode().equals("mmap") && (mmap == null || !mmap.bounded()) ? "*" : "");
            if (!r.ok()) {
                out.printf(Locale.ROOT, "%-10s %s: %s%n", name, r.status().label(), r.error());
                continue;
            }
            EngineStats.Summary m = r.summary();
            boolean mapped = r.mode().equals("mmap"); // page faults: I/O hides inside compute
            out.printf(Locale.ROOT, "%-10s %9.1f %9.1f %9.1f | %9s %9.1f %9.1f %9.1f | %10s %8s %9s %6s | %8s | %9s%n",
                    name, ms(m.medianNanos()), ms(m.p90Nanos()), ms(m.meanNanos()),
                    mapped ? "-" : fmt("%.1f", ms(m.meanIoNanos())), ms(m.meanMemoryNanos()),
                    ms(m.meanComputeNanos()), ms(m.meanPredictNanos()),
                    m.meanBytesRead() == 0 ? "-" : ByteSizes.format((long) m.meanBytesRead()),
                    m.readBytesPerSecond() == 0 ? "-" : fmt("%.1f", m.readBytesPerSecond() / 1e6),
                    m.meanReads() == 0 ? "-" : ByteSizes.format((long) m.meanReadBytes()),
                    Double.isNaN(m.hitRate()) ? "-" : fmt("%.0f%%", 100 * m.hitRate()),
                    Double.isNaN(speedupVsNaive(r)) ? "-" : fmt("%.2fx", speedupVsNaive(r)),
                    Double.isNaN(r.prefillTokensPerSecond()) ? "-" : fmt("%.1f", r.prefillTokensPerSecond()));
        }
        out.println("  ms per token. I/O, mem (memory management), compute and predict are means; they add up to the"
                + " mean. read/tok: bytes read from flash per token; MB/s: while reading; hits: neurons already in"
                + " DRAM; speed-up: naive's median over the mode's; prefill/s: the prompt's tokens per second, run"
                + " again in chunks of " + Session.DEFAULT_PREFILL_CHUNK + " once the mode is warm.");
        if (result(EngineMode.MMAP).filter(EngineBench.Result::ok).isPresent()) {
            out.println("  mmap: bytes are what the kernel fetched (/proc/self/io); its I/O time is inside compute"
                    + " (page faults)." + (mmap == null || !mmap.bounded() ? " * page cache NOT held to --memory."
                    : ""));
        }
        for (EngineBench.Result r : results) {
            for (String note : r.notes()) {
                out.printf(Locale.ROOT, "  %s: %s%n", r.mode(), note);
            }
        }
        out.println();
        out.printf(Locale.ROOT, "targets (set for %s; this run: %s, --memory %.0f%% of the model):%n", TARGET_SETTING,
                s.shape(), 100.0 * s.memoryBytes() / s.packBytes());
        for (Target t : targets()) {
            out.printf(Locale.ROOT, "  %-52s %8s  %-8s %s%s%n", t.name(), t.measuredText(), t.requiredText(),
                    t.status(), t.detail().isEmpty() ? "" : " (" + t.detail() + ")");
        }
    }

    private String cacheMethod() {
        long dropped = drops.values().stream().filter(PageCache.DropResult::dropped).count();
        String reads = setup.direct() ? "engine reads use O_DIRECT and bypass it" : "engine reads are buffered";
        if (drops.isEmpty()) {
            return "not dropped; " + reads;
        }
        if (dropped == drops.size()) {
            return "dropped before each mode; " + reads + " (mmap and the mapped dram.bin go through it)";
        }
        String why = drops.values().stream().filter(d -> !d.dropped()).map(PageCache.DropResult::reason)
                .findFirst().orElse("");
        return (dropped == 0 ? "NOT dropped (" : "dropped before " + dropped + " of " + drops.size() + " modes (")
                + why + "); " + reads + ", but mmap and the mapped dram.bin may be served from the cache";
    }

    private String predictorText() {
        if (setup.traces() == null) {
            return setup.predictor() + " (stored in the pack); no synthetic traces";
        }
        TracePredictor.Params p = setup.traces();
        StringBuilder b = new StringBuilder(fmt("trace: synthetic activation traces with OPT-6.7B's statistics"
                        + " (%.1f%% of the FFN predicted per token, %.1f%% new with a %d-token window, popularity"
                        + " skew %.1f, seed %d)", 100 * p.predictedShare(), 100 * p.newShare(),
                TracePredictor.CALIBRATION_WINDOW, p.popularitySkew(), p.seed()));
        TracePredictor.Stats st = setup.traceStats();
        if (st != null) {
            b.append(fmt("; realised on %d neurons with a %d-token window: %.1f%% predicted, %.1f%% new,"
                            + " %.1f%% resident per token", st.neurons(), st.window(), 100 * st.predictedShare(),
                    100 * st.newShare(), 100 * st.residentShare()));
        }
        return b.toString();
    }

    private String mmapText() {
        if (mmap == null) {
            return "page cache unbounded";
        }
        if (!mmap.bounded()) {
            return "page cache NOT held to --memory: " + mmap.how() + "; no flash/mmap ratio";
        }
        return fmt("in %s, limit %s (--memory + %s for the child JVM itself); peak %s, %s OOM kills",
                mmap.how(), ByteSizes.format(mmap.limitBytes()), ByteSizes.format(mmap.jvmAllowanceBytes()),
                mmap.peakBytes() < 0 ? "unknown" : ByteSizes.format(mmap.peakBytes()),
                mmap.oomKills() < 0 ? "unknown" : Long.toString(mmap.oomKills()));
    }

    // ---------------------------------------------------------------- JSON

    /**
     * The JSON mapper: records become objects with their components in order, named in snake_case
     * ({@code medianNanos} -> {@code median_nanos}); NaN and infinities, which JSON cannot hold, are
     * written as null, and a null read into a {@code double} is NaN again.
     */
    static final ObjectMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule("finite doubles")
                    .addSerializer(double.class, new FiniteOrNull())
                    .addSerializer(Double.class, new FiniteOrNull())
                    .addDeserializer(double.class, new NanForNull()))
            .build();

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("created", created.toString());
        m.put("machine", machine.toMap());
        Setup s = setup;
        Map<String, Object> pack = new LinkedHashMap<>();
        pack.put("path", s.pack().toAbsolutePath().toString());
        pack.put("model", s.model());
        pack.put("shape", s.shape());
        pack.put("bytes", s.packBytes());
        pack.put("dram_bytes", s.dramBytes());
        pack.put("ffn_bytes", s.ffnBytes());
        m.put("pack", pack);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("memory_bytes", s.memoryBytes());
        o.put("prompt_tokens", s.promptTokens());
        o.put("tokens", s.tokens());
        o.put("threads", s.threads());
        o.put("queue_depth", s.queueDepth());
        o.put("backend", s.backend());
        o.put("direct", s.direct());
        o.put("window", s.window());
        o.put("predictor", s.predictor());
        o.put("probe", s.probe() == null ? null : s.probe().toAbsolutePath().toString());
        m.put("options", o);
        Map<String, Object> cache = new LinkedHashMap<>();
        cache.put("method", cacheMethod());
        cache.put("drops", drops);
        m.put("page_cache", cache);
        Map<String, Object> tr = new LinkedHashMap<>();
        tr.put("used", s.traces() != null);
        tr.put("description", predictorText());
        if (s.traces() != null) {
            tr.put("params", s.traces());
            tr.put("stats", s.traceStats());
        }
        m.put("traces", tr);
        if (mmap != null) {
            ObjectNode mm = JSON.valueToTree(mmap);
            mm.put("description", mmapText());
            m.put("mmap", mm);
        }
        List<Map<String, Object>> modes = new ArrayList<>();
        for (EngineBench.Result r : results) {
            modes.add(resultMap(r, speedupVsNaive(r)));
        }
        m.put("modes", modes);
        List<Map<String, Object>> targets = new ArrayList<>();
        for (Target t : targets()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("name", t.name());
            x.put("measured", t.measured());
            x.put("required", t.requiredText());
            x.put("status", t.status());
            x.put("detail", t.detail());
            targets.add(x);
        }
        m.put("targets", targets);
        m.put("target_setting", TARGET_SETTING);
        return m;
    }

    static Map<String, Object> resultMap(EngineBench.Result r, double speedup) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("mode", r.mode());
        x.put("status", r.status().id());
        x.put("error", r.error());
        if (r.ok()) {
            EngineStats.Summary s = r.summary();
            x.put("median_ms", ms(s.medianNanos()));
            x.put("p90_ms", ms(s.p90Nanos()));
            x.put("mean_ms", ms(s.meanNanos()));
            x.put("io_ms", ms(s.meanIoNanos()));
            x.put("memory_ms", ms(s.meanMemoryNanos()));
            x.put("compute_ms", ms(s.meanComputeNanos()));
            x.put("predict_ms", ms(s.meanPredictNanos()));
            x.put("bytes_read_per_token", s.meanBytesRead());
            x.put("read_mb_per_s", s.readBytesPerSecond() / 1e6);
            x.put("mean_read_bytes", s.meanReadBytes());
            x.put("hit_rate", s.hitRate());
            x.put("tokens_per_s", s.tokensPerSecond());
            x.put("speedup_vs_naive", speedup);
            x.put("prefill_tokens_per_s", r.prefillTokensPerSecond());
            x.put("summary", s);
        }
        x.put("budget_used_bytes", r.budgetUsed());
        x.put("budget_limit_bytes", r.budgetLimit());
        x.put("cache_rows", r.cacheRows());
        x.put("predictor", r.predictor());
        x.put("direct", r.direct());
        x.put("seconds", r.seconds());
        x.put("budget_table", r.budgetTable());
        x.put("notes", r.notes());
        return x;
    }

    /** One mode's result back from {@link #resultMap}'s JSON (a child process's run). */
    public static EngineBench.Result parseResult(JsonNode x) throws IOException {
        EngineBench.Status status = EngineBench.Status.parse(x.path("status").asText());
        EngineStats.Summary summary = null;
        if (status == EngineBench.Status.OK) {
            if (!x.path("summary").isObject()) {
                throw new IOException("bench JSON: mode " + x.path("mode") + " ran but has no summary");
            }
            summary = JSON.treeToValue(x.path("summary"), EngineStats.Summary.class);
        }
        List<String> notes = new ArrayList<>();
        x.path("notes").forEach(n -> notes.add(n.asText()));
        return new EngineBench.Result(x.path("mode").asText(), status, x.path("error").asText(), summary,
                x.path("budget_used_bytes").asLong(), x.path("budget_limit_bytes").asLong(),
                x.path("cache_rows").asInt(), x.path("predictor").isNull() ? null : x.path("predictor").asText(null),
                x.path("direct").asBoolean(), x.path("seconds").asDouble(), x.path("budget_table").asText(), notes,
                x.path("prefill_tokens_per_s").isNumber() ? x.path("prefill_tokens_per_s").asDouble() : Double.NaN);
    }

    /** Reads a bench JSON file's modes. */
    public static List<EngineBench.Result> readResults(Path json) throws IOException {
        JsonNode root = JSON.readTree(json.toFile());
        if (!FORMAT.equals(root.path("format").asText())) {
            throw new IOException(json + ": format: expected \"" + FORMAT + "\" (written by flashlm bench)");
        }
        List<EngineBench.Result> out = new ArrayList<>();
        for (JsonNode n : root.path("modes")) {
            out.add(parseResult(n));
        }
        return out;
    }

    /** Just the modes (what the mmap child hands back), in the same format. */
    public static void writeResults(List<EngineBench.Result> results, Path target) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("modes", results.stream().map(r -> resultMap(r, Double.NaN)).toList());
        writeJson(m, target);
    }

    /** Writes the JSON next to its final name and renames it, so a reader never sees half a file. */
    public void writeJson(Path target) throws IOException {
        writeJson(toMap(), target);
    }

    static void writeJson(Map<String, Object> map, Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        JSON.writeValue(tmp.toFile(), map);
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A double as a JSON number, or null when it is NaN or infinite. */
    private static final class FiniteOrNull extends StdSerializer<Double> {
        FiniteOrNull() {
            super(Double.class);
        }

        @Override
        public void serialize(Double v, JsonGenerator g, SerializerProvider p) throws IOException {
            if (v.isNaN() || v.isInfinite()) {
                g.writeNull();
            } else {
                g.writeNumber(v);
            }
        }
    }

    /** A double from a JSON number; null gives NaN (what {@link FiniteOrNull} wrote it for). */
    private static final class NanForNull extends StdScalarDeserializer<Double> {
        NanForNull() {
            super(Double.class);
        }

        @Override
        public Double deserialize(JsonParser p, DeserializationContext c) throws IOException {
            return _parseDoublePrimitive(p, c);
        }

        @Override
        public Double getNullValue(DeserializationContext c) {
            return Double.NaN;
        }
    }

    private static double ms(double nanos) {
        return nanos / 1e6;
    }

    static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }
}
