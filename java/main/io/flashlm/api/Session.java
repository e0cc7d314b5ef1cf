package io.flashlm.api;

import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.sampler.Sampler;
import io.flashlm.tokenizer.TokenStreamDecoder;
import io.flashlm.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import java.util.function.Supplier;

/**
 * One conversation with a model: its KV cache and position. Each {@link #generate} call feeds its
 * prompt after what came before (the first prompt starts with BOS) and generates from there;
 * {@link #chat} renders a whole conversation with the model's chat template and reuses the cache for the part
 * already processed. Not thread-safe; open one session per thread.
 */
public final class Session implements AutoCloseable {
    private final LanguageModel model;
    private final InferenceState state;
    private final Supplier<ChatSetup> chat;
    private int position;
    private int lastToken = -1;
    /** The tokens whose keys and values are in the cache, at positions 0.., as chat() fed them. */
    private int[] history = new int[0];
    private int historyLength;
    /** Every token fed to the model since the session opened (prompts and generated tokens). */
    private long tokensFed;
    private int prefillChunk = DEFAULT_PREFILL_CHUNK;

    /** Prompt tokens run through the model together by default (see {@link #prefillChunk(int)}). */
    public static final int DEFAULT_PREFILL_CHUNK = 64;

    Session(LanguageModel model, Supplier<ChatSetup> chat) {
        this.model = model;
        this.state = model.newState();
        this.chat = chat;
    }

    /** Tokens fed to the model since the session opened: how much work the cache saved shows here. */
    long tokensFed() {
        return tokensFed;
    }

    /**
     * Sets how many prompt tokens run through the model together: each weight is then read once per chunk
     * instead of once per token, and the logits are computed only for a chunk's last token. Any chunk gives
     * the same result; 1 feeds one token at a time.
     */
    public Session prefillChunk(int tokens) {
        if (tokens < 1 || tokens > 4096) {
            throw new IllegalArgumentException("prefill chunk must be 1..4096 tokens, was " + tokens);
        }
        this.prefillChunk = tokens;
        return this;
    }

    /** Tokens in the context so far. */
    public int position() {
        return position;
    }

    /** Forgets the context; the next prompt starts again with BOS. */
    public void reset() {
        position = 0;
        lastToken = -1;
        historyLength = 0;
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
        historyLength = 0; // a chat() after this cannot know what the cache holds: it starts over
        int[] promptIds = tok.encode(prompt, position == 0 && model.addBos());
        if (position + promptIds.length >= context) {
            throw new IllegalArgumentException("prompt of " + promptIds.length + " tokens does not fit the context: "
                    + position + " tokens already used of " + context + ", and at least one must be left to generate");
        }
        Sampler sampler = Sampler.of(options.temperature(), options.topP(), options.seed(), model.config().vocabSize());

        long t0 = System.nanoTime();
        MemorySegment logits = prefill(promptIds, 0, false);
        long t1 = System.nanoTime();
        // Fed even after the last token, so that a follow-up prompt continues after it.
        Reply r = decode(logits, sampler, options, listener, id -> id == tok.eos(), true, false);
        long t2 = System.nanoTime();
        return new Generation(promptIds, r.ids(), r.text(),
                new GenerationStats(promptIds.length, r.ids().length, t1 - t0, t2 - t1, r.reason()));
    }

    public Generation chat(List<ChatMessage> messages, GenerateOptions options) {
        return chat(messages, options, TokenListener.NONE);
    }

    /**
     * Generates the assistant's next message in a conversation. The whole conversation is rendered with the
     * model's chat template (with the generation prompt) and tokenized, special tokens as single tokens. The
     * session keeps its KV cache across calls: the part of the new tokens that equals what it already fed
     * (its longest common prefix with them) is kept and only the rest is fed; when nothing matches, for instance
     * after {@link #reset()}, a {@link #generate} call or an edited first message, it starts over. Pass the
     * previous reply back as an assistant message and the next turn feeds only the new messages (plus whatever
     * of the reply the template writes differently from how it was generated).
     *
     * <p>Generation stops at any stop token (EOS, the file's end-of-turn tokens: {@link io.flashlm.chat.StopTokens}),
     * which is neither in the text nor fed, unless {@code options.ignoreEos()}.
     *
     * @return the reply: {@code promptIds} are the whole rendered conversation, {@code stats().promptTokens()}
     * the tokens fed for it this turn
     * @throws IllegalStateException when the model has no chat template and none was given, naming the model
     * @throws io.flashlm.chat.ChatTemplateException when the template fails or refuses the conversation
     */
    public Generation chat(List<ChatMessage> messages, GenerateOptions options, TokenListener listener) {
        if (messages == null || messages.isEmpty()) {
            throw new IllegalArgumentException("a chat needs at least one message");
        }
        ChatSetup setup = chat.get();
        List<Map<String, String>> variables = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            variables.add(m.asTemplateVariable());
        }
        String rendered = setup.template().render(variables, setup.bosToken(), setup.eosToken(), true);
        int[] ids = setup.encoder().encode(rendered);
        int context = model.config().contextLength();
        if (ids.length == 0) {
            throw new IllegalArgumentException("the chat template rendered the conversation as no tokens");
        }
        if (ids.length >= context) {
            throw new IllegalArgumentException("the conversation is " + ids.length + " tokens and the context holds "
                    + context + ", with at least one left to generate: start a new conversation or shorten it");
        }
        // At least the last token is fed again: its logits start the reply.
        int keep = Math.min(commonPrefix(ids), ids.length - 1);
        position = keep;
        historyLength = keep;
        Sampler sampler = Sampler.of(options.temperature(), options.topP(), options.seed(), model.config().vocabSize());

