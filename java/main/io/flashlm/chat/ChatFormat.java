package io.flashlm.chat;

import io.flashlm.pack.ManifestCodec;
import io.flashlm.pack.PackFormat;
import io.flashlm.pack.PackTokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a model file says about chatting with it: the chat template (Jinja) and where it came from, the BOS and
 * EOS strings the template is given, and the end-of-turn tokens it names (ids, or token strings to look up in
 * the vocabulary; {@link StopTokens} resolves them).
 *
 * <p>Where it is read from ({@link #read}):
 * <ul>
 *   <li>a GGUF file: metadata {@code tokenizer.chat_template}, {@code tokenizer.ggml.bos_token_id},
 *       {@code eos_token_id}, {@code eot_token_id}, {@code eom_token_id}, the strings from
 *       {@code tokenizer.ggml.tokens};</li>
 *   <li>a Hugging Face directory: tokenizer_config.json {@code chat_template} (a string, or a list of
 *       {name, template} of which "default" is taken), else a {@code chat_template.jinja} file beside it;
 *       {@code bos_token}, {@code eos_token} (a string or {"content": ...}); generation_config.json
 *       {@code eos_token_id} (one id or a list);</li>
 *   <li>a flash pack converted from a Hugging Face directory: the tokenizer_config.json it keeps (not
 *       generation_config.json). Packs converted from GGUF or llama2.c keep no template: give one explicitly
 *       ({@link #withTemplate});</li>
 *   <li>a llama2.c checkpoint: nothing.</li>
 * </ul>
 *
 * @param source         the model path read
 * @param template       the Jinja source, or null when the model has none
 * @param templateOrigin where the template came from, for messages (file and field)
 * @param bosToken       the string templates get as {@code bos_token}, or null (then the vocabulary's BOS piece)
 * @param eosToken       the string templates get as {@code eos_token}, or null (then the vocabulary's EOS piece)
 * @param stopIds        token ids the file names as ends of generation (eos, eot, eom, generation_config's eos)
 * @param stopTokens     token strings the file names as ends of generation (tokenizer_config's eos_token)
 */
public record ChatFormat(Path source, String template, String templateOrigin, String bosToken, String eosToken,
                         List<Integer> stopIds, List<String> stopTokens) {

    public ChatFormat {
        stopIds = List.copyOf(stopIds);
        stopTokens = List.copyOf(stopTokens);
    }

    /** Reads what the model at {@code modelPath} keeps; a model without a template gives one without. */
    public static ChatFormat read(Path modelPath) throws IOException {
        if (PackFormat.isPack(modelPath)) {
            String kind = ManifestCodec.read(modelPath).tokenizer().kind();
            if (kind.equals(PackTokenizer.HF_JSON)) {
                return HfChatFormat.read(modelPath);
            }
            return none(modelPath, "a flash pack whose tokenizer is '" + kind + "' keeps no chat template (packs"
                    + " converted from GGUF or llama2.c lack it)");
        }
        if (Files.isDirectory(modelPath)) {
            return HfChatFormat.read(modelPath);
        }
        if (isGguf(modelPath)) {
            return GgufChatFormat.read(modelPath);
        }
        return none(modelPath, "a llama2.c checkpoint has no chat template");
    }

    /** No template; {@code why} becomes the origin, so that the error for a missing template says it. */
    static ChatFormat none(Path source, String why) {
        return new ChatFormat(source, null, why, null, null, List.of(), List.of());
    }

    public Optional<String> templateText() {
        return Optional.ofNullable(template);
    }

    /** The same format with this template instead (e.g. from {@code --template FILE}). */
    public ChatFormat withTemplate(String text, String origin) {
        return new ChatFormat(source, text, origin, bosToken, eosToken, stopIds, stopTokens);
    }

    /**
     * The compiled template.
     *
     * @throws IllegalStateException when there is none, naming the model and what was looked for
     */
    public ChatTemplate compileTemplate() {
        if (template == null) {
            throw new IllegalStateException(source + " has no chat template (" + templateOrigin + "). Give one"
                    + " explicitly: flashlm chat --template FILE, or FlashModel.useChatTemplate");
        }
        return ChatTemplate.compile(template, templateOrigin);
    }

    private static boolean isGguf(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
        }
    }
}
