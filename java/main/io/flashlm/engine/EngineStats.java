package io.flashlm.engine;

import java.util.Arrays;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Per-token statistics of the engine: neurons predicted, cache hits and misses, bytes and reads
 * issued, and where the time went (I/O, memory management, prediction; compute is the rest of the
 * token). The engine adds to the current token's counters as it runs; {@link #endToken} closes the
 * token. History is kept in growable arrays, so a token costs no allocation once they have grown.
 */
public final class EngineStats {
    /**
     * One token's figures. ioNanos is the time the engine's thread spent on I/O (reading, or waiting for reads
     * it started earlier); readNanos the time the reads themselves took, which may overlap compute when a
     * worker reads ahead ({@link ReadPipeline}; equal to ioNanos when every read is waited for at once).
     * Compute is the token's time minus I/O, memory management and prediction. windowShrinks counts the
     * layers whose window did not fit the cache and let its oldest tokens go early.
     */
    public record Token(long nanos, long ioNanos, long memoryNanos, long predictNanos, long predicted, long hits,
                        long misses, long bytesRead, long reads, long windowShrinks, long readNanos) {
        public long computeNanos() {
            return Math.max(0, nanos - ioNanos - memoryNanos - predictNanos);
        }
    }

    private static final int FIELDS = 11;

    // the current token
    long ioNanos;
    long readNanos;
    long memoryNanos;
    long predictNanos;
    long predicted;
    long hits;
    long misses;
    long bytesRead;
    long reads;
    long windowShrinks;

    private long[] history = new long[FIELDS * 256];
    private int tokens;
    private volatile Supplier<String> costModel;
    private volatile Supplier<String> lookAhead;

    /** Sets what {@link #costModel()} says (the flash mode's read planner). */
    void describeCostModelWith(Supplier<String> description) {
        costModel = description;
    }

    /**
     * The read planner's cost model as it stands now: where it comes from, how many reads it learned
     * from, observed against predicted throughput, and the merge guard's state; empty in the modes that
     * plan no reads.
     */
    public Optional<String> costModel() {
        Supplier<String> d = costModel;
        return d == null ? Optional.empty() : Optional.of(d.get());
    }

    /** Sets what {@link #lookAhead()} says (the windowed modes' look-ahead). */
    void describeLookAheadWith(Supplier<String> description) {
        lookAhead = description;
    }

    /** What the look-ahead's guesses realised (recall, wasted reads); empty without look-ahead. */
    public Optional<String> lookAhead() {
        Supplier<String> d = lookAhead;
        return d == null ? Optional.empty() : Optional.of(d.get());
    }

    /** Forgets every token. */
    public synchronized void reset() {
        tokens = 0;
        clearCurrent();
    }

    void clearCurrent() {
        ioNanos = readNanos = memoryNanos = predictNanos = predicted = hits = misses = bytesRead = reads = 0;
        windowShrinks = 0;
    }

    /** Closes the current token, which took {@code nanos} in all. */
    synchronized void endToken(long nanos) {
        if ((tokens + 1) * FIELDS > history.length) {
            history = Arrays.copyOf(history, history.length * 2);
        }
        int o = tokens * FIELDS;
        history[o] = nanos;
        history[o + 1] = ioNanos;
        history[o + 2] = memoryNanos;
        history[o + 3] = predictNanos;
        history[o + 4] = predicted;
        history[o + 5] = hits;
        history[o + 6] = misses;
        history[o + 7] = bytesRead;
        history[o + 8] = reads;
        history[o + 9] = windowShrinks;
        history[o + 10] = readNanos;
        tokens++;
        clearCurrent();
    }

    /**
     * Closes {@code count} tokens run together (a prefill chunk) that took {@code nanos} in all: each gets an
     * equal share of the time and of every counter (the remainders going to the last), so sums and token counts
     * stay right.
     */
    synchronized void endTokens(long nanos, int count) {
        if (count == 1) {
            endToken(nanos);
            return;
        }
        long[] total = {nanos, ioNanos, memoryNanos, predictNanos, predicted, hits, misses, bytesRead, reads,
            windowShrinks, readNanos};
        long[] share = new long[total.length];
        for (int i = 0; i < count; i++) {
            for (int f = 0; f < total.length; f++) {
                share[f] = i < count - 1 ? total[f] / count : total[f] - (total[f] / count) * (count - 1);
            }
            ioNanos = share[1];
            memoryNanos = share[2];
            predictNanos = share[3];
            predicted = share[4];
            hits = share[5];
            misses = share[6];
            bytesRead = share[7];
            reads = share[8];
            windowShrinks = share[9];
            readNanos = share[10];
            endToken(share[0]);
        }
    }

    /** Tokens closed since the last reset. */
    public synchronized int tokens() {
        return tokens;
    }

