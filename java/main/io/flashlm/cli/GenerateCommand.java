package io.flashlm.cli;

import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.GenerationStats;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.compute.ComputePool;
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
        description = "Generate text from a prompt with a model in DRAM (llama2.c .bin, GGUF or a Hugging Face directory).")
public final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "A .gguf file, a llama2.c checkpoint or a Hugging Face"
            + " model directory.")
    Path model;

    @Option(names = "--tokenizer", description = "Tokenizer file of a llama2.c checkpoint (default: tokenizer.bin or"
            + " tok<vocab>.bin beside it).")
    Path tokenizer;

    @Option(names = "--prompt", required = true, description = "The text to continue.")
    String prompt;

    @Option(names = "-n", defaultValue = "256", description = "New tokens at most. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "Nucleus sampling mass. Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--threads", description = "Compute threads (default: all cores).")
    Integer threads;

    @Option(names = "--ids", description = "Also print the prompt and generated token ids.")
    boolean printIds;

    @Override
    public Integer call() throws Exception {
        ModelOptions options = ModelOptions.defaults().withTokenizer(tokenizer)
                .withThreads(threads != null ? threads : ComputePool.defaultThreads(256));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (FlashModel m = FlashModel.open(model, options); Session session = m.newSession()) {
            System.err.println("flashlm: " + m.describe());
            GenerateOptions g = new GenerateOptions(maxTokens, temperature, topP, seed, false);
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
                    options.threads());
        }
        return 0;
    }
}
