package io.flashlm.tensor;

import static io.flashlm.tensor.QuantBlocksTest.assertDecodes;
import static io.flashlm.tensor.QuantBlocksTest.f16;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The k-quants' super-blocks of 256, decoded from two super-blocks written byte by byte (one row of 512, or
 * two rows of 256). The first super-block mixes scales of both signs and the extremes of each scale field,
 * and sets a few quants byte by byte so that every part of the layout (each half, quarter, nibble and
 * high-bit position) decides a value somewhere; the second has a negative super-block scale and every quant
 * at its largest. The expected values are worked out in the comments from the format.
 */
class SuperBlocksTest {
    /**
     * Q6_K: ql[128], qh[64], int8 scales[16], f16 d; value i = 128 h + 32 k + l takes its low 4 bits from
     * the low (k &lt; 2) or high (k &ge; 2) nibble of ql[64 h + 32 (k % 2) + l] and its high 2 bits from bits
     * 2k, 2k + 1 of qh[32 h + l]; value = d * scales[i / 16] * (q - 32).
     */
    @Test
    void q6_k() {
        byte[] b = new byte[420];
        // Super-block 0: d = 0.5, scales 1 -1 2 127 -128 3 -2 4 1 -3 5 -4 6 -5 7 -6; every quant 0 (q - 32 = -32,
        // value -16 * scale) except those the bytes below set.
        int[] sc = {1, -1, 2, 127, -128, 3, -2, 4, 1, -3, 5, -4, 6, -5, 7, -6};
        for (int s = 0; s < 16; s++) {
            b[192 + s] = (byte) sc[s];
        }
        f16(b, 208, 0x3800);
        b[0] = 0x5A; // value 0 low bits 10, value 64 low bits 5
        b[32] = (byte) 0xF3; // value 32 low 3, value 96 low 15
        b[17] = 0x0F; // value 17 low 15, value 81 low 0
        b[64 + 5] = 0x21; // value 133 low 1, value 197 low 2
        b[127] = (byte) 0xFF; // values 191 and 255 low 15
        b[128] = (byte) 0xE4; // qh[0] = 11 10 01 00: high bits of value 0: 0, 32: 1, 64: 2, 96: 3
        b[128 + 17] = 0x03; // value 17: 3 (49, 81, 113: 0)
        b[128 + 37] = (byte) 0xFF; // values 133, 165, 197, 229: 3
        b[128 + 63] = (byte) 0xFF; // values 159, 191, 223, 255: 3
        // Super-block 1: d = -0.25 (B4 00), every ql and qh byte FF (q = 63 - 32 = 31); scale -128 for
        // sub-block 0, 127 for sub-block 15, 1 for the others.
        Arrays.fill(b, 210, 210 + 192, (byte) 0xFF);
        Arrays.fill(b, 210 + 192, 210 + 208, (byte) 1);
        b[210 + 192] = (byte) 0x80;
        b[210 + 207] = 0x7F;
        f16(b, 210 + 208, 0xB400);
        float[] expected = new float[512];
        for (int i = 0; i < 256; i++) {
            expected[i] = -16f * sc[i / 16];
            expected[256 + i] = -0.25f * 31;
        }
        expected[0] = -11; // scale 1: q 10 - 32 = -22
        expected[32] = -13; // scale 2: (3 | 1 << 4) - 32 = -13
        expected[64] = -320; // scale -128: (5 | 2 << 4) - 32 = 5
        expected[96] = -31; // scale -2: (15 | 3 << 4) - 32 = 31
        expected[17] = -15.5f; // scale -1: 31
        expected[133] = 8.5f; // scale 1: (1 | 3 << 4) - 32 = 17
        expected[197] = 54; // scale 6: (2 | 3 << 4) - 32 = 18
        expected[165] = 40; // scale 5: (0 | 3 << 4) - 32 = 16
        expected[229] = 56; // scale 7: 16
        expected[191] = -62; // scale -4: 31
        expected[255] = -93; // scale -6: 31
        expected[159] = -24; // scale -3: 16
        expected[223] = -40; // scale -5: 16
        Arrays.fill(expected, 256, 272, 992f); // -0.25 * -128 * 31
        Arrays.fill(expected, 496, 512, -984.25f); // -0.25 * 127 * 31
        assertEquals(-48f, expected[81]); // scale 3: 0 - 32
        assertEquals(-2032f, expected[49]); // scale 127: 0 - 32
        assertDecodes(DType.Q6_K, b, expected);
    }

