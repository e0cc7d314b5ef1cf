package io.flashlm.predictor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * One low-rank predictor per layer, d -> r -> n: score = B h + c with h = A x (or relu(A x) when
 * {@code hiddenRelu}); neuron i is predicted active when score_i > threshold (a logit: 0 is
 * sigmoid 0.5). A is [r, d], B is [n, r], c is [n], all f32 off-heap. Trained on recorded activations
 * ({@link Trainer}, kind {@code trained}) or built without data from a truncated SVD of the up
 * projection ({@link SvdBuilder}, kind {@code svd}: A = Q^T, B = W Q, c = the up bias, so the score
 * is the rank-r approximation of the up projection's pre-activation).
 */
public final class LowRankPredictor implements Predictor {
    /** One layer's weights. */
    public record Layer(int rank, MemorySegment a, MemorySegment b, MemorySegment bias, float threshold) {
        public Layer withThreshold(float t) {
            return new Layer(rank, a, b, bias, t);
        }
    }

    private final PredictorKind kind;
    private final int dim;
    private final int neurons;
    private final boolean hiddenRelu;
    private final Layer[] layers;
    private final MemorySegment h;
    private final MemorySegment z;

    public LowRankPredictor(PredictorKind kind, int dim, int neurons, boolean hiddenRelu, Layer[] layers) {
        if (kind != PredictorKind.TRAINED && kind != PredictorKind.SVD) {
            throw new IllegalArgumentException("low-rank predictor kind must be trained or svd, not " + kind);
        }
        this.kind = kind;
        this.dim = dim;
        this.neurons = neurons;
        this.hiddenRelu = hiddenRelu;
        this.layers = layers.clone();
        int maxRank = 1;
        for (Layer l : layers) {
            if (l.a().byteSize() != (long) l.rank() * dim * 4 || l.b().byteSize() != (long) neurons * l.rank() * 4
                    || l.bias().byteSize() != (long) neurons * 4) {
                throw new IllegalArgumentException("low-rank layer of rank " + l.rank() + " has the wrong sizes for"
                        + " dim " + dim + ", neurons " + neurons);
            }
            maxRank = Math.max(maxRank, l.rank());
        }
        h = Arena.ofAuto().allocate(JAVA_FLOAT, maxRank);
        z = Arena.ofAuto().allocate(JAVA_FLOAT, neurons);
    }

    @Override
    public int predict(int layer, MemorySegment x, int[] outActive) {
        Layer l = layers[layer];
        scores(layer, x, z);
        float t = l.threshold();
        int count = 0;
        for (int i = 0; i < neurons; i++) {
            if (z.getAtIndex(JAVA_FLOAT, i) > t) {
                outActive[count++] = i;
            }
        }
        return count;
    }

    /** out[0..n) = B h(x) + c, the scores the threshold is applied to. */
    void scores(int layer, MemorySegment x, MemorySegment out) {
        Layer l = layers[layer];
        FfnLayers.matvecF32(l.a(), l.rank(), dim, x, h);
        if (hiddenRelu) {
            for (int k = 0; k < l.rank(); k++) {
                if (h.getAtIndex(JAVA_FLOAT, k) < 0f) {
                    h.setAtIndex(JAVA_FLOAT, k, 0f);
                }
            }
        }
        FfnLayers.matvecF32(l.b(), neurons, l.rank(), h, out);
        MemorySegment c = l.bias();
        for (int i = 0; i < neurons; i++) {
            out.setAtIndex(JAVA_FLOAT, i, out.getAtIndex(JAVA_FLOAT, i) + c.getAtIndex(JAVA_FLOAT, i));
        }
    }

    public Layer layer(int l) {
        return layers[l];
    }

    /** Replaces layer l's threshold (calibration). */
    public void setThreshold(int l, float threshold) {
        layers[l] = layers[l].withThreshold(threshold);
    }

    public boolean hiddenRelu() {
        return hiddenRelu;
    }

    /** Bytes of predictor weights (they stay in DRAM). */
    public long byteSize() {
        long n = 0;
        for (Layer l : layers) {
            n += l.a().byteSize() + l.b().byteSize() + l.bias().byteSize();
        }
        return n;
    }

    @Override
    public PredictorKind kind() {
        return kind;
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
        return neurons;
    }
}
