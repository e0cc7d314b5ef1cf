package io.flashlm.model;

import io.flashlm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The norm before (or after) a block, as the variant defines it: RMSNorm out = x / rms(x) * weight, or
 * LayerNorm out = (x - mean) / sqrt(var + eps) * weight + bias. Weight and bias are converted to f32 once.
 */
record BlockNorm(ModelVariant.Norm kind, MemorySegment weight, MemorySegment bias, float eps) {

    static BlockNorm of(ModelConfig c, Tensor weight, Tensor bias, Arena arena) {
        return new BlockNorm(c.variant().norm(), VectorOps.toNative(weight, arena), VectorOps.toNative(bias, arena),
                c.normEps());
    }

    void apply(MemorySegment out, MemorySegment x, int n) {
        if (kind == ModelVariant.Norm.RMS) {
            VectorOps.rmsNorm(out, x, weight, n, eps);
        } else {
            VectorOps.layerNorm(out, x, weight, bias, n, eps);
        }
    }
}
