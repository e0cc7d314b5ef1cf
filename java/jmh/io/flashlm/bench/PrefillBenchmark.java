package io.flashlm.bench;

import io.flashlm.api.ModelLoader;
import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
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
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Prompt processing (issue 13): each operation runs a prompt of {@code promptTokens} random ids through the
 * model from position 0 in chunks of {@code batch} tokens ({@link LanguageModel#forwardBatch}); batch 1 is
 * token-at-a-time with the logits of every token, i.e. the decode rate. Models are the synthetic llama GGUFs
 * of {@link DenseGenerateBenchmark} ({@code synthetic110M-<dtype>}, {@code synthetic1B-<dtype>}), cached in
 * {@code cacheDir}. Counter {@code promptTokens}: prompt tokens per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1, time = 10)
@Measurement(iterations = 3, time = 10)
@Fork(1)
public class PrefillBenchmark {
    @Param({"synthetic110M-f16"})
    String model;

    @Param({"1", "64"})
    int batch;

    @Param({"128"})
    int promptTokens;

    @Param({"2"})
    int threads;

    @Param({"/var/tmp/flashlm-bench"})
    String cacheDir;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Counts {
        public long promptTokens;

        @Setup(Level.Iteration)
        public void reset() {
            promptTokens = 0;
        }
    }

    private LanguageModel lm;
    private InferenceState state;
    private int[] prompt;

    @Setup(Level.Trial)
    public void open() throws IOException {
        DType dtype = DType.valueOf(model.substring(model.indexOf('-') + 1).toUpperCase(Locale.ROOT));
        SyntheticLlamaGguf.Spec spec = model.startsWith("synthetic1B-") ? SyntheticLlamaGguf.Spec.llama1B(dtype)
                : SyntheticLlamaGguf.Spec.llama110M(dtype);
        Path path = SyntheticLlamaGguf.cached(spec, Path.of(cacheDir));
        lm = ModelLoader.load(path, null, threads, promptTokens + 1);
        state = lm.newState();
        Random r = new Random(7);
        prompt = new int[promptTokens];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 3 + r.nextInt(lm.config().vocabSize() - 3);
        }
        System.out.printf(Locale.ROOT, "%n%s; %d threads, prompt %d tokens in chunks of %d%n", lm.describe(), threads,
                promptTokens, batch);
    }

    @TearDown(Level.Trial)
    public void close() {
        state.close();
        lm.close();
    }

    @Benchmark
    public MemorySegment prefill(Counts counts) {
        MemorySegment logits = null;
        for (int i = 0; i < prompt.length; i += batch) {
            int n = Math.min(batch, prompt.length - i);
            logits = lm.forwardBatch(state, prompt, i, n, i);
        }
        counts.promptTokens += prompt.length;
        return logits;
    }
}
