package io.flashlm.synth;

import io.flashlm.model.ModelConfig;
import io.flashlm.pack.FfnPart;
import io.flashlm.pack.PackTensorNames;

import java.nio.charset.StandardCharsets;

/**
 * How each synthetic tensor is distributed, scaled like a trained model's so that activations keep
 * their size through the layers: projections N(0, 1/fan_in), embeddings N(0, 0.02), norm weights
 * about 1, biases small. The up projection's bias of a ReLU FFN is offset by -Phi^-1(sparsity): the
 * FFN input after LayerNorm makes each pre-activation about N(0, 1), so that share of the neurons is
 * zero for a token, as in the trained models the paper measures (97% for OPT-6.7B).
 *
 * <p>Every tensor (and every FFN part) gets its own seed from the model seed and its name, and every
 * row its own stream (flm_synth_fill), so the values do not depend on layout, chunking or threads.
 */
record SyntheticWeights(ModelConfig config, long seed, double reluSparsity) {

    /** mean + std * z, z about standard normal, from the stream {@code seed}. */
    public record Distribution(float mean, float std, long seed) {
    }

    public SyntheticWeights {
        if (!(reluSparsity > 0 && reluSparsity < 1)) {
            throw new IllegalArgumentException("ReLU sparsity must be in (0, 1), was " + reluSparsity);
        }
    }

    /** The distribution of DRAM tensor {@code name} ({@link PackTensorNames}). */
    public Distribution tensor(String name) {
        String suffix = name.startsWith("layers.") ? name.substring(name.indexOf('.', 7) + 1) : name;
        float dim = config.dim();
        return switch (suffix) {
            case PackTensorNames.TOKEN_EMBEDDING, PackTensorNames.POSITION_EMBEDDING -> of(name, 0f, 0.02f);
            case PackTensorNames.FFN_UP_BIAS -> config.activation() == ModelConfig.Activation.RELU
                    ? of(name, (float) -inverseNormal(reluSparsity), 0.1f) : of(name, 0f, 0.01f);
            case PackTensorNames.PROJECT_IN -> of(name, 0f, (float) (1 / Math.sqrt(config.embedProjDim())));
            default -> {
                if (suffix.endsWith("norm.weight")) {
                    yield of(name, 1f, 0.02f);
                }
                if (PackTensorNames.isVector(name)) {
                    yield of(name, 0f, 0.01f);
                }
                yield of(name, 0f, (float) (1 / Math.sqrt(dim))); // wq..wo, output, project_out: fan-in dim
            }
        };
    }

    /** The distribution of an FFN part of layer {@code layer}: gate/up rows have fan-in dim, down columns n_ffn. */
    public Distribution ffn(int layer, FfnPart part) {
        int fanIn = part == FfnPart.DOWN ? config.hiddenDim() : config.dim();
        return of(PackTensorNames.layer(layer, "ffn_" + part.jsonName()), 0f, (float) (1 / Math.sqrt(fanIn)));
    }

    private Distribution of(String name, float mean, float std) {
        return new Distribution(mean, std, seedOf(name));
    }

    /** FNV-1a of the name, mixed with the model seed (splitmix64's finalizer). */
    private long seedOf(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        long z = h ^ (seed * 0x9e3779b97f4a7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Phi^-1(p) by Acklam's rational approximation (relative error below 1.2e-9). */
    static double inverseNormal(double p) {
        double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
                -3.066479806614716e+01, 2.506628277459239e+00};
        double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
                -1.328068155288572e+01};
        double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
                4.374664141464968e+00, 2.938163982698783e+00};
        double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        double low = 0.02425;
        if (p < low) {
            double q = Math.sqrt(-2 * Math.log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                    / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low) {
            return -inverseNormal(1 - p);
        }
        double q = p - 0.5;
        double r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
}
