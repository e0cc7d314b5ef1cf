package io.flashlm.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashlm.format.HfCheckpoint;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.LayerReader.Role;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The Llama-family architectures of Hugging Face, by config.json's {@code architectures} class: their
 * config fields, tensor names and what each family changes ({@link ModelVariant}). RoPE is half-split.
 * Gemma's RMSNorm multiplies by (1 + w), so its norm weights are read as 1 + w.
 */
final class HfFamilies {
    /** The classes this reads (OPTForCausalLM is {@link HfLoader}'s). */
    static final List<String> SUPPORTED = List.of("LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM",
            "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Qwen3MoeForCausalLM", "OlmoeForCausalLM", "Phi3ForCausalLM",
            "Gemma2ForCausalLM", "Gemma3ForCausalLM", "FalconForCausalLM");

    private HfFamilies() {
    }

    /** GGUF's name for the family of a class (also the family's name in descriptions). */
    static String family(String cls) {
        return switch (cls) {
            case "LlamaForCausalLM" -> "llama";
            case "MistralForCausalLM" -> "mistral";
            case "MixtralForCausalLM" -> "mixtral";
            case "Qwen2ForCausalLM" -> "qwen2";
            case "Qwen3ForCausalLM" -> "qwen3";
            case "Qwen3MoeForCausalLM" -> "qwen3moe";
            case "OlmoeForCausalLM" -> "olmoe";
            case "Phi3ForCausalLM" -> "phi3";
            case "Gemma2ForCausalLM" -> "gemma2";
            case "Gemma3ForCausalLM" -> "gemma3";
            case "FalconForCausalLM" -> "falcon";
            default -> throw new IllegalArgumentException(cls);
        };
    }

