package io.flashlm.bench;

import io.flashlm.api.Session;
import io.flashlm.engine.EngineOptions;
import io.flashlm.engine.EngineStats;
import io.flashlm.engine.FlashEngine;
import io.flashlm.engine.MemoryBudget;
import io.flashlm.model.InferenceState;
import io.flashlm.sampler.GreedySampler;
import io.flashlm.tokenizer.Tokenizer;
import io.flashlm.util.Progress;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;


/**
 * One mode of `flashlm bench` on a pack: opens the engine, feeds a fixed prompt, generates greedily
 * (argmax, no stop at EOS, so every mode runs the same number of tokens) and summarises the generated
 * tokens only: the prompt's first tokens pay for cold DRAM pages and an empty neuron cache.
 */
public final class EngineBench {
    /** What the prompt is cut from: plain English, so a real tokenizer gives ordinary tokens. */
    static final String PROMPT_TEXT = "The quick brown fox jumps over the lazy dog. A language model whose weights do"
            + " not fit in memory can still run when most of them stay on flash and only the part that each token"
            + " needs is read, in large reads and many at a time, while the rest of the model stays resident. ";

    /** How a mode ended: it ran, the budget could not hold it, or it failed. */
    public enum Status {
        OK("ok"), DOES_NOT_FIT("does not fit"), FAILED("failed");

        private final String label;

