package io.flashlm.predictor;

import io.flashlm.model.DenseMlp;
import io.flashlm.model.FeedForward;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.ModelConfig;
import io.flashlm.model.ObservedFfn;
import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * What the predictors need of a model's FFNs, per layer: the up projection (OPT's fc1) with its bias,
 * the gate projection of gated FFNs, and the activation. The weights stay where the model keeps them:
 * in its dense FFN blocks ({@link #of(LanguageModel)}), or wherever an engine loaded them.
 */
public final class FfnLayers {
    /** One layer: up [n, d], upBias (f32 [n], null when there is none), gate [n, d] or null. */
    public record Layer(Tensor up, MemorySegment upBias, Tensor gate) {
    }

    private final Layer[] layers;
    private final int dim;
    private final int neurons;
    private final boolean gated;
    private final ModelConfig.Activation activation;

    /** The given layers of a model of config {@code c}. */
    public FfnLayers(ModelConfig c, Layer[] layers) {
        if (layers.length != c.layers()) {
            throw new IllegalArgumentException(layers.length + " FFN layers for a model of " + c.layers());
        }
        dim = c.dim();
        neurons = c.hiddenDim();
        gated = c.gatedFfn();
        activation = c.activation();
        this.layers = layers.clone();
    }

    /**
     * The FFN matrices of a model whose layers hold dense FFN blocks.
     *
     * @throws IllegalArgumentException if a layer's FFN is not dense (an engine's FFN from flash)
     */
    public static FfnLayers of(LanguageModel model) {
        ModelConfig c = model.config();
        Layer[] layers = new Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            DenseMlp d = switch (model.feedForward(l)) {
                case DenseMlp m -> m;
                case ObservedFfn o -> o.inner();
                case FeedForward f -> throw new IllegalArgumentException("predictors need the dense FFN of the model;"
                        + " layer " + l + " runs " + f.getClass().getSimpleName());
            };
            layers[l] = new Layer(d.up(), d.upBias(), d.gate());
        }
        return new FfnLayers(c, layers);
    }


    public int layers() {
        return layers.length;
    }

    public Layer layer(int l) {
        return layers[l];
    }

    public int dim() {
        return dim;
    }

    public int neurons() {
        return neurons;
    }

    public boolean gated() {
        return gated;
    }

    public ModelConfig.Activation activation() {
        return activation;
    }

    /** y[0..n) = W x for a weight tensor [n, d], single-threaded, allocating nothing. */
    static void matvec(Tensor w, MemorySegment x, MemorySegment y) {
        Kernels.matvec(w.dtype(), w.data(), w.rowCount(), w.rowLength(), x, y);
    }

    /** y[0..rows) = W x for an f32 matrix [rows, cols] held in a segment. */
    static void matvecF32(MemorySegment w, long rows, long cols, MemorySegment x, MemorySegment y) {
        Kernels.matvec(DType.F32, w, rows, cols, x, y);
    }

}
