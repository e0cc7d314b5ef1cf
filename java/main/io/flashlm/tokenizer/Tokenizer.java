package io.flashlm.tokenizer;

/**
 * Text to token ids and back, with the conventions of one model's vocabulary.
 *
 * <p>Special tokens (BOS, EOS, control and unknown tokens) produce no text when decoded, like Hugging Face's
 * {@code skip_special_tokens}; {@link #piece(int)} still shows them.
 */
public interface Tokenizer {

    /**
     * Encodes {@code text}. With {@code addBos} the model's begin-of-sequence prefix comes first (for OPT this
     * is {@code </s>}); nothing is ever appended, since a causal LM prompt must not end with EOS.
     */
    int[] encode(String text, boolean addBos);

    /** The bytes {@code token} stands for; possibly part of a multi-byte UTF-8 character, empty for specials. */
    byte[] decodeBytes(int token);

    /**
     * The bytes {@code token} stands for when it follows {@code previous} (-1 at the start); SentencePiece
     * drops the dummy-prefix space of the token after BOS.
     */
    default byte[] decodeBytes(int previous, int token) {
        return decodeBytes(token);
    }

    /** A decoder that turns ids, as they are generated, into text that never splits a UTF-8 character. */
    default TokenStreamDecoder streamDecoder() {
        return new TokenStreamDecoder(this);
    }

    /** Decodes a whole sequence; the same text a {@link #streamDecoder()} gives piece by piece. */
    default String decode(int[] ids) {
        TokenStreamDecoder decoder = streamDecoder();
        StringBuilder text = new StringBuilder();
        for (int id : ids) {
            text.append(decoder.accept(id));
        }
        return text.append(decoder.finish()).toString();
    }

    /** Number of ids, i.e. one more than the largest id. */
    int vocabSize();

    /** The id {@code encode(text, true)} starts with, or -1 if the model adds none. */
    int bos();

    /** The end-of-sequence id, or -1 if unknown. */
    int eos();

    /** The token's piece as the vocabulary stores it (e.g. {@code "▁the"}, {@code "Ġthe"}, {@code "<0x0A>"}). */
    String piece(int id);

    /** Whether the token is a special (control/unknown) token that decodes to no text. */
    boolean isSpecial(int id);
}