        Status(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        public static Status parse(String id) {
            for (Status s : values()) {
                if (s.id().equals(id)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown status '" + id + "'");
        }
    }

    /**
     * One mode's result.
     *
     * @param summary     the generated tokens (null unless OK)
     * @param error       why the mode did not run (does not fit, failed), else ""
     * @param budgetUsed  bytes the engine accounted (0 unless OK)
     * @param budgetTable the engine's memory account, for the JSON
     * @param seconds     wall time of the mode, opening included
     * @param notes       anything the reader of the table must know (page cache unbounded, cgroup figures ...)
     * @param prefillTokensPerSecond the prompt's tokens per second run again in chunks with the model warm (NaN
     *                    when not measured)
     */
    public record Result(String mode, Status status, String error, EngineStats.Summary summary, long budgetUsed,
                         long budgetLimit, int cacheRows, String predictor, boolean direct, double seconds,
                         String budgetTable, List<String> notes, double prefillTokensPerSecond) {
        public Result {
            notes = List.copyOf(notes);
        }

        public boolean ok() {
            return status == Status.OK;
        }

        public Result withNotes(List<String> more) {
            List<String> all = new ArrayList<>(notes);
            all.addAll(more);
            return new Result(mode, status, error, summary, budgetUsed, budgetLimit, cacheRows, predictor, direct,
                    seconds, budgetTable, all, prefillTokensPerSecond);
        }

        public static Result failed(String mode, Status status, String error, long limit, double seconds,
                                    List<String> notes) {
            return new Result(mode, status, error, null, 0, limit, 0, null, false, seconds, "", notes, Double.NaN);
        }
    }

    private EngineBench() {
    }

    /**
     * Runs {@code o.mode()} on the pack: {@code promptTokens} prompt tokens, then {@code tokens} generated.
     * A budget too small for the mode gives a {@link Status#DOES_NOT_FIT} result; other failures throw.
     *
     * @param log where per-token progress goes (null for none)
     */
    public static Result run(Path pack, EngineOptions o, int promptTokens, int tokens, PrintStream log)
            throws IOException {
        if (promptTokens < 1 || tokens < 1) {
            throw new IllegalArgumentException("prompt tokens and generated tokens must be at least 1, were "
                    + promptTokens + " and " + tokens);
        }
        long start = System.nanoTime();
        FlashEngine engine;
        try {
            engine = FlashEngine.open(pack, o, log);
        } catch (MemoryBudget.MemoryBudgetException e) {
            String m = e.getMessage();
            int nl = m.indexOf('\n');
            return new Result(o.mode().id(), Status.DOES_NOT_FIT, (nl < 0 ? m : m.substring(0, nl)).trim(), null, 0,
                    o.memoryBytes().orElse(0), 0, null, o.direct(), (System.nanoTime() - start) / 1e9,
                    nl < 0 ? "" : m.substring(nl + 1), List.of(), Double.NaN);
        }
        try (engine; InferenceState state = engine.newState()) {
            int[] prompt = promptIds(engine.tokenizer(), engine.addBos(), promptTokens);
            int vocab = engine.config().vocabSize();
            int total = promptTokens + tokens;
            TokenProgress progress = new TokenProgress(o.mode().id(), promptTokens, total, log);
            int token = prompt[0];
            for (int pos = 0; pos < total; pos++) {
                MemorySegment logits = engine.forward(state, token, pos);
                token = pos + 1 < promptTokens ? prompt[pos + 1] : GreedySampler.argmax(logits, vocab);
                progress.token(pos + 1, engine.stats().last().nanos());
            }
            progress.finish();
            EngineStats.Summary s = engine.stats().summary(promptTokens, total);
            double prefill = warmPrefill(engine, prompt);
            // the read planner's cost model as the run left it: learned from how many reads, observed vs predicted
            List<String> notes = new ArrayList<>();
            engine.stats().costModel().ifPresent(d -> notes.add("cost model: " + d));
            engine.stats().lookAhead().ifPresent(notes::add);
            return new Result(o.mode().id(), Status.OK, "", s, engine.budget().used(), engine.budget().limit(),
                    engine.cacheRows(), engine.predictorKind() == null ? null : engine.predictorKind().id(), o.direct(),
                    (System.nanoTime() - start) / 1e9, engine.budget().table(), notes, prefill);
        }
    }

    /**
     * Prompt tokens per second with the model warm (after the generation, as the native engine's pp figure is
     * taken): the prompt again from position 0 in a fresh state, in chunks of {@link Session#DEFAULT_PREFILL_CHUNK}
     * tokens through {@link FlashEngine#forwardBatch}, as generate and chat run prompts.
     */
    static double warmPrefill(FlashEngine engine, int[] prompt) {
        try (InferenceState state = engine.newState()) {
            long t0 = System.nanoTime();
            for (int from = 0; from < prompt.length; from += Session.DEFAULT_PREFILL_CHUNK) {
                int n = Math.min(Session.DEFAULT_PREFILL_CHUNK, prompt.length - from);
                engine.forwardBatch(state, prompt, from, n, from);
            }
            return prompt.length / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** {@code n} prompt ids: BOS (when the model adds one), then the built-in text, repeated and cut to length. */
    static int[] promptIds(Tokenizer t, boolean addBos, int n) {
        int[] text = t.encode(PROMPT_TEXT, false);
        if (text.length == 0) {
            throw new IllegalStateException("the tokenizer encodes the built-in prompt text as no tokens");
        }
        int[] ids = new int[n];
        int i = 0;
        if (addBos && t.bos() >= 0) {
            ids[i++] = t.bos();
        }
        for (int j = 0; i < n; i++, j++) {
            ids[i] = text[j % text.length];
        }
        return ids;
    }


    /**
     * Tokens done, on one line redrawn in place on a terminal; in a log, a line every few seconds (slow
     * modes such as naive take seconds per token on a large model, so silence would look like a hang).
     */
    private static final class TokenProgress {
        private final String mode;
        private final int prompt;
        private final int total;
        private final PrintStream out;
        private final long start = System.nanoTime();
        private long last = start;
        private boolean drawn;

        TokenProgress(String mode, int prompt, int total, PrintStream out) {
            this.mode = mode;
            this.prompt = prompt;
            this.total = total;
            this.out = out;
        }

        void token(int done, long lastNanos) {
            long now = System.nanoTime();
            if (out == null || now - last < (Progress.isTerminal() ? 200_000_000L : 5_000_000_000L)) {
                return;
            }
            last = now;
            draw(done, lastNanos, false);
        }

        void finish() {
            if (out != null && (drawn || System.nanoTime() - start > 1_000_000_000L)) {
                draw(total, 0, true);
            }
        }

        private void draw(int done, long lastNanos, boolean end) {
            drawn = true;
            String phase = done <= prompt ? "prompt" : "generating";
            out.printf(Locale.ROOT, "%sbench %s: %d/%d tokens (%s)%s, %.1f s%s", Progress.isTerminal() ? "\r" : "",
                    mode, done, total, end ? "done" : phase, end ? "" : String.format(Locale.ROOT,
                            ", last %.1f ms", lastNanos / 1e6), (System.nanoTime() - start) / 1e9,
                    end || !Progress.isTerminal() ? "\n" : "   ");
            out.flush();
        }
    }
}
