package io.flashlm.planning;

import java.util.Locale;

/**
 * Keeps the read planner from holding on to merged reads that do not pay (issue 13): merging across
 * gaps reads more bytes per token by construction, so it is kept only while it also costs less I/O
 * time per wanted record than the plain plan (neighbours only), as measured on this run's own tokens.
 *
 * <p>The rule, in tokens:
 * <ol>
 * <li>Merging: {@value #WINDOW} tokens planned with merges. If they read no byte beyond the wanted
 *     records (the cost model merged nothing) the plan is the plain one and nothing is to be checked;
 *     otherwise the guard tries the plain plan for {@value #TRIAL} tokens.</li>
 * <li>After the trial: with t(plan) = I/O time / wanted records over its tokens, merging goes on when
 *     t(merged) &le; t(plain); else the guard falls back to plain.</li>
 * <li>Plain (fallen back): {@value #WINDOW} tokens plain, then {@value #TRIAL} tokens merged as a trial
 *     (the device or the learned model may have changed); merging comes back only if the trial beats
 *     the plain window by the same measure, or merged nothing (then the two plans are the same).</li>
 * </ol>
 * A window in which no record was wanted (everything resident) is no evidence and leaves the choice as
 * it was. The cost of the check is {@value #TRIAL} tokens in {@value #WINDOW} planned the other way.
 * Deterministic: it sees only the figures it is given, so tests feed it synthetic ones.
 */
public final class MergeGuard {
    public static final int WINDOW = 32;
    public static final int TRIAL = 4;

    private enum Phase { MERGING, TRYING_PLAIN, PLAIN, TRYING_MERGED }

    private Phase phase = Phase.MERGING;
    private int tokensInPhase;
    // this phase's sums
    private long ioNanos;
    private long wanted;
    private long extraBytes;
    // the reference the trial is judged against: I/O ns per wanted record, NaN when unknown
    private double reference = Double.NaN;
    private double lastMerged = Double.NaN;
    private double lastPlain = Double.NaN;
    private int fallbacks;
    private int tokens;
    private int checkedAt = -1; // the token of the last decision
    private String verdict = "";

    /** Whether the current token's reads may merge across gaps. */
    public boolean merging() {
        return phase == Phase.MERGING || phase == Phase.TRYING_MERGED;
    }

    /**
     * One batch of the current token: {@code wantedRecords} missing records were read in
     * {@code bytesRead} bytes, of which {@code extraBytes} were gap records nobody asked for, in
     * {@code ioNanos} of I/O.
     */
    public void add(long wantedRecords, long extra, long nanos) {
        wanted += wantedRecords;
        extraBytes += extra;
        ioNanos += nanos;
    }

    /** Closes the current token; the next one is planned as {@link #merging()} then says. */
    public void endToken() {
        tokens++;
        tokensInPhase++;
        switch (phase) {
            case MERGING -> {
                if (tokensInPhase >= WINDOW) {
                    if (extraBytes == 0 || wanted == 0) {
                        next(Phase.MERGING); // merged nothing (or read nothing): no plain plan to compare with
                    } else {
                        reference = perRecord();
                        lastMerged = reference;
                        next(Phase.TRYING_PLAIN);
                    }
                }
            }
            case TRYING_PLAIN -> {
                if (tokensInPhase >= TRIAL) {
                    double plain = perRecord();
                    if (!Double.isNaN(plain)) {
                        lastPlain = plain;
                    }
                    lastMerged = reference;
                    if (!Double.isNaN(plain) && reference > plain) {
                        fallbacks++;
                        decided("merging cost more per wanted record: fell back to plain");
                        next(Phase.PLAIN);
                    } else {
                        decided("merging paid: kept");
                        next(Phase.MERGING);
                    }
                }
            }
            case PLAIN -> {
                if (tokensInPhase >= WINDOW) {
                    reference = perRecord();
                    if (!Double.isNaN(reference)) {
                        lastPlain = reference;
                    }
                    next(Phase.TRYING_MERGED);
                }
            }
            case TRYING_MERGED -> {
                if (tokensInPhase >= TRIAL) {
                    double merged = perRecord();
                    if (extraBytes == 0) {
                        // the model merges nothing now: the plans are the same
                        lastMerged = Double.NaN;
                        decided("the merged trial merged nothing (the plans agree): back to the model's plan");
                        next(Phase.MERGING);
                    } else {
                        lastMerged = merged;
                        boolean pays = !Double.isNaN(merged) && (Double.isNaN(reference) || merged <= reference);
                        decided(pays ? "merging paid again: resumed" : "merging still cost more: stayed plain");
                        next(pays ? Phase.MERGING : Phase.PLAIN);
                    }
                }
            }
        }
    }

    private void decided(String why) {
        checkedAt = tokens;
        verdict = why;
    }

    private double perRecord() {
        return wanted == 0 ? Double.NaN : ioNanos / (double) wanted;
    }

    private void next(Phase p) {
        phase = p;
        tokensInPhase = 0;
        ioNanos = 0;
        wanted = 0;
        extraBytes = 0;
    }

    /** Times the guard chose plain over merged after a trial. */
    public int fallbacks() {
        return fallbacks;
    }

    /** Whether the guard has fallen back to the plain plan (trials aside). */
    public boolean fallenBack() {
        return phase == Phase.PLAIN || phase == Phase.TRYING_MERGED;
    }

    public String describe() {
        String now = switch (phase) {
            case MERGING -> "merging gaps as the cost model says";
            case TRYING_PLAIN -> "trying the plain plan (neighbours only) against merging";
            case PLAIN -> "fallen back to the plain plan (neighbours only): merging did not pay";
            case TRYING_MERGED -> "plain plan, trying merges again";
        };
        StringBuilder s = new StringBuilder("merge guard: ").append(now).append(" after ").append(tokens)
                .append(" tokens, ").append(fallbacks).append(" fallbacks");
        if (checkedAt >= 0) {
            s.append(String.format(Locale.ROOT, "; last check at token %d: I/O per wanted record %s merged vs %s"
                    + " plain, %s", checkedAt, us(lastMerged), us(lastPlain), verdict));
        }
        return s.toString();
    }

    private static String us(double nanos) {
        return Double.isNaN(nanos) ? "n/a" : String.format(Locale.ROOT, "%.2f us", nanos / 1e3);
    }
}
