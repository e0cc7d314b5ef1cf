package io.flashlm.tensor;

/**
 * IEEE binary16 conversions, exact in both directions: f16 to f32 is lossless (subnormals, infinities,
 * NaN payloads kept); f32 to f16 rounds to nearest, ties to even, overflowing to infinity.
 *
 * <p>Delegates to {@link Float#float16ToFloat} / {@link Float#floatToFloat16}, which implement the IEEE
 * 754 rules and are JIT intrinsics.
 */
public final class Float16 {
    private Float16() {
    }

    /** The f32 value of the binary16 bits {@code h}. */
    public static float toFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** The binary16 bits nearest to {@code f} (round to nearest even). */
    public static short fromFloat(float f) {
        return Float.floatToFloat16(f);
    }
}
