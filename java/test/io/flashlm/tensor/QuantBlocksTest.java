package io.flashlm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The legacy GGUF blocks Q4_1, Q5_0, Q5_1 and IQ4_NL, decoded from blocks written byte by byte. Each
 * test has two blocks (one row of 64, or two rows of 32): the first a ramp of nibbles (byte j =
 * j | (15 - j) << 4, so value j has nibble j and value 16 + j nibble 15 - j), the second a negative
 * scale and a few extreme quants. The expected values are worked out in the comments from the format.
 * The k-quants' super-blocks of 256 are in {@link SuperBlocksTest}.
 */
class QuantBlocksTest {
    /**
     * The fifth bits of the first 5-bit blocks: qh = A5 0F F0 81, bit j of the little-endian word being
     * value j's: A5 = 1010 0101 sets values 0, 2, 5, 7; 0F values 8..11; F0 values 20..23; 81 values 24, 31.
     */
    static final byte[] QH = {(byte) 0xA5, 0x0F, (byte) 0xF0, (byte) 0x81};
    static final Set<Integer> FIFTH_BIT = Set.of(0, 2, 5, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24, 31);

    /** The nibble of value i in a ramp block. */
    static int rampNibble(int i) {
        return i < 16 ? i : 31 - i;
    }

    static void f16(byte[] b, int at, int bits) {
        b[at] = (byte) bits;
        b[at + 1] = (byte) (bits >>> 8);
    }

    static void ramp(byte[] b, int at) {
        for (int j = 0; j < 16; j++) {
            b[at + j] = (byte) (j | (15 - j) << 4);
        }
    }

    @Test
    void q4_1() {
        byte[] b = new byte[40];
        // Block 0: d = 0.5 (38 00), m = -4 (C4 00): value = 0.5 * nibble - 4, from m = -4 (nibble 0) to 3.5 (15).
        f16(b, 0, 0x3800);
        f16(b, 2, 0xC400);
        ramp(b, 4);
        // Block 1: d = -2 (C0 00), m = 1.5 (3E 00); byte 0 = F0: value 0 nibble 0 -> 1.5, value 16 nibble 15 ->
        // -28.5; byte 1 = 3C: value 1 nibble 12 -> -22.5, value 17 nibble 3 -> -4.5; the other bytes 0 -> 1.5.
        f16(b, 20, 0xC000);
        f16(b, 22, 0x3E00);
        b[24] = (byte) 0xF0;
        b[25] = 0x3C;
        float[] expected = new float[64];
        for (int i = 0; i < 32; i++) {
            expected[i] = 0.5f * rampNibble(i) - 4;
        }
        Arrays.fill(expected, 32, 64, 1.5f);
        expected[48] = -28.5f;
        expected[33] = -22.5f;
        expected[49] = -4.5f;
        assertEquals(-4f, expected[0]);
        assertEquals(3.5f, expected[15]);
        assertDecodes(DType.Q4_1, b, expected);
    }

    @Test
    void q5_0() {
        byte[] b = new byte[44];
        // Block 0: d = 0.25 (34 00), QH, ramp: value = 0.25 * ((nibble | fifth << 4) - 16).
        f16(b, 0, 0x3400);
        System.arraycopy(QH, 0, b, 2, 4);
        ramp(b, 6);
        // Block 1: d = -1 (BC 00); qh = 02 00 01 00 (values 1 and 16); byte 0 = F0, byte 1 = 0F, the rest 0.
        // value 0: q 0 - 16 -> 16 (the smallest quant); value 16: 15 | 16 - 16 = 15 -> -15 (the largest);
        // value 1: 15 | 16 -> -15; value 17: 0 -> 16; every other value q 0 -> 16.
        f16(b, 22, 0xBC00);
        b[24] = 0x02;
        b[26] = 0x01;
        b[28] = (byte) 0xF0;
        b[29] = 0x0F;
        float[] expected = new float[64];
        for (int i = 0; i < 32; i++) {
            expected[i] = 0.25f * (rampNibble(i) + (FIFTH_BIT.contains(i) ? 16 : 0) - 16);
        }
        Arrays.fill(expected, 32, 64, 16f);
        expected[48] = -15f;
        expected[33] = -15f;
        // spot checks of the formula: value 0 = (0 | 16) - 16, value 1 = 1 - 16, value 20 = (11 | 16) - 16
        assertEquals(0f, expected[0]);
        assertEquals(-3.75f, expected[1]);
        assertEquals(2.75f, expected[20]);
        assertEquals(-3.75f, expected[30]);
        assertDecodes(DType.Q5_0, b, expected);
    }

