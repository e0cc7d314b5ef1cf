package io.flashlm.tensor;

import java.util.Arrays;

/**
 * Encodes super-blocks of 256 values as Q4_K, Q5_K and Q6_K (layouts in {@link SuperBlocks}), choosing
 * every scale to reduce the squared error:
 * <ol>
 * <li>each sub-block gets its own best float scale (and min) from {@link ScaleFit};
 * <li>the super-block scale d (and dmin) is the largest of those over the integer range of the sub-block
 * scales (63 for the unsigned 6-bit ones, -128 for Q6_K's int8), rounded to an f16 no smaller, so that
 * the largest sub-block keeps its full resolution; each sub-block's integer scale (and min) is the one
 * below or above its float scale over d, whichever pair errs less (which also keeps tiny sub-blocks, whose
 * scale is below one step of d, from rounding to 0);
 * <li>every quant is the nearest level for the stored scales d * sc and dmin * m (exact in float, as the
 * decoders compute them);
 * <li>d (and dmin) are refit by least squares for those integers, x ≈ d (sc q) - dmin m, a 2x2 (1x1 for
 * Q6_K) linear system; the refit is kept, quants rounded again, while it lowers the error (at most twice).
 * </ol>
 * One instance per thread (scratch arrays); deterministic.
 */
final class KQuantizer {
    private static final int QK = 256;

    private final float[] fit = new float[2];
    private final float[] subScale = new float[16];
    private final float[] subMin = new float[16];
    private final int[] sc = new int[16];
    private final int[] mn = new int[16];
    private final int[] q = new int[QK];
    private final int[] trial = new int[QK];

    /** Q4_K (qmax 15) or Q5_K (qmax 31): 144 or 176 bytes of x[off, off + 256) into out[at ..). */
    void encodeWithMin(DType type, float[] x, int off, byte[] out, int at) {
        int qmax = type == DType.Q4_K ? 15 : 31;
        float maxA = 0, maxB = 0;
        for (int s = 0; s < 8; s++) {
            ScaleFit.affine(x, off + 32 * s, 32, qmax, fit);
            subScale[s] = fit[0];
            subMin[s] = fit[1];
            maxA = Math.max(maxA, fit[0]);
            maxB = Math.max(maxB, fit[1]);
        }
        short dBits = ScaleFit.f16Cover(maxA / 63), dminBits = ScaleFit.f16Cover(maxB / 63);
        float d = Float16.toFloat(dBits), dmin = Float16.toFloat(dminBits);
        for (int s = 0; s < 8; s++) {
            // the integer scale and min just below and above the float ones: the pair of least error
            int sc0 = d > 0 ? ScaleFit.clamp((int) Math.floor(subScale[s] / d), 0, 63) : 0;
            int m0 = dmin > 0 ? ScaleFit.clamp((int) Math.floor(subMin[s] / dmin), 0, 63) : 0;
            double best = Double.MAX_VALUE;
            for (int ci = sc0; ci <= Math.min(sc0 + 1, 63); ci++) {
                for (int mi = m0; mi <= Math.min(m0 + 1, 63); mi++) {
                    double e = ScaleFit.affineError(x, off + 32 * s, 32, qmax, d * ci, dmin * mi);
                    if (e < best) {
                        best = e;
                        sc[s] = ci;
                        mn[s] = mi;
                    }
                }
            }
        }
        double err = quantizeWithMin(x, off, d, dmin, qmax, q);
        for (int iter = 0; iter < 2; iter++) {
            // normal equations of min Σ (x - d u + dmin v)², u = sc q, v = m
            double uu = 0, uv = 0, vv = 0, xu = 0, xv = 0;
            for (int i = 0; i < QK; i++) {
                double u = (double) sc[i / 32] * q[i], v = mn[i / 32], xi = x[off + i];
                uu += u * u;
                uv += u * v;
                vv += v * v;
                xu += xi * u;
                xv += xi * v;
            }
            double nd, ndmin;
            if (vv == 0) {
                nd = uu == 0 ? 0 : xu / uu;
                ndmin = dmin;
            } else {
                double det = uu * vv - uv * uv;
                if (det <= 0) {
                    break;
                }
                nd = (xu * vv - uv * xv) / det;
                ndmin = (uv * xu - uu * xv) / det;
            }
            if (!(nd > 0) || !(ndmin >= 0)) {
                break;
            }
            short tdBits = ScaleFit.f16((float) nd), tdminBits = ScaleFit.f16((float) ndmin);
            float td = Float16.toFloat(tdBits), tdmin = Float16.toFloat(tdminBits);
            double e = quantizeWithMin(x, off, td, tdmin, qmax, trial);
            if (!(e < err)) {
                break;
            }
            err = e;
            dBits = tdBits;
            dminBits = tdminBits;
            d = td;
            dmin = tdmin;
            System.arraycopy(trial, 0, q, 0, QK);
        }
        Arrays.fill(out, at, at + type.bytesPerBlock(), (byte) 0);
        putF16(out, at, dBits);
        putF16(out, at + 2, dminBits);
        packScalesAndMins(out, at + 4);
        int qs = at + (type == DType.Q4_K ? 16 : 48);
        for (int i = 0; i < QK; i++) {
            int low = q[i] & 15;
            out[qs + 32 * (i / 64) + i % 32] |= (byte) (i % 64 < 32 ? low : low << 4);
            if (type == DType.Q5_K) {
                out[at + 16 + i % 32] |= (byte) (((q[i] >>> 4) & 1) << (i / 32));
            }
        }
    }

