package io.flashlm.model;

import io.flashlm.compute.ComputePool;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.Arena;

/**
 * What every forward pass shares: the config, the tokenizer, the compute threads, an arena for the
 * vectors converted at load, the mapped source to close, the FFN observer and the input checks.
 */
public abstract sealed class TransformerModel implements LanguageModel permits LlamaModel, OptModel {
    protected final ModelConfig c;
    protected final ComputePool pool;
    protected final Arena arena = Arena.ofShared();
    protected FfnObserver ffnObserver;
    protected FeedForward feedForward;
    private final Tokenizer tokenizer;
    private final AutoCloseable source;
    private final String description;

    protected TransformerModel(ModelConfig c, Tokenizer tokenizer, ComputePool pool, AutoCloseable source, String description) {
        this.c = c;
        this.tokenizer = tokenizer;
        this.pool = pool;
        this.source = source;
        this.description = description;
    }

    /** Sets (or, with null, removes) the observer of every layer's FFN input and activation. */
    public void setFfnObserver(FfnObserver observer) {
        this.ffnObserver = observer;
    }

    /**
     * Sets (or, with null, removes) the engine that runs every layer's FFN instead of the model's dense
     * matrices. The FFN observer only sees the dense path.
     */
    public void setFeedForward(FeedForward ffn) {
        this.feedForward = ffn;
    }

    protected void checkInput(int token, int pos) {
        if (token < 0 || token >= c.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary of " + c.vocabSize());
        }
        if (pos < 0 || pos >= c.contextLength()) {
            throw new IllegalArgumentException("position " + pos + " outside the context of " + c.contextLength());
        }
    }

    @Override
    public ModelConfig config() {
        return c;
    }

    @Override
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public InferenceState newState() {
        return new InferenceState(c);
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        pool.close();
        arena.close();
        try {
            source.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the model source failed: " + e.getMessage(), e);
        }
    }
}
