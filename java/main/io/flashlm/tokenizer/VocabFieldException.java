package io.flashlm.tokenizer;

/**
 * A vocabulary handed over as plain values (a GGUF file's {@code tokenizer.ggml.*} keys) is wrong. The caller,
 * which knows the file, reports {@link #field()} (the key, with an index where one entry is wrong) and
 * {@link #problem()}.
 */
public final class VocabFieldException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String problem;

    public VocabFieldException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
        this.problem = problem;
    }

    /** The key that is wrong, e.g. {@code tokenizer.ggml.merges[12]}. */
    public String field() {
        return field;
    }

    /** What is wrong with it and what was expected. */
    public String problem() {
        return problem;
    }
}
