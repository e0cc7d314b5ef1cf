package io.flashlm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference decoding of the GGML blocks of 32 (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL;
 * little-endian, as in GGUF) and, through {@link SuperBlocks}, of the k-quants' super-blocks of 256.
 * Meant for tests, references and load-time conversion, not for the inner loop of a kernel.
 *
 * <p>Every block starts with an f16 scale d; Q4_1 and Q5_1 follow it with an f16 min m, the 5-bit
 * types with 4 bytes qh, and the 4- and 5-bit types end with 16 bytes qs: value j (0..15) is the low
 * nibble of qs[j], value j + 16 its high nibble, and bit j of qh (a little-endian 32-bit word) is the
 * fifth bit of value j.
 */
public final class QuantBlocks {
    /** Values per block of the legacy types (Q8_0 .. IQ4_NL); the k-quants' blocks are {@link DType#blockSize()}. */
    public static final int BLOCK = 32;

    /** IQ4_NL's fixed non-linear grid: the value of each nibble, before the scale. */
    static final byte[] IQ4_NL_GRID = {
        -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private static final ValueLayout.OfShort F16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private QuantBlocks() {
    }

    /** The block scale d, stored as an f16 in the first two bytes of every legacy block type. */
    public static float scale(MemorySegment src, long blockOffset) {
        return Float16.toFloat(src.get(F16_LE, blockOffset));
    }

    /** The block min m of Q4_1 and Q5_1: the f16 after the scale. Not for the k-quants. */
    public static float min(MemorySegment src, long blockOffset) {
        return Float16.toFloat(src.get(F16_LE, blockOffset + 2));
    }

    /** Value {@code i} (0 .. {@code type.blockSize() - 1}) of the block of {@code type} at {@code blockOffset}. */
    public static float value(DType type, MemorySegment src, long blockOffset, int i) {
        if (SuperBlocks.isSuperBlock(type)) {
            return SuperBlocks.value(type, src, blockOffset, i);
        }
        if (type == DType.Q8_0) {
            return scale(src, blockOffset) * src.get(ValueLayout.JAVA_BYTE, blockOffset + 2 + i);
        }
        int b = src.get(ValueLayout.JAVA_BYTE, blockOffset + nibblesAt(type) + (i & 15)) & 0xFF;
        int nibble = i < 16 ? b & 0x0F : b >>> 4;
        return switch (type) {
            case Q4_0 -> scale(src, blockOffset) * (nibble - 8);
            case Q4_1 -> scale(src, blockOffset) * nibble + min(src, blockOffset);
            case Q5_0 -> scale(src, blockOffset) * ((nibble | fifthBit(src, blockOffset + 2, i)) - 16);
            case Q5_1 -> scale(src, blockOffset) * (nibble | fifthBit(src, blockOffset + 4, i))
                    + min(src, blockOffset);
            case IQ4_NL -> scale(src, blockOffset) * IQ4_NL_GRID[nibble];
            default -> throw notBlocks(type);
        };
    }

    /** Decodes one block of {@code type} into {@code dst[dstIndex .. dstIndex + type.blockSize())}. */
    public static void decodeBlock(DType type, MemorySegment src, long blockOffset, float[] dst, int dstIndex) {
        if (SuperBlocks.isSuperBlock(type)) {
            SuperBlocks.decode(type, src, blockOffset, dst, dstIndex);
            return;
        }
        float d = scale(src, blockOffset);
        switch (type) {
            case Q8_0 -> {
                for (int i = 0; i < BLOCK; i++) {
                    dst[dstIndex + i] = d * src.get(ValueLayout.JAVA_BYTE, blockOffset + 2 + i);
                }
            }
            case Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL -> {
                long qs = blockOffset + nibblesAt(type);
                // the 5-bit types: bit j of qh is value j's fifth bit; none for the 4-bit ones
                int qh = switch (type) {
                    case Q5_0 -> src.get(I32_LE, blockOffset + 2);
                    case Q5_1 -> src.get(I32_LE, blockOffset + 4);
                    default -> 0;
                };
                float m = type == DType.Q4_1 || type == DType.Q5_1 ? min(src, blockOffset) : 0f;
                for (int j = 0; j < BLOCK / 2; j++) {
                    int b = src.get(ValueLayout.JAVA_BYTE, qs + j) & 0xFF;
                    int lo = (b & 0x0F) | ((qh >>> j) & 1) << 4;
                    int hi = (b >>> 4) | ((qh >>> (j + 16)) & 1) << 4;
                    dst[dstIndex + j] = decoded(type, d, m, lo);
                    dst[dstIndex + j + BLOCK / 2] = decoded(type, d, m, hi);
                }
            }
            default -> throw notBlocks(type);
        }
    }

    // A 4- or 5-bit quant q (fifth bit included) as its value; the same expressions as value().
    private static float decoded(DType type, float d, float m, int q) {
        return switch (type) {
            case Q4_0 -> d * (q - 8);
            case Q4_1, Q5_1 -> d * q + m;
            case Q5_0 -> d * (q - 16);
            default -> d * IQ4_NL_GRID[q]; // IQ4_NL
        };
    }

    /** The offset of the 16 nibble bytes qs in a block of a 4- or 5-bit type. */
    private static int nibblesAt(DType type) {
        return switch (type) {
            case Q4_0, IQ4_NL -> 2;
            case Q4_1 -> 4;
            case Q5_0 -> 6;
            case Q5_1 -> 8;
            default -> throw notBlocks(type);
        };
    }

    /** 16 when bit i of the little-endian 32 bits at {@code qhOffset} is set, else 0. */
    private static int fifthBit(MemorySegment src, long qhOffset, int i) {
        int b = src.get(ValueLayout.JAVA_BYTE, qhOffset + i / 8);
        return ((b >>> (i % 8)) & 1) << 4;
    }

    private static IllegalArgumentException notBlocks(DType type) {
        return new IllegalArgumentException("not a block-quantized type: " + type);
    }
}
