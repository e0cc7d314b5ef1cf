package io.flashlm.api;

import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.FlashEngine;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.ModelConfig;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.nativeabi.NativeLibraryUnavailableException;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The entry point for applications: open a model (a llama2.c checkpoint, a GGUF file or a Hugging
 * Face directory), start sessions, close it.
 *
 * <pre>{@code
 * try (FlashModel model = FlashModel.open(Path.of("stories260K.gguf"));
 *      Session session = model.newSession()) {
 *     Generation g = session.generate("Once upon a time", GenerateOptions.greedy(64),
 *             (id, text) -> System.out.print(text));
 *     System.out.println(g.stats().generatedTokensPerSecond() + " tokens/s");
 * }
 * }</pre>
 */
public final class FlashModel implements AutoCloseable {
    private final LanguageModel model;

    private FlashModel(LanguageModel model) {
        this.model = model;
    }

    /**
     * Opens a model with the default options.
     *
     * @throws NativeLibraryUnavailableException when libflashlm is missing or unusable (the message says
     *                                           which file was tried and how to build it)
     */
    public static FlashModel open(Path path) throws IOException {
        return open(path, ModelOptions.defaults());
    }

    /** Opens a model; see {@link #open(Path)}. */
    public static FlashModel open(Path path, ModelOptions options) throws IOException {
        NativeLibrary.require();
        return new FlashModel(ModelLoader.load(path, options.tokenizer(), options.threads(), options.context()));
    }

    /**
     * Opens a flash pack with the flash engine: the FFN stays on flash and is read as the options'
     * mode says, under their memory budget. {@link #engine()} then gives the per-token statistics.
     *
     * @throws NativeLibraryUnavailableException when libflashlm is missing or unusable
     */
    public static FlashModel open(Path pack, EngineOptions options) throws IOException {
        NativeLibrary.require();
        return new FlashModel(FlashEngine.open(pack, options));
    }

    /** The flash engine running this model, when it was opened with {@link EngineOptions}. */
    public Optional<FlashEngine> engine() {
        return model instanceof FlashEngine e ? Optional.of(e) : Optional.empty();
    }

    public Session newSession() {
        return new Session(model);
    }

    public ModelConfig config() {
        return model.config();
    }

    public Tokenizer tokenizer() {
        return model.tokenizer();
    }

    /** The engine-level model, for tools that drive the forward pass themselves. */
    public LanguageModel languageModel() {
        return model;
    }

    public String describe() {
        return model.describe();
    }

    @Override
    public void close() {
        model.close();
    }
}
