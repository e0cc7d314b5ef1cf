package io.flashlm.pack;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.ModelConfig;
import io.flashlm.model.ModelVariant;

import java.util.Arrays;
import java.util.Locale;

/** {@link ModelConfig} as the manifest's "config" object: every field, enums in lower case. */
final class ConfigJson {
    private ConfigJson() {
    }

    static void write(ModelConfig c, ObjectNode o) {
        o.put("architecture", lower(c.architecture()));
        o.put("dim", c.dim());
        o.put("hidden_dim", c.hiddenDim());
        o.put("layers", c.layers());
        o.put("heads", c.heads());
        o.put("kv_heads", c.kvHeads());
        o.put("vocab_size", c.vocabSize());
        o.put("context_length", c.contextLength());
        o.put("norm_eps", c.normEps());
        o.put("rope_theta", c.ropeTheta());
        o.put("rope", lower(c.rope()));
        o.put("activation", lower(c.activation()));
        o.put("gated_ffn", c.gatedFfn());
        o.put("embed_proj_dim", c.embedProjDim());
        o.put("norm_before", c.normBefore());
        o.put("position_offset", c.positionOffset());
        if (!c.variant().equals(ModelVariant.LLAMA)) {
            VariantJson.write(c.variant(), o.putObject("variant"));
        }
    }

    static ModelConfig read(Json j) throws ModelFormatException {
        ModelConfig.Architecture arch = enumOf(j.get("architecture"), ModelConfig.Architecture.class);
        try {
            return new ModelConfig(arch, j.get("dim").positiveInt(), j.get("hidden_dim").positiveInt(),
                    j.get("layers").positiveInt(), j.get("heads").positiveInt(), j.get("kv_heads").positiveInt(),
                    j.get("vocab_size").positiveInt(), j.get("context_length").positiveInt(),
                    (float) j.get("norm_eps").number(), (float) j.get("rope_theta").number(),
                    enumOf(j.get("rope"), ModelConfig.RopeStyle.class),
                    enumOf(j.get("activation"), ModelConfig.Activation.class), j.get("gated_ffn").bool(),
                    j.get("embed_proj_dim").positiveInt(), j.get("norm_before").bool(),
                    j.get("position_offset").intValue(0, 1 << 20),
                    j.has("variant") ? VariantJson.read(j.get("variant")) : ModelVariant.LLAMA);
        } catch (IllegalArgumentException e) {
            throw j.error(e.getMessage());
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static <E extends Enum<E>> E enumOf(Json j, Class<E> type) throws ModelFormatException {
        String text = j.text();
        for (E e : type.getEnumConstants()) {
            if (lower(e).equals(text)) {
                return e;
            }
        }
        throw j.error("value \"" + text + "\" is not one of " + Arrays.stream(type.getEnumConstants())
                .map(ConfigJson::lower).toList());
    }
}
