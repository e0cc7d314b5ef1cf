package io.flashlm.cli;

import io.flashlm.bench.BenchReport;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.kernels.ComputePool;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.ManifestCodec;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackLayout;
import io.flashlm.pack.PackManifest;
import io.flashlm.predictor.PredictorKind;
import io.flashlm.synth.SyntheticPackWriter;
import io.flashlm.synth.SyntheticShape;
import io.flashlm.tensor.DType;
import io.flashlm.util.ByteSizes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * flashlm demo: the main claim on a fresh machine, with nothing to download. Synthesizes an
 * OPT-shaped model twice the size of the DRAM budget, runs it naively and with every technique, and
 * prints the comparison table.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Synthesize an OPT-shaped f16 model twice the size of --memory, run it with the naive and the"
                + " flash modes under that budget, and print the comparison table (a few minutes).",
                "The pack is reused by later runs with --keep, and deleted otherwise. The predictor is synthetic"
                        + " activation traces with OPT-6.7B's statistics (the weights are random)."})
public final class DemoCommand implements Callable<Integer> {
    /** The demo model: OPT's layer proportions at d_model 2048, so that a bundle is 8 KiB (4 KiB per part). */
    static final int DIM = 2048;
    static final int FFN = 4 * DIM;
    static final int HEADS = 16;
    /**
     * Smaller than OPT's 50272 so that the embedding is the share of the model it is in OPT-6.7B (3%):
     * at half the model, the budget then leaves the neuron caches about what the paper's setting does
     * (23% of the FFN), where a 5-token window of OPT-6.7B's activations needs about 22%.
     */
    static final int VOCAB = 4096;
    static final int CONTEXT = 512;
    static final long SEED = 42;

    @Option(names = "--dir", defaultValue = "/var/tmp/flashlm-demo", description = "Where the synthetic pack goes"
            + " (on the flash device to measure; not a tmpfs). Default: ${DEFAULT-VALUE}.")
    Path dir;

    @Option(names = "--memory", defaultValue = "256MiB", description = "The DRAM budget; the model is twice this."
            + " Default: ${DEFAULT-VALUE}.")
    String memory;

    @Option(names = "--tokens", defaultValue = "16", description = "Tokens generated per mode. Default:"
            + " ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--prompt-tokens", defaultValue = "8", description = "Prompt tokens before them. Default:"
            + " ${DEFAULT-VALUE}.")
    int promptTokens;

    @Option(names = "--probe", description = "A flashlm probe JSON to seed the flash mode's read planner and for the"
            + " I/O target. Default: the probe file of the pack's device in the user's cache when present.")
    Path probe;

    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--json", description = "Also write the results as JSON here.")
    Path json;

    @Option(names = "--keep", description = "Keep the synthetic pack for the next run (else it is deleted).")
    boolean keep;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;

    /** The demo's model for a budget: OPT proportions, as many layers as make it about twice the budget. */
    static SyntheticShape shape(long memoryBytes) {
        SyntheticPackWriter.Options o = writerOptions(Path.of("unused"), 1);
        long one = SyntheticPackWriter.plannedBytes(SyntheticShape.custom("opt", 1, DIM, FFN, HEADS, VOCAB, CONTEXT,
                null), o);
        long two = SyntheticPackWriter.plannedBytes(SyntheticShape.custom("opt", 2, DIM, FFN, HEADS, VOCAB, CONTEXT,
                null), o);
        long perLayer = two - one;
        long fixed = one - perLayer;
        int layers = (int) Math.max(2, Math.round((2.0 * memoryBytes - fixed) / perLayer));
        if (layers > 512) {
            throw new IllegalArgumentException("--memory " + ByteSizes.format(memoryBytes) + " would need a demo model"
                    + " of " + layers + " layers; use at most a few GiB");
        }
        return SyntheticShape.custom("opt", layers, DIM, FFN, HEADS, VOCAB, CONTEXT, null);
    }

