package io.flashlm.predictor;

import io.flashlm.model.VectorOps;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The true active set, computed from the layer's own up (and gate) weights: act(up x + b) != 0, or
 * act(gate x) * up x != 0 for gated FFNs. For tests and for measuring the rest of the system with a
 * perfect predictor; it reads the whole up projection, so it saves nothing itself.
 */
public final class OraclePredictor implements Predictor {
    private final FfnLayers ffn;
    private final MemorySegment a;
    private final MemorySegment b;

    public OraclePredictor(FfnLayers ffn) {
        this.ffn = ffn;
        a = Arena.ofAuto().allocate(JAVA_FLOAT, ffn.neurons());
        b = Arena.ofAuto().allocate(JAVA_FLOAT, ffn.neurons());
    }

    @Override
    public int predict(int layer, MemorySegment x, int[] outActive) {
        FfnLayers.Layer l = ffn.layer(layer);
        int n = ffn.neurons();
        int count = 0;
        if (l.gate() != null) {
            FfnLayers.matvec(l.gate(), x, a);
            FfnLayers.matvec(l.up(), x, b);
            for (int i = 0; i < n; i++) {
                float v = VectorOps.activation(a.getAtIndex(JAVA_FLOAT, i), ffn.activation()) * b.getAtIndex(JAVA_FLOAT, i);
                if (v != 0f) {
                    outActive[count++] = i;
                }
            }
            return count;
        }
        FfnLayers.matvec(l.up(), x, a);
        MemorySegment bias = l.upBias();
        for (int i = 0; i < n; i++) {
            float v = a.getAtIndex(JAVA_FLOAT, i);
            if (bias != null) {
                v += bias.getAtIndex(JAVA_FLOAT, i);
            }
            if (VectorOps.activation(v, ffn.activation()) != 0f) {
                outActive[count++] = i;
            }
        }
        return count;
    }

    @Override
    public PredictorKind kind() {
        return PredictorKind.ORACLE;
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
