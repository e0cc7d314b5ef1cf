package io.flashlm.predictor;

import java.lang.foreign.MemorySegment;

/**
 * Synthetic activation traces, for synthetic models whose random weights make their activations
 * meaningless: ignores the FFN input and plays, per layer, a random process whose statistics follow
 * the paper's OPT-6.7B figures, so that the window cache, the read planner and the I/O see realistic
 * request streams.
 *
 * <p>The process, per layer: every token's set has exactly m = round(predictedShare n) neurons (at
 * least 1). The first set (token 0) is drawn from the layer's popularity distribution; each next set
 * keeps K neurons of the previous token's set, chosen uniformly at random (reuse across neighbouring
 * tokens), and fills the other m - K by drawing from the popularity distribution, rejecting neurons
 * already in the set. Popularity: the neuron of rank r (0-based) has weight (r + 1)^-popularitySkew
 * (Zipf-like; 0 = uniform), ranks mapped to neuron ids by a per-layer random permutation, sampled in
 * O(1) with an alias table. K is calibrated in the constructor by a deterministic simulation
 * ({@link #CALIBRATION_WINDOW} = 5, the paper's k, over {@link #CALIBRATION_TOKENS} tokens after a
 * warm-up): the smallest K whose share of neurons outside the union of the previous 5 tokens' sets is
 * at most {@code newShare}, or K - 1 when that lands closer. {@link #simulate} reports what the
 * process realises.
 *
 * <p>Each layer has its own random streams (from the seed and the layer index) and its own state, so
 * layer l's t-th call returns the same set whatever the order of calls to other layers; calling a
 * layer twice for one token advances it twice. {@link #reset} rewinds every layer to token 0.
 * {@code predict} allocates nothing: O(m) work plus a scan of an n-bit bitmap for the ascending output.
 */
public final class TracePredictor implements Predictor {
    /** k of the paper's windowing figure (2.4% of the FFN new per token with a 5-token window). */
    public static final int CALIBRATION_WINDOW = 5;
    /** Tokens measured per calibration step, after {@link #warmup}. */
    public static final int CALIBRATION_TOKENS = 200;
    /** Above this the sets hold nearly all the popularity mass and rejection sampling stalls. */
    public static final double MAX_SKEW = 3.0;

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final int PERMUTATION = 0, STREAM = 1;
    /** Mixed into a layer's stream seed for the look-ahead's own stream. */
    private static final long AHEAD_STREAM = 0x6C6F6F6B61686561L;

    /**
     * The process's parameters. {@code predictedShare}: share of the FFN in each token's set (what a
     * predictor selects; the true activity is lower). {@code newShare}: target share of the FFN per token
     * that is not in the union of the previous {@link #CALIBRATION_WINDOW} sets. {@code popularitySkew}:
     * the Zipf exponent of neuron popularity.
     */
    public record Params(double predictedShare, double newShare, double popularitySkew, long seed) {
        public Params {
            if (!(predictedShare > 0 && predictedShare < 1)) {
                throw new IllegalArgumentException("predictedShare must be in (0, 1), was " + predictedShare);
            }
            if (!(newShare > 0 && newShare < 1)) {
                throw new IllegalArgumentException("newShare must be in (0, 1), was " + newShare);
            }
            if (newShare > predictedShare) {
                throw new IllegalArgumentException("newShare (" + newShare + ") must not exceed predictedShare ("
                        + predictedShare + "): a token cannot load more neurons than its set holds");
            }
            if (!(popularitySkew >= 0 && popularitySkew <= MAX_SKEW)) {
                throw new IllegalArgumentException("popularitySkew must be in [0, " + MAX_SKEW + "], was " + popularitySkew);
            }
        }

        public Params withSeed(long s) {
            return new Params(predictedShare, newShare, popularitySkew, s);
        }
    }

    /**
     * What the process realised over {@code tokens} tokens after the warm-up: {@code reuse} = K / m
     * (the calibrated share kept from the previous set); {@code predictedShare} = mean |S_t| / n;
     * {@code newShare} = mean |S_t minus the union of S_t-window..S_t-1| / n (what a window cache of
     * {@code window} tokens reads); {@code residentShare} = mean |union of S_t-window+1..S_t| / n (what
     * it holds); {@code overlap} = mean |S_t and S_t-1| / |S_t| (reuse plus popularity's coincidences).
     */
    public record Stats(int neurons, int window, int tokens, double reuse, double predictedShare, double newShare,
                        double residentShare, double overlap) {
    }

