package io.flashlm.model;

import io.flashlm.model.GgufModelFixture.WeightType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The k-quants for {@link GgufModelFixture}, written here from the GGUF format rather than taken from the
 * engine: a plain quantizer (nearest quants under per-sub-block scales; its accuracy does not matter, since
 * the reference runs on what the bytes decode to) and a decoder, value by value, from the byte layouts:
 * <ul>
 * <li>Q6_K, 210 bytes: ql[128], qh[64], int8 scales[16], f16 d. Value i = 128 h + 32 k + l (l &lt; 32) has
 * 6 bits q: the low nibble (k &lt; 2) or high nibble (k &ge; 2) of ql[64 h + 32 (k % 2) + l], and bits
 * 2k..2k+1 of qh[32 h + l] above them; value = (d * scales[i / 16]) * (q - 32).
 * <li>Q4_K, 144 bytes: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, qs[128]. Value i's q is the low
 * (i % 64 &lt; 32) or high nibble of qs[32 (i / 64) + i % 32]; value = (d * sc) * q - dmin * m for its
 * sub-block j = i / 32, whose sc and m are, for j &lt; 4, the low 6 bits of bytes j and j + 4, and for
 * j &ge; 4 the low and high nibble of byte j + 4 with bits 6..7 of bytes j - 4 and j as their bits 4..5.
 * <li>Q5_K, 176 bytes: Q4_K's first 16, qh[32], then the nibbles (qs[128]); bit i / 32 of qh[i % 32] is
 * bit 4 of value i's q.
 * <li>Q3_K, 110 bytes: hmask[32], qs[64], 12 bytes of scales, f16 d. Value i = 128 h + 32 k + l: its 2 low bits
 * bits 2k..2k+1 of qs[32 h + l], its third bit bit 4h + k of hmask[l], q = those 3 bits - 4; value = (d * (s6 -
 * 32)) * q, s6 the 6-bit scale of sub-block i / 16: for s &lt; 8 the low nibble of byte s, else the high nibble
 * of byte s - 8, under bits 2 (s / 4)..2 (s / 4) + 1 of byte 8 + s % 4.
 * <li>Q2_K, 84 bytes: scales[16], qs[64], f16 d, f16 dmin. Value i = 128 h + 32 k + l has q = bits 2k..2k+1 of
 * qs[32 h + l]; value = (d * sc) * q - dmin * m, sc and m the low and high nibble of byte i / 16.
 * <li>IQ4_XS, 136 bytes: f16 d, scales_h (16 bits), scales_l[4], qs[128]. Sub-block b = i / 32 has the 6-bit
 * scale s6 whose low 4 bits are nibble b % 2 of scales_l[b / 2] and high 2 bits bits 2b..2b+1 of scales_h;
 * value = (d * (s6 - 32)) * grid[the low (i % 32 &lt; 16) or high nibble of qs[16 b + i % 16]], IQ4_NL's grid.
 * </ul>
 */
final class SuperBlockCodec {
    static final int QK = 256;

    private SuperBlockCodec() {
    }

