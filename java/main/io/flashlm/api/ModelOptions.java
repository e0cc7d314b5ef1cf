package io.flashlm.api;

import io.flashlm.kernels.ComputePool;
import io.flashlm.model.ModelFiles;

import java.nio.file.Path;

/**
 * How to open a model.
 *
 * @param tokenizer a tokenizer file for formats that keep it apart (llama2.c); null to look beside the model
 * @param threads   compute threads (the matrix products are split across them)
 * @param context   positions the KV cache holds (a session's prompt and reply together); 0 for the model's
 *                  trained context, at most {@link ModelFiles#DEFAULT_CONTEXT}
 */
public record ModelOptions(Path tokenizer, int threads, int context) {
    public ModelOptions {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be in 1..256, was " + threads);
        }
        if (context < 0) {
            throw new IllegalArgumentException("context must be >= 0 (0: the model's own, at most "
                    + ModelFiles.DEFAULT_CONTEXT + "), was " + context);
        }
    }

    public ModelOptions(Path tokenizer, int threads) {
        this(tokenizer, threads, 0);
    }

    public static ModelOptions defaults() {
        return new ModelOptions(null, ComputePool.defaultThreads(Runtime.getRuntime().availableProcessors()), 0);
    }

    public ModelOptions withTokenizer(Path t) {
        return new ModelOptions(t, threads, context);
    }

    public ModelOptions withThreads(int n) {
        return new ModelOptions(tokenizer, n, context);
    }

    public ModelOptions withContext(int positions) {
        return new ModelOptions(tokenizer, threads, positions);
    }
}
