package io.flashlm.model;

import java.util.Locale;

/** One-line summaries of a model for logs and the CLI. */
final class ModelDescriptions {
    private ModelDescriptions() {
    }

    static String of(ModelConfig c, String dtype) {
        return String.format(Locale.ROOT, "%s, %d layers, dim %d, ffn %d (%s%s), %d heads (%d kv), vocab %d,"
                        + " context %d, %s", c.architecture().name().toLowerCase(Locale.ROOT), c.layers(), c.dim(),
                c.hiddenDim(), c.gatedFfn() ? "gated " : "", c.activation().name().toLowerCase(Locale.ROOT), c.heads(),
                c.kvHeads(), c.vocabSize(), c.contextLength(), dtype);
    }
}