    /**
     * Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, qs[128]; value i is the low (i % 64 &lt; 32) or
     * high nibble of qs[32 (i / 64) + i % 32]; value = d * sc[i / 32] * q - dmin * m[i / 32]. Sub-block j's
     * scale and min: j &lt; 4 the low 6 bits of bytes j and j + 4; j &ge; 4 the low and high nibble of byte
     * j + 4, under the top 2 bits of bytes j - 4 (scale) and j (min).
     */
    @Test
    void q4_k() {
        byte[] b = new byte[288];
        // Super-block 0: d = 0.5, dmin = 1; scales 1 63 0 5 17 63 2 40, mins 0 63 3 7 33 63 1 16, packed as
        // bytes 0..3 = sc0..3 | (sc4..7 >> 4) << 6 = 41 FF 00 85, bytes 4..7 = m0..3 | (m4..7 >> 4) << 6 =
        // 80 FF 03 47, bytes 8..11 = (sc4..7 & 15) | (m4..7 & 15) << 4 = 11 FF 12 08.
        int[] sc = {1, 63, 0, 5, 17, 63, 2, 40};
        int[] m = {0, 63, 3, 7, 33, 63, 1, 16};
        f16(b, 0, 0x3800);
        f16(b, 2, 0x3C00);
        int[] packed = {0x41, 0xFF, 0x00, 0x85, 0x80, 0xFF, 0x03, 0x47, 0x11, 0xFF, 0x12, 0x08};
        for (int k = 0; k < 12; k++) {
            b[4 + k] = (byte) packed[k];
        }
        // qs[32 c + l] = (l % 16) | (15 - l % 16) << 4: value i (l = i % 32) has q = l % 16 in the even
        // sub-blocks (low nibbles), 15 - l % 16 in the odd ones (high nibbles).
        for (int k = 0; k < 128; k++) {
            b[16 + k] = (byte) ((k % 16) | (15 - k % 16) << 4);
        }
        // Super-block 1: d = -2 (C0 00), dmin = -0.25 (B4 00), every scale, min and quant byte FF (scales and
        // mins 63, q 15: -2 * 63 * 15 + 0.25 * 63 = -1874.25), but qs[0] = 0F (value 288: q 0 -> 15.75).
        f16(b, 144, 0xC000);
        f16(b, 146, 0xB400);
        Arrays.fill(b, 148, 288, (byte) 0xFF);
        b[160] = 0x0F;
        float[] expected = new float[512];
        for (int i = 0; i < 256; i++) {
            int j = i / 32, l = i % 32;
            int q = j % 2 == 0 ? l % 16 : 15 - l % 16;
            expected[i] = 0.5f * sc[j] * q - m[j];
        }
        Arrays.fill(expected, 256, 512, -1874.25f);
        expected[288] = 15.75f;
        assertEquals(409.5f, expected[32]); // 0.5 * 63 * 15 - 63
        assertEquals(20.5f, expected[100]); // 0.5 * 5 * 11 - 7
        assertEquals(9.5f, expected[133]); // 0.5 * 17 * 5 - 33
        assertEquals(284f, expected[240]); // 0.5 * 40 * 15 - 16
        assertEquals(-3f, expected[79]); // scale 0: - 3
        assertDecodes(DType.Q4_K, b, expected);
    }

