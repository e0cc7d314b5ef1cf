package io.flashlm.api;

import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.sampler.Sampler;
import io.flashlm.tokenizer.TokenStreamDecoder;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One conversation with a model: its KV cache and position. Each {@link #generate} call feeds its
 * prompt after what came before (the first prompt starts with BOS) and generates from there.
 * Not thread-safe; open one session per thread.
 */
public final class Session implements AutoCloseable {
    private final LanguageModel model;
    private final InferenceState state;
    private int position;
    private int lastToken = -1;

    Session(LanguageModel model) {
        this.model = model;
        this.state = model.newState();
    }

    /** Tokens in the context so far. */
    public int position() {
        return position;
    }

    /** Forgets the context; the next prompt starts again with BOS. */
    public void reset() {
        position = 0;
        lastToken = -1;
    }

    public Generation generate(String prompt, GenerateOptions options) {
        return generate(prompt, options, TokenListener.NONE);
    }

    /** Feeds the prompt, then generates, handing each new token to the listener as it comes. */
    public Generation generate(String prompt, GenerateOptions options, TokenListener listener) {
        if (prompt == null || prompt.isEmpty()) {
            throw new IllegalArgumentException("prompt is empty: give at least one character to continue from");
        }
        Tokenizer tok = model.tokenizer();
        int context = model.config().contextLength();
        int[] promptIds = tok.encode(prompt, position == 0 && model.addBos());
        if (position + promptIds.length >= context) {
            throw new IllegalArgumentException("prompt of " + promptIds.length + " tokens does not fit the context: "
                    + position + " tokens already used of " + context + ", and at least one must be left to generate");
        }
        Sampler sampler = Sampler.of(options.temperature(), options.topP(), options.seed(), model.config().vocabSize());

        long t0 = System.nanoTime();
        MemorySegment logits = null;
        for (int id : promptIds) {
            logits = model.forward(state, id, position++);
        }
        lastToken = promptIds[promptIds.length - 1];
        long t1 = System.nanoTime();

        TokenStreamDecoder decoder = tok.streamDecoder();
        decoder.accept(lastToken); // so that the first generated token decodes in context
        StringBuilder text = new StringBuilder();
        int[] generated = new int[Math.min(options.maxTokens(), context - position + 1)];
        int n = 0;
        GenerationStats.StopReason reason = GenerationStats.StopReason.MAX_TOKENS;
        while (n < options.maxTokens()) {
            int next = sampler.sample(logits, model.config().vocabSize());
            if (next == tok.eos() && !options.ignoreEos()) {
                reason = GenerationStats.StopReason.EOS;
                break;
            }
            generated[n++] = next;
            String piece = decoder.accept(next);
            text.append(piece);
            listener.onToken(next, piece);
            lastToken = next;
            if (position >= context) {
                reason = GenerationStats.StopReason.CONTEXT_FULL;
                break;
            }
            // Fed even after the last token, so that a follow-up prompt continues after it.
            logits = model.forward(state, next, position++);
        }
        String tail = decoder.finish();
        if (!tail.isEmpty()) {
            text.append(tail);
            listener.onToken(-1, tail);
        }
        long t2 = System.nanoTime();
        return new Generation(promptIds, Arrays.copyOf(generated, n), text.toString(),
                new GenerationStats(promptIds.length, n, t1 - t0, t2 - t1, reason));
    }

    @Override
    public void close() {
        state.close();
    }
}