    static SyntheticPackWriter.Options writerOptions(Path out, int threads) {
        return new SyntheticPackWriter.Options(out, DType.F16, PackLayout.BUNDLED, 4096, SEED, 0.97, threads, true);
    }

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        long start = System.nanoTime();
        long budget = ByteSizes.parse(memory);
        if (budget < (64L << 20)) {
            throw new IllegalArgumentException("--memory " + memory + " is too small for the demo: at least 64MiB");
        }
        if (tokens < 1 || promptTokens < 1) {
            throw new IllegalArgumentException("--tokens and --prompt-tokens must be at least 1");
        }
        PrintStream log = quiet ? null : System.err;
        int t = threads != null ? threads : ComputePool.defaultThreads(256);
        SyntheticShape shape = shape(budget);
        SyntheticPackWriter.Options wo = writerOptions(dir, Runtime.getRuntime().availableProcessors());
        long size = SyntheticPackWriter.plannedBytes(shape, wo);
        System.out.printf(Locale.ROOT, "flashlm demo: a synthetic OPT-shaped model of %s (%d layers, d_model %d, FFN"
                        + " %d, f16, bundled) under a DRAM budget of %s, naive against flash%n", ByteSizes.format(size),
                shape.config().layers(), DIM, FFN, ByteSizes.format(budget));
        boolean reused = sameShape(dir, shape);
        if (reused) {
            System.out.println("reusing the pack in " + dir);
        } else {
            if (Files.exists(dir) && !PackFormat.isPack(dir) && !isEmpty(dir)) {
                throw new IllegalArgumentException(dir + " exists and is not a flash pack; pass another --dir");
            }
            SyntheticPackWriter.Result r = SyntheticPackWriter.write(shape, wo, log == null
                    ? new PrintStream(java.io.OutputStream.nullOutputStream()) : log, log != null);
            System.out.printf(Locale.ROOT, "synthesized %s in %.1f s (%.0f MB/s)%n", ByteSizes.format(r.bytes()),
                    r.seconds(), r.megabytesPerSecond());
        }
        try {
            Path costs = probe != null ? probe : EngineOptionsMixin.defaultProbe(dir);
            EngineOptions base = EngineOptions.builder().memory(budget).predictor(PredictorKind.TRACE).threads(t)
                    .contextLength(promptTokens + tokens + 1).probe(costs).build();
            BenchReport report = BenchCommand.run(dir, null, base, List.of(EngineMode.NAIVE, EngineMode.FLASH), promptTokens,
                    tokens, ByteSizes.parse(BenchCommand.DEFAULT_JVM_ALLOWANCE), log);
            System.out.println();
            report.print(System.out);
            if (json != null) {
                report.writeJson(json);
                System.out.println("wrote " + json);
            }
            if (costs == null) {
                System.out.println("(no probe of this device in the cache: the read planner learned the device from its"
                        + " own reads, and the I/O target was not checked; `./flashlm probe --file "
                        + dir.toAbsolutePath().getParent().resolve("flashlm-probe.bin") + "` makes one)");
            }
            System.out.printf(Locale.ROOT, "demo took %.0f s%s%n", (System.nanoTime() - start) / 1e9,
                    keep ? "; the pack stays in " + dir + " for the next run" : "");
            return BenchCommand.exitCode(report);
        } finally {
            if (!keep) {
                deleteRecursively(dir);
            }
        }
    }

    /** Whether dir holds the demo's pack for this shape already (same config, dtype, layout and seed). */
    static boolean sameShape(Path dir, SyntheticShape shape) {
        if (!PackFormat.isPack(dir)) {
            return false;
        }
        try {
            PackManifest m = ManifestCodec.read(dir);
            return m.config().equals(shape.config()) && m.dtype() == DType.F16 && m.layout() == PackLayout.BUNDLED
                    && m.source().contains("seed " + SEED) && m.source().contains(shape.name());
        } catch (IOException | RuntimeException e) {
            return false; // unreadable: it is rewritten
        }
    }

    private static boolean isEmpty(Path p) throws IOException {
        if (!Files.isDirectory(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        }
    }

    /** Deletes the demo pack; only ever called on a directory this command wrote or checked to be a pack. */
    private static void deleteRecursively(Path dir) throws IOException {
        if (!PackFormat.isPack(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
