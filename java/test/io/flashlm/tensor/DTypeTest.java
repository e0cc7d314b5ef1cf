package io.flashlm.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DTypeTest {
    @Test
    void ggmlIds() {
        assertEquals(0, DType.F32.ggmlTypeId());
        assertEquals(1, DType.F16.ggmlTypeId());
        assertEquals(2, DType.Q4_0.ggmlTypeId());
        assertEquals(8, DType.Q8_0.ggmlTypeId());
        assertEquals(30, DType.BF16.ggmlTypeId());
        assertEquals(3, DType.Q4_1.ggmlTypeId());
        assertEquals(6, DType.Q5_0.ggmlTypeId());
        assertEquals(7, DType.Q5_1.ggmlTypeId());
        assertEquals(20, DType.IQ4_NL.ggmlTypeId());
        assertEquals(14, DType.Q6_K.ggmlTypeId());
        assertEquals(12, DType.Q4_K.ggmlTypeId());
        assertEquals(13, DType.Q5_K.ggmlTypeId());
        assertEquals(11, DType.Q3_K.ggmlTypeId());
        assertEquals(10, DType.Q2_K.ggmlTypeId());
        assertEquals(23, DType.IQ4_XS.ggmlTypeId());
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromGgmlTypeId(t.ggmlTypeId()).orElseThrow());
        }
        assertTrue(DType.fromGgmlTypeId(16).isEmpty()); // IQ2_XXS
        assertTrue(DType.fromGgmlTypeId(-1).isEmpty());
    }

    @Test
    void sizes() {
        assertEquals(400, DType.F32.bytesFor(100));
        assertEquals(200, DType.F16.bytesFor(100));
        assertEquals(200, DType.BF16.bytesFor(100));
        assertEquals(34 * 3, DType.Q8_0.bytesFor(96));
        assertEquals(18 * 3, DType.Q4_0.bytesFor(96));
        assertEquals(0, DType.Q4_0.bytesFor(0));
        // q4_1: d, m, 16 nibble bytes; q5_0: d, 4 bytes qh, 16; q5_1: d, m, qh, 16; iq4_nl: d, 16
        assertEquals(20 * 3, DType.Q4_1.bytesFor(96));
        assertEquals(22 * 3, DType.Q5_0.bytesFor(96));
        assertEquals(24 * 3, DType.Q5_1.bytesFor(96));
        assertEquals(18 * 3, DType.IQ4_NL.bytesFor(96));
        for (DType t : new DType[] {DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.IQ4_NL}) {
            assertEquals(32, t.blockSize());
            assertTrue(t.isQuantized());
        }
        // the k-quants: super-blocks of 256; q6_k: ql[128], qh[64], scales[16], d
        assertEquals(210 * 3, DType.Q6_K.bytesFor(768));
        assertEquals(144 * 3, DType.Q4_K.bytesFor(768)); // d, dmin, 12 bytes of scales and mins, 128 of nibbles
        assertEquals(176 * 3, DType.Q5_K.bytesFor(768)); // q4_k's and 32 bytes of fifth bits
        assertEquals(110 * 3, DType.Q3_K.bytesFor(768)); // hmask[32], qs[64], 12 bytes of scales, d
        assertEquals(84 * 3, DType.Q2_K.bytesFor(768)); // 16 bytes of scales and mins, qs[64], d, dmin
        assertEquals(136 * 3, DType.IQ4_XS.bytesFor(768)); // d, scales_h, scales_l[4], qs[128]
        for (DType t : new DType[] {DType.Q6_K, DType.Q4_K, DType.Q5_K, DType.Q3_K, DType.Q2_K, DType.IQ4_XS}) {
            assertEquals(256, t.blockSize());
            assertTrue(t.isQuantized());
            assertThrows(IllegalArgumentException.class, () -> t.bytesFor(288));
        }
        assertTrue(DType.Q8_0.isQuantized());
        assertFalse(DType.BF16.isQuantized());
    }

    @Test
    void partialBlockIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.Q8_0.bytesFor(33));
        assertTrue(e.getMessage().contains("33") && e.getMessage().contains("32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DType.F32.bytesFor(-1));
        assertThrows(ArithmeticException.class, () -> DType.F32.bytesFor(Long.MAX_VALUE / 2));
    }
}
