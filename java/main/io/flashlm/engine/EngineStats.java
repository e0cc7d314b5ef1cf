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
     * One token's figures. Compute is the token's time minus I/O, memory management and prediction.
     * windowShrinks counts the layers whose window did not fit the cache and let its oldest tokens go early.
     */
    public record Token(long nanos, long ioNanos, long memoryNanos, long predictNanos, long predicted, long hits,
                        long misses, long bytesRead, long reads, long windowShrinks) {
        public long computeNanos() {
            return Math.max(0, nanos - ioNanos - memoryNanos - predictNanos);
        }
    }

    private static final int FIELDS = 10;

    // the current token
    long ioNanos;
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

    /** Forgets every token. */
    public synchronized void reset() {
        tokens = 0;
        clearCurrent();
    }

    void clearCurrent() {
        ioNanos = memoryNanos = predictNanos = predicted = hits = misses = bytesRead = reads = windowShrinks = 0;
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
        tokens++;
        clearCurrent();
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
                history[o + 6], history[o + 7], history[o + 8], history[o + 9]);
    }

    /** The last token's figures. */
    public synchronized Token last() {
        return token(tokens - 1);
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
