package io.flashlm.cli;

import io.flashlm.bench.BenchReport;
import io.flashlm.bench.EngineBench;
import io.flashlm.bench.MemoryCgroup;
import io.flashlm.bench.PageCache;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.ManifestCodec;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackLayout;
import io.flashlm.pack.PackManifest;
import io.flashlm.planning.FlashCostModel;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.predictor.PredictorStore;
import io.flashlm.predictor.TracePredictor;
import io.flashlm.util.ByteSizes;
import io.flashlm.util.MachineInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * flashlm bench: the paper's ablation on one pack and one DRAM budget. Each mode runs in turn on a
 * cold page cache; mmap runs in a child JVM inside a memory cgroup of the same budget, since its
 * DRAM is whatever the OS page cache is allowed to keep.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run a flash pack in several engine modes under one --memory budget and print the paper's"
                + " table: per-token latency (median, p90) and its breakdown into I/O, memory management, compute and"
                + " prediction; bytes read, read throughput and read size; and the targets, met or missed by how much.",
                "The page cache is dropped before each mode (needs root; the table says when it could not be) and the"
                        + " engine reads with O_DIRECT. mmap runs in a child JVM inside a memory cgroup of --memory"
                        + " plus --mmap-jvm-allowance bytes; without one the table says so and gives no flash/mmap"
                        + " ratio."})