    /**
     * Q5_K: Q4_K's d, dmin, scales and mins, qh[32] at 16, the nibbles at 48; bit i / 32 of qh[i % 32] is bit 4
     * of value i's q. Super-block 0 is Q4_K's with qh[l] = FF for l &lt; 8 (every sub-block's fifth bit), 55 for
     * l &lt; 16 (the even sub-blocks'), AA for l &lt; 24 (the odd ones'), 00 above.
     */
    @Test
    void q5_k() {
        byte[] b = new byte[352];
        int[] sc = {1, 63, 0, 5, 17, 63, 2, 40};
        int[] m = {0, 63, 3, 7, 33, 63, 1, 16};
        f16(b, 0, 0x3800);
        f16(b, 2, 0x3C00);
        int[] packed = {0x41, 0xFF, 0x00, 0x85, 0x80, 0xFF, 0x03, 0x47, 0x11, 0xFF, 0x12, 0x08};
        for (int k = 0; k < 12; k++) {
            b[4 + k] = (byte) packed[k];
        }
        for (int l = 0; l < 32; l++) {
            b[16 + l] = (byte) (l < 8 ? 0xFF : l < 16 ? 0x55 : l < 24 ? 0xAA : 0);
        }
        for (int k = 0; k < 128; k++) {
            b[48 + k] = (byte) ((k % 16) | (15 - k % 16) << 4);
        }
        // Super-block 1: d = -2, dmin = -0.25, scales, mins, qh and qs FF (q 31: -2 * 63 * 31 + 0.25 * 63 =
        // -3890.25), but qh[0] = FE (value 256: q 15 -> -1874.25) and qs[0] = 0F (value 288: q 16 -> -2000.25).
        f16(b, 176, 0xC000);
        f16(b, 178, 0xB400);
        Arrays.fill(b, 180, 352, (byte) 0xFF);
        b[176 + 16] = (byte) 0xFE;
        b[176 + 48] = 0x0F;
        float[] expected = new float[512];
        for (int i = 0; i < 256; i++) {
            int j = i / 32, l = i % 32;
            int q = j % 2 == 0 ? l % 16 : 15 - l % 16;
            boolean fifth = l < 8 || (l < 16 && j % 2 == 0) || (l >= 16 && l < 24 && j % 2 == 1);
            expected[i] = 0.5f * sc[j] * (q + (fifth ? 16 : 0)) - m[j];
        }
        Arrays.fill(expected, 256, 512, -3890.25f);
        expected[256] = -1874.25f;
        expected[288] = -2000.25f;
        assertEquals(913.5f, expected[32]); // 0.5 * 63 * 31 - 63
        assertEquals(60.5f, expected[100]); // 0.5 * 5 * 27 - 7
        assertEquals(787.5f, expected[180]); // 0.5 * 63 * 27 - 63
        assertEquals(1f, expected[210]); // 0.5 * 2 * 2 - 1
        assertEquals(604f, expected[240]); // 0.5 * 40 * 31 - 16
        assertDecodes(DType.Q5_K, b, expected);
    }

