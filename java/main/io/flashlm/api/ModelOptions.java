package io.flashlm.api;

import io.flashlm.kernels.ComputePool;

import java.nio.file.Path;

/**
 * How to open a model.
 *
 * @param tokenizer a tokenizer file for formats that keep it apart (llama2.c); null to look beside the model
 * @param threads   compute threads (the matrix products are split across them)
 */
public record ModelOptions(Path tokenizer, int threads) {
    public ModelOptions {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be in 1..256, was " + threads);
        }
    }

    public static ModelOptions defaults() {
        return new ModelOptions(null, ComputePool.defaultThreads(Runtime.getRuntime().availableProcessors()));
    }

    public ModelOptions withTokenizer(Path t) {
        return new ModelOptions(t, threads);
    }

    public ModelOptions withThreads(int n) {
        return new ModelOptions(tokenizer, n);
    }
}