    public synchronized Token token(int i) {
        if (i < 0 || i >= tokens) {
            throw new IndexOutOfBoundsException("token " + i + " of " + tokens);
        }
        int o = i * FIELDS;
        return new Token(history[o], history[o + 1], history[o + 2], history[o + 3], history[o + 4], history[o + 5],
                history[o + 6], history[o + 7], history[o + 8], history[o + 9], history[o + 10]);
    }

    /** The last token's figures. */
    public synchronized Token last() {
        return token(tokens - 1);
    }

    /**
     * Mean time the reads of tokens {@code from..to-1} took, overlapped with compute or not ({@link Token#readNanos}):
     * with a read pipeline, the device's share of a token next to its compute.
     */
    public synchronized double meanReadNanos(int from, int to) {
        if (from < 0 || to < from || to > tokens) {
            throw new IndexOutOfBoundsException("tokens " + from + ".." + to + " of " + tokens);
        }
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += history[i * FIELDS + 10];
        }
        return to == from ? 0 : sum / (to - from);
    }

    /** Summary over tokens {@code from..tokens()-1} (for instance the generated ones, after the prompt). */
    public synchronized Summary summary(int from) {
        return summary(from, tokens);
    }

    /** Summary over tokens {@code from..to-1}. */
    public synchronized Summary summary(int from, int to) {
        int n = to - from;
        if (from < 0 || n < 0 || to > tokens) {
            throw new IndexOutOfBoundsException("tokens " + from + ".." + to + " of " + tokens);
        }
        Token[] t = new Token[n];
        for (int i = 0; i < n; i++) {
            t[i] = token(from + i);
        }
        return Summary.of(t);
    }

    /**
     * Medians and 90th percentiles of latency and its parts, means of the counters, and the derived
     * ratios, over a run of tokens.
     */
    public record Summary(int tokens, double medianNanos, double p90Nanos, double meanNanos, double medianIoNanos,
                          double medianMemoryNanos, double medianPredictNanos, double medianComputeNanos,
                          double meanIoNanos, double meanMemoryNanos, double meanPredictNanos, double meanComputeNanos,
                          double meanPredicted, double meanHits, double meanMisses, double meanBytesRead,
                          double meanReads, long windowShrinks) {

        static Summary of(Token[] t) {
            int n = t.length;
            long resets = 0;
            double[] sums = new double[9];
            for (Token k : t) {
                sums[0] += k.nanos();
                sums[1] += k.ioNanos();
                sums[2] += k.memoryNanos();
                sums[3] += k.predictNanos();
                sums[4] += k.computeNanos();
                sums[5] += k.predicted();
                sums[6] += k.hits();
                sums[7] += k.misses();
                sums[8] += k.bytesRead();
                resets += k.windowShrinks();
            }
            double reads = 0;
            for (Token k : t) {
                reads += k.reads();
            }
            double d = Math.max(1, n);
            return new Summary(n, percentile(t, 0.5, Token::nanos), percentile(t, 0.9, Token::nanos), sums[0] / d,
                    percentile(t, 0.5, Token::ioNanos), percentile(t, 0.5, Token::memoryNanos),
                    percentile(t, 0.5, Token::predictNanos), percentile(t, 0.5, Token::computeNanos), sums[1] / d,
                    sums[2] / d, sums[3] / d, sums[4] / d, sums[5] / d, sums[6] / d, sums[7] / d, sums[8] / d,
                    reads / d, resets);
        }

        private static double percentile(Token[] t, double q, java.util.function.ToLongFunction<Token> f) {
            if (t.length == 0) {
                return 0;
            }
            long[] v = Arrays.stream(t).mapToLong(f).sorted().toArray();
            // nearest rank, the median of an even count being the mean of the middle two
            if (q == 0.5 && v.length % 2 == 0) {
                return (v[v.length / 2 - 1] + v[v.length / 2]) / 2.0;
            }
            int rank = (int) Math.ceil(q * v.length) - 1;
            return v[Math.max(0, Math.min(v.length - 1, rank))];
        }

        /** Share of the neurons computed that were already resident (NaN when nothing was asked). */
        public double hitRate() {
            double asked = meanHits + meanMisses;
            return asked == 0 ? Double.NaN : meanHits / asked;
        }

        /** Bytes per read on average (0 without reads). */
        public double meanReadBytes() {
            return meanReads == 0 ? 0 : meanBytesRead / meanReads;
        }

        /** Bytes read per second of I/O time (0 without I/O). */
        public double readBytesPerSecond() {
            return meanIoNanos == 0 ? 0 : meanBytesRead / (meanIoNanos / 1e9);
        }

        public double tokensPerSecond() {
            return meanNanos == 0 ? 0 : 1e9 / meanNanos;
        }
    }
}
