package io.flashlm.pack;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.ModelVariant;
import io.flashlm.model.RopeScaling;

import java.util.Locale;

/**
 * {@link ModelVariant} as the manifest config's "variant" object; a pack without one (every pack before
 * the Llama family grew) is {@link ModelVariant#LLAMA}. A mixture of experts is not stored: packs cannot
 * hold experts yet.
 */
final class VariantJson {
    private VariantJson() {
    }

    static void write(ModelVariant v, ObjectNode o) {
        if (v.isMixtureOfExperts()) {
            throw new IllegalArgumentException("a pack cannot hold a mixture of experts (" + v.family() + ")");
        }
        o.put("family", v.family());
        o.put("head_dim", v.headDim());
        RopeScaling r = v.rope();
        ObjectNode rope = o.putObject("rope_scaling");
        rope.put("kind", r.kind().name().toLowerCase(Locale.ROOT));
        rope.put("factor", r.factor());
        rope.put("low_freq_factor", r.lowFreqFactor());
        rope.put("high_freq_factor", r.highFreqFactor());
        rope.put("original_context", r.originalContext());
        rope.put("attention_factor", r.attentionFactor());
        if (r.divisors() != null) {
            ArrayNode d = rope.putArray("divisors");
            for (float f : r.divisors()) {
                d.add(f);
            }
        }
        o.put("sliding_window", v.slidingWindow());
        o.put("sliding_pattern", v.slidingPattern());
        o.put("local_rope_theta", v.localRopeTheta());
        o.put("embedding_scale", v.embeddingScale());
        o.put("attention_scale", v.attentionScale());
        o.put("attention_softcap", v.attentionSoftcap());
        o.put("final_softcap", v.finalSoftcap());
        o.put("norm", v.norm().name().toLowerCase(Locale.ROOT));
        o.put("parallel_block", v.parallelBlock());
    }

    static ModelVariant read(Json j) throws ModelFormatException {
        Json r = j.get("rope_scaling");
        RopeScaling rope;
        try {
            String kind = r.get("kind").text();
            rope = switch (kind) {
                case "none" -> RopeScaling.NONE;
                case "linear" -> RopeScaling.linear(f(r, "factor"));
                case "llama3" -> RopeScaling.llama3(f(r, "factor"), f(r, "low_freq_factor"), f(r, "high_freq_factor"),
                        r.get("original_context").positiveInt());
                case "divisors" -> {
                    Json d = r.get("divisors");
                    float[] divisors = new float[d.size()];
                    for (int i = 0; i < divisors.length; i++) {
                        divisors[i] = (float) d.at(i).number();
                    }
                    yield RopeScaling.divisors(divisors, f(r, "attention_factor"));
                }
                default -> throw r.get("kind").error("value \"" + kind + "\"; expected none, linear, llama3 or divisors");
            };
            String norm = j.get("norm").text();
            if (!norm.equals("rms") && !norm.equals("layer")) {
                throw j.get("norm").error("value \"" + norm + "\"; expected rms or layer");
            }
            return new ModelVariant(j.get("family").text(), j.get("head_dim").intValue(0, 1 << 16), rope,
                    j.get("sliding_window").intValue(0, Integer.MAX_VALUE), j.get("sliding_pattern").intValue(0, 1 << 16),
                    f(j, "local_rope_theta"), f(j, "embedding_scale"), f(j, "attention_scale"), f(j, "attention_softcap"),
                    f(j, "final_softcap"), norm.equals("rms") ? ModelVariant.Norm.RMS : ModelVariant.Norm.LAYER,
                    j.get("parallel_block").bool(), 0, 0, false);
        } catch (IllegalArgumentException e) {
            throw j.error(e.getMessage());
        }
    }

    private static float f(Json j, String field) throws ModelFormatException {
        return (float) j.get(field).number();
    }
}
