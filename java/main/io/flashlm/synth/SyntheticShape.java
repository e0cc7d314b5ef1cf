package io.flashlm.synth;

import io.flashlm.model.ModelConfig;

import java.util.List;
import java.util.Locale;

/**
 * The shape of a synthetic model: a name and the config it stands for. The presets follow the real
 * models' published configs; custom shapes come from the command line.
 */
public record SyntheticShape(String name, ModelConfig config) {
    public static final List<String> PRESETS = List.of("opt-6.7b", "opt-1.3b", "llama-2-7b", "tiny");

    public static SyntheticShape preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            // OPT-6.7B: the paper's model; 13.4 GB in f16.
            case "opt-6.7b" -> new SyntheticShape("opt-6.7b", opt(32, 4096, 16384, 32, 50272, 2048));
            case "opt-1.3b" -> new SyntheticShape("opt-1.3b", opt(24, 2048, 8192, 32, 50272, 2048));
            case "llama-2-7b" -> new SyntheticShape("llama-2-7b", llama(32, 4096, 11008, 32, 32, 32000, 4096,
                    ModelConfig.Activation.SILU));
            // For tests: a few MB, every part of an OPT model.
            case "tiny" -> new SyntheticShape("tiny", opt(4, 128, 512, 4, 512, 256));
            default -> throw new IllegalArgumentException("unknown shape '" + name + "'; the shapes are "
                    + String.join(", ", PRESETS) + ", or custom (--layers --dim --ffn --heads --vocab --arch)");
        };
    }

    /**
     * A custom shape.
     *
     * @param arch       "opt" (ReLU, ungated, learned positions) or "llama" (gated, RoPE)
     * @param activation null for the architecture's own (OPT: relu, Llama: silu)
     */
    public static SyntheticShape custom(String arch, int layers, int dim, int ffn, int heads, int vocab, int context,
                                        ModelConfig.Activation activation) {
        String a = arch.toLowerCase(Locale.ROOT);
        ModelConfig c = switch (a) {
            case "opt" -> {
                if (activation != null && activation != ModelConfig.Activation.RELU) {
                    throw new IllegalArgumentException("OPT shapes have ReLU FFNs");
                }
                yield opt(layers, dim, ffn, heads, vocab, context);
            }
            case "llama" -> llama(layers, dim, ffn, heads, heads, vocab, context,
                    activation != null ? activation : ModelConfig.Activation.SILU);
            default -> throw new IllegalArgumentException("--arch '" + arch + "' is not one of opt, llama");
        };
        return new SyntheticShape(String.format(Locale.ROOT, "%s-l%d-d%d-f%d-h%d-v%d", a, layers, dim, ffn, heads,
                vocab), c);
    }

    private static ModelConfig opt(int layers, int dim, int ffn, int heads, int vocab, int context) {
        return new ModelConfig(ModelConfig.Architecture.OPT, dim, ffn, layers, heads, heads, vocab, context, 1e-5f, 0f,
                ModelConfig.RopeStyle.HALF_SPLIT, ModelConfig.Activation.RELU, false, dim, true, 2);
    }

    private static ModelConfig llama(int layers, int dim, int ffn, int heads, int kvHeads, int vocab, int context,
                                     ModelConfig.Activation activation) {
        return new ModelConfig(ModelConfig.Architecture.LLAMA, dim, ffn, layers, heads, kvHeads, vocab, context, 1e-5f,
                10000f, ModelConfig.RopeStyle.HALF_SPLIT, activation, true, dim, true, 0);
    }
}