    static byte[] encode(WeightType type, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length / QK * type.superBlockBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int blk = 0; blk < v.length / QK; blk++) {
            byte[] out = new byte[type.superBlockBytes];
            switch (type) {
                case Q6_K -> q6k(v, blk * QK, out);
                case Q4_K -> q4k(v, blk * QK, out, false);
                case Q5_K -> q4k(v, blk * QK, out, true);
                case Q3_K -> q3k(v, blk * QK, out);
                case Q2_K -> q2k(v, blk * QK, out);
                case IQ4_XS -> iq4xs(v, blk * QK, out);
                default -> throw new IllegalArgumentException(type.toString());
            }
            b.put(out);
        }
        return b.array();
    }

    static float[] decode(WeightType type, byte[] data, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            int at = i / QK * type.superBlockBytes, j = i % QK;
            out[i] = switch (type) {
                case Q6_K -> {
                    int half = j / 128, quarter = j % 128 / 32, l = j % 32;
                    int lowByte = data[at + 64 * half + 32 * (quarter % 2) + l] & 0xFF;
                    int low = quarter < 2 ? lowByte & 0x0F : lowByte >> 4;
                    int high = ((data[at + 128 + 32 * half + l] & 0xFF) >> (2 * quarter)) & 3;
                    float scale = f16(data, at + 208) * data[at + 192 + j / 16];
                    yield scale * (low + 16 * high - 32);
                }
                case Q4_K, Q5_K -> {
                    boolean five = type == WeightType.Q5_K;
                    int sub = j / 32;
                    int sc, m;
                    if (sub < 4) {
                        sc = data[at + 4 + sub] & 0x3F;
                        m = data[at + 8 + sub] & 0x3F;
                    } else {
                        int both = data[at + 8 + sub] & 0xFF;
                        sc = (both & 15) + 16 * ((data[at + sub] & 0xFF) >> 6);
                        m = (both >> 4) + 16 * ((data[at + 4 + sub] & 0xFF) >> 6);
                    }
                    int qs = data[at + (five ? 48 : 16) + 32 * (j / 64) + j % 32] & 0xFF;
                    int q = j % 64 < 32 ? qs & 15 : qs >> 4;
                    if (five && (data[at + 16 + j % 32] & (1 << sub)) != 0) {
                        q += 16;
                    }
                    yield f16(data, at) * sc * q - f16(data, at + 2) * m;
                }
                case Q3_K -> {
                    int s = j / 16, half = j / 128, quarter = j % 128 / 32, l = j % 32;
                    int nib = s < 8 ? data[at + 96 + s] & 15 : (data[at + 96 + s - 8] & 0xFF) >> 4;
                    int top = ((data[at + 104 + s % 4] & 0xFF) >> (2 * (s / 4))) & 3;
                    int two = ((data[at + 32 + 32 * half + l] & 0xFF) >> (2 * quarter)) & 3;
                    int third = ((data[at + l] & 0xFF) >> (4 * half + quarter)) & 1;
                    yield f16(data, at + 108) * (nib + 16 * top - 32) * (two + 4 * third - 4);
                }
                case Q2_K -> {
                    int sm = data[at + j / 16] & 0xFF;
                    int q = ((data[at + 16 + 32 * (j / 128) + j % 32] & 0xFF) >> (2 * (j % 128 / 32))) & 3;
                    yield f16(data, at + 80) * (sm & 15) * q - f16(data, at + 82) * (sm >> 4);
                }
                case IQ4_XS -> {
                    int b = j / 32;
                    int high = (data[at + 2] & 0xFF) | (data[at + 3] & 0xFF) << 8;
                    int s6 = ((data[at + 4 + b / 2] & 0xFF) >> (4 * (b % 2)) & 15) | ((high >> (2 * b)) & 3) << 4;
                    int qs = data[at + 8 + 16 * b + j % 16] & 0xFF;
                    yield f16(data, at) * (s6 - 32) * GgufModelFixture.IQ4_NL_GRID[j % 32 < 16 ? qs & 15 : qs >> 4];
                }
                default -> throw new IllegalArgumentException(type.toString());
            };
        }
        return out;
    }

    /** Q6_K: sub-blocks of 16 with signed scales (the value of largest magnitude at q - 32 = -32), their scales to int8 under d. */
    private static void q6k(float[] v, int from, byte[] out) {
        float[] sub = new float[16];
        for (int s = 0; s < 16; s++) {
            sub[s] = signedMax(v, from + 16 * s, 16) / -32;
        }
        float d = roundF16(signedMax(sub, 0, 16) / -128);
        for (int s = 0; s < 16; s++) {
            int sc = d == 0 ? 0 : Math.clamp(Math.round(sub[s] / d), -128, 127);
            out[192 + s] = (byte) sc;
            for (int i = 16 * s; i < 16 * s + 16; i++) {
                int q = quantize(v[from + i], d * sc, -32, 31) + 32;
                int half = i / 128, quarter = i % 128 / 32, l = i % 32;
                out[64 * half + 32 * (quarter % 2) + l] |= (byte) ((q & 0x0F) << (quarter < 2 ? 0 : 4));
                out[128 + 32 * half + l] |= (byte) ((q >> 4) << (2 * quarter));
            }
        }
        putF16(out, 208, d);
    }

    /**
     * Q4_K (Q5_K when {@code five}): sub-blocks of 32 from their min to their max (value = scale * q - min, q
     * 0..15 or 0..31, min &ge; 0), the scales and mins to 6 bits under d and dmin.
     */
    private static void q4k(float[] v, int from, byte[] out, boolean five) {
        int levels = five ? 31 : 15;
        float[] scale = new float[8], min = new float[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
            for (int i = from + 32 * j; i < from + 32 * j + 32; i++) {
                lo = Math.min(lo, v[i]);
                hi = Math.max(hi, v[i]);
            }
            min[j] = Math.max(0, -lo);
            scale[j] = (hi + min[j]) / levels;
            maxScale = Math.max(maxScale, scale[j]);
            maxMin = Math.max(maxMin, min[j]);
        }
        float d = roundF16(maxScale / 63), dmin = roundF16(maxMin / 63);
        int[] sc = new int[8], m = new int[8];
        for (int j = 0; j < 8; j++) {
            sc[j] = d == 0 ? 0 : Math.clamp(Math.round(scale[j] / d), 0, 63);
            m[j] = dmin == 0 ? 0 : Math.clamp(Math.round(min[j] / dmin), 0, 63);
            for (int i = 32 * j; i < 32 * j + 32; i++) {
                int q = quantize(v[from + i] + dmin * m[j], d * sc[j], 0, levels);
                out[(five ? 48 : 16) + 32 * (i / 64) + i % 32] |= (byte) ((q & 15) << (i % 64 < 32 ? 0 : 4));
                if (five) {
                    out[16 + i % 32] |= (byte) ((q >> 4) << j);
                }
            }
        }
        for (int j = 0; j < 4; j++) {
            out[4 + j] = (byte) (sc[j] | (sc[j + 4] >> 4) << 6);
            out[8 + j] = (byte) (m[j] | (m[j + 4] >> 4) << 6);
            out[12 + j] = (byte) ((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
        }
        putF16(out, 0, d);
        putF16(out, 2, dmin);
    }

    /** Q3_K: sub-blocks of 16 with signed scales (the value of largest magnitude at q = -4), scales to 6 bits. */
    private static void q3k(float[] v, int from, byte[] out) {
        float[] sub = new float[16];
        for (int s = 0; s < 16; s++) {
            sub[s] = signedMax(v, from + 16 * s, 16) / -4;
        }
        float d = roundF16(signedMax(sub, 0, 16) / -32);
        for (int s = 0; s < 16; s++) {
            int sc = d == 0 ? 0 : Math.clamp(Math.round(sub[s] / d), -32, 31);
            int six = sc + 32;
            out[96 + s % 8] |= (byte) ((six & 15) << (s < 8 ? 0 : 4));
            out[104 + s % 4] |= (byte) ((six >> 4) << (2 * (s / 4)));
            for (int i = 16 * s; i < 16 * s + 16; i++) {
                int q = quantize(v[from + i], d * sc, -4, 3) + 4;
                int half = i / 128, quarter = i % 128 / 32, l = i % 32;
                out[32 + 32 * half + l] |= (byte) ((q & 3) << (2 * quarter));
                out[l] |= (byte) ((q >> 2) << (4 * half + quarter));
            }
        }
        putF16(out, 108, d);
    }

    /** Q2_K: sub-blocks of 16 from their min to their max (q 0..3, min &ge; 0), scales and mins to 4 bits. */
    private static void q2k(float[] v, int from, byte[] out) {
        float[] scale = new float[16], min = new float[16];
        float maxScale = 0, maxMin = 0;
        for (int s = 0; s < 16; s++) {
            float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
            for (int i = from + 16 * s; i < from + 16 * s + 16; i++) {
                lo = Math.min(lo, v[i]);
                hi = Math.max(hi, v[i]);
            }
            min[s] = Math.max(0, -lo);
            scale[s] = (hi + min[s]) / 3;
            maxScale = Math.max(maxScale, scale[s]);
            maxMin = Math.max(maxMin, min[s]);
        }
        float d = roundF16(maxScale / 15), dmin = roundF16(maxMin / 15);
        for (int s = 0; s < 16; s++) {
            int sc = d == 0 ? 0 : Math.clamp(Math.round(scale[s] / d), 0, 15);
            int m = dmin == 0 ? 0 : Math.clamp(Math.round(min[s] / dmin), 0, 15);
            out[s] = (byte) (sc | m << 4);
            for (int i = 16 * s; i < 16 * s + 16; i++) {
                int q = quantize(v[from + i] + dmin * m, d * sc, 0, 3);
                out[16 + 32 * (i / 128) + i % 32] |= (byte) (q << (2 * (i % 128 / 32)));
            }
        }
        putF16(out, 80, d);
        putF16(out, 82, dmin);
    }

    /** IQ4_XS: sub-blocks of 32 with signed scales (the value of largest magnitude at grid[0] = -127), to 6 bits. */
    private static void iq4xs(float[] v, int from, byte[] out) {
        int[] grid = GgufModelFixture.IQ4_NL_GRID;
        float[] sub = new float[8];
        for (int b = 0; b < 8; b++) {
            sub[b] = signedMax(v, from + 32 * b, 32) / -127;
        }
        float d = roundF16(signedMax(sub, 0, 8) / -32);
        int high = 0;
        for (int b = 0; b < 8; b++) {
            int sc = d == 0 ? 0 : Math.clamp(Math.round(sub[b] / d), -32, 31);
            int s6 = sc + 32;
            out[4 + b / 2] |= (byte) ((s6 & 15) << (4 * (b % 2)));
            high |= (s6 >> 4) << (2 * b);
            for (int i = 32 * b; i < 32 * b + 32; i++) {
                float x = v[from + i], scale = d * sc;
                int q = 0;
                for (int k = 1; k < 16; k++) {
                    if (Math.abs(scale * grid[k] - x) < Math.abs(scale * grid[q] - x)) {
                        q = k;
                    }
                }
                out[8 + 16 * b + i % 16] |= (byte) (q << (i % 32 < 16 ? 0 : 4));
            }
        }
        putF16(out, 0, d);
        out[2] = (byte) high;
        out[3] = (byte) (high >> 8);
    }

    /** The nearest integer to x / scale within [lo, hi] (0 for a zero scale). */
    private static int quantize(float x, float scale, int lo, int hi) {
        return scale == 0 ? 0 : Math.clamp(Math.round(x / scale), lo, hi);
    }

    /** The value of largest magnitude among v[from, from + n), with its sign. */
    private static float signedMax(float[] v, int from, int n) {
        float max = 0;
        for (int i = from; i < from + n; i++) {
            if (Math.abs(v[i]) > Math.abs(max)) {
                max = v[i];
            }
        }
        return max;
    }

    private static float roundF16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    private static void putF16(byte[] out, int at, float x) {
        short h = Float.floatToFloat16(x);
        out[at] = (byte) h;
        out[at + 1] = (byte) (h >> 8);
    }

    private static float f16(byte[] data, int at) {
        return Float.float16ToFloat((short) ((data[at] & 0xFF) | (data[at + 1] & 0xFF) << 8));
    }
}
