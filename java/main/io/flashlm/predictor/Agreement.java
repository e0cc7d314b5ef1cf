package io.flashlm.predictor;

import io.flashlm.model.FfnObserver;
import io.flashlm.model.LanguageModel;
import io.flashlm.sampler.GreedySampler;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Runs text twice, densely and with every FFN restricted to the neurons a predictor selects (the others'
 * activations zeroed before the down projection, which is exactly what reading only those neurons
 * computes), and compares the top-1 token at every position. The restricted run's predictor sees the
 * restricted model's own FFN inputs, as it would in deployment.
 */
public final class Agreement {
    /** Per layer: neurons predicted, neurons truly active, active ones predicted, over {@code positions}. */
    public record Result(int positions, int agree, long[] predicted, long[] active, long[] kept, int neurons) {
        public double agreement() {
            return positions == 0 ? 1 : (double) agree / positions;
        }

        public double readShare(int layer) {
            return (double) predicted[layer] / ((double) positions * neurons);
        }

        public double recall(int layer) {
            return active[layer] == 0 ? 1 : (double) kept[layer] / active[layer];
        }

        public double totalReadShare() {
            long p = 0;
            for (long v : predicted) {
                p += v;
            }
            return (double) p / ((double) positions * neurons * predicted.length);
        }
    }

    /** Zeroes the activations of neurons the predictor did not select; counts as it goes. */
    static final class Mask implements FfnObserver {
        private final Predictor p;
        private final int[] out;
        private final int[] stamp;
        private int epoch;
        final long[] predicted;
        final long[] active;
        final long[] kept;

        Mask(Predictor p) {
            this.p = p;
            out = new int[p.neurons()];
            stamp = new int[p.neurons()];
            predicted = new long[p.layers()];
            active = new long[p.layers()];
            kept = new long[p.layers()];
        }

        @Override
        public void observe(int layer, MemorySegment x, MemorySegment act) {
            int c = p.predict(layer, x, out);
            epoch++;
            for (int k = 0; k < c; k++) {
                stamp[out[k]] = epoch;
            }
            predicted[layer] += c;
            for (int i = 0; i < stamp.length; i++) {
                if (act.getAtIndex(JAVA_FLOAT, i) != 0f) {
                    active[layer]++;
                    if (stamp[i] == epoch) {
                        kept[layer]++;
                    } else {
                        act.setAtIndex(JAVA_FLOAT, i, 0f);
                    }
                }
            }
        }
    }

    private Agreement() {
    }

    /** Top-1 tokens of a dense run (no observer). */
    public static int[] denseTop1(LanguageModel model, List<int[]> seqs, PrintStream progress) {
        int[] top = new int[CalibrationText.positions(seqs)];
        CalibrationText.run(model, seqs, (i, tok, logits) -> top[i] = GreedySampler.argmax(logits, model.config().vocabSize()),
                "dense", progress);
        return top;
    }

    public static Result measure(LanguageModel model, Predictor p, List<int[]> seqs, int[] denseTop1,
                                 PrintStream progress) {
        Mask mask = new Mask(p);
        int[] agree = new int[1];
        try (LanguageModel masked = FfnObserver.observing(model, mask)) {
            int n = CalibrationText.run(masked, seqs, (i, tok, logits) -> {
                if (GreedySampler.argmax(logits, model.config().vocabSize()) == denseTop1[i]) {
                    agree[0]++;
                }
            }, "restricted to " + p.kind(), progress);
            return new Result(n, agree[0], mask.predicted, mask.active, mask.kept, p.neurons());
        }
    }

}
