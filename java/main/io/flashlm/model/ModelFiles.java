package io.flashlm.model;

import io.flashlm.format.ModelFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Opens a model file as its publisher shipped it: a Hugging Face directory (config.json + safetensors),
 * a GGUF file (by its magic) or a llama2.c checkpoint (with its tokenizer file). Flash packs are opened
 * one level up ({@code io.flashlm.api.ModelLoader}), which knows both.
 */
public final class ModelFiles {
    /**
     * The context a model gets when its caller names none: the trained context, but at most this many
     * positions, since the KV cache is allocated whole (a Llama 3.2 1B trained for 131072 positions would
     * otherwise take 8 GiB of cache before the first token).
     */
    public static final int DEFAULT_CONTEXT = 4096;

    private ModelFiles() {
    }

    /** The context used for a file trained for {@code trained} positions when none is asked for. */
    public static int defaultContext(int trained) {
        return Math.min(trained, DEFAULT_CONTEXT);
    }

    /**
     * @param tokenizer the tokenizer file for llama2.c checkpoints; null to look beside the checkpoint
     * @param threads   compute threads
     */
    public static LanguageModel load(Path path, Path tokenizer, int threads) throws IOException {
        return load(path, tokenizer, threads, 0);
    }

    /** @param context positions the KV cache holds; 0 for {@link #defaultContext} (llama2.c: its own) */
    public static LanguageModel load(Path path, Path tokenizer, int threads, int context) throws IOException {
        if (context < 0) {
            throw new IllegalArgumentException("context must be >= 0, was " + context);
        }
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no model here: expected a .gguf file, a llama2.c"
                    + " checkpoint or a Hugging Face model directory");
        }
        if (Files.isDirectory(path)) {
            return HfLoader.load(path, threads, context);
        }
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(path)) {
            if (in.readNBytes(magic, 0, 4) < 4) {
                throw new ModelFormatException(path, "header", "file of " + Files.size(path)
                        + " bytes is too short to be a model");
            }
        }
        if (magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' && magic[3] == 'F') {
            return GgufLoader.load(path, threads, context);
        }
        try {
            return Llama2cLoader.load(path, tokenizer, threads);
        } catch (ModelFormatException e) {
            // llama2.c files have no magic, so anything else ends up here: say what it was read as.
            throw new ModelFormatException(path, "format", "no GGUF magic, so read as a llama2.c checkpoint, which it"
                    + " is not either: " + e.getMessage(), e);
        }
    }
}
