package io.flashlm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class TensorTest {
    /**
     * Two Q8_0 blocks written byte by byte.
     * Block 0: d = 0.5 (f16 0x3800, stored 00 38), q[i] = i - 16, so value i = 0.5 * (i - 16).
     * Block 1: d = -0.25 (f16 0xB400, stored 00 B4), q = 127, -128, 1, 0, 0, ..., 0, -1 (last);
     * the zeros decode to -0.0 because d is negative.
     */
    static byte[] q8Blocks() {
        byte[] b = new byte[68];
        b[0] = 0x00;
        b[1] = 0x38;
        for (int i = 0; i < 32; i++) {
            b[2 + i] = (byte) (i - 16);
        }
        b[34] = 0x00;
        b[35] = (byte) 0xB4;
        b[36] = 127;
        b[37] = (byte) -128;
        b[38] = 1;
        b[67] = (byte) -1;
        return b;
    }

    static final float[] Q8_EXPECTED = {
        -8.0f, -7.5f, -7.0f, -6.5f, -6.0f, -5.5f, -5.0f, -4.5f, -4.0f, -3.5f, -3.0f, -2.5f, -2.0f, -1.5f, -1.0f, -0.5f,
        0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 3.5f, 4.0f, 4.5f, 5.0f, 5.5f, 6.0f, 6.5f, 7.0f, 7.5f,
        -31.75f, 32.0f, -0.25f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f,
        -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, -0f, 0.25f};

    /**
     * Two Q4_0 blocks written byte by byte.
     * Block 0: d = 2.0 (f16 0x4000, stored 00 40); byte j = j | (15 - j) << 4, so value j (low nibble) =
     * 2 * (j - 8) and value 16 + j (high nibble) = 2 * (7 - j).
     * Block 1: d = 0.5 (f16 0x3800); byte 0 = 0x8F (low 15 -> 3.5, high 8 -> 0), byte 1 = 0x08 (low 8 -> 0,
     * high 0 -> -4), the rest 0x88 (all zero).
     */
    static byte[] q4Blocks() {
        byte[] b = new byte[36];
        b[0] = 0x00;
        b[1] = 0x40;
        for (int j = 0; j < 16; j++) {
            b[2 + j] = (byte) (j | (15 - j) << 4);
        }
        b[18] = 0x00;
        b[19] = 0x38;
        b[20] = (byte) 0x8F;
        b[21] = 0x08;
        for (int j = 2; j < 16; j++) {
            b[20 + j] = (byte) 0x88;
        }
        return b;
    }

    static final float[] Q4_EXPECTED = {
        -16, -14, -12, -10, -8, -6, -4, -2, 0, 2, 4, 6, 8, 10, 12, 14,
        14, 12, 10, 8, 6, 4, 2, 0, -2, -4, -6, -8, -10, -12, -14, -16,
        3.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, -4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    @Test
    void q8_0HandBlocks() {
        Tensor t = Tensor.of("q8", DType.Q8_0, MemorySegment.ofArray(q8Blocks()), 2, 32);
        assertEquals(64, t.elementCount());
        assertEquals(34, t.rowBytes());
        for (int i = 0; i < 64; i++) {
            assertEquals(Q8_EXPECTED[i], t.getFloat(i), "element " + i);
        }
        assertArrayEquals(Q8_EXPECTED, t.toFloatArray());
        assertEquals(-31.75f, t.getFloat(1, 0));
        // The same bytes as one row of 64.
        assertArrayEquals(Q8_EXPECTED, Tensor.of("q8", DType.Q8_0, MemorySegment.ofArray(q8Blocks()), 1, 64).toFloatArray());
    }

    @Test
    void q4_0HandBlocks() {
        Tensor t = Tensor.of("q4", DType.Q4_0, MemorySegment.ofArray(q4Blocks()), 2, 32);
        for (int i = 0; i < 64; i++) {
            assertEquals(Q4_EXPECTED[i], t.getFloat(i), "element " + i);
        }
        assertArrayEquals(Q4_EXPECTED, t.toFloatArray());
        float[] row = new float[34];
        t.rowToFloat(1, row, 2);
        for (int i = 0; i < 32; i++) {
            assertEquals(Q4_EXPECTED[32 + i], row[2 + i]);
        }
    }

    @Test
    void subnormalScale() {
        // d = f16 0x0001 = 2^-24, q[0] = 3: value 3 * 2^-24.
        byte[] b = new byte[34];
        b[0] = 0x01;
        b[2] = 3;
        Tensor t = Tensor.of("q", DType.Q8_0, MemorySegment.ofArray(b), 32);
        assertEquals(3 * 0x1p-24f, t.getFloat(0));
    }

    @Test
    void rowToFloatSegmentWritesNativeOrder() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dst = arena.allocate(32 * 4);
            Tensor q8 = Tensor.of("q8", DType.Q8_0, MemorySegment.ofArray(q8Blocks()), 2, 32);
            q8.rowToFloat(0, dst);
            for (int i = 0; i < 32; i++) {
                assertEquals(Q8_EXPECTED[i], dst.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
            Tensor f = Tensor.f32("f", new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4);
            f.rowToFloat(1, dst);
            for (int i = 0; i < 4; i++) {
                assertEquals(5 + i, dst.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
            assertThrows(IllegalArgumentException.class, () -> q8.rowToFloat(0, arena.allocate(16)));
        }
    }

    @Test
    void halfPrecisionTensors() {
        // f16: 1.0 = 00 3C, -2.0 = 00 C0, 65504 = FF 7B; bf16: 1.0 = 80 3F, 3.140625 = 49 40, -inf = 80 FF.
        byte[] f16 = {0x00, 0x3C, 0x00, (byte) 0xC0, (byte) 0xFF, 0x7B};
        byte[] bf16 = {(byte) 0x80, 0x3F, 0x49, 0x40, (byte) 0x80, (byte) 0xFF};
        assertArrayEquals(new float[] {1, -2, 65504}, Tensor.of("h", DType.F16, MemorySegment.ofArray(f16), 3).toFloatArray());
        assertArrayEquals(new float[] {1, 3.140625f, Float.NEGATIVE_INFINITY},
                Tensor.of("b", DType.BF16, MemorySegment.ofArray(bf16), 1, 3).toFloatArray());
        assertEquals(-2.0f, Tensor.of("h", DType.F16, MemorySegment.ofArray(f16), 3).getFloat(1));
    }

    @Test
    void f32FactoryIsLittleEndian() {
        Tensor t = Tensor.f32("x", new float[] {1.0f, -0.5f, 3.0f, 4.0f, 5.0f, 6.0f}, 2, 3);
        // 1.0f = 0x3F800000, stored 00 00 80 3F.
        assertEquals((byte) 0x80, t.data().get(ValueLayout.JAVA_BYTE, 2));
        assertEquals((byte) 0x3F, t.data().get(ValueLayout.JAVA_BYTE, 3));
        assertEquals(-0.5f, t.getFloat(0, 1));
        assertEquals(6.0f, t.getFloat(1, 2));
        assertEquals(2, t.rowCount());
        assertEquals(3, t.rowLength());
        assertEquals(12, t.row(1).byteSize());
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(6));
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(0, 3));
    }

    @Test
    void scalarAndEmptyTensors() {
        Tensor s = Tensor.f32("s", new float[] {42}, new long[0]);
        assertEquals(0, s.rank());
        assertEquals(1, s.elementCount());
        assertEquals(42, s.getFloat(0));
        Tensor e = Tensor.f32("e", new float[0], 0, 8);
        assertEquals(0, e.elementCount());
        assertEquals(0, e.toFloatArray().length);
    }

    @Test
    void shapeAndSizeAreValidated() {
        MemorySegment eight = MemorySegment.ofArray(new byte[8]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.f32("w", eight, 3));
        assertTrue(e.getMessage().contains("w") && e.getMessage().contains("12"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.f32("w", eight, -2, -1));
        // Q8_0 rows must hold whole blocks: 2 x 16 has the right byte count for one block but splits it.
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.of("q", DType.Q8_0, MemorySegment.ofArray(new byte[34]), 2, 16));
        assertThrows(IllegalArgumentException.class,
                () -> Tensor.of("q", DType.Q4_0, MemorySegment.ofArray(new byte[18]), new long[0]));
        long[] shape = {2};
        Tensor t = Tensor.f32("c", eight, shape);
        shape[0] = 99; // the tensor keeps its own copy
        assertEquals(2, t.dim(0));
    }
}