public final class BenchCommand implements Callable<Integer> {
    static final String DEFAULT_MODES = "naive,hybrid,mmap,predictor,window,flash,dense";
    /**
     * What the mmap child's JVM needs on top of the engine's memory: the in-process modes' --memory
     * counts only the engine's buffers, not the JVM, so the cgroup gets --memory plus this. Measured
     * for a child on the tiny pack, after dropping the page cache (cgroup v1 memory.stat): about 60 MiB
     * anonymous (heap under -Xmx96m, metaspace, JIT, stacks) and 85 MiB of file pages the JVM touches
     * (the JDK's modules and libjvm, the jar), all charged to the cgroup; 150-158 MiB peak with the
     * 9 MiB pack. Erring high only gives mmap more page cache than the budget, never less.
     */
    static final String DEFAULT_JVM_ALLOWANCE = "160MiB";
    static final List<String> CHILD_JVM_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "-Xmx96m",
            "-XX:+UseSerialGC");

    @Option(names = "--model", required = true, description = "The flash pack directory (flashlm convert or synth).")
    Path model;

    @Option(names = "--modes", split = ",", defaultValue = DEFAULT_MODES,
            description = "Modes to run, in this order. Default: ${DEFAULT-VALUE}.")
    List<String> modes;

    @Option(names = "--tokens", defaultValue = "64", description = "Tokens generated (greedily) per mode; the figures"
            + " are over these. Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--prompt-tokens", defaultValue = "128", description = "Prompt tokens fed before (they warm the"
            + " caches and are not counted). Default: ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = "--json", description = "Also write the results as JSON here.")
    Path json;

    @Option(names = "--unbundled", description = "The same model as an unbundled pack (flashlm synth/convert"
            + " --layout unbundled): predictor and window then read from it, as the paper's rows without bundling"
            + " do. Without it they read each part of the bundled pack's records separately, which the block layer"
            + " may merge with its neighbour part (the parts of a record are adjacent).")
    Path unbundled;

    @Option(names = "--mmap-jvm-allowance", defaultValue = DEFAULT_JVM_ALLOWANCE, description = "Memory the mmap"
            + " child's JVM gets in its cgroup on top of --memory. Default: ${DEFAULT-VALUE}.")
    String jvmAllowance;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    /** Set for the mmap child: run the modes here, write the JSON, print nothing else. */
    @Option(names = "--child", hidden = true)
    boolean child;

    @Mixin
    EngineOptionsMixin engine = new EngineOptionsMixin();

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        if (!PackFormat.isPack(model)) {
            throw new IllegalArgumentException(model + " is not a flash pack (no manifest.json): bench runs packs;"
                    + " make one with flashlm convert, or a synthetic one with flashlm synth");
        }
        if (engine.memory == null) {
            throw new IllegalArgumentException("bench needs --memory: the DRAM budget every mode runs under (for"
                    + " the paper's setting, half the model's size)");
        }
        List<EngineMode> list = parseModes(modes);
        PrintStream log = quiet ? null : System.err;
        EngineOptions base = baseOptions(model, engine, promptTokens, tokens, log);
        if (child) {
            List<EngineBench.Result> results = new ArrayList<>();
            for (EngineMode m : list) {
                results.add(runOne(model, base.toBuilder().mode(m).build(), promptTokens, tokens, log));
            }
            writeChildJson(results, json);
            return results.stream().anyMatch(r -> r.status() == EngineBench.Status.FAILED) ? 1 : 0;
        }
        if (unbundled != null) {
            checkUnbundledTwin(model, unbundled);
        }
        BenchReport report = run(model, unbundled, base, list, promptTokens, tokens, ByteSizes.parse(jvmAllowance),
                log);
        report.print(System.out);
        if (json != null) {
            report.writeJson(json);
            System.out.println("wrote " + json);
        }
        return exitCode(report);
    }

    static int exitCode(BenchReport report) {
        List<String> failed = report.results().stream().filter(r -> r.status() == EngineBench.Status.FAILED)
                .map(EngineBench.Result::mode).toList();
        if (!failed.isEmpty()) {
            System.err.println("flashlm bench: mode(s) " + String.join(", ", failed) + " failed (see the table)");
            return 1;
        }
        return 0;
    }

    static List<EngineMode> parseModes(List<String> names) {
        List<EngineMode> list = new ArrayList<>();
        for (String n : names) {
            EngineMode m = EngineMode.parse(n);
            if (!list.contains(m)) {
                list.add(m);
            }
        }
        if (list.isEmpty()) {
            throw new IllegalArgumentException("--modes names no mode");
        }
        return list;
    }

    /**
     * The options every mode shares: the mixin's, a KV cache just long enough, and the predictor: the
     * one asked for, else the best the pack stores, else synthetic activation traces.
     */
    static EngineOptions baseOptions(Path pack, EngineOptionsMixin mixin, int promptTokens, int tokens,
                                     PrintStream log) throws IOException {
        if (promptTokens < 1 || tokens < 1) {
            throw new IllegalArgumentException("--prompt-tokens and --tokens must be at least 1, were " + promptTokens
                    + " and " + tokens);
        }
        EngineOptions o = mixin.options(EngineMode.FLASH, pack);
        if (o.memoryBytes().isEmpty()) {
            throw new IllegalArgumentException("--memory must be positive");
        }
        PackManifest m = ManifestCodec.read(pack);
        int needed = promptTokens + tokens + 1;
        int context = mixin.context > 0 ? mixin.context : needed;
        if (context < needed || needed > m.config().contextLength()) {
            throw new IllegalArgumentException(promptTokens + " prompt + " + tokens + " generated tokens need a"
                    + " context of " + needed + " positions; " + (needed > m.config().contextLength()
                    ? "the model holds " + m.config().contextLength() : "--context is " + context));
        }
        o = o.toBuilder().contextLength(context).build();
        if (o.predictor().isEmpty()) {
            List<PredictorKind> stored = PredictorStore.available(pack);
            o = o.toBuilder().predictor(stored.isEmpty() ? PredictorKind.TRACE : stored.getFirst()).build();
            if (stored.isEmpty() && log != null) {
                log.println("flashlm bench: " + pack + " stores no predictor; the predicting modes use synthetic"
                        + " activation traces (--predictor trace)");
            }
        }
        return o;
    }

    /**
     * Runs the modes in order, each on a dropped page cache; mmap in a cgroup'd child JVM when one can
     * be made. Never throws for one mode's failure: the result says what happened.
     */
    static BenchReport run(Path pack, Path unbundled, EngineOptions base, List<EngineMode> modes, int promptTokens,
                           int tokens, long jvmAllowance, PrintStream log) throws IOException {
        PackManifest m = ManifestCodec.read(pack);
        // read before any mode runs, so that a bad probe file fails at once and not after minutes
        FlashCostModel costs = base.probe().isEmpty() ? null : FlashCostModel.fromProbeJson(base.probe().get());
        Map<String, PageCache.DropResult> drops = new LinkedHashMap<>();
        List<EngineBench.Result> results = new ArrayList<>();
        BenchReport.MmapBound mmap = null;
        boolean predicts = modes.stream().anyMatch(EngineMode::predicts);
        TracePredictor.Params traces = predicts && base.predictor().orElse(null) == PredictorKind.TRACE
                ? TracePredictor.opt67b() : null;
        TracePredictor.Stats traceStats = traces == null ? null
                : TracePredictor.simulate(m.config().hiddenDim(), traces, base.window(), 200);
        for (EngineMode mode : modes) {
            PageCache.DropResult drop = PageCache.drop();
            drops.put(mode.id(), drop);
            if (log != null) {
                log.printf(Locale.ROOT, "flashlm bench: %s: %s%n", mode.id(), drop);
            }
            EngineOptions o = base.toBuilder().mode(mode).build();
            if (mode == EngineMode.MMAP) {
                MmapRun r = runMmap(pack, o, promptTokens, tokens, jvmAllowance, log);
                results.add(r.result());
                mmap = r.bound();
            } else if (unbundled != null && (mode == EngineMode.PREDICTOR || mode == EngineMode.WINDOW)) {
                results.add(runOne(unbundled, o, promptTokens, tokens, log)
                        .withNotes(List.of("read from the unbundled pack " + unbundled)));
            } else {
                results.add(runOne(pack, o, promptTokens, tokens, log));
            }
        }
        BenchReport.Setup setup = new BenchReport.Setup(pack, m.source(), shape(m), packBytes(m),
                m.dram().file().size(), ffnBytes(m), base.memoryBytes().orElse(0), promptTokens, tokens,
                base.threads(), base.queueDepth(), base.backend().label(), base.direct(), base.window(),
                predicts ? base.predictor().map(PredictorKind::id).orElse("none") : "none", traces, traceStats,
                base.probe().orElse(null));
        return new BenchReport(setup, MachineInfo.describe(pack), results, drops, mmap, costs, Instant.now());
    }

    /** The unbundled pack must hold the same model as the bundled one, unbundled. */
    static void checkUnbundledTwin(Path bundled, Path unbundled) throws IOException {
        if (!PackFormat.isPack(unbundled)) {
            throw new IllegalArgumentException("--unbundled " + unbundled + " is not a flash pack (no manifest.json)");
        }
        PackManifest a = ManifestCodec.read(bundled);
        PackManifest b = ManifestCodec.read(unbundled);
        if (b.layout() != PackLayout.UNBUNDLED || !a.config().equals(b.config()) || a.dtype() != b.dtype()) {
            throw new IllegalArgumentException("--unbundled " + unbundled + " must be the model of " + bundled
                    + " in the same dtype, unbundled; it is " + b.layout().jsonName() + ", " + b.dtype() + ", "
                    + (a.config().equals(b.config()) ? "the same shape" : "another shape"));
        }
    }

    /** One mode in this process; a failure other than the budget's becomes a FAILED result. */
    static EngineBench.Result runOne(Path pack, EngineOptions o, int promptTokens, int tokens, PrintStream log) {
        long t0 = System.nanoTime();
        try {
            return EngineBench.run(pack, o, promptTokens, tokens, log);
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage() != null ? e.getMessage() : e.getClass().getName();
            return EngineBench.Result.failed(o.mode().id(), EngineBench.Status.FAILED, msg, o.memoryBytes().orElse(0),
                    (System.nanoTime() - t0) / 1e9, List.of());
        }
    }

    record MmapRun(EngineBench.Result result, BenchReport.MmapBound bound) {
    }

    /**
     * mmap in a child JVM inside a memory cgroup of --memory + the JVM allowance, so that the page
     * cache it may keep is held to the budget like the other modes' DRAM; in this process, marked
     * unbounded, when no cgroup can be made.
     */
    static MmapRun runMmap(Path pack, EngineOptions o, int promptTokens, int tokens, long jvmAllowance,
                           PrintStream log) throws IOException {
        long limit = o.memoryBytes().orElse(0) + jvmAllowance;
        MemoryCgroup.Attempt attempt = MemoryCgroup.tryCreate("flashlm-bench-" + ProcessHandle.current().pid(),
                limit);
        if (!attempt.created()) {
            String why = "no memory cgroup: " + attempt.reason();
            if (log != null) {
                log.println("flashlm bench: mmap runs with an unbounded page cache (" + why + "). To hold it by"
                        + " hand, run the mmap mode alone inside a cgroup, e.g.:\n" + MemoryCgroup.manualCommands(limit,
                        "./flashlm bench --model " + pack + " --modes mmap --memory " + o.memoryBytes().orElse(0)));
            }
            EngineBench.Result r = runOne(pack, o, promptTokens, tokens, log);
            return new MmapRun(r.withNotes(List.of("page cache unbounded (no memory cgroup; see the mmap line above)")),
                    BenchReport.MmapBound.unbounded(why));
        }
        Path out = Files.createTempFile("flashlm-bench-mmap-", ".json");
        long t0 = System.nanoTime();
        try (MemoryCgroup cg = attempt.cgroup()) {
            ProcessBuilder pb = new ProcessBuilder(childCommand(pack, o, promptTokens, tokens, out, log == null))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(false);
            Process p = cg.start(pb);
            Deque<String> tail = new ArrayDeque<>();
            try (BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = err.readLine()) != null; ) {
                    if (log != null) {
                        log.println("  [mmap child] " + line);
                    }
                    tail.addLast(line);
                    if (tail.size() > 5) {
                        tail.removeFirst();
                    }
                }
            }
            int rc = waitFor(p);
            long peak = cg.peakBytes();
            long ooms = cg.oomKills();
            BenchReport.MmapBound bound = new BenchReport.MmapBound(true, "a memory cgroup (" + cg.version() + ", "
                    + (cg.swapLimited() ? "swap held too" : "swap not limited") + ")", limit, jvmAllowance, peak,
                    ooms);
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<EngineBench.Result> rs = rc == 0 && Files.size(out) > 0 ? BenchReport.readResults(out) : List.of();
            if (rs.size() != 1) {
                String why = "the child JVM in the cgroup exited with status " + rc
                        + (ooms > 0 ? " after " + ooms + " OOM kill(s): --memory + the JVM allowance ("
                        + ByteSizes.format(limit) + ") cannot hold it (raise --mmap-jvm-allowance?)" : "")
                        + (tail.isEmpty() ? "" : ": " + String.join(" / ", tail));
                return new MmapRun(EngineBench.Result.failed("mmap", EngineBench.Status.FAILED, why, o.memoryBytes().orElse(0),
                        seconds, List.of()), bound);
            }
            return new MmapRun(rs.getFirst(), bound);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static int waitFor(Process p) throws IOException {
        try {
            return p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the mmap child", e);
        }
    }

    /** This JVM and class path, running `bench --child` for mmap alone with the same options. */
    static List<String> childCommand(Path pack, EngineOptions o, int promptTokens, int tokens, Path json,
                                     boolean quiet) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> c = new ArrayList<>(List.of(java));
        c.addAll(CHILD_JVM_FLAGS);
        String lib = System.getProperty("flashlm.native.lib");
        if (lib != null && !lib.isBlank()) {
            c.add("-Dflashlm.native.lib=" + lib);
        }
        c.addAll(List.of("-cp", System.getProperty("java.class.path"), FlashlmCommand.class.getName(), "bench",
                "--child", "--model", pack.toAbsolutePath().toString(), "--modes", o.mode().id(),
                "--memory", Long.toString(o.memoryBytes().orElse(0)), "--tokens", Integer.toString(tokens),
                "--prompt-tokens", Integer.toString(promptTokens), "--json", json.toString(),
                "--context", Integer.toString(o.contextLength().orElse(0)), "--threads", Integer.toString(o.threads()),
                "--queue-depth", Integer.toString(o.queueDepth()), "--backend", o.backend().label(),
                "--window", Integer.toString(o.window()), "--cache-rows", Integer.toString(o.cacheRows().orElse(0))));
        o.predictor().ifPresent(k -> c.addAll(List.of("--predictor", k.id())));
        o.probe().ifPresent(p -> c.addAll(List.of("--probe", p.toAbsolutePath().toString())));
        if (!o.direct()) {
            c.add("--buffered");
        }
        if (quiet) {
            c.add("--quiet");
        }
        return c;
    }

    private static void writeChildJson(List<EngineBench.Result> results, Path json) throws IOException {
        if (json == null) {
            throw new IllegalArgumentException("--child needs --json");
        }
        BenchReport.writeResults(results, json);
    }

    static String shape(PackManifest m) {
        var c = m.config();
        return String.format(Locale.ROOT, "%s, %d layers, d_model %d, FFN %d, %d heads, vocab %d, %s %s",
                c.architecture().name().toLowerCase(Locale.ROOT), c.layers(), c.dim(), c.hiddenDim(), c.heads(),
                c.vocabSize(), m.dtype().name().toLowerCase(Locale.ROOT), m.layout().jsonName());
    }

    static long ffnBytes(PackManifest m) {
        long n = 0;
        for (PackManifest.FfnLayer l : m.ffn().layers()) {
            for (PackManifest.FfnFile f : l.files()) {
                n += f.size();
            }
        }
        return n;
    }

    static long packBytes(PackManifest m) {
        return m.dram().file().size() + ffnBytes(m);
    }
}
