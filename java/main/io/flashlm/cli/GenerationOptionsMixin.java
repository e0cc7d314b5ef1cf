package io.flashlm.cli;

import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Session;
import picocli.CommandLine.Option;

/** How prompts are fed, how much to generate and how to pick each token: the options generate and chat share. */
final class GenerationOptionsMixin {
    @Option(names = "-n", defaultValue = "256", description = "New tokens at most (per reply). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "Nucleus sampling mass. Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--batch", defaultValue = "64", description = "Prompt tokens run through the model together"
            + " (each weight read once per chunk; the same output for any value). Default: ${DEFAULT-VALUE}.")
    int batch;

    GenerateOptions options() {
        return new GenerateOptions(maxTokens, temperature, topP, seed, false);
    }

    /** The session with --batch applied. */
    Session configure(Session s) {
        return s.prefillChunk(batch);
    }
}
