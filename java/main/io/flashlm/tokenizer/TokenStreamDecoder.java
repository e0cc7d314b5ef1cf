package io.flashlm.tokenizer;

/**
 * Turns token ids into text as they arrive. A token may end in the middle of a UTF-8 character (byte tokens,
 * byte-level BPE pieces); those bytes are held back until the character is complete. Not thread-safe.
 */
public final class TokenStreamDecoder {
    private final Tokenizer tokenizer;
    private final Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
    private int previous = -1;

    public TokenStreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text that became complete with {@code token}; often empty while a character is still open. */
    public String accept(int token) {
        byte[] bytes = tokenizer.decodeBytes(previous, token);
        previous = token;
        return utf8.accept(bytes);
    }

    /** Ends the stream: bytes of an unfinished character come out as U+FFFD. */
    public String finish() {
        previous = -1;
        return utf8.finish();
    }
}
