package io.flashlm.predictor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A predictor's quality per layer against recorded activations: sparsity (share of neurons zero),
 * recall (share of active neurons predicted), precision (share of predicted neurons active) and the
 * share of the FFN's bytes that would be read (predicted neurons / n).
 */
public final class PredictorMetrics {
    public record Layer(int layer, long positions, long neurons, long active, long predicted, long truePositives) {
        public double sparsity() {
            return 1.0 - (double) active / ((double) positions * neurons);
        }

        public double recall() {
            return active == 0 ? 1.0 : (double) truePositives / active;
        }

        public double precision() {
            return predicted == 0 ? 1.0 : (double) truePositives / predicted;
        }

        public double readShare() {
            return (double) predicted / ((double) positions * neurons);
        }

        Layer plus(Layer o) {
            return new Layer(-1, positions + o.positions, neurons, active + o.active, predicted + o.predicted,
                    truePositives + o.truePositives);
        }
    }

    private PredictorMetrics() {
    }

    public static List<Layer> evaluate(Predictor p, ActivationRecord rec) {
        int n = rec.neurons();
        int[] out = new int[n];
        MemorySegment x = Arena.ofAuto().allocate(JAVA_FLOAT, rec.dim());
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < rec.layers(); l++) {
            long active = rec.activeCount(l), predicted = 0, tp = 0;
            int positions = rec.count(l);
            for (int t = 0; t < positions; t++) {
                MemorySegment.copy(rec.x(l, t), 0, x, 0, x.byteSize());
                int c = p.predict(l, x, out);
                predicted += c;
                for (int k = 0; k < c; k++) {
                    if (rec.active(l, t, out[k])) {
                        tp++;
                    }
                }
            }
            layers.add(new Layer(l, positions, n, active, predicted, tp));
        }
        return layers;
    }

    /** All layers together (positions summed over layers). */
    public static Layer total(List<Layer> layers) {
        Layer t = new Layer(-1, 0, layers.getFirst().neurons(), 0, 0, 0);
        for (Layer l : layers) {
            t = t.plus(l);
        }
        return t;
    }

    /**
     * Sets each layer's threshold so that a share {@code recall} of the recorded active neurons score
     * above it: the (1 - recall) quantile of the positives' scores.
     */
    public static void calibrateRecall(LowRankPredictor p, ActivationRecord rec, double recall) {
        if (!(recall > 0 && recall <= 1)) {
            throw new IllegalArgumentException("target recall must be in (0, 1], was " + recall);
        }
        int n = rec.neurons();
        MemorySegment s = Arena.ofAuto().allocate(JAVA_FLOAT, n);
        MemorySegment x = Arena.ofAuto().allocate(JAVA_FLOAT, rec.dim());
        for (int l = 0; l < rec.layers(); l++) {
            long active = rec.activeCount(l);
            if (active == 0) {
                continue;
            }
            int stride = (int) Math.max(1, active / 8_000_000L);
            float[] scores = new float[(int) (active / stride + rec.count(l) + 1)];
            int k = 0;
            long seen = 0;
            for (int t = 0; t < rec.count(l); t++) {
                MemorySegment.copy(rec.x(l, t), 0, x, 0, x.byteSize());
                p.scores(l, x, s);
                for (int i = 0; i < n; i++) {
                    if (rec.active(l, t, i) && (seen++ % stride == 0) && k < scores.length) {
                        scores[k++] = s.getAtIndex(JAVA_FLOAT, i);
                    }
                }
            }
            java.util.Arrays.sort(scores, 0, k);
            int idx = (int) Math.floor((1 - recall) * k);
            float t = idx <= 0 ? Math.nextDown(scores[0]) : Math.nextDown(scores[Math.min(idx, k - 1)]);
            p.setThreshold(l, t);
        }
    }
}