    /**
     * Q3_K: hmask[32], qs[64], 12 bytes of 6-bit scales, f16 d; value i = 128 h + 32 k + l has q = ((qs[32 h + l]
     * &gt;&gt; 2k) &amp; 3 | ((hmask[l] &gt;&gt; (4h + k)) &amp; 1) &lt;&lt; 2) - 4, and sub-block s = i / 16 the
     * scale (6 bits) - 32: low 4 bits the low (s &lt; 8) or high nibble of byte s % 8, high 2 bits from byte 8 + s % 4.
     */
    @Test
    void q3_k() {
        byte[] b = new byte[220];
        // Super-block 0: d = 0.5; 6-bit scales 33 31 63 0 32 40 20 1 62 34 30 48 16 35 29 45 (scales 1 -1 31 -32 0 8
        // -12 -31 30 2 -2 16 -16 3 -3 13): low nibbles in bytes 0..7 = E1 2F EF 00 00 38 D4 D1, high 2 bits in bytes
        // 8..11 = 7A A9 57 B0. qs all E4 (quarter k's low bits: k); hmask[l] = 0F for l < 16 (the third bit in the
        // first half), F0 above (in the second half): q = k + 4 * that bit - 4.
        int[] sc = {1, -1, 31, -32, 0, 8, -12, -31, 30, 2, -2, 16, -16, 3, -3, 13};
        int[] packed = {0xE1, 0x2F, 0xEF, 0x00, 0x00, 0x38, 0xD4, 0xD1, 0x7A, 0xA9, 0x57, 0xB0};
        for (int l = 0; l < 32; l++) {
            b[l] = (byte) (l < 16 ? 0x0F : 0xF0);
        }
        Arrays.fill(b, 32, 96, (byte) 0xE4);
        for (int k = 0; k < 12; k++) {
            b[96 + k] = (byte) packed[k];
        }
        f16(b, 108, 0x3800);
        // Super-block 1: d = -2, qs FF (low bits 3), hmask 00 (q -1) but hmask[0] = 01 (value 256: q 3); scale bytes
        // FF (scale 31) but byte 0 = F0 and byte 8 = FC (sub-block 0: 6 bits 0, scale -32).
        Arrays.fill(b, 142, 206, (byte) 0xFF);
        b[110] = 0x01;
        Arrays.fill(b, 206, 218, (byte) 0xFF);
        b[206] = (byte) 0xF0;
        b[214] = (byte) 0xFC;
        f16(b, 218, 0xC000);
        float[] expected = new float[512];
        for (int i = 0; i < 256; i++) {
            int h = i / 128, k = i % 128 / 32, l = i % 32;
            int third = (l < 16) == (h == 0) ? 1 : 0;
            expected[i] = 0.5f * sc[i / 16] * (k + 4 * third - 4);
        }
        Arrays.fill(expected, 256, 512, 62f); // -2 * 31 * -1
        Arrays.fill(expected, 256, 272, -64f); // -2 * -32 * -1
        expected[256] = 192f; // -2 * -32 * 3
        assertEquals(48f, expected[48]); // scale -32, q -3
        assertEquals(-18f, expected[96]); // scale -12, q 3
        assertEquals(-60f, expected[128]); // scale 30, q -4
        assertEquals(19.5f, expected[255]); // scale 13, q 3
        assertDecodes(DType.Q3_K, b, expected);
    }

    /**
     * Q2_K: scales[16] (sub-block s's scale the low nibble of byte s, its min the high), qs[64], f16 d, f16 dmin;
     * value i = 128 h + 32 k + l has q = (qs[32 h + l] &gt;&gt; 2k) &amp; 3; value = d * sc * q - dmin * m.
     */
    @Test
    void q2_k() {
        byte[] b = new byte[168];
        // Super-block 0: d = 0.5, dmin = 0.25; scales 1 15 0 7 3 15 2 9 4 5 6 11 12 13 14 8, mins 0 15 3 1 7 0 2 15
        // 4 6 5 8 9 10 11 12; qs all E4 (quarter k: q = k).
        int[] sc = {1, 15, 0, 7, 3, 15, 2, 9, 4, 5, 6, 11, 12, 13, 14, 8};
        int[] m = {0, 15, 3, 1, 7, 0, 2, 15, 4, 6, 5, 8, 9, 10, 11, 12};
        for (int s = 0; s < 16; s++) {
            b[s] = (byte) (sc[s] | m[s] << 4);
        }
        Arrays.fill(b, 16, 80, (byte) 0xE4);
        f16(b, 80, 0x3800);
        f16(b, 82, 0x3400);
        // Super-block 1: d = -1, dmin = -0.5, scale bytes FF (scale and min 15), qs FF (q 3: -45 + 7.5 = -37.5) but
        // qs[0] = 1B (values 256, 288, 320, 352: q 3, 2, 1, 0).
        Arrays.fill(b, 84, 164, (byte) 0xFF);
        b[100] = 0x1B;
        f16(b, 164, 0xBC00);
        f16(b, 166, 0xB800);
        float[] expected = new float[512];
        for (int i = 0; i < 256; i++) {
            expected[i] = 0.5f * sc[i / 16] * (i % 128 / 32) - 0.25f * m[i / 16];
        }
        Arrays.fill(expected, 256, 512, -37.5f);
        expected[288] = -22.5f;
        expected[320] = -7.5f;
        expected[352] = 7.5f;
        assertEquals(-3.75f, expected[16]); // scale 15, min 15, q 0
        assertEquals(3.25f, expected[48]); // 0.5 * 7 * 1 - 0.25
        assertEquals(9.75f, expected[127]); // 0.5 * 9 * 3 - 3.75
        assertEquals(9f, expected[255]); // 0.5 * 8 * 3 - 3
        assertDecodes(DType.Q2_K, b, expected);
    }