    static ModelConfig config(HfConfig cfg, String cls, int context) throws ModelFormatException {
        String family = family(cls);
        boolean falcon = family.equals("falcon"), gemma = family.startsWith("gemma");
        if (cfg.bool("mlp_bias", false)) {
            throw new ModelFormatException(cfg.file(), "mlp_bias", "biases in the MLP are not supported; expected false");
        }
        int dim = cfg.integer("hidden_size");
        // Falcon's older configs name these n_head and n_layer
        int heads = cfg.integer(falcon && !cfg.has("num_attention_heads") ? "n_head" : "num_attention_heads");
        int layers = cfg.integer(falcon && !cfg.has("num_hidden_layers") ? "n_layer" : "num_hidden_layers");
        int kvHeads = falcon ? falconKvHeads(cfg, heads) : cfg.integer("num_key_value_heads", heads);
        int experts = switch (family) {
            case "mixtral" -> cfg.integer("num_local_experts");
            case "qwen3moe", "olmoe" -> cfg.integer("num_experts");
            default -> 0;
        };
        int hidden = falcon ? cfg.integer("ffn_hidden_size", 4 * dim)
                : family.equals("qwen3moe") ? cfg.integer("moe_intermediate_size") : cfg.integer("intermediate_size");
        int trained = falcon ? cfg.integer("max_position_embeddings", 2048) : cfg.integer("max_position_embeddings");
        int ctx = context > 0 ? context : ModelFiles.defaultContext(trained);
        float eps = (float) (falcon ? cfg.number("layer_norm_epsilon", 1e-5) : cfg.number("rms_norm_eps", 1e-6));
        ModelConfig.Activation act = falcon ? ModelConfig.Activation.GELU
                : activation(cfg, cfg.text(gemma ? "hidden_activation" : "hidden_act",
                cfg.text("hidden_act", gemma ? "gelu_pytorch_tanh" : "silu")));

        ModelVariant v = ModelVariant.llamaNamed(family);
        int headDim = cfg.integer("head_dim", 0);
        if (headDim > 0 && headDim * heads != dim) {
            v = v.withHeadDim(headDim);
        }
        int rotaryHeadDim = headDim > 0 ? headDim : dim / heads;
        if (cfg.number("partial_rotary_factor", 1.0) != 1.0) {
            throw new ModelFormatException(cfg.file(), "partial_rotary_factor", "partial RoPE is not supported; expected 1.0");
        }
        v = v.withRope(rope(cfg, family, rotaryHeadDim, trained, ctx));
        v = window(cfg, family, v, layers);
        if (gemma) {
            double scalar = cfg.number("query_pre_attn_scalar", rotaryHeadDim);
            v = v.withScales((float) Math.sqrt(dim), (float) (1.0 / Math.sqrt(scalar)),
                    (float) cfg.number("attn_logit_softcapping", 0), (float) cfg.number("final_logit_softcapping", 0));
        }
        if (falcon) {
            if (cfg.bool("alibi", false)) {
                throw new ModelFormatException(cfg.file(), "alibi", "ALiBi positions are not supported; expected false");
            }
            if (cfg.bool("bias", false)) {
                throw new ModelFormatException(cfg.file(), "bias", "Falcon with biased projections is not supported;"
                        + " expected false");
            }
            if (!cfg.bool("parallel_attn", true) && !cfg.bool("new_decoder_architecture", false)) {
                throw new ModelFormatException(cfg.file(), "parallel_attn", "sequential Falcon blocks are not"
                        + " supported; expected true");
            }
            v = v.withBlock(ModelVariant.Norm.LAYER, true);
        }
        if (experts > 0) {
            if (family.equals("qwen3moe") && (cfg.integer("decoder_sparse_step", 1) != 1
                    || cfg.node().path("mlp_only_layers").size() > 0)) {
                throw new ModelFormatException(cfg.file(), "decoder_sparse_step/mlp_only_layers", "dense layers between"
                        + " the expert layers are not supported; expected 1 and []");
            }
            if (family.equals("olmoe") && cfg.node().hasNonNull("clip_qkv")) {
                throw new ModelFormatException(cfg.file(), "clip_qkv", "clipping q/k/v is not supported; expected null");
            }
            boolean normalize = family.equals("mixtral") || cfg.bool("norm_topk_prob", false);
            v = v.withExperts(experts, cfg.integer("num_experts_per_tok"), normalize);
        }
        double theta = cfg.number("rope_theta", 10000);
        try {
            return new ModelConfig(ModelConfig.Architecture.LLAMA, dim, hidden, layers, heads, kvHeads,
                    cfg.integer("vocab_size"), ctx, eps, (float) theta, ModelConfig.RopeStyle.HALF_SPLIT, act, !falcon,
                    dim, true, 0, v);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(cfg.file(), "hyperparameters", e.getMessage(), e);
        }
    }

    private static int falconKvHeads(HfConfig cfg, int heads) throws ModelFormatException {
        if (cfg.bool("new_decoder_architecture", false)) {
            return cfg.integer("num_kv_heads");
        }
        return cfg.bool("multi_query", true) ? 1 : heads;
    }

