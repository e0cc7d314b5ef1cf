package io.flashlm.testing;

import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** The logits a model gives at every position of a token sequence, and comparisons of them. */
public final class Logits {
    private Logits() {
    }

    public static float[][] of(LanguageModel m, int[] tokens) {
        InferenceState s = m.newState();
        float[][] out = new float[tokens.length][];
        for (int pos = 0; pos < tokens.length; pos++) {
            MemorySegment logits = m.forward(s, tokens[pos], pos);
            out[pos] = logits.asSlice(0, 4L * m.config().vocabSize()).toArray(JAVA_FLOAT);
        }
        return out;
    }

    /** The first position and index where the bits differ, or null when all are identical. */
    public static String firstDifference(float[][] a, float[][] b) {
        for (int p = 0; p < a.length; p++) {
            for (int i = 0; i < a[p].length; i++) {
                if (Float.floatToRawIntBits(a[p][i]) != Float.floatToRawIntBits(b[p][i])) {
                    return "position " + p + ", logit " + i + ": " + a[p][i] + " vs " + b[p][i];
                }
            }
        }
        return null;
    }

    /** max |a - b| over all positions, relative to max |a|. */
    public static double maxRelativeError(float[][] a, float[][] b) {
        double maxDiff = 0, maxAbs = 0;
        for (int p = 0; p < a.length; p++) {
            for (int i = 0; i < a[p].length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(a[p][i] - b[p][i]));
                maxAbs = Math.max(maxAbs, Math.abs(a[p][i]));
            }
        }
        return maxDiff / maxAbs;
    }

    /** Positions where the arg-max agrees, as a fraction. */
    public static double top1Agreement(float[][] a, float[][] b) {
        int same = 0;
        for (int p = 0; p < a.length; p++) {
            same += argmax(a[p]) == argmax(b[p]) ? 1 : 0;
        }
        return (double) same / a.length;
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
