package io.flashlm.model;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.Arena;

/**
 * What every forward pass shares: the config, the tokenizer, the compute threads, an arena for the
 * vectors converted at load, the mapped source to close, each layer's {@link FeedForward} block and
 * the prelude run before each layer (both from the {@link ModelAssembly}), and the input checks.
 * A {@linkplain #reassembled reassembled} view shares all of it but its FFN blocks, and closes nothing.
 */
public abstract sealed class TransformerModel implements LanguageModel permits LlamaModel, OptModel {
    protected final ModelConfig c;
    protected final ComputePool pool;
    protected final Arena arena;
    /** Each layer's FFN, filled once by the subclass's constructor from the assembly. */
    protected final FeedForward[] ffn;
    protected final ModelAssembly.LayerPrelude prelude;
    private final Tokenizer tokenizer;
    private final AutoCloseable source;
    private final String description;
    private final boolean owner;

    protected TransformerModel(ModelConfig c, Tokenizer tokenizer, ComputePool pool, AutoCloseable source,
                               String description, ModelAssembly assembly) {
        this.c = c;
        this.tokenizer = tokenizer;
        this.pool = pool;
        this.arena = Arena.ofShared();
        this.source = source;
        this.description = description;
        this.ffn = new FeedForward[c.layers()];
        this.prelude = assembly.prelude();
        this.owner = true;
    }

    /** A view of {@code base} with each FFN block decorated; it shares (and never closes) base's resources. */
    protected TransformerModel(TransformerModel base, ModelAssembly.FfnDecorator decorator) {
        this.c = base.c;
        this.tokenizer = base.tokenizer;
        this.pool = base.pool;
        this.arena = base.arena;
        this.source = base.source;
        this.description = base.description;
        this.prelude = base.prelude;
        this.owner = false;
        this.ffn = new FeedForward[base.ffn.length];
        for (int l = 0; l < ffn.length; l++) {
            ffn[l] = decorator.decorate(l, base.ffn[l]);
            if (ffn[l] == null) {
                throw new IllegalStateException("the decorator returned no FFN for layer " + l);
            }
        }
    }

    /** Fills {@link #ffn} from the assembly; the subclass's constructor calls it once. */
    protected final void assemble(ModelAssembly assembly, MlpWeights[] weights) {
        assemble(assembly, weights, new FeedForward[weights.length]);
    }

    /**
     * As {@link #assemble(ModelAssembly, MlpWeights[])}, where a layer with a block in {@code fixed} (a mixture
     * of experts, which no engine runs from flash yet) keeps that block and the assembly picks the others.
     */
    protected final void assemble(ModelAssembly assembly, MlpWeights[] weights, FeedForward[] fixed) {
        FeedForward[] blocks = assembly.blocks(c, weights, fixed, pool, arena);
        System.arraycopy(blocks, 0, ffn, 0, ffn.length);
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
    public FeedForward feedForward(int layer) {
        return ffn[layer];
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
        if (!owner) {
            return;
        }
        pool.close();
        arena.close();
        try {
            source.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the model source failed: " + e.getMessage(), e);
        }
    }
}