    /** OPT-6.7B (the paper): 10% of the FFN predicted per token, 2.4% new with a 5-token window. */
    public static Params opt67b() {
        return new Params(0.10, 0.024, 1.0, 1L);
    }

    private final int dim;
    private final Process process;
    private final int keep;
    private final Layer[] layers;

    /** A trace for {@code layers} layers of {@code neurons} neurons; {@code dim} is only reported. */
    public TracePredictor(int layers, int dim, int neurons, Params params) {
        if (layers < 1 || dim < 1) {
            throw new IllegalArgumentException("layers and dim must be positive, were " + layers + ", " + dim);
        }
        this.dim = dim;
        process = new Process(neurons, params);
        keep = calibrate(process, params);
        this.layers = new Layer[layers];
        for (int l = 0; l < layers; l++) {
            this.layers[l] = new Layer(process, params.seed(), l);
        }
    }

    @Override
    public int predict(int layer, MemorySegment x, int[] outActive) {
        Layer s = layers[layer];
        if (s.stashed) { // drawn early by predictAhead: this token's set
            s.stashed = false;
            System.arraycopy(s.stash, 0, outActive, 0, s.stashCount);
            return s.stashCount;
        }
        return process.next(s, keep, outActive);
    }

    /**
     * Draws the layer's next set now (the following {@link #predict} returns it) and returns an imperfect guess
     * of it, as a look-ahead predictor fed the previous layer's input would make: each neuron of the set kept
     * with probability {@link #AHEAD_RECALL}, plus {@link #AHEAD_EXTRA} times the set's size of other neurons
     * drawn from the popularity distribution (wasted reads). Both from their own random streams, so the sets
     * themselves are the same with or without look-ahead.
     */
    @Override
    public int predictAhead(int layer, MemorySegment earlierX, int[] outActive) {
        Layer s = layers[layer];
        if (!s.stashed) {
            s.stashCount = process.next(s, keep, s.stash);
            s.stashed = true;
        }
        return process.guess(s, outActive);
    }

    /**
     * The share of a layer's set that the look-ahead guess holds: about what the trained predictor of
     * tinyopt-relu recalls of its own set when fed the previous layer's FFN input, in the layers after the
     * first (0.85 and 0.88 for layers 3 and 2; layer 1, guessed from the much denser layer 0, gets 0.71; see
     * docs/benchmarks.md, look-ahead).
     */
    public static final double AHEAD_RECALL = 0.85;
    /** Neurons outside the set that the guess adds, per neuron of the set (tinyopt-relu: 0.43 and 0.53 there). */
    public static final double AHEAD_EXTRA = 0.50;

    /** Rewinds every layer to token 0. */
    public void reset() {
        for (Layer s : layers) {
            s.reset();
        }
    }

    /** How many sets layer {@code layer} has produced since construction or {@link #reset}. */
    public long token(int layer) {
        return layers[layer].token;
    }

    /** m: neurons in every token's set. */
    public int setSize() {
        return process.m;
    }

    /** K / m: the calibrated share of a set kept from the previous token's. */
    public double reuse() {
        return (double) keep / process.m;
    }

    /**
     * Runs one layer's process (layer 0's streams of a predictor with these parameters) for
     * {@link #warmup}(window) tokens, then measures {@code tokens} tokens against a {@code window}-token
     * window. Calibrates first, as the constructor does.
     */
    public static Stats simulate(int neurons, Params p, int window, int tokens) {
        if (window < 1 || tokens < 1) {
            throw new IllegalArgumentException("window and tokens must be positive, were " + window + ", " + tokens);
        }
        Process proc = new Process(neurons, p);
        int k = calibrate(proc, p);
        return run(proc, new Layer(proc, p.seed(), 0), k, window, tokens, true);
    }

    /** Tokens run before measuring: the window must be full, and the start (token 0) forgotten. */
    static int warmup(int window) {
        return Math.max(32, window);
    }

