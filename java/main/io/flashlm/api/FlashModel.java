package io.flashlm.api;

import io.flashlm.chat.ChatEncoder;
import io.flashlm.chat.ChatFormat;
import io.flashlm.chat.ChatTemplate;
import io.flashlm.chat.StopTokens;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.FlashEngine;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.ModelConfig;
import io.flashlm.nativeabi.NativeLibrary;
import io.flashlm.nativeabi.NativeLibraryUnavailableException;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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
    private final Path path;
    private ChatFormat chatFormat; // read on first use: generate() never needs it
    private ChatSetup chatSetup;

    private FlashModel(LanguageModel model, Path path) {
        this.model = model;
        this.path = path;
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
        return new FlashModel(ModelLoader.load(path, options.tokenizer(), options.threads(), options.context()), path);
    }

    /**
     * Opens a flash pack with the flash engine: the FFN stays on flash and is read as the options'
     * mode says, under their memory budget. {@link #engine()} then gives the per-token statistics.
     *
     * @throws NativeLibraryUnavailableException when libflashlm is missing or unusable
     */
    public static FlashModel open(Path pack, EngineOptions options) throws IOException {
        NativeLibrary.require();
        return new FlashModel(FlashEngine.open(pack, options), pack);
    }

    /** The flash engine running this model, when it was opened with {@link EngineOptions}. */
    public Optional<FlashEngine> engine() {
        return model instanceof FlashEngine e ? Optional.of(e) : Optional.empty();
    }

    public Session newSession() {
        return new Session(model, this::chatSetup);
    }

    /**
     * What the model file says about chatting: its chat template (if it has one) and end-of-turn tokens
     * ({@link ChatFormat#read}), or the template given to {@link #useChatTemplate}.
     */
    public synchronized ChatFormat chatFormat() throws IOException {
        if (chatFormat == null) {
            chatFormat = ChatFormat.read(path);
        }
        return chatFormat;
    }

    /**
     * Chats with this template instead of the model's own (a model without one needs it: packs converted from
     * GGUF, llama2.c checkpoints). An empty template fails here; a construct Jinjava lacks fails when a chat
     * renders it ({@link io.flashlm.chat.ChatTemplateException}, naming it and {@code origin}).
     */
    public synchronized void useChatTemplate(String template, String origin) throws IOException {
        ChatTemplate.compile(template, origin);
        chatFormat = chatFormat().withTemplate(template, origin);
        chatSetup = null;
    }

    /** {@link #useChatTemplate(String, String)} with the text of a file. */
    public void useChatTemplate(Path file) throws IOException {
        useChatTemplate(Files.readString(file), file.toString());
    }

    /** The compiled template, encoder and stop tokens; throws IllegalStateException naming the model without one. */
    synchronized ChatSetup chatSetup() {
        if (chatSetup == null) {
            ChatFormat f;
            try {
                f = chatFormat();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ChatTemplate template = f.compileTemplate();
            Tokenizer tok = model.tokenizer();
            String bos = f.bosToken() != null ? f.bosToken() : tok.bos() >= 0 ? tok.piece(tok.bos()) : "";
            String eos = f.eosToken() != null ? f.eosToken() : tok.eos() >= 0 ? tok.piece(tok.eos()) : "";
            chatSetup = new ChatSetup(template, bos, eos, new ChatEncoder(tok, model.addBos()),
                    StopTokens.resolve(f, template.source(), tok));
        }
        return chatSetup;
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