        long t0 = System.nanoTime();
        MemorySegment logits = prefill(ids, keep, true);
        int fed = ids.length - keep;
        long t1 = System.nanoTime();
        // The last token is not fed: the next turn feeds it (or what the template makes of the reply).
        Reply r = decode(logits, sampler, options, listener, setup::isStop, false, true);
        long t2 = System.nanoTime();
        return new Generation(ids, r.ids(), r.text(), new GenerationStats(fed, r.ids().length, t1 - t0, t2 - t1,
                r.reason()));
    }

    /** What {@link #decode} produced. */
    private record Reply(int[] ids, String text, GenerationStats.StopReason reason) {
    }

    /**
     * Feeds ids[from..] at the next positions, in chunks of {@link #prefillChunk} tokens through the model's
     * batched forward pass (the same logits as one token at a time), and returns the last one's logits.
     *
     * @param remember keep the tokens as part of the cached conversation (chat)
     */
    private MemorySegment prefill(int[] ids, int from, boolean remember) {
        MemorySegment logits = null;
        for (int i = from; i < ids.length; i += prefillChunk) {
            int n = Math.min(prefillChunk, ids.length - i);
            logits = model.forwardBatch(state, ids, i, n, position);
            position += n;
            tokensFed += n;
            if (remember) {
                for (int j = i; j < i + n; j++) {
                    remember(ids[j]);
                }
            }
        }
        lastToken = ids[ids.length - 1];
        return logits;
    }

    /**
     * Samples from {@code logits}, then feeds each new token and samples again, until a stop token (not kept,
     * not fed), maxTokens or a full context.
     *
     * @param feedLast whether the last token kept at maxTokens is fed too (generate: so that a follow-up prompt
     *                 continues after it)
     * @param remember keep the fed tokens as part of the cached conversation (chat)
     */
    private Reply decode(MemorySegment logits, Sampler sampler, GenerateOptions options, TokenListener listener,
                         IntPredicate stop, boolean feedLast, boolean remember) {
        int context = model.config().contextLength();
        TokenStreamDecoder decoder = model.tokenizer().streamDecoder();
        decoder.accept(lastToken); // so that the first generated token decodes in context
        StringBuilder text = new StringBuilder();
        int[] generated = new int[Math.min(options.maxTokens(), context - position + 1)];
        int n = 0;
        GenerationStats.StopReason reason = GenerationStats.StopReason.MAX_TOKENS;
        while (n < options.maxTokens()) {
            int next = sampler.sample(logits, model.config().vocabSize());
            if (stop.test(next) && !options.ignoreEos()) {
                reason = GenerationStats.StopReason.EOS;
                break;
            }
            generated[n++] = next;
            String piece = decoder.accept(next);
            text.append(piece);
            listener.onToken(next, piece);
            lastToken = next;
            if (n == options.maxTokens() && !feedLast) {
                break;
            }
            if (position >= context) {
                reason = GenerationStats.StopReason.CONTEXT_FULL;
                break;
            }
            logits = model.forward(state, next, position++);
            tokensFed++;
            if (remember) {
                remember(next);
            }
        }
        String tail = decoder.finish();
        if (!tail.isEmpty()) {
            text.append(tail);
            listener.onToken(-1, tail);
        }
        return new Reply(Arrays.copyOf(generated, n), text.toString(), reason);
    }

    /** Appends a fed token to the cached conversation. */
    private void remember(int id) {
        if (historyLength == history.length) {
            history = Arrays.copyOf(history, Math.max(64, history.length * 2));
        }
        history[historyLength++] = id;
    }

    /** How many leading tokens of {@code ids} the cache already holds. */
    private int commonPrefix(int[] ids) {
        int n = Math.min(historyLength, ids.length);
        int k = 0;
        while (k < n && history[k] == ids[k]) {
            k++;
        }
        return k;
    }

    @Override
    public void close() {
        state.close();
    }
}
