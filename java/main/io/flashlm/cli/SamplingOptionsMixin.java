package io.flashlm.cli;

import io.flashlm.api.GenerateOptions;
import picocli.CommandLine.Option;

/** How much to generate and how to pick each token: the options generate and chat share. */
final class SamplingOptionsMixin {
    @Option(names = "-n", defaultValue = "256", description = "New tokens at most (per reply). Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy. Default: ${DEFAULT-VALUE}.")
    float temperature;

    @Option(names = "--top-p", defaultValue = "0.9", description = "Nucleus sampling mass. Default: ${DEFAULT-VALUE}.")
    float topP;

    @Option(names = "--seed", defaultValue = "42", description = "Sampling seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    GenerateOptions options() {
        return new GenerateOptions(maxTokens, temperature, topP, seed, false);
    }
}
