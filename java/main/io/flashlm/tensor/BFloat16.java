package io.flashlm.tensor;

/**
 * bfloat16 conversions. A bf16 is the upper half of a binary32, so widening is a shift; narrowing
 * rounds to nearest, ties to even, and keeps NaN a NaN (quiet) instead of letting rounding carry a NaN
 * payload into an infinity.
 */
public final class BFloat16 {
    private BFloat16() {
    }

    /** The f32 value of the bf16 bits {@code b} (exact). */
    public static float toFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    /** The bf16 bits nearest to {@code f}. */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            // Truncating a NaN whose payload sits in the low half would give an infinity: force quiet.
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7FFF + lsb; // carries into the exponent correctly, up to infinity
        return (short) (rounded >>> 16);
    }
}
