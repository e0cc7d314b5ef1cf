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
