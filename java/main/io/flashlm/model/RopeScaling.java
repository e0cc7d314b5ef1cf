package io.flashlm.model;

import java.util.Arrays;

/**
 * How RoPE's frequencies are stretched for a context longer than the one trained. With the plain
 * inverse frequencies f_j = theta^(-2j / rotated) (j < rotated / 2):
 * <ul>
 *   <li>NONE: f_j;</li>
 *   <li>LINEAR (Hugging Face "linear", Gemma 3's global layers): f_j / factor;</li>
 *   <li>LLAMA3 (Llama 3.1+): with wavelength w_j = 2 pi / f_j, low = originalContext / lowFreqFactor and
 *       high = originalContext / highFreqFactor: f_j when w_j < high, f_j / factor when w_j > low, and in
 *       between (1 - s) f_j / factor + s f_j with s = (originalContext / w_j - lowFreqFactor) /
 *       (highFreqFactor - lowFreqFactor);</li>
 *   <li>DIVISORS: f_j / divisors[j], the per-frequency factors a file stores (GGUF's {@code rope_freqs},
 *       Phi-3's LongRoPE short or long factors).</li>
 * </ul>
 * Rotated queries and keys are then multiplied by {@code attentionFactor} (LongRoPE's
 * sqrt(1 + ln(s) / ln(originalContext)); 1 elsewhere).
 */
public record RopeScaling(Kind kind, float factor, float lowFreqFactor, float highFreqFactor, int originalContext,
                          float[] divisors, float attentionFactor) {

    public enum Kind { NONE, LINEAR, LLAMA3, DIVISORS }

    public static final RopeScaling NONE = new RopeScaling(Kind.NONE, 1f, 0f, 0f, 0, null, 1f);

    public RopeScaling {
        if (kind == null || !(factor > 0) || !(attentionFactor > 0)) {
            throw new IllegalArgumentException("RoPE scaling needs a kind and positive factors");
        }
        if (kind == Kind.LLAMA3 && (originalContext <= 0 || !(highFreqFactor > lowFreqFactor) || !(lowFreqFactor > 0))) {
            throw new IllegalArgumentException("llama3 RoPE scaling needs original_max_position_embeddings > 0 and"
                    + " high_freq_factor > low_freq_factor > 0");
        }
        if (kind == Kind.DIVISORS && (divisors == null || divisors.length == 0)) {
            throw new IllegalArgumentException("RoPE frequency divisors are missing");
        }
        divisors = divisors == null ? null : divisors.clone();
    }

    public static RopeScaling linear(float factor) {
        return new RopeScaling(Kind.LINEAR, factor, 0f, 0f, 0, null, 1f);
    }

    public static RopeScaling llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalContext) {
        return new RopeScaling(Kind.LLAMA3, factor, lowFreqFactor, highFreqFactor, originalContext, null, 1f);
    }

    public static RopeScaling divisors(float[] divisors, float attentionFactor) {
        return new RopeScaling(Kind.DIVISORS, 1f, 0f, 0f, 0, divisors, attentionFactor);
    }

    /** The inverse frequency of pair j of {@code rotated} rotated dimensions for base theta, scaled. */
    public double inverseFrequency(int j, int rotated, double theta) {
        double f = 1.0 / Math.pow(theta, (2.0 * j) / rotated);
        return switch (kind) {
            case NONE -> f;
            case LINEAR -> f / factor;
            case DIVISORS -> {
                if (divisors.length != rotated / 2) {
                    throw new IllegalArgumentException(divisors.length + " RoPE frequency factors for " + rotated / 2
                            + " frequencies");
                }
                yield f / divisors[j];
            }
            case LLAMA3 -> {
                double wavelength = 2 * Math.PI / f;
                double low = originalContext / (double) lowFreqFactor;
                double high = originalContext / (double) highFreqFactor;
                if (wavelength < high) {
                    yield f;
                }
                if (wavelength > low) {
                    yield f / factor;
                }
                double s = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                yield (1 - s) * f / factor + s * f;
            }
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RopeScaling r && kind == r.kind && factor == r.factor && lowFreqFactor == r.lowFreqFactor
                && highFreqFactor == r.highFreqFactor && originalContext == r.originalContext
                && Arrays.equals(divisors, r.divisors) && attentionFactor == r.attentionFactor;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(divisors) * 31 + kind.hashCode();
    }

    @Override
    public String toString() {
        return switch (kind) {
            case NONE -> "none";
            case LINEAR -> "linear x" + factor;
            case LLAMA3 -> "llama3 x" + factor + " (" + originalContext + ")";
            case DIVISORS -> divisors.length + " frequency factors" + (attentionFactor != 1f ? ", attention x"
                    + attentionFactor : "");
        };
    }
}