    @Test
    void q5_1() {
        byte[] b = new byte[48];
        // Block 0: d = 0.5 (38 00), m = -8 (C8 00), QH, ramp: value = 0.5 * (nibble | fifth << 4) - 8.
        f16(b, 0, 0x3800);
        f16(b, 2, 0xC800);
        System.arraycopy(QH, 0, b, 4, 4);
        ramp(b, 8);
        // Block 1: d = -0.25 (B4 00), m = 2 (40 00), qh and qs as q5_0's block 1: q 0 -> 2, q 31 -> -5.75.
        f16(b, 24, 0xB400);
        f16(b, 26, 0x4000);
        b[28] = 0x02;
        b[30] = 0x01;
        b[32] = (byte) 0xF0;
        b[33] = 0x0F;
        float[] expected = new float[64];
        for (int i = 0; i < 32; i++) {
            expected[i] = 0.5f * (rampNibble(i) | (FIFTH_BIT.contains(i) ? 16 : 0)) - 8;
        }
        Arrays.fill(expected, 32, 64, 2f);
        expected[48] = -5.75f;
        expected[33] = -5.75f;
        assertEquals(0f, expected[0]); // 0.5 * 16 - 8
        assertEquals(5.5f, expected[20]); // 0.5 * 27 - 8
        assertEquals(0f, expected[31]); // 0.5 * (0 | 16) - 8
        assertDecodes(DType.Q5_1, b, expected);
    }

    @Test
    void iq4_nl() {
        // The format's grid, written out here rather than taken from the engine.
        int[] grid = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        byte[] b = new byte[36];
        // Block 0: d = 0.5, ramp: value = 0.5 * grid[nibble], from -63.5 (nibble 0) to 56.5 (15).
        f16(b, 0, 0x3800);
        ramp(b, 2);
        // Block 1: d = -1 (BC 00), every byte 80: values 0..15 nibble 0 -> 127, values 16..31 nibble 8 -> -1.
        f16(b, 18, 0xBC00);
        Arrays.fill(b, 20, 36, (byte) 0x80);
        float[] expected = new float[64];
        for (int i = 0; i < 32; i++) {
            expected[i] = 0.5f * grid[rampNibble(i)];
        }
        Arrays.fill(expected, 32, 48, 127f);
        Arrays.fill(expected, 48, 64, -1f);
        assertEquals(-63.5f, expected[0]);
        assertEquals(56.5f, expected[15]);
        assertDecodes(DType.IQ4_NL, b, expected);
    }

    @Test
    void onlyBlockTypesDecodeAsBlocks() {
        MemorySegment seg = MemorySegment.ofArray(new byte[64]);
        float[] dst = new float[32];
        assertThrows(IllegalArgumentException.class, () -> QuantBlocks.decodeBlock(DType.F16, seg, 0, dst, 0));
        assertThrows(IllegalArgumentException.class, () -> QuantBlocks.value(DType.F32, seg, 0, 0));
    }

    /**
     * Every decoding path of Tensor gives {@code expected}, two blocks of {@code type} (one row of two blocks,
     * or two rows of one): element by element, whole, by row, into a segment.
     */
    static void assertDecodes(DType type, byte[] bytes, float[] expected) {
        int block = type.blockSize(), n = 2 * block;
        assertEquals(n, expected.length);
        Tensor oneRow = Tensor.of("t", type, MemorySegment.ofArray(bytes), 1, n);
        Tensor twoRows = Tensor.of("t", type, MemorySegment.ofArray(bytes), 2, block);
        assertEquals(bytes.length, type.bytesFor(n));
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], oneRow.getFloat(i), type + " element " + i);
            assertEquals(expected[i], twoRows.getFloat(i / block, i % block), type + " element " + i);
            assertEquals(expected[i], QuantBlocks.value(type, oneRow.data(), i / block * type.bytesPerBlock(),
                    i % block), type + " element " + i);
        }
        assertArrayEquals(expected, oneRow.toFloatArray(), type.toString());
        assertArrayEquals(expected, twoRows.toFloatArray(), type.toString());
        float[] row = new float[block + 3];
        twoRows.rowToFloat(1, row, 3);
        assertArrayEquals(Arrays.copyOfRange(expected, block, n), Arrays.copyOfRange(row, 3, block + 3),
                type + " row 1");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(n * 4L);
            oneRow.rowToFloat(0, dst);
            assertArrayEquals(expected, dst.toArray(ValueLayout.JAVA_FLOAT), type + " into a segment");
        }
    }
}
