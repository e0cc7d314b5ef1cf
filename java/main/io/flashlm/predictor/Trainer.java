package io.flashlm.predictor;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Trains one {@link LowRankPredictor} layer per model layer on an {@link ActivationRecord}: scores
 * s = B (A x) + c, loss the binary cross-entropy of sigmoid(s) against the recorded active set with the
 * rare positives weighted by {@code posWeight} (default: negatives / positives of the layer, capped),
 * Adam on mini-batches with a linearly decaying learning rate. Layers train in parallel, one per thread;
 * each layer's result depends only on its data and the seed, never on the thread count.
 */
public final class Trainer {
    /**
     * @param rank       rank of most layers
     * @param lastRank   rank of the last {@code lastLayers} layers (the paper gives them more)
     * @param posWeight  weight of a positive in the loss; &lt;= 0 for negatives / positives (capped at 100)
     */
    public record Options(int rank, int lastRank, int lastLayers, int epochs, double learningRate, int batch,
                          double posWeight, boolean hiddenRelu, int threads, long seed) {
        public static Options defaults() {
            return new Options(64, 128, 1, 4, 1e-2, 32, 0, false, Math.max(1,
                    Math.min(2, Runtime.getRuntime().availableProcessors())), 1234);
        }

        public Options withRanks(int rank, int lastRank) {
            return new Options(rank, lastRank, lastLayers, epochs, learningRate, batch, posWeight, hiddenRelu, threads,
                    seed);
        }

        public Options withEpochs(int e) {
            return new Options(rank, lastRank, lastLayers, e, learningRate, batch, posWeight, hiddenRelu, threads, seed);
        }

        public Options withBatch(int b) {
            return new Options(rank, lastRank, lastLayers, epochs, learningRate, b, posWeight, hiddenRelu, threads, seed);
        }

        public Options withThreads(int t) {
            return new Options(rank, lastRank, lastLayers, epochs, learningRate, batch, posWeight, hiddenRelu, t, seed);
        }

        int rankOf(int layer, int layers) {
            return layer >= layers - lastLayers ? lastRank : rank;
        }
    }

    private Trainer() {
    }

