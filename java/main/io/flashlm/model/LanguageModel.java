package io.flashlm.model;

import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;

/** A loaded model: one forward pass per token, writing the next token's logits into the state. */
public interface LanguageModel extends AutoCloseable {

    ModelConfig config();

    Tokenizer tokenizer();

    /** Whether encoding a prompt starts with the tokenizer's BOS (true for every supported family). */
    default boolean addBos() {
        return true;
    }

    InferenceState newState();

    /** Runs token at position pos (0-based) and returns the logits (vocabSize floats, in the state). */
    MemorySegment forward(InferenceState state, int token, int pos);

    /**
     * Runs tokens[from .. from + count) at positions pos, pos + 1, ... and returns the logits of the last one
     * (in the state). Gives exactly the logits and cache that {@link #forward} token by token would; a model
     * that can runs the tokens together (matrix products over the chunk), this default one at a time.
     */
    default MemorySegment forwardBatch(InferenceState state, int[] tokens, int from, int count, int pos) {
        if (count < 1 || from < 0 || from + count > tokens.length) {
            throw new IllegalArgumentException("tokens [" + from + ", " + (from + count) + ") of " + tokens.length);
        }
        MemorySegment logits = null;
        for (int i = 0; i < count; i++) {
            logits = forward(state, tokens[from + i], pos + i);
        }
        return logits;
    }

    /** A short description: architecture, sizes, storage type, source. */
    String describe();

    /** The FFN block layer {@code layer} holds. */
    FeedForward feedForward(int layer);

    /**
     * A view of this model with each layer's FFN block decorated (for instance observed for calibration):
     * the same weights and threads; closing the view leaves this model open.
     *
     * @throws UnsupportedOperationException for a model that cannot be reassembled
     */
    default LanguageModel reassembled(ModelAssembly.FfnDecorator decorator) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " cannot be reassembled");
    }

    @Override
    void close();
}
