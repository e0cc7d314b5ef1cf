package io.flashlm.engine;

import java.util.Locale;

/**
 * Keeps look-ahead only while it pays on this run's own tokens. Look-ahead trades bytes for time: a guess reads
 * records the true set may not use, in exchange for reads that land while the engine computes. Whether that
 * pays depends on the guess's quality and on how busy the device is against the CPU, so the guard measures the
 * one thing look-ahead changes on the engine's thread: the time per token spent waiting for reads, planning
 * and predicting (the FFN's overheads; compute is the same neurons either way).
 *
 * <p>The rule, in tokens: it starts without look-ahead; {@value #WINDOW} tokens in the current state, then
 * {@value #TRIAL} tokens in the other; the other state is kept when its mean cost per token was lower than the
 * window's, else the guard goes back. (It starts off because on the one real model measured, tinyopt-relu, a
 * guess holds 85 % of the true set and adds half as many wrong neurons: on opt-6.7b's shape that doubles the
 * bytes read and costs more than it hides; see docs/benchmarks.md.) Deterministic: it sees only the figures it is given, so tests feed it synthetic ones.
 */
final class LookAheadGuard {
    static final int WINDOW = 32;
    static final int TRIAL = 4;

    private boolean on;
    private boolean trying;
    private int tokensInPhase;
    private double sum;
    private double reference = Double.NaN;
    private double lastOn = Double.NaN;
    private double lastOff = Double.NaN;
    private int switches;
    private int tokens;
    private String verdict = "no check yet";

    /** Whether the current token looks ahead. */
    boolean lookingAhead() {
        return on != trying;
    }

    /** Closes a token whose FFN overheads (I/O wait, memory management, prediction) took {@code costNanos}. */
    void endToken(long costNanos) {
        tokens++;
        tokensInPhase++;
        sum += costNanos;
        if (!trying && tokensInPhase >= WINDOW) {
            reference = sum / tokensInPhase;
            record(on, reference);
            trying = true;
            reset();
        } else if (trying && tokensInPhase >= TRIAL) {
            double trial = sum / tokensInPhase;
            boolean trialWith = !on;
            record(trialWith, trial);
            boolean better = trial < reference;
            if (better) {
                on = trialWith;
                switches++;
            }
            verdict = String.format(Locale.ROOT, "at token %d, a trial %s look-ahead: %.2f ms per token vs %.2f ms:"
                    + " %s", tokens, trialWith ? "with" : "without", trial / 1e6, reference / 1e6,
                    better ? (on ? "switched on" : "switched off") : (on ? "kept on" : "kept off"));
            trying = false;
            reset();
        }
    }

    private void record(boolean withLookAhead, double mean) {
        if (withLookAhead) {
            lastOn = mean;
        } else {
            lastOff = mean;
        }
    }

    private void reset() {
        tokensInPhase = 0;
        sum = 0;
    }

    String describe() {
        return String.format(Locale.ROOT, "guard: %s after %d tokens, %d switches; I/O wait + planning + prediction"
                        + " per token %s with, %s without; last check %s", on ? "on" : "off", tokens, switches,
                ms(lastOn), ms(lastOff), verdict);
    }

    private static String ms(double nanos) {
        return Double.isNaN(nanos) ? "not measured" : String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
}