    public static LowRankPredictor train(ActivationRecord record, Options o, PrintStream progress) {
        int layers = record.layers();
        LowRankPredictor.Layer[] out = new LowRankPredictor.Layer[layers];
        Arena arena = Arena.ofAuto();
        AtomicInteger done = new AtomicInteger();
        long start = System.nanoTime();
        try (ExecutorService ex = Executors.newFixedThreadPool(Math.max(1, Math.min(o.threads(), layers)))) {
            List<Future<?>> fs = new ArrayList<>();
            for (int l = 0; l < layers; l++) {
                int layer = l;
                fs.add(ex.submit(() -> {
                    out[layer] = trainLayer(record, layer, o.rankOf(layer, layers), o, arena, progress);
                    if (progress != null) {
                        progress.printf(Locale.ROOT, "train: layer %d done (%d / %d, %.1f s)%n", layer,
                                done.incrementAndGet(), layers, (System.nanoTime() - start) / 1e9);
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("training interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("training failed: " + e.getCause(), e.getCause());
        }
        return new LowRankPredictor(PredictorKind.TRAINED, record.dim(), record.neurons(), o.hiddenRelu(), out);
    }

    static LowRankPredictor.Layer trainLayer(ActivationRecord rec, int layer, int r, Options o, Arena arena,
                                             PrintStream progress) {
        int d = rec.dim(), n = rec.neurons(), T = rec.count(layer), words = rec.words();
        if (T == 0) {
            throw new IllegalArgumentException("no recorded positions for layer " + layer);
        }
        long[] bits = rec.bits(layer);
        float[] xs = new float[T * d];
        MemorySegment.copy(rec.xs(layer), JAVA_FLOAT, 0, xs, 0, T * d);
        // Per-neuron frequency: the bias starts at its logit; the positive weight balances the classes.
        long[] pos = new long[n];
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < n; i++) {
                if ((bits[t * words + (i >>> 6)] & (1L << i)) != 0) {
                    pos[i]++;
                }
            }
        }
        long totalPos = 0;
        for (long p : pos) {
            totalPos += p;
        }
        double neg = (double) T * n - totalPos;
        float pw = (float) (o.posWeight() > 0 ? o.posWeight() : Math.min(100.0, Math.max(1.0, neg / Math.max(1,
                totalPos))));
        SplittableRandom rnd = new SplittableRandom(o.seed() * 1_000_003L + layer);
        float[] a = new float[r * d];      // [r][d]
        float[] bt = new float[r * n];     // B transposed, [r][n]
        float[] c = new float[n];
        double sa = 1.0 / Math.sqrt(d), sb = 1.0 / Math.sqrt(r);
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (gauss(rnd) * sa);
        }
        for (int i = 0; i < bt.length; i++) {
            bt[i] = (float) (gauss(rnd) * sb * 0.1);
        }
        for (int i = 0; i < n; i++) {
            // The best constant under the weighted loss: the neuron's odds times the positive weight.
            double p = (pos[i] + 0.5) / (T + 1.0);
            c[i] = (float) (Math.log(p / (1 - p)) + Math.log(pw));
        }
        Adam adamA = new Adam(a.length), adamB = new Adam(bt.length), adamC = new Adam(n);
        float[] ga = new float[a.length], gb = new float[bt.length], gc = new float[n];
        float[] x = new float[d], h = new float[r], s = new float[n], dh = new float[r];
        int[] order = new int[T];
        for (int i = 0; i < T; i++) {
            order[i] = i;
        }
        int batch = Math.max(1, Math.min(o.batch(), T));
        int stepsPerEpoch = (T + batch - 1) / batch;
        long totalSteps = (long) stepsPerEpoch * o.epochs();
        long step = 0;
        for (int epoch = 0; epoch < o.epochs(); epoch++) {
            for (int i = T - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
            double lossSum = 0;
            for (int b0 = 0; b0 < T; b0 += batch) {
                int b1 = Math.min(T, b0 + batch);
                java.util.Arrays.fill(ga, 0);
                java.util.Arrays.fill(gb, 0);
                java.util.Arrays.fill(gc, 0);
                float inv = 1f / (b1 - b0);
                for (int bi = b0; bi < b1; bi++) {
                    int t = order[bi];
                    System.arraycopy(xs, t * d, x, 0, d);
                    // forward: h = A x (relu), s = c + B h
                    for (int k = 0; k < r; k++) {
                        h[k] = dot(a, k * d, x, d);
                        if (o.hiddenRelu() && h[k] < 0) {
                            h[k] = 0;
                        }
                    }
                    System.arraycopy(c, 0, s, 0, n);
                    for (int k = 0; k < r; k++) {
                        axpy(h[k], bt, k * n, s, n);
                    }
                    // dL/ds = w (sigmoid(s) - y), w = pw for positives
                    int base = t * words;
                    for (int i = 0; i < n; i++) {
                        boolean y = (bits[base + (i >>> 6)] & (1L << i)) != 0;
                        float si = s[i];
                        float p = sigmoid(si);
                        float g;
                        if (y) {
                            g = pw * (p - 1f);
                            lossSum += pw * softplus(-si);
                        } else {
                            g = p;
                            lossSum += softplus(si);
                        }
                        s[i] = g * inv;
                        gc[i] += s[i];
                    }
                    // backward: gB += ds h^T, dh = B^T ds, gA += dh x^T
                    for (int k = 0; k < r; k++) {
                        axpy(h[k], s, 0, gb, k * n, n);
                        float v = dot(bt, k * n, s, n);
                        dh[k] = (o.hiddenRelu() && h[k] <= 0) ? 0 : v;
                    }
                    for (int k = 0; k < r; k++) {
                        axpy(dh[k], x, 0, ga, k * d, d);
                    }
                }
                double lr = o.learningRate() * (1.0 - 0.9 * step / (double) totalSteps);
                step++;
                adamA.step(a, ga, lr);
                adamB.step(bt, gb, lr);
                adamC.step(c, gc, lr);
            }
            if (progress != null) {
                progress.printf(Locale.ROOT, "train: layer %d epoch %d/%d loss %.4f (rank %d, pos weight %.1f)%n",
                        layer, epoch + 1, o.epochs(), lossSum / ((double) T * n), r, pw);
            }
        }
        // B to [n][r] for the predictor's matvec.
        MemorySegment sa2 = arena.allocate(JAVA_FLOAT, (long) r * d);
        MemorySegment sb2 = arena.allocate(JAVA_FLOAT, (long) n * r);
        MemorySegment sc = arena.allocate(JAVA_FLOAT, n);
        MemorySegment.copy(a, 0, sa2, JAVA_FLOAT, 0, a.length);
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < r; k++) {
                sb2.setAtIndex(JAVA_FLOAT, (long) i * r + k, bt[k * n + i]);
            }
        }
        MemorySegment.copy(c, 0, sc, JAVA_FLOAT, 0, n);
        return new LowRankPredictor.Layer(r, sa2, sb2, sc, 0f);
    }

    private static float dot(float[] w, int off, float[] v, int len) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < len; i += 4) {
            s0 += w[off + i] * v[i];
            s1 += w[off + i + 1] * v[i + 1];
            s2 += w[off + i + 2] * v[i + 2];
            s3 += w[off + i + 3] * v[i + 3];
        }
        for (; i < len; i++) {
            s0 += w[off + i] * v[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** y[yOff..yOff+len) += alpha x[0..len). */
    private static void axpy(float alpha, float[] x, int xOff, float[] y, int len) {
        for (int i = 0; i < len; i++) {
            y[i] += alpha * x[xOff + i];
        }
    }

    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        for (int i = 0; i < len; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    static float sigmoid(float v) {
        return (float) (1.0 / (1.0 + Math.exp(-v)));
    }

    private static double softplus(float v) {
        return v > 20 ? v : Math.log1p(Math.exp(v));
    }

    static double gauss(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(Math.max(u1, 1e-300))) * Math.cos(2 * Math.PI * u2);
    }

    /** Adam with the usual betas; moments in f32. */
    private static final class Adam {
        private final float[] m;
        private final float[] v;
        private int t;

        Adam(int n) {
            m = new float[n];
            v = new float[n];
        }

        void step(float[] w, float[] g, double lr) {
            t++;
            float b1 = 0.9f, b2 = 0.999f;
            float c1 = (float) (1 - Math.pow(b1, t)), c2 = (float) (1 - Math.pow(b2, t));
            float step = (float) lr;
            for (int i = 0; i < w.length; i++) {
                float gi = g[i];
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                w[i] -= step * (m[i] / c1) / ((float) Math.sqrt(v[i] / c2) + 1e-8f);
            }
        }
    }
}
