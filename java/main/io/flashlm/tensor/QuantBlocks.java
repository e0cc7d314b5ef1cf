package io.flashlm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference decoding of the GGML block formats Q8_0 and Q4_0 (little-endian, as in GGUF).
 * Meant for tests, references and load-time conversion, not for the inner loop of a kernel.
 */
public final class QuantBlocks {
    /** Values per Q8_0 / Q4_0 block. */
    public static final int BLOCK = 32;

    private static final ValueLayout.OfShort F16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantBlocks() {
    }

    /** The block scale d, stored as an f16 in the first two bytes of both formats. */
    public static float scale(MemorySegment src, long blockOffset) {
        return Float16.toFloat(src.get(F16_LE, blockOffset));
    }

    /** Value {@code i} (0..31) of the Q8_0 block at {@code blockOffset}: d * q[i]. */
    public static float q8_0(MemorySegment src, long blockOffset, int i) {
        return scale(src, blockOffset) * src.get(ValueLayout.JAVA_BYTE, blockOffset + 2 + i);
    }

    /**
     * Value {@code i} (0..31) of the Q4_0 block at {@code blockOffset}: d * (nibble - 8), where values
     * 0..15 are the low nibbles of bytes 0..15 and values 16..31 their high nibbles.
     */
    public static float q4_0(MemorySegment src, long blockOffset, int i) {
        int b = src.get(ValueLayout.JAVA_BYTE, blockOffset + 2 + (i & 15)) & 0xFF;
        int nibble = i < 16 ? b & 0x0F : b >>> 4;
        return scale(src, blockOffset) * (nibble - 8);
    }

    /** Decodes one block of {@code type} (Q8_0 or Q4_0) into {@code dst[dstIndex .. dstIndex+32)}. */
    public static void decodeBlock(DType type, MemorySegment src, long blockOffset, float[] dst, int dstIndex) {
        float d = scale(src, blockOffset);
        long qs = blockOffset + 2;
        switch (type) {
            case Q8_0 -> {
                for (int i = 0; i < BLOCK; i++) {
                    dst[dstIndex + i] = d * src.get(ValueLayout.JAVA_BYTE, qs + i);
                }
            }
            case Q4_0 -> {
                for (int j = 0; j < BLOCK / 2; j++) {
                    int b = src.get(ValueLayout.JAVA_BYTE, qs + j) & 0xFF;
                    dst[dstIndex + j] = d * ((b & 0x0F) - 8);
                    dst[dstIndex + j + BLOCK / 2] = d * ((b >>> 4) - 8);
                }
            }
            default -> throw new IllegalArgumentException("not a block-quantized type: " + type);
        }
    }
}
