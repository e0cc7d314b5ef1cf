package io.flashlm.model;

import io.flashlm.kernels.ComputePool;

import java.lang.foreign.Arena;

/**
 * How a model is put together beyond its weights: which {@link FeedForward} each layer holds, and what
 * runs before each layer (an engine that stages a layer's weights from flash). Chosen once, when the
 * model is built; {@link #dense()} is the ordinary model over its own matrices.
 */
public record ModelAssembly(FfnChoice ffn, LayerPrelude prelude) {

    /** Picks a layer's FFN block. */
    @FunctionalInterface
    public interface FfnChoice {
        /**
         * @param dense the dense block over the weights' matrices, built on demand (throws when the weights
         *              leave the FFN to an engine)
         */
        FeedForward block(int layer, MlpWeights weights, DenseFactory dense);
    }

    /** Builds the dense block of a layer's matrices. */
    @FunctionalInterface
    public interface DenseFactory {
        DenseMlp build(MlpWeights weights);
    }

    /** Runs before each layer's attention, e.g. to bring the layer's weights in from flash. */
    @FunctionalInterface
    public interface LayerPrelude {
        LayerPrelude NONE = layer -> {
        };

        void beforeLayer(int layer);
    }

    /** Decorates the blocks of an assembled model (see {@link LanguageModel#reassembled}). */
    @FunctionalInterface
    public interface FfnDecorator {
        FeedForward decorate(int layer, FeedForward block);
    }

    public ModelAssembly {
        if (ffn == null || prelude == null) {
            throw new IllegalArgumentException("an assembly needs an FFN choice and a prelude (LayerPrelude.NONE)");
        }
    }

    /** Every layer's FFN dense over its own matrices; nothing before a layer. */
    public static ModelAssembly dense() {
        return new ModelAssembly((layer, w, dense) -> dense.build(w), LayerPrelude.NONE);
    }

    /** Every layer's FFN from {@code ffn}, with {@code prelude} before each layer. */
    public static ModelAssembly of(FfnChoice ffn, LayerPrelude prelude) {
        return new ModelAssembly(ffn, prelude);
    }

    /** Each layer's block: {@code fixed[l]} where there is one, else the choice's. */
    FeedForward[] blocks(ModelConfig c, MlpWeights[] weights, FeedForward[] fixed, ComputePool pool, Arena arena) {
        FeedForward[] out = new FeedForward[weights.length];
        for (int l = 0; l < out.length; l++) {
            out[l] = fixed[l] != null ? fixed[l] : ffn.block(l, weights[l], w -> new DenseMlp(c, w, pool, arena));
            if (out[l] == null) {
                throw new IllegalStateException("the assembly chose no FFN for layer " + l);
            }
        }
        return out;
    }
}