    /**
     * IQ4_XS: f16 d, scales_h (16 bits), scales_l[4], qs[128]; sub-block b's scale is its 6 bits - 32 (low 4 bits
     * the low (b even) or high nibble of scales_l[b / 2], high 2 bits bits 2b.. of scales_h); value 32 b + j =
     * d * scale * grid[the low (j &lt; 16) or high nibble of qs[16 b + j % 16]], grid IQ4_NL's.
     */
    @Test
    void iq4_xs() {
        int[] grid = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        byte[] b = new byte[272];
        // Super-block 0: d = 0.5; 6-bit scales 33 31 63 0 32 40 1 62 (scales 1 -1 31 -32 0 8 -31 30): scales_h =
        // CA36, scales_l = F1 0F 80 E1; ramp nibbles: value 32 b + j has nibble j, value 32 b + 16 + j 15 - j.
        int[] sc = {1, -1, 31, -32, 0, 8, -31, 30};
        f16(b, 0, 0x3800);
        f16(b, 2, 0xCA36);
        int[] low = {0xF1, 0x0F, 0x80, 0xE1};
        for (int k = 0; k < 4; k++) {
            b[4 + k] = (byte) low[k];
        }
        for (int sub = 0; sub < 8; sub++) {
            QuantBlocksTest.ramp(b, 8 + 16 * sub);
        }
        // Super-block 1: d = -1, scales all FF (scale 31), qs 88 (grid[8] = 1: -31) but qs[0] = 0F (value 256:
        // grid[15] = 113, value 272: grid[0] = -127).
        f16(b, 136, 0xBC00);
        Arrays.fill(b, 138, 144, (byte) 0xFF);
        Arrays.fill(b, 144, 272, (byte) 0x88);
        b[144] = 0x0F;
        float[] expected = new float[512];
        for (int i = 0; i < 256; i++) {
            expected[i] = 0.5f * sc[i / 32] * grid[QuantBlocksTest.rampNibble(i % 32)];
        }
        Arrays.fill(expected, 256, 512, -31f);
        expected[256] = -3503f;
        expected[272] = 3937f;
        assertEquals(2032f, expected[96]); // 0.5 * -32 * -127
        assertEquals(-1808f, expected[111]); // 0.5 * -32 * 113
        assertEquals(-15.5f, expected[200]); // 0.5 * -31 * 1
        assertEquals(1695f, expected[240]); // 0.5 * 30 * 113
        assertDecodes(DType.IQ4_XS, b, expected);
    }

    @Test
    void rowsMustBeWholeSuperBlocks() {
        for (DType t : DType.values()) {
            if (t.blockSize() != 256) {
                continue;
            }
            MemorySegment seg = MemorySegment.ofArray(new byte[t.bytesPerBlock() * 2]);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Tensor.of("blk.0.ffn_up.weight", t, seg, 2, 288));
            assertTrue(e.getMessage().contains("blk.0.ffn_up.weight") && e.getMessage().contains("256"),
                    e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> t.bytesFor(32));
        }
    }

    @Test
    void onlySuperBlockTypesDecodeAsSuperBlocks() {
        MemorySegment seg = MemorySegment.ofArray(new byte[256]);
        assertThrows(IllegalArgumentException.class, () -> SuperBlocks.decode(DType.Q8_0, seg, 0, new float[256], 0));
        assertThrows(IllegalArgumentException.class, () -> SuperBlocks.value(DType.IQ4_NL, seg, 0, 0));
    }
}
