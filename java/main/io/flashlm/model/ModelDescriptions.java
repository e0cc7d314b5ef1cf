package io.flashlm.model;

import java.util.Locale;

/** One-line summaries of a model for logs and the CLI. */
final class ModelDescriptions {
    private ModelDescriptions() {
    }

    static String of(ModelConfig c, String dtype) {
        ModelVariant v = c.variant();
        String family = c.architecture() == ModelConfig.Architecture.OPT ? "opt" : v.family();
        String experts = v.isMixtureOfExperts() ? String.format(Locale.ROOT, " x %d experts (%d per token)",
                v.experts(), v.expertsUsed()) : "";
        return String.format(Locale.ROOT, "%s, %d layers, dim %d, ffn %d%s (%s%s), %d heads (%d kv), vocab %d,"
                        + " context %d, %s", family, c.layers(), c.dim(), c.hiddenDim(), experts,
                c.gatedFfn() ? "gated " : "", c.activation().name().toLowerCase(Locale.ROOT), c.heads(),
                c.kvHeads(), c.vocabSize(), c.contextLength(), dtype);
    }
}
