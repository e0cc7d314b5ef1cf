package io.flashlm.nativeabi;

/** The activations the bundled FFN kernels apply (FLM_ACT_* of flashlm.h). */
public enum FfnActivation {
    /** max(v, 0). */
    RELU(FlashNative.ACT_RELU),
    /** v / (1 + exp(-v)), in double, rounded to float. */
    SILU(FlashNative.ACT_SILU),
    /** The exact (erf) GELU as the Java model computes it, in double, rounded to float. */
    GELU(FlashNative.ACT_GELU),
    /** The tanh approximation of GELU, in double, rounded to float. */
    GELU_TANH(FlashNative.ACT_GELU_TANH);

    final int code;

    FfnActivation(int code) {
        this.code = code;
    }
}
