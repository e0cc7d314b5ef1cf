package io.flashlm.predictor;

import io.flashlm.model.VectorOps;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * For gated FFNs (down(act(gate x) * up x)), which have no natural zero: neuron i is kept when
 * |act(gate_i x)| > the layer's threshold, calibrated on recorded FFN inputs so that a target share of
 * neurons falls below it (the CATS rule). The gate projection is computed in full (it stays in DRAM);
 * only the kept neurons' up rows and down columns need to be read.
 */
public final class ThresholdPredictor implements Predictor {
    private final FfnLayers ffn;
    private final float[] thresholds;
    private final MemorySegment g;

    public ThresholdPredictor(FfnLayers ffn, float[] thresholds) {
        if (ffn.layer(0).gate() == null) {
            throw new IllegalArgumentException("the threshold predictor is for gated FFNs; this model's FFN is ungated"
                    + " (use trained or svd)");
        }
        if (thresholds.length != ffn.layers()) {
            throw new IllegalArgumentException(thresholds.length + " thresholds for " + ffn.layers() + " layers");
        }
        this.ffn = ffn;
        this.thresholds = thresholds.clone();
        g = Arena.ofAuto().allocate(JAVA_FLOAT, ffn.neurons());
    }

    /** Per layer, the threshold below which a share {@code sparsity} of |act(gate x)| falls over the record. */
    public static ThresholdPredictor calibrate(FfnLayers ffn, ActivationRecord record, double sparsity) {
        if (!(sparsity >= 0 && sparsity < 1)) {
            throw new IllegalArgumentException("sparsity must be in [0, 1), was " + sparsity);
        }
        int n = ffn.neurons();
        float[] t = new float[ffn.layers()];
        MemorySegment gs = Arena.ofAuto().allocate(JAVA_FLOAT, n);
        for (int l = 0; l < ffn.layers(); l++) {
            int positions = record.count(l);
            // At most ~4M samples: every stride-th position.
            int stride = (int) Math.max(1, ((long) positions * n) / 4_000_000L);
            int used = (positions + stride - 1) / stride;
            float[] mags = new float[used * n];
            int k = 0;
            for (int p = 0; p < positions; p += stride) {
                FfnLayers.matvec(ffn.layer(l).gate(), record.x(l, p), gs);
                for (int i = 0; i < n; i++) {
                    mags[k++] = Math.abs(VectorOps.activation(gs.getAtIndex(JAVA_FLOAT, i), ffn.activation()));
                }
            }
            java.util.Arrays.sort(mags, 0, k);
            int idx = (int) Math.min(k - 1, Math.floor(sparsity * k));
            t[l] = sparsity == 0 ? -1f : mags[Math.max(0, idx - 1)];
        }
        return new ThresholdPredictor(ffn, t);
    }

    @Override
    public int predict(int layer, MemorySegment x, int[] outActive) {
        FfnLayers.matvec(ffn.layer(layer).gate(), x, g);
        float t = thresholds[layer];
        int count = 0;
        for (int i = 0, n = ffn.neurons(); i < n; i++) {
            if (Math.abs(VectorOps.activation(g.getAtIndex(JAVA_FLOAT, i), ffn.activation())) > t) {
                outActive[count++] = i;
            }
        }
        return count;
    }

    public float threshold(int layer) {
        return thresholds[layer];
    }

    public float[] thresholds() {
        return thresholds.clone();
    }

    @Override
    public PredictorKind kind() {
        return PredictorKind.THRESHOLD;
    }

    @Override
    public int layers() {
        return ffn.layers();
    }

    @Override
    public int dim() {
        return ffn.dim();
    }

    @Override
    public int neurons() {
        return ffn.neurons();
    }
}
