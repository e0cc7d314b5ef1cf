package io.flashlm.chat;

/**
 * A chat template that cannot be used: it does not parse, uses a construct the Jinja engine lacks, or raised
 * an exception itself ({@code raise_exception(...)}) for the conversation given. The message names the template's
 * origin (file and field) and the construct or the template's own message.
 */
public final class ChatTemplateException extends IllegalArgumentException {
    private final String origin;

    public ChatTemplateException(String origin, String problem) {
        super("chat template of " + origin + ": " + problem);
        this.origin = origin;
    }

    /** Where the template came from, e.g. {@code model.gguf: metadata tokenizer.chat_template}. */
    public String origin() {
        return origin;
    }
}