    private static ModelConfig.Activation activation(HfConfig cfg, String name) throws ModelFormatException {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast" -> ModelConfig.Activation.GELU_TANH;
            default -> GgufLoader.activation(cfg.file(), name);
        };
    }

    /** rope_scaling: none, linear, llama3, or Phi-3's longrope (short factors unless the context exceeds the trained). */
    private static RopeScaling rope(HfConfig cfg, String family, int headDim, int trained, int context)
            throws ModelFormatException {
        JsonNode r = cfg.node().get("rope_scaling");
        if (r == null || r.isNull()) {
            return RopeScaling.NONE;
        }
        String type = r.path("rope_type").asText(r.path("type").asText("")).toLowerCase(Locale.ROOT);
        String field = "rope_scaling.rope_type";
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> RopeScaling.linear(positive(cfg, r, "factor"));
            case "llama3" -> RopeScaling.llama3(positive(cfg, r, "factor"), positive(cfg, r, "low_freq_factor"),
                    positive(cfg, r, "high_freq_factor"), (int) positive(cfg, r, "original_max_position_embeddings"));
            case "longrope", "su" -> {
                int original = cfg.integer("original_max_position_embeddings", trained);
                String which = context > original ? "long_factor" : "short_factor";
                JsonNode f = r.get(which);
                if (f == null || !f.isArray() || f.size() != headDim / 2) {
                    throw new ModelFormatException(cfg.file(), "rope_scaling." + which, "expected an array of "
                            + headDim / 2 + " numbers");
                }
                float[] divisors = new float[f.size()];
                for (int i = 0; i < divisors.length; i++) {
                    divisors[i] = (float) f.get(i).asDouble();
                }
                double scale = trained / (double) original;
                float attention = scale <= 1 ? 1f : (float) Math.sqrt(1 + Math.log(scale) / Math.log(original));
                yield RopeScaling.divisors(divisors, attention);
            }
            default -> throw new ModelFormatException(cfg.file(), field, "'" + type + "' is not supported; expected"
                    + " default, linear, llama3 or longrope");
        };
    }

    private static float positive(HfConfig cfg, JsonNode r, String field) throws ModelFormatException {
        JsonNode v = r.get(field);
        if (v == null || !v.isNumber() || !(v.asDouble() > 0)) {
            throw new ModelFormatException(cfg.file(), "rope_scaling." + field, (v == null ? "missing" : "value " + v)
                    + "; expected a positive number");
        }
        return (float) v.asDouble();
    }

    /** Sliding windows: Mistral, Mixtral and Phi-3 on every layer when declared; Gemma 2 on even layers; Gemma 3 on five of six. */
    private static ModelVariant window(HfConfig cfg, String family, ModelVariant v, int layers) throws ModelFormatException {
        int window = cfg.integer("sliding_window", 0);
        return switch (family) {
            case "mistral", "mixtral", "phi3" -> v.withSlidingWindow(window, 0, 0f);
            case "qwen2", "qwen3", "qwen3moe" -> {
                if (cfg.bool("use_sliding_window", false)) {
                    throw new ModelFormatException(cfg.file(), "use_sliding_window", "Qwen's per-layer sliding window is"
                            + " not supported; expected false");
                }
                yield v;
            }
            case "gemma2" -> v.withSlidingWindow(window, 2, 0f);
            case "gemma3" -> v.withSlidingWindow(window, gemma3Pattern(cfg, layers),
                    (float) cfg.number("rope_local_base_freq", 10000));
            default -> v;
        };
    }

    /** Gemma 3's pattern n (layers with (l + 1) % n != 0 slide), from sliding_window_pattern or layer_types. */
    private static int gemma3Pattern(HfConfig cfg, int layers) throws ModelFormatException {
        JsonNode types = cfg.node().get("layer_types");
        int pattern = cfg.integer("sliding_window_pattern", 6);
        if (types != null && types.isArray()) {
            for (int l = 0; l < Math.min(types.size(), layers); l++) {
                boolean slides = types.get(l).asText().equals("sliding_attention");
                if (slides != ((l + 1) % pattern != 0)) {
                    throw new ModelFormatException(cfg.file(), "layer_types[" + l + "]", "'" + types.get(l).asText()
                            + "' breaks the pattern of one global layer in " + pattern + "; expected that pattern");
                }
            }
        }
        return pattern;
    }

    static LlamaWeights weights(HfCheckpoint ckpt, HfConfig cfg, ModelConfig c, Arena arena) throws ModelFormatException {
        String family = c.variant().family();
        boolean falcon = family.equals("falcon");
        LayerReader.NormWeights norms = family.startsWith("gemma") ? HfFamilies::onePlus : LayerReader.NormWeights.AS_STORED;
        TensorSource store = falcon ? falconQkvInOrder(ckpt, cfg, c, arena) : new TensorSource(ckpt);
        LayerReader reader = new LayerReader(store, c, (role, l, e) -> name(family, role, l, e), norms, arena);
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            layers.add(reader.layer(l));
        }
        ShapeCheck s = new ShapeCheck(store);
        long vocab = c.vocabSize(), dim = c.dim();
        String embeddingName = falcon ? "transformer.word_embeddings.weight" : "model.embed_tokens.weight";
        Tensor embedding = s.get(embeddingName, vocab, dim);
        Tensor head = s.optional("lm_head.weight", vocab, dim);
        if (head == null && !cfg.bool("tie_word_embeddings", true)) {
            throw new ModelFormatException(ckpt.path(), "tensor 'lm_head.weight'", "missing, and tie_word_embeddings is false");
        }
        String finalNorm = falcon ? "transformer.ln_f." : "model.norm.";
        return new LlamaWeights(embedding, layers, reader.norm(finalNorm + "weight", dim),
                falcon ? s.get(finalNorm + "bias", dim) : null, head != null ? head : embedding);
    }

    /** Hugging Face's tensor names per family. */
    private static String name(String family, Role role, int layer, int expert) {
        if (family.equals("falcon")) {
            return falconName(role, layer);
        }
        String p = "model.layers." + layer + ".";
        boolean gemma = family.startsWith("gemma"), phi3 = family.equals("phi3"), mixtral = family.equals("mixtral");
        String experts = mixtral ? p + "block_sparse_moe.experts." + expert + "." : p + "mlp.experts." + expert + ".";
        return switch (role) {
            case ATTN_NORM -> p + "input_layernorm.weight";
            case Q -> p + "self_attn.q_proj.weight";
            case K -> p + "self_attn.k_proj.weight";
            case V -> p + "self_attn.v_proj.weight";
            case QKV -> phi3 ? p + "self_attn.qkv_proj.weight" : null;
            case Q_BIAS -> p + "self_attn.q_proj.bias";
            case K_BIAS -> p + "self_attn.k_proj.bias";
            case V_BIAS -> p + "self_attn.v_proj.bias";
            case O -> p + "self_attn.o_proj.weight";
            case O_BIAS -> p + "self_attn.o_proj.bias";
            case Q_NORM -> p + "self_attn.q_norm.weight";
            case K_NORM -> p + "self_attn.k_norm.weight";
            case POST_ATTN_NORM -> gemma ? p + "post_attention_layernorm.weight" : null;
            case FFN_NORM -> gemma ? p + "pre_feedforward_layernorm.weight" : p + "post_attention_layernorm.weight";
            case POST_FFN_NORM -> gemma ? p + "post_feedforward_layernorm.weight" : null;
            case GATE -> p + "mlp.gate_proj.weight";
            case UP -> p + "mlp.up_proj.weight";
            case GATE_UP -> phi3 ? p + "mlp.gate_up_proj.weight" : null;
            case DOWN -> p + "mlp.down_proj.weight";
            case ROUTER -> mixtral ? p + "block_sparse_moe.gate.weight" : p + "mlp.gate.weight";
            case EXPERT_GATE -> experts + (mixtral ? "w1.weight" : "gate_proj.weight");
            case EXPERT_UP -> experts + (mixtral ? "w3.weight" : "up_proj.weight");
            case EXPERT_DOWN -> experts + (mixtral ? "w2.weight" : "down_proj.weight");
            case ATTN_NORM_BIAS, QKV_BIAS, FFN_NORM_BIAS, GATE_EXPS, UP_EXPS, DOWN_EXPS -> null;
        };
    }

    /**
     * Falcon's names; its fused query_key_value is read through {@link #falconQkvInOrder} as the rows of all q
     * heads, then k, then v. The 7B model normalises once for both branches (input_layernorm), the new
     * decoder architecture (40B, 180B) twice (ln_attn, ln_mlp).
     */
    private static String falconName(Role role, int layer) {
        String p = "transformer.h." + layer + ".";
        return switch (role) {
            case ATTN_NORM -> p + "input_layernorm.weight";
            case ATTN_NORM_BIAS -> p + "input_layernorm.bias";
            case FFN_NORM -> p + "ln_mlp.weight";
            case FFN_NORM_BIAS -> p + "ln_mlp.bias";
            case QKV -> p + "self_attention.query_key_value.weight";
            case QKV_BIAS -> p + "self_attention.query_key_value.bias";
            case O -> p + "self_attention.dense.weight";
            case O_BIAS -> p + "self_attention.dense.bias";
            case UP -> p + "mlp.dense_h_to_4h.weight";
            case DOWN -> p + "mlp.dense_4h_to_h.weight";
            default -> null;
        };
    }

    /** 1 + w as an f32 vector in the model's arena (Gemma's norms). */
    private static Tensor onePlus(Tensor w, Arena arena) {
        float[] v = w.toFloatArray();
        MemorySegment out = arena.allocate(JAVA_FLOAT, v.length);
        for (int i = 0; i < v.length; i++) {
            out.setAtIndex(JAVA_FLOAT, i, 1f + v[i]);
        }
        return Tensor.f32(w.name() + "+1", out, w.shape());
    }

    /**
     * Falcon's checkpoint with each query_key_value in the order [q heads][k heads][v heads]. The 7B layout
     * (multi_query) already is; the new decoder architecture groups [q of group g..., k_g, v_g] per kv head,
     * and a multi-head model without it interleaves [q_h, k_h, v_h] per head: those rows are gathered into a
     * copy in the model's arena. ln_attn is renamed input_layernorm so that one name serves both layouts.
     */
    private static TensorSource falconQkvInOrder(HfCheckpoint ckpt, HfConfig cfg, ModelConfig c, Arena arena)
            throws ModelFormatException {
        TensorSource src = new TensorSource(ckpt);
        boolean newDecoder = cfg.bool("new_decoder_architecture", false);
        boolean multiQuery = !newDecoder && cfg.bool("multi_query", true);
        for (int l = 0; l < c.layers(); l++) {
            String p = "transformer.h." + l + ".";
            if (ckpt.contains(p + "ln_attn.weight")) {
                src.rename(p + "ln_attn.weight", p + "input_layernorm.weight");
                if (ckpt.contains(p + "ln_attn.bias")) {
                    src.rename(p + "ln_attn.bias", p + "input_layernorm.bias");
                }
            }
            if (multiQuery) {
                continue;
            }
            String name = p + "self_attention.query_key_value.weight";
            Tensor qkv = new ShapeCheck(ckpt).get(name, (long) c.qDim() + 2L * c.kvDim(), c.dim());
            int hd = c.headDim(), group = c.heads() / c.kvHeads();
            int[] order = new int[c.heads() + 2 * c.kvHeads()]; // source head block of each target head block
            int t = 0;
            for (int h = 0; h < c.heads(); h++) {
                int g = h / group;
                order[t++] = newDecoder ? g * (group + 2) + h % group : 3 * h;
            }
            for (int g = 0; g < c.kvHeads(); g++) {
                order[t++] = newDecoder ? g * (group + 2) + group : 3 * g + 1;
            }
            for (int g = 0; g < c.kvHeads(); g++) {
                order[t++] = newDecoder ? g * (group + 2) + group + 1 : 3 * g + 2;
            }
            src.replace(name, gatherHeads(qkv, order, hd, arena));
        }
        return src;
    }

    private static Tensor gatherHeads(Tensor m, int[] order, int headDim, Arena arena) {
        long block = headDim * m.rowBytes();
        MemorySegment out = arena.allocate(block * order.length, 64);
        for (int t = 0; t < order.length; t++) {
            MemorySegment.copy(m.data(), order[t] * block, out, t * block, block);
        }
        return Tensor.of(m.name(), m.dtype(), out, m.shape());
    }
}
