package io.flashlm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Scalar reference decoding of GGUF's k-quant super-blocks of 256 values (little-endian). A super-block
 * holds sub-blocks of 16 or 32 values, each with a small integer scale sc (and, in the types with a min, a
 * small integer min m) relative to the super-block's f16 scale d (and f16 dmin):
 * <pre>  value i = (d * sc[s]) * q[i] - dmin * m[s],   s = i / subBlockSize</pre>
 * with q[i] a small integer; d * sc and dmin * m are exact in float. The layouts, as byte offsets within a
 * super-block:
 * <ul>
 * <li>Q6_K (210 bytes): ql[128] at 0, qh[64] at 128, 16 int8 scales at 192, f16 d at 208; sub-blocks of
 * 16. Value i, with h = i / 128, k = (i % 128) / 32, l = i % 32: its low 4 bits are the low (k &lt; 2) or
 * high (k &ge; 2) nibble of ql[64 h + 32 (k % 2) + l], its high 2 bits are bits 2k, 2k + 1 of
 * qh[32 h + l]; q = those 6 bits - 32.
 * <li>Q4_K (144 bytes): f16 d at 0, f16 dmin at 2, 12 bytes of 6-bit scales and mins at 4, qs[128] at 16;
 * sub-blocks of 32. Value i is the low (i % 64 &lt; 32) or high nibble of qs[32 (i / 64) + i % 32]. Sub-block
 * j's scale and min: for j &lt; 4 the low 6 bits of bytes j and j + 4; for j &ge; 4 the low (scale) and
 * high (min) nibble of byte j + 4, with the top 2 bits of bytes j - 4 (scale) and j (min) above them.
 * <li>Q5_K (176 bytes): Q4_K's d, dmin and scales at 0, 2, 4, qh[32] at 16, qs[128] at 48; Q4_K's nibbles
 * with a fifth bit: bit i / 32 of qh[i % 32] is bit 4 of value i's q.
 * <li>Q3_K (110 bytes): hmask[32] at 0, qs[64] at 32, 12 bytes of 6-bit scales at 96, f16 d at 108;
 * sub-blocks of 16 with signed scales (6 bits - 32). Value i (h = i / 128, k = (i % 128) / 32, l = i % 32):
 * low 2 bits (qs[32 h + l] &gt;&gt; 2k) &amp; 3, third bit (hmask[l] &gt;&gt; (4h + k)) &amp; 1, q = those 3 bits - 4.
 * Sub-block s's scale: low 4 bits the low (s &lt; 8) or high nibble of byte s % 8, high 2 bits bits
 * 2 (s / 4) and 2 (s / 4) + 1 of byte 8 + s % 4.
 * <li>Q2_K (84 bytes): scales[16] at 0 (sub-block s's scale in the low nibble of byte s, its min in the high),
 * qs[64] at 16, f16 d at 80, f16 dmin at 82; sub-blocks of 16. Value i's q is (qs[32 h + l] &gt;&gt; 2k) &amp; 3,
 * with h, k, l as in Q3_K.
 * <li>IQ4_XS (136 bytes): f16 d at 0, scales_h (16 bits, little-endian) at 2, scales_l[4] at 4, qs[128] at 8;
 * sub-blocks of 32 with signed scales (6 bits - 32): sub-block b's low 4 bits the low (b even) or high nibble
 * of scales_l[b / 2], its high 2 bits bits 2b, 2b + 1 of scales_h. Value 32 b + j is IQ4_NL's grid entry
 * for the low (j &lt; 16) or high nibble of qs[16 b + j % 16].
 * </ul>
 */
final class SuperBlocks {
    /** Values per super-block. */
    static final int SIZE = 256;

    private static final ValueLayout.OfShort F16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SuperBlocks() {
    }

    static boolean isSuperBlock(DType type) {
        return type.blockSize() == SIZE;
    }

    /** Values per sub-block: 16 or 32. */
    static int subBlockSize(DType type) {
        return switch (type) {
            case Q6_K, Q3_K, Q2_K -> 16;
            case Q4_K, Q5_K, IQ4_XS -> 32;
            default -> throw notSuperBlocks(type);
        };
    }

    /** Value {@code i} (0..255) of the super-block at {@code off}. */
    static float value(DType type, MemorySegment src, long off, int i) {
        int s = i / subBlockSize(type);
        return scale(type, src, off, s) * quant(type, src, off, i) - min(type, src, off, s);
    }

    /** Decodes the super-block at {@code off} into {@code dst[dstIndex .. dstIndex + 256)}. */
    static void decode(DType type, MemorySegment src, long off, float[] dst, int dstIndex) {
        int sub = subBlockSize(type);
        for (int s = 0; s < SIZE / sub; s++) {
            float sc = scale(type, src, off, s), m = min(type, src, off, s);
            for (int i = s * sub; i < (s + 1) * sub; i++) {
                dst[dstIndex + i] = sc * quant(type, src, off, i) - m;
            }
        }
    }

    /** Sub-block {@code s}'s scale d * sc. */
    static float scale(DType type, MemorySegment src, long off, int s) {
        return switch (type) {
            case Q6_K -> f16(src, off + 208) * src.get(ValueLayout.JAVA_BYTE, off + 192 + s);
            case Q4_K, Q5_K -> f16(src, off) * packed6(src, off + 4, s, false);
            case Q3_K -> {
                int low = u8(src, off + 96 + s % 8), high = u8(src, off + 104 + s % 4) >>> (2 * (s / 4));
                yield f16(src, off + 108) * (((s < 8 ? low & 0x0F : low >>> 4) | (high & 3) << 4) - 32);
            }
            case Q2_K -> f16(src, off + 80) * (u8(src, off + s) & 0x0F);
            case IQ4_XS -> {
                int low = (u8(src, off + 4 + s / 2) >>> (4 * (s % 2))) & 0x0F;
                int high = ((u8(src, off + 2) | u8(src, off + 3) << 8) >>> (2 * s)) & 3;
                yield f16(src, off) * ((low | high << 4) - 32);
            }
            default -> throw notSuperBlocks(type);
        };
    }

    /** Sub-block {@code s}'s min dmin * m, subtracted from every value of the sub-block (0 in the types without). */
    static float min(DType type, MemorySegment src, long off, int s) {
        return switch (type) {
            case Q6_K, Q3_K, IQ4_XS -> 0f;
            case Q4_K, Q5_K -> f16(src, off + 2) * packed6(src, off + 4, s, true);
            case Q2_K -> f16(src, off + 82) * (u8(src, off + s) >>> 4);
            default -> throw notSuperBlocks(type);
        };
    }

    /** The integer quant q of value {@code i}, its offset (if the type has one) applied. */
    static int quant(DType type, MemorySegment src, long off, int i) {
        int h = i / 128, k = i % 128 / 32, l = i % 32;
        return switch (type) {
            case Q6_K -> {
                int low = u8(src, off + 64 * h + 32 * (k % 2) + l);
                int high = u8(src, off + 128 + 32 * h + l);
                yield ((k < 2 ? low & 0x0F : low >>> 4) | ((high >>> (2 * k)) & 3) << 4) - 32;
            }
            case Q4_K -> nibble(src, off + 16, i);
            case Q5_K -> nibble(src, off + 48, i) | ((u8(src, off + 16 + l) >>> (i / 32)) & 1) << 4;
            case Q3_K -> ((u8(src, off + 32 + 32 * h + l) >>> (2 * k)) & 3 | ((u8(src, off + l) >>> (4 * h + k)) & 1) << 2) - 4;
            case Q2_K -> (u8(src, off + 16 + 32 * h + l) >>> (2 * k)) & 3;
            case IQ4_XS -> {
                int b = u8(src, off + 8 + 16 * (i / 32) + i % 16);
                yield QuantBlocks.IQ4_NL_GRID[i % 32 < 16 ? b & 0x0F : b >>> 4];
            }
            default -> throw notSuperBlocks(type);
        };
    }

    /** The low (i % 64 &lt; 32) or high nibble of qs[32 (i / 64) + i % 32]: Q4_K's and Q5_K's low 4 bits. */
    private static int nibble(MemorySegment src, long qs, int i) {
        int b = u8(src, qs + 32 * (i / 64) + i % 32);
        return i % 64 < 32 ? b & 0x0F : b >>> 4;
    }

    /** Sub-block j's 6-bit scale (or min) in Q4_K's and Q5_K's 12 bytes at {@code at}. */
    private static int packed6(MemorySegment src, long at, int j, boolean min) {
        if (j < 4) {
            return u8(src, at + j + (min ? 4 : 0)) & 63;
        }
        int low = u8(src, at + j + 4), high = u8(src, at + j - (min ? 0 : 4)) >>> 6;
        return (min ? low >>> 4 : low & 0x0F) | high << 4;
    }

    private static int u8(MemorySegment src, long at) {
        return src.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
    }

    private static float f16(MemorySegment src, long at) {
        return Float16.toFloat(src.get(F16_LE, at));
    }

    private static IllegalArgumentException notSuperBlocks(DType type) {
        return new IllegalArgumentException("not a k-quant super-block type: " + type);
    }
}