    /** Quants for the scales d * sc[s] and mins dmin * m[s]; returns the squared error. */
    private double quantizeWithMin(float[] x, int off, float d, float dmin, int qmax, int[] dst) {
        double e = 0;
        for (int s = 0; s < 8; s++) {
            float a = d * sc[s], b = dmin * mn[s];
            float inv = a > 0 ? 1 / a : 0;
            for (int i = 32 * s; i < 32 * s + 32; i++) {
                float xi = x[off + i];
                int qi = a > 0 ? ScaleFit.clamp(ScaleFit.round((xi + b) * inv), 0, qmax) : 0;
                dst[i] = qi;
                double r = xi - (a * qi - b);
                e += r * r;
            }
        }
        return e;
    }

    /**
     * The 12 bytes of 6-bit scales and mins (the inverse of SuperBlocks' packed6): sub-blocks 0..3 in the low
     * 6 bits of bytes j (scale) and j + 4 (min); sub-blocks 4..7 in the nibbles of byte j + 4 (scale low, min
     * high), their top 2 bits in the top bits of bytes j - 4 (scale) and j (min).
     */
    private void packScalesAndMins(byte[] out, int at) {
        for (int j = 0; j < 4; j++) {
            out[at + j] = (byte) sc[j];
            out[at + j + 4] = (byte) mn[j];
        }
        for (int j = 4; j < 8; j++) {
            out[at + j + 4] = (byte) ((sc[j] & 15) | (mn[j] & 15) << 4);
            out[at + j - 4] |= (byte) ((sc[j] >>> 4) << 6);
            out[at + j] |= (byte) ((mn[j] >>> 4) << 6);
        }
    }

    /** Q6_K: 210 bytes of x[off, off + 256) into out[at ..). */
    void encodeQ6K(float[] x, int off, byte[] out, int at) {
        float extreme = 0;
        for (int s = 0; s < 16; s++) {
            subScale[s] = ScaleFit.symmetric(x, off + 16 * s, 16, -32, 31);
            if (Math.abs(subScale[s]) > Math.abs(extreme)) {
                extreme = subScale[s];
            }
        }
        // the largest sub-block scale at -128, the int8 end with the extra level
        short dBits = extreme == 0 ? 0 : ScaleFit.f16Cover(extreme / -128); // +0, not -0, for all zeros
        float d = Float16.toFloat(dBits);
        for (int s = 0; s < 16; s++) {
            // the integer scale just below or above the float one, whichever errs less
            int sc0 = d != 0 ? ScaleFit.clamp((int) Math.floor(subScale[s] / d), -128, 127) : 0;
            double best = Double.MAX_VALUE;
            for (int ci = sc0; ci <= Math.min(sc0 + 1, 127); ci++) {
                double e = ScaleFit.symmetricError(x, off + 16 * s, 16, d * ci, -32, 31);
                if (e < best) {
                    best = e;
                    sc[s] = ci;
                }
            }
        }
        double err = quantizeSymmetric(x, off, d, q);
        for (int iter = 0; iter < 2; iter++) {
            double uu = 0, xu = 0; // min Σ (x - d u)², u = sc q
            for (int i = 0; i < QK; i++) {
                double u = (double) sc[i / 16] * q[i];
                uu += u * u;
                xu += x[off + i] * u;
            }
            if (uu == 0) {
                break;
            }
            short tdBits = ScaleFit.f16((float) (xu / uu));
            float td = Float16.toFloat(tdBits);
            double e = quantizeSymmetric(x, off, td, trial);
            if (!(e < err)) {
                break;
            }
            err = e;
            dBits = tdBits;
            System.arraycopy(trial, 0, q, 0, QK);
        }
        Arrays.fill(out, at, at + DType.Q6_K.bytesPerBlock(), (byte) 0);
        for (int i = 0; i < QK; i++) {
            int u = q[i] + 32, h = i / 128, k = i % 128 / 32, l = i % 32;
            out[at + 64 * h + 32 * (k % 2) + l] |= (byte) (k < 2 ? u & 15 : (u & 15) << 4);
            out[at + 128 + 32 * h + l] |= (byte) ((u >>> 4) << (2 * k));
        }
        for (int s = 0; s < 16; s++) {
            out[at + 192 + s] = (byte) sc[s];
        }
        putF16(out, at + 208, dBits);
    }

    /** Quants in [-32, 31] for the scales d * sc[s]; returns the squared error. */
    private double quantizeSymmetric(float[] x, int off, float d, int[] dst) {
        double e = 0;
        for (int s = 0; s < 16; s++) {
            float a = d * sc[s];
            float inv = a != 0 ? 1 / a : 0;
            for (int i = 16 * s; i < 16 * s + 16; i++) {
                float xi = x[off + i];
                int qi = a != 0 ? ScaleFit.clamp(ScaleFit.round(xi * inv), -32, 31) : 0;
                dst[i] = qi;
                double r = xi - a * qi;
                e += r * r;
            }
        }
        return e;
    }

    static void putF16(byte[] out, int at, short bits) {
        out[at] = (byte) bits;
        out[at + 1] = (byte) (bits >>> 8);
    }
}
