package io.flashlm.api;

import io.flashlm.model.LanguageModel;
import io.flashlm.model.ModelFiles;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackLoader;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Opens a model from whatever it is: a flash pack (a directory with manifest.json, loaded densely), or
 * a model file as published ({@link ModelFiles}: Hugging Face directory, GGUF, llama2.c checkpoint).
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    /**
     * @param tokenizer the tokenizer file for llama2.c checkpoints; null to look beside the checkpoint
     * @param threads   compute threads
     */
    public static LanguageModel load(Path path, Path tokenizer, int threads) throws IOException {
        return load(path, tokenizer, threads, 0);
    }

    /**
     * @param context positions the KV cache holds; 0 for the model's trained context (at most
     *                {@link ModelFiles#DEFAULT_CONTEXT} for a model file; a pack's own)
     */
    public static LanguageModel load(Path path, Path tokenizer, int threads, int context) throws IOException {
        if (PackFormat.isPack(path)) {
            return PackLoader.load(path, threads, context);
        }
        return ModelFiles.load(path, tokenizer, threads, context);
    }
}
