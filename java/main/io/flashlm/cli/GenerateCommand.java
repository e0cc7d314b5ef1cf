package io.flashlm.cli;

import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.GenerationStats;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.engine.EngineMode;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.EngineStats;
import io.flashlm.engine.StatsReport;
import io.flashlm.kernels.ComputePool;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.pack.ManifestCodec;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackManifest;
import io.flashlm.pack.PackTokenizer;
import io.flashlm.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/** flashlm generate: stream a continuation of a prompt, then the speed of each phase. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generate text from a prompt.",
                "With a flash pack (flashlm convert/synth), the flash engine runs it: the FFN stays on flash and is read"
                        + " as --mode says, under the --memory budget. Other models (llama2.c .bin, GGUF, a Hugging"
                        + " Face directory) run in DRAM."})
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "A flash pack directory, a .gguf file, a llama2.c"
            + " checkpoint or a Hugging Face model directory.")
    Path model;

    @Option(names = "--mode", description = "Flash packs: dense, naive, hybrid, mmap, predictor, window or flash."
            + " Default: flash.")
    String mode;

    @Option(names = "--stats", description = "Flash packs: print the memory account and per-token statistics.")
    boolean stats;

    @picocli.CommandLine.Mixin
    EngineOptionsMixin engine = new EngineOptionsMixin();

    @Option(names = "--tokenizer", description = "Tokenizer file of a llama2.c checkpoint (default: tokenizer.bin or"
            + " tok<vocab>.bin beside it).")
    Path tokenizer;

    @Option(names = "--prompt", required = true, description = "The text to continue.")
    String prompt;

    @picocli.CommandLine.Mixin
    GenerationOptionsMixin sampling = new GenerationOptionsMixin();

    @Option(names = "--ids", description = "Also print the prompt and generated token ids.")
    boolean printIds;

    @Override
    public Integer call() throws Exception {
        NativeLibrary.require(); // before any work: a missing library is one clear message
        int threads = engine.threads != null ? engine.threads : ComputePool.defaultThreads(256);
        boolean pack = PackFormat.isPack(model);
        if (!pack && (mode != null || stats || engine.anyGiven())) {
            throw new IllegalArgumentException("--mode, --memory, --stats and the other engine options need a flash"
                    + " pack, and " + model + " is not one (make one with flashlm convert)");
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (FlashModel m = pack ? FlashModel.open(model, engineOptions()) : FlashModel.open(model,
                ModelOptions.defaults().withTokenizer(tokenizer).withThreads(threads).withContext(engine.context));
             Session session = sampling.configure(m.newSession())) {
            System.err.println("flashlm: " + m.describe());
            if (stats && m.engine().isPresent()) {
                System.err.println("memory account:\n" + m.engine().get().budget().table());
            }
            GenerateOptions g = sampling.options();
            out.print(prompt);
            Generation result = session.generate(prompt, g, (id, text) -> out.print(text));
            out.println();
            GenerationStats s = result.stats();
            if (printIds) {
                System.err.println("prompt ids: " + Arrays.toString(result.promptIds()));
                System.err.println("generated ids: " + Arrays.toString(result.generatedIds()));
            }
            System.err.printf(Locale.ROOT, "prompt: %d tokens, %.1f tokens/s; generated: %d tokens, %.1f tokens/s"
                            + " (stopped: %s, %d threads)%n", s.promptTokens(), s.promptTokensPerSecond(),
                    s.generatedTokens(), s.generatedTokensPerSecond(), s.stopReason().name().toLowerCase(Locale.ROOT),
                    threads);
            if (stats && m.engine().isPresent()) {
                printStats(m.engine().get().stats(), s.promptTokens());
            }
        }
        return 0;
    }

    /**
     * The engine's options; without --context the KV cache holds just this prompt and -n tokens, so that
     * a long-context model does not spend its budget on positions this run never uses.
     */
    private EngineOptions engineOptions() throws java.io.IOException {
        EngineOptions o = engine.options(EngineOptionsMixin.modeOrDefault(mode, model), model);
        if (o.contextLength().isEmpty()) {
            PackManifest manifest = ManifestCodec.read(model);
            Tokenizer tok = PackTokenizer.load(model, manifest.tokenizer(), manifest.config().vocabSize());
            long needed = (long) tok.encode(prompt, true).length + sampling.maxTokens + 1;
            o = o.toBuilder().contextLength((int) Math.min(manifest.config().contextLength(), needed)).build();
        }
        return o;
    }

    private static void printStats(EngineStats st, int promptTokens) {
        System.err.println(StatsReport.tokenHeader());
        for (int i = 0; i < st.tokens(); i++) {
            System.err.println(StatsReport.tokenLine(i, st.token(i)));
        }
        int prompt = Math.min(promptTokens, st.tokens());
        if (prompt > 0) {
            System.err.println(StatsReport.summary("prompt", st.summary(0, prompt)));
        }
        if (st.tokens() > prompt) {
            System.err.println(StatsReport.summary("generated", st.summary(prompt)));
        }
        StatsReport.costModel(st).ifPresent(System.err::println);
        st.lookAhead().ifPresent(System.err::println);
    }
}
