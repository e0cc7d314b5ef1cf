package io.flashlm.model;

import io.flashlm.format.GgufFile;
import io.flashlm.format.GgufMetadata;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.LayerReader.Role;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Llama-family architectures of GGUF, by {@code general.architecture}: their keys ({@code <arch>.*}),
 * llama.cpp's tensor names, and what each family changes ({@link ModelVariant}). RoPE: GGUF's {@code llama}
 * stores Q/K rows permuted for interleaved pairs; every other family here keeps Hugging Face's order
 * (llama.cpp's "NeoX" RoPE), so half-split. Norm weights are as stored (llama.cpp's converter already
 * added Gemma's 1).
 */
final class GgufFamilies {
    /** The architectures this reads, as {@code general.architecture} names them. */
    static final List<String> SUPPORTED = List.of("llama", "qwen2", "qwen3", "qwen3moe", "olmoe", "phi3", "gemma2",
            "gemma3", "falcon");

    private GgufFamilies() {
    }

    static void requireSupported(Path path, String arch) throws ModelFormatException {
        if (!SUPPORTED.contains(arch)) {
            throw new ModelFormatException(path, "metadata.general.architecture", "'" + arch
                    + "' is not supported; expected one of " + String.join(", ", SUPPORTED));
        }
    }

    /** The config of a file whose architecture is {@code arch} (one of {@link #SUPPORTED}). */
    static ModelConfig config(Path path, GgufFile gguf, GgufMetadata m, String arch, int vocab, int context)
            throws ModelFormatException {
        String a = arch + ".";
        int dim = m.getInt(a + "embedding_length");
        int heads = m.getInt(a + "attention.head_count");
        int layers = m.getInt(a + "block_count");
        int experts = m.getInt(a + "expert_count", 0);
        int hidden = experts > 0 && m.contains(a + "expert_feed_forward_length")
                ? m.getInt(a + "expert_feed_forward_length") : m.getInt(a + "feed_forward_length");
        int keyLength = m.getInt(a + "attention.key_length", 0);
        int valueLength = m.getInt(a + "attention.value_length", keyLength);
        if (keyLength != valueLength) {
            throw new ModelFormatException(path, "metadata." + a + "attention.value_length", valueLength
                    + " differs from key_length " + keyLength + "; expected equal head widths");
        }
        boolean falcon = arch.equals("falcon"), gemma = arch.startsWith("gemma");
        boolean gated = !falcon && (experts > 0 || arch.equals("phi3") || gguf.contains("blk.0.ffn_gate.weight"));
        ModelConfig.Activation act = gemma ? ModelConfig.Activation.GELU_TANH : falcon ? ModelConfig.Activation.GELU
                : GgufLoader.activation(path, m.getString(GgufLoader.ACTIVATION_KEY, "silu"));
        float eps = falcon ? m.getFloat(a + "attention.layer_norm_epsilon", 1e-5f)
                : m.getFloat(a + "attention.layer_norm_rms_epsilon", arch.equals("llama") ? 1e-5f : 1e-6f);
        int fileContext = m.getInt(a + "context_length");
        int ctx = context > 0 ? context : ModelFiles.defaultContext(fileContext);

        ModelVariant v = ModelVariant.llamaNamed(arch);
        if (keyLength > 0 && keyLength * heads != dim) {
            v = v.withHeadDim(keyLength);
        }
        v = v.withRope(rope(path, gguf, m, arch, ctx));
        int window = m.getInt(a + "attention.sliding_window", arch.equals("gemma2") ? 4096 : 0); // llama.cpp's default
        v = switch (arch) {
            // Gemma 2 slides on even layers; Gemma 3 on five of six, with base 10000 there (llama.cpp's values)
            case "gemma2" -> v.withSlidingWindow(window, 2, 0f);
            case "gemma3" -> v.withSlidingWindow(window, 6, 10000f);
            default -> v.withSlidingWindow(window, 0, 0f);
        };
        if (gemma) {
            int head = keyLength > 0 ? keyLength : dim / heads;
            // llama.cpp's rule: the 27B models scale queries by (dim / heads)^-1/2, the others by head_dim^-1/2
            boolean big = (arch.equals("gemma2") && layers == 46) || (arch.equals("gemma3") && layers == 62);
            float scale = (float) (1.0 / Math.sqrt(big ? dim / (double) heads : head));
            v = v.withScales((float) Math.sqrt(dim), scale,
                    arch.equals("gemma2") ? m.getFloat(a + "attn_logit_softcapping", 50f) : 0f,
                    m.getFloat(a + "final_logit_softcapping", arch.equals("gemma2") ? 30f : 0f));
        }
        if (falcon) {
            v = v.withBlock(ModelVariant.Norm.LAYER, true);
        }
        if (experts > 0) {
            // Mixtral (GGUF llama) and Qwen3-MoE renormalise the top k, OLMoE does not (llama.cpp's defaults)
            boolean normalize = m.getBoolean(a + "expert_weights_norm", !arch.equals("olmoe"));
            v = v.withExperts(experts, m.getInt(a + "expert_used_count"), normalize);
        }
        ModelConfig.RopeStyle style = arch.equals("llama") ? ModelConfig.RopeStyle.INTERLEAVED
                : ModelConfig.RopeStyle.HALF_SPLIT;
        try {
            return new ModelConfig(ModelConfig.Architecture.LLAMA, dim, hidden, layers, heads,
                    m.getInt(a + "attention.head_count_kv", heads), vocab, ctx, eps,
                    m.getFloat(a + "rope.freq_base", 10000f), style, act, gated, dim, true, 0, v);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(path, "hyperparameters", e.getMessage(), e);
        }
    }

    /**
     * RoPE scaling: GGUF's {@code rope_freqs} divisors (Llama 3.1+), Phi-3's LongRoPE factors (the long ones
     * when the context used exceeds the trained one, as llama.cpp chooses), or the {@code rope.scaling} keys.
     */
    private static RopeScaling rope(Path path, GgufFile gguf, GgufMetadata m, String arch, int context)
            throws ModelFormatException {
        String a = arch + ".";
        if (gguf.contains("rope_freqs.weight")) {
            return RopeScaling.divisors(gguf.tensor("rope_freqs.weight").toFloatArray(), 1f);
        }
        if (gguf.contains("rope_factors_long.weight")) {
            int original = m.getInt(a + "rope.scaling.original_context_length", m.getInt(a + "context_length"));
            String which = context > original ? "rope_factors_long.weight" : "rope_factors_short.weight";
            int trained = m.getInt(a + "context_length");
            float computed = trained > original
                    ? (float) Math.sqrt(1 + Math.log(trained / (double) original) / Math.log(original)) : 1f;
            return RopeScaling.divisors(gguf.tensor(which).toFloatArray(),
                    m.getFloat(a + "rope.scaling.attn_factor", computed));
        }
        String type = m.getString(a + "rope.scaling.type", "none").toLowerCase(Locale.ROOT);
        float factor = m.getFloat(a + "rope.scaling.factor", 1f);
        return switch (type) {
            case "none" -> RopeScaling.NONE;
            case "linear" -> factor == 1f || factor == 0f ? RopeScaling.NONE : RopeScaling.linear(factor);
            default -> throw new ModelFormatException(path, "metadata." + a + "rope.scaling.type", "'" + type
                    + "' is not supported; expected none, linear, or llama3 factors in rope_freqs.weight");
        };
    }

    static LlamaWeights weights(GgufFile gguf, ModelConfig c, Arena arena) throws ModelFormatException {
        String arch = c.variant().family();
        LayerReader reader = new LayerReader(gguf, c, (role, l, e) -> name(arch, role, l, e),
                LayerReader.NormWeights.AS_STORED, arena);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            layers.add(reader.layer(l));
        }
        ShapeCheck s = new ShapeCheck(gguf);
        Tensor embedding = s.get("token_embd.weight", c.vocabSize(), c.dim());
        Tensor output = s.optional("output.weight", c.vocabSize(), c.dim());
        return new LlamaWeights(embedding, layers, reader.norm("output_norm.weight", c.dim()),
                s.optional("output_norm.bias", c.dim()), output != null ? output : embedding);
    }

    /**
     * llama.cpp's tensor names. Phi-3's ffn_up holds gate and up fused (gate rows first); Falcon's separate
     * FFN norm (40B and larger) is attn_norm_2.
     */
    private static String name(String arch, Role role, int layer, int expert) {
        String p = "blk." + layer + ".";
        boolean phi3 = arch.equals("phi3"), falcon = arch.equals("falcon");
        return switch (role) {
            case ATTN_NORM -> p + "attn_norm.weight";
            case ATTN_NORM_BIAS -> p + "attn_norm.bias";
            case Q -> p + "attn_q.weight";
            case K -> p + "attn_k.weight";
            case V -> p + "attn_v.weight";
            case QKV -> p + "attn_qkv.weight";
            case Q_BIAS -> p + "attn_q.bias";
            case K_BIAS -> p + "attn_k.bias";
            case V_BIAS -> p + "attn_v.bias";
            case QKV_BIAS -> p + "attn_qkv.bias";
            case O -> p + "attn_output.weight";
            case O_BIAS -> p + "attn_output.bias";
            case Q_NORM -> p + "attn_q_norm.weight";
            case K_NORM -> p + "attn_k_norm.weight";
            case POST_ATTN_NORM -> p + "post_attention_norm.weight";
            case FFN_NORM -> p + (falcon ? "attn_norm_2.weight" : "ffn_norm.weight");
            case FFN_NORM_BIAS -> p + (falcon ? "attn_norm_2.bias" : "ffn_norm.bias");
            case GATE -> p + "ffn_gate.weight";
            case UP -> phi3 ? null : p + "ffn_up.weight";
            case GATE_UP -> phi3 ? p + "ffn_up.weight" : null;
            case DOWN -> p + "ffn_down.weight";
            case POST_FFN_NORM -> p + "post_ffw_norm.weight";
            case ROUTER -> p + "ffn_gate_inp.weight";
            case GATE_EXPS -> p + "ffn_gate_exps.weight";
            case UP_EXPS -> p + "ffn_up_exps.weight";
            case DOWN_EXPS -> p + "ffn_down_exps.weight";
            case EXPERT_GATE -> p + "ffn_gate." + expert + ".weight";
            case EXPERT_UP -> p + "ffn_up." + expert + ".weight";
            case EXPERT_DOWN -> p + "ffn_down." + expert + ".weight";
        };
    }
}
