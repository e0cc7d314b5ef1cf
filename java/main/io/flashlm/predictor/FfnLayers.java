package io.flashlm.predictor;

import io.flashlm.model.FfnObserver;
import io.flashlm.model.LanguageModel;
import io.flashlm.model.LlamaModel;
import io.flashlm.model.LlamaWeights;
import io.flashlm.model.ModelConfig;
import io.flashlm.model.OptModel;
import io.flashlm.model.OptWeights;
import io.flashlm.model.VectorOps;
import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What the predictors need of a model's FFNs, per layer: the up projection (OPT's fc1) with its bias,
 * the gate projection of gated FFNs, and the activation. The weights stay where the model keeps them.
 */
public final class FfnLayers implements AutoCloseable {
    /** One layer: up [n, d], upBias (f32 [n], null when there is none), gate [n, d] or null. */
    public record Layer(Tensor up, MemorySegment upBias, Tensor gate) {
    }

    private final Arena arena = Arena.ofShared();
    private final Layer[] layers;
    private final int dim;
    private final int neurons;
    private final boolean gated;
    private final ModelConfig.Activation activation;

    public FfnLayers(LanguageModel model) {
        ModelConfig c = model.config();
        dim = c.dim();
        neurons = c.hiddenDim();
        gated = c.gatedFfn();
        activation = c.activation();
        layers = new Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = switch (model) {
                case OptModel m -> {
                    OptWeights.Layer t = m.weights().layers().get(l);
                    yield new Layer(t.fc1(), VectorOps.toNative(t.fc1Bias(), arena), null);
                }
                case LlamaModel m -> {
                    LlamaWeights.Layer t = m.weights().layers().get(l);
                    yield new Layer(t.up(), null, t.gate());
                }
                default -> throw new IllegalArgumentException("predictors need an OPT or Llama model, not "
                        + model.getClass().getSimpleName());
            };
        }
    }

    /** Installs (or, with null, removes) a model's FFN observer. */
    public static void observe(LanguageModel model, FfnObserver observer) {
        switch (model) {
            case OptModel m -> m.setFfnObserver(observer);
            case LlamaModel m -> m.setFfnObserver(observer);
            default -> throw new IllegalArgumentException("cannot observe the FFN of "
                    + model.getClass().getSimpleName());
        }
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

    @Override
    public void close() {
        arena.close();
    }
}