    /** Smallest K whose new share is at most the target (or K - 1 when closer); new share falls with K. */
    private static int calibrate(Process proc, Params p) {
        Layer s = new Layer(proc, p.seed(), -1);
        double target = p.newShare();
        double atZero = run(proc, s, 0, CALIBRATION_WINDOW, CALIBRATION_TOKENS, false).newShare();
        if (atZero < target) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "newShare %.4f is out of reach"
                    + " for %d neurons with popularitySkew %s: even with no reuse only %.4f of the FFN is new per"
                    + " token; lower popularitySkew or newShare", target, proc.n, p.popularitySkew(), atZero));
        }
        // f(lo) > target >= f(hi); f(m) = 0 (a set that never changes brings nothing new).
        int lo = 0, hi = proc.m;
        double fLo = atZero, fHi = 0;
        if (atZero == target) {
            return 0;
        }
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            double f = run(proc, s, mid, CALIBRATION_WINDOW, CALIBRATION_TOKENS, false).newShare();
            if (f <= target) {
                hi = mid;
                fHi = f;
            } else {
                lo = mid;
                fLo = f;
            }
        }
        return fLo - target < target - fHi ? lo : hi;
    }

    private static Stats run(Process proc, Layer s, int keep, int window, int tokens, boolean full) {
        int n = proc.n;
        int[] out = new int[n];
        int[] lastSeen = new int[n];
        java.util.Arrays.fill(lastSeen, Integer.MIN_VALUE / 2);
        s.reset();
        int warm = warmup(window);
        long sets = 0, fresh = 0, resident = 0, overlap = 0;
        for (int t = 0; t < warm + tokens; t++) {
            int c = proc.next(s, keep, out);
            boolean measured = t >= warm;
            for (int i = 0; i < c; i++) {
                int v = out[i];
                if (measured) {
                    if (lastSeen[v] < t - window) {
                        fresh++;
                    }
                    if (lastSeen[v] == t - 1) {
                        overlap++;
                    }
                }
                lastSeen[v] = t;
            }
            if (measured) {
                sets += c;
                if (full) {
                    for (int i = 0; i < n; i++) {
                        if (lastSeen[i] > t - window) {
                            resident++;
                        }
                    }
                }
            }
        }
        double nt = (double) n * tokens;
        return new Stats(n, window, tokens, (double) keep / proc.m, sets / nt, fresh / nt,
                full ? resident / nt : Double.NaN, (double) overlap / sets);
    }

    @Override
    public PredictorKind kind() {
        return PredictorKind.TRACE;
    }

    @Override
    public int layers() {
        return layers.length;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public int neurons() {
        return process.n;
    }

    /** What all layers share: sizes, the popularity alias table over ranks, the bitmap scratch. */
    private static final class Process {
        final int n;
        final int m;
        final double[] prob;
        final int[] alias;
        final long[] bits;

        Process(int neurons, Params p) {
            if (neurons < 1) {
                throw new IllegalArgumentException("neurons must be positive, was " + neurons);
            }
            n = neurons;
            m = (int) Math.max(1, Math.min(n, Math.round(p.predictedShare() * n)));
            prob = new double[n];
            alias = new int[n];
            bits = new long[(n + 63) >>> 6];
            // Vose's alias method: column r is rank r with probability prob[r], else rank alias[r].
            double[] w = new double[n];
            double sum = 0;
            for (int r = 0; r < n; r++) {
                w[r] = StrictMath.pow(r + 1, -p.popularitySkew()); // StrictMath: the same trace on every JVM
                sum += w[r];
            }
            int[] small = new int[n], large = new int[n];
            int ns = 0, nl = 0;
            for (int r = 0; r < n; r++) {
                w[r] = w[r] * n / sum;
                if (w[r] < 1) {
                    small[ns++] = r;
                } else {
                    large[nl++] = r;
                }
            }
            while (ns > 0 && nl > 0) {
                int s = small[--ns], g = large[--nl];
                prob[s] = w[s];
                alias[s] = g;
                w[g] = (w[g] + w[s]) - 1;
                if (w[g] < 1) {
                    small[ns++] = g;
                } else {
                    large[nl++] = g;
                }
            }
            // Leftovers are 1 up to rounding.
            while (nl > 0) {
                int g = large[--nl];
                prob[g] = 1;
                alias[g] = g;
            }
            while (ns > 0) {
                int s = small[--ns];
                prob[s] = 1;
                alias[s] = s;
            }
        }

        /** A neuron drawn from the popularity distribution with the 64 random bits z: column, then alias. */
        int draw(long z, int[] perm) {
            int col = (int) (((z >>> 32) * n) >>> 32);
            return perm[(z & 0xFFFFFFFFL) * 0x1.0p-32 < prob[col] ? col : alias[col]];
        }

        /** The look-ahead guess of layer s's stashed set into out (ascending); returns its size. */
        int guess(Layer s, int[] out) {
            long[] b = bits;
            for (int i = 0; i < s.stashCount; i++) {
                int v = s.stash[i];
                b[v >>> 6] |= 1L << v;
            }
            long base = mix64(s.aheadSeed + GOLDEN * s.token);
            long rng = base;
            int extras = (int) Math.min(n - s.stashCount, Math.round(AHEAD_EXTRA * s.stashCount));
            int added = 0;
            for (long budget = 32L * extras + 64; added < extras && budget > 0; budget--) {
                long z = mix64(rng += GOLDEN);
                int v = draw(z, s.perm);
                long bit = 1L << v;
                if ((b[v >>> 6] & bit) == 0) {
                    b[v >>> 6] |= bit;
                    added++;
                }
            }
            long dropBelow = (long) ((1 - AHEAD_RECALL) * 0x1.0p53);
            for (int i = 0; i < s.stashCount; i++) {
                int v = s.stash[i];
                if ((mix64(base ^ (v + 1L) * GOLDEN) >>> 11) < dropBelow) {
                    b[v >>> 6] &= ~(1L << v);
                }
            }
            return drainAscending(out);
        }

        /** The set bits of the bitmap into out, ascending, clearing it for the next call; returns how many. */
        int drainAscending(int[] out) {
            long[] b = bits;
            int c = 0;
            for (int w = 0; w < b.length; w++) {
                long word = b[w];
                if (word != 0) {
                    b[w] = 0;
                    do {
                        out[c++] = (w << 6) + Long.numberOfTrailingZeros(word);
                        word &= word - 1;
                    } while (word != 0);
                }
            }
            return c;
        }

        /** Layer s's next set into out (ascending), keeping {@code keep} of its previous set; returns m. */
        int next(Layer s, int keep, int[] out) {
            long[] b = bits;
            int[] prev = s.prev;
            int kept = Math.min(keep, s.count);
            // Partial Fisher-Yates: prev[0..kept) becomes a uniform sample of the previous set.
            for (int i = 0; i < kept; i++) {
                int j = i + s.nextInt(s.count - i);
                int v = prev[j];
                prev[j] = prev[i];
                prev[i] = v;
                b[v >>> 6] |= 1L << v;
            }
            int size = kept;
            int[] perm = s.perm;
            // Rejection can only stall when the set holds nearly all the popularity mass: bounded, then
            // the most popular missing neurons (deterministic, and rare at sane skews).
            long budget = 32L * (m - size) + 64;
            while (size < m && budget-- > 0) {
                long z = s.nextLong();
                int v = draw(z, perm);
                long bit = 1L << v;
                if ((b[v >>> 6] & bit) == 0) {
                    b[v >>> 6] |= bit;
                    size++;
                }
            }
            for (int r = 0; size < m; r++) {
                int v = perm[r];
                long bit = 1L << v;
                if ((b[v >>> 6] & bit) == 0) {
                    b[v >>> 6] |= bit;
                    size++;
                }
            }
            // Ascending out of the bitmap, clearing it for the next call.
            int c = drainAscending(out);
            System.arraycopy(out, 0, prev, 0, c);
            s.count = c;
            s.token++;
            return c;
        }
    }

    /** One layer's state: its popularity permutation, previous set and random stream (splitmix64). */
    private static final class Layer {
        final int[] perm;
        final int[] prev;
        final long seed;
        /** The set drawn early by predictAhead, returned by the next predict. */
        final int[] stash;
        final long aheadSeed;
        int stashCount;
        boolean stashed;
        long rng;
        int count;
        long token;

        /** Layer -1 is the calibration's. */
        Layer(Process proc, long seed, int layer) {
            perm = new int[proc.n];
            prev = new int[proc.m];
            stash = new int[proc.m];
            this.seed = streamSeed(seed, layer, STREAM);
            this.aheadSeed = mix64(this.seed ^ AHEAD_STREAM);
            rng = streamSeed(seed, layer, PERMUTATION);
            for (int i = 0; i < perm.length; i++) {
                perm[i] = i;
            }
            for (int i = perm.length - 1; i > 0; i--) {
                int j = nextInt(i + 1);
                int v = perm[i];
                perm[i] = perm[j];
                perm[j] = v;
            }
            reset();
        }

        void reset() {
            rng = seed;
            count = 0;
            token = 0;
            stashed = false;
        }

        long nextLong() {
            return mix64(rng += GOLDEN);
        }

        /** Uniform in [0, bound) up to bound / 2^32 (multiply-high). */
        int nextInt(int bound) {
            return (int) (((nextLong() >>> 32) * bound) >>> 32);
        }
    }

    private static long streamSeed(long seed, int layer, int purpose) {
        return mix64(mix64(seed) + GOLDEN * (3L * (layer + 1) + purpose + 1));
    }

    /** splitmix64's finalizer. */
    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
