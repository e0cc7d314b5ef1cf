package io.flashlm.bench;

import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.synth.SyntheticLlamaGguf;
import io.flashlm.tensor.DType;
import org.openjdk.jmh.annotations.AuxCounters;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end dense generation through the public API: each operation resets the session, feeds
 * the prompt (BOS + a few tokens) and generates {@code tokens} tokens greedily, ignoring EOS.
 *
 * <p>Models ({@code model}):
 * <ul>
 * <li>{@code stories260K}: the real llama2.c checkpoint {@code modelDir/stories260K.bin} (default
 *     {@code ../shared/models}, relative to the working directory, i.e. the project root); when it is
 *     missing the trial fails with a "SKIPPED" message and JMH goes on with the others.</li>
 * <li>{@code synthetic110M-f32|f16|bf16|q8_0|q4_0}: a random llama-shaped GGUF of about 110M parameters
 *     ({@link SyntheticLlamaGguf.Spec#llama110M}: dim 768, 12 layers, 12 heads, FFN 2048, vocab 32000,
 *     tied output), written once into {@code cacheDir} (default /var/tmp/flashlm-bench) and reused.</li>
 * </ul>
 *
 * <p>Counters (JMH prints them with the unit ops/s): {@code generatedTokens} = generated tokens per
 * second, prompt time included; {@code forwardPasses} = forward passes (prompt tokens + generated
 * tokens) per second. Since issue 13 the prompt goes through in one chunk (logits for its last token only),
 * so with a short prompt this is close to, and slightly above, the per-token decode rate.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 6)
@Measurement(iterations = 5, time = 6)
@Fork(1)
public class DenseGenerateBenchmark {
    @Param({"stories260K", "synthetic110M-f32", "synthetic110M-f16"})
    String model;

    @Param({"1", "2"})
    int threads;

    @Param({"32"})
    int tokens;

    @Param({"Once upon a time"})
    String prompt;

    @Param({"../shared/models"})
    String modelDir;

    @Param({"/var/tmp/flashlm-bench"})
    String cacheDir;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counts {
        public long generatedTokens;
        public long forwardPasses;

        @Setup(Level.Iteration)
        public void reset() {
            generatedTokens = 0;
            forwardPasses = 0;
        }
    }

    private FlashModel flash;
    private Session session;
    private GenerateOptions options;

    @Setup(Level.Trial)
    public void open() throws IOException {
        Path path;
        if (model.equals("stories260K")) {
            path = Path.of(modelDir, "stories260K.bin");
            if (!Files.isRegularFile(path)) {
                throw new IllegalStateException("SKIPPED: " + path.toAbsolutePath() + " is missing (the real test"
                        + " models live in ../shared/models; pass -p modelDir=DIR)");
            }
        } else if (model.startsWith("synthetic110M-") || model.startsWith("synthetic1B-")) {
            DType dtype = DType.valueOf(model.substring(model.indexOf('-') + 1).toUpperCase(Locale.ROOT));
            SyntheticLlamaGguf.Spec spec = model.startsWith("synthetic110M-") ? SyntheticLlamaGguf.Spec.llama110M(dtype)
                    : SyntheticLlamaGguf.Spec.llama1B(dtype);
            long t0 = System.nanoTime();
            path = SyntheticLlamaGguf.cached(spec, Path.of(cacheDir));
            System.out.printf(Locale.ROOT, "%n%s: %,d parameters, %,d weight bytes per token (%.1f s to write"
                    + " or find)%n", path, spec.parameterCount(), spec.bytesPerToken(), (System.nanoTime() - t0) / 1e9);
        } else {
            throw new IllegalArgumentException("unknown model " + model
                    + ": expected stories260K, synthetic110M-<dtype> or synthetic1B-<dtype> (dtype: f32, f16, bf16, q8_0,"
                    + " q4_0, q4_k, ... any GGUF type flashlm reads)");
        }
        flash = FlashModel.open(path, ModelOptions.defaults().withThreads(threads));
        session = flash.newSession();
        options = GenerateOptions.greedy(tokens).withIgnoreEos(true);
        Generation g = session.generate(prompt, options);
        System.out.printf(Locale.ROOT, "%s%n%d threads; prompt %d tokens, sample: %s%n", flash.describe(), threads,
                g.promptIds().length, g.text().replace('\n', ' '));
    }

    @TearDown(Level.Trial)
    public void close() {
        session.close();
        flash.close();
    }

    @Benchmark
    public Generation generate(Counts counts) {
        session.reset();
        Generation g = session.generate(prompt, options);
        counts.generatedTokens += g.generatedIds().length;
        counts.forwardPasses += g.promptIds().length + g.generatedIds().length;
        return g;
    }
}
