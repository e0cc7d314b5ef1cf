package io.flashlm.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashlm.format.HfCheckpoint;
import io.flashlm.format.ModelFormatException;
import io.flashlm.kernels.ComputePool;
import io.flashlm.tensor.Tensor;
import io.flashlm.tokenizer.ByteLevelBpeTokenizer;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A Hugging Face model directory: config.json, model.safetensors (or shards with an index) and
 * tokenizer.json. Architectures LlamaForCausalLM (half-split RoPE, GQA, SiLU or ReLU) and
 * OPTForCausalLM.
 */
final class HfLoader {
    private HfLoader() {
    }

    static LanguageModel load(Path dir, int threads) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            HfCheckpoint ckpt = HfCheckpoint.open(dir, arena);
            Config cfg = new Config(dir.resolve(HfCheckpoint.CONFIG_FILE), ckpt.config());
            String arch = cfg.architecture();
            Path tokenizerJson = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(tokenizerJson)) {
                throw new NoSuchFileException(tokenizerJson.toString(), null,
                        "the model directory has no tokenizer.json (the fast-tokenizer file flashlm reads)");
            }
            Tokenizer tokenizer = ByteLevelBpeTokenizer.fromTokenizerJson(tokenizerJson);
            LanguageModel model = switch (arch) {
                case "LlamaForCausalLM" -> llama(dir, ckpt, cfg, tokenizer, threads, arena);
                case "OPTForCausalLM" -> opt(dir, ckpt, cfg, tokenizer, threads, arena);
                default -> throw new ModelFormatException(cfg.file, "architectures", "'" + arch
                        + "' is not supported; expected LlamaForCausalLM or OPTForCausalLM");
            };
            return model;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static LanguageModel llama(Path dir, HfCheckpoint ckpt, Config cfg, Tokenizer tokenizer, int threads,
                                       Arena arena) throws IOException {
        if (cfg.has("rope_scaling") && !cfg.node.get("rope_scaling").isNull()) {
            throw new ModelFormatException(cfg.file, "rope_scaling", "RoPE scaling is not supported yet; expected null");
        }
        if (cfg.bool("attention_bias", false) || cfg.bool("mlp_bias", false)) {
            throw new ModelFormatException(cfg.file, "attention_bias/mlp_bias", "biases in a Llama model are not"
                    + " supported; expected false");
        }
        int dim = cfg.integer("hidden_size");
        int heads = cfg.integer("num_attention_heads");
        ModelConfig c = new ModelConfig(ModelConfig.Architecture.LLAMA, dim, cfg.integer("intermediate_size"),
                cfg.integer("num_hidden_layers"), heads, cfg.integer("num_key_value_heads", heads),
                cfg.integer("vocab_size"), cfg.integer("max_position_embeddings"),
                (float) cfg.number("rms_norm_eps", 1e-6), (float) cfg.number("rope_theta", 10000),
                ModelConfig.RopeStyle.HALF_SPLIT, GgufLoader.activation(cfg.file, cfg.text("hidden_act", "silu")), true,
                dim, true, 0);
        ShapeCheck s = new ShapeCheck(ckpt);
        long kv = c.kvDim(), hidden = c.hiddenDim(), vocab = c.vocabSize();
        List<LlamaWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            String p = "model.layers." + l + ".";
            layers.add(new LlamaWeights.Layer(s.get(p + "input_layernorm.weight", dim),
                    s.get(p + "self_attn.q_proj.weight", dim, dim), s.get(p + "self_attn.k_proj.weight", kv, dim),
                    s.get(p + "self_attn.v_proj.weight", kv, dim), s.get(p + "self_attn.o_proj.weight", dim, dim),
                    s.get(p + "post_attention_layernorm.weight", dim), s.get(p + "mlp.gate_proj.weight", hidden, dim),
                    s.get(p + "mlp.up_proj.weight", hidden, dim), s.get(p + "mlp.down_proj.weight", dim, hidden)));
        }
        Tensor embedding = s.get("model.embed_tokens.weight", vocab, dim);
        Tensor head = s.optional("lm_head.weight", vocab, dim);
        if (head == null && !cfg.bool("tie_word_embeddings", false)) {
            throw new ModelFormatException(dir, "tensor 'lm_head.weight'", "missing, and tie_word_embeddings is false");
        }
        LlamaWeights w = new LlamaWeights(embedding, layers, s.get("model.norm.weight", dim),
                head != null ? head : embedding);
        String description = "Hugging Face " + dir.getFileName() + ": " + ModelDescriptions.of(c, dtypes(ckpt));
        return new LlamaModel(c, w, tokenizer, new ComputePool(threads), arena::close, description);
    }

    private static LanguageModel opt(Path dir, HfCheckpoint ckpt, Config cfg, Tokenizer tokenizer, int threads,
                                     Arena arena) throws IOException {
        if (!cfg.bool("enable_bias", true)) {
            throw new ModelFormatException(cfg.file, "enable_bias", "OPT without biases is not supported; expected true");
        }
        if (!cfg.bool("layer_norm_elementwise_affine", true)) {
            throw new ModelFormatException(cfg.file, "layer_norm_elementwise_affine", "expected true");
        }
        int dim = cfg.integer("hidden_size");
        int proj = cfg.integer("word_embed_proj_dim", dim);
        boolean normBefore = cfg.bool("do_layer_norm_before", true);
        int heads = cfg.integer("num_attention_heads");
        ModelConfig c = new ModelConfig(ModelConfig.Architecture.OPT, dim, cfg.integer("ffn_dim"),
                cfg.integer("num_hidden_layers"), heads, heads, cfg.integer("vocab_size"),
                cfg.integer("max_position_embeddings"), 1e-5f, 0f, ModelConfig.RopeStyle.HALF_SPLIT,
                GgufLoader.activation(cfg.file, cfg.text("activation_function", "relu")), false, proj, normBefore, 2);
        ShapeCheck s = new ShapeCheck(ckpt);
        String root = ckpt.contains("model.decoder.embed_tokens.weight") ? "model.decoder." : "decoder.";
        long hidden = c.hiddenDim(), vocab = c.vocabSize();
        List<OptWeights.Layer> layers = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            String p = root + "layers." + l + ".";
            String a = p + "self_attn.";
            layers.add(new OptWeights.Layer(s.get(p + "self_attn_layer_norm.weight", dim),
                    s.get(p + "self_attn_layer_norm.bias", dim),
                    s.get(a + "q_proj.weight", dim, dim), s.get(a + "q_proj.bias", dim),
                    s.get(a + "k_proj.weight", dim, dim), s.get(a + "k_proj.bias", dim),
                    s.get(a + "v_proj.weight", dim, dim), s.get(a + "v_proj.bias", dim),
                    s.get(a + "out_proj.weight", dim, dim), s.get(a + "out_proj.bias", dim),
                    s.get(p + "final_layer_norm.weight", dim), s.get(p + "final_layer_norm.bias", dim),
                    s.get(p + "fc1.weight", hidden, dim), s.get(p + "fc1.bias", hidden),
                    s.get(p + "fc2.weight", dim, hidden), s.get(p + "fc2.bias", dim)));
        }
        Tensor embedding = s.get(root + "embed_tokens.weight", vocab, proj);
        Tensor positions = s.get(root + "embed_positions.weight", c.contextLength() + 2L, dim);
        Tensor projectIn = proj != dim ? s.get(root + "project_in.weight", dim, proj) : null;
        Tensor projectOut = proj != dim ? s.get(root + "project_out.weight", proj, dim) : null;
        // HF builds the final LayerNorm only for pre-norm models (and not when _remove_final_layer_norm).
        boolean finalNorm = normBefore && !cfg.bool("_remove_final_layer_norm", false);
        Tensor head = s.optional("lm_head.weight", vocab, proj);
        OptWeights w = new OptWeights(embedding, positions, projectIn, projectOut,
                finalNorm ? s.get(root + "final_layer_norm.weight", dim) : null,
                finalNorm ? s.get(root + "final_layer_norm.bias", dim) : null, layers,
                head != null ? head : embedding);
        String description = "Hugging Face " + dir.getFileName() + ": " + ModelDescriptions.of(c, dtypes(ckpt));
        return new OptModel(c, w, tokenizer, new ComputePool(threads), arena::close, description);
    }

    private static String dtypes(HfCheckpoint ckpt) {
        return String.join("/", ckpt.tensors().values().stream()
                .map(t -> t.dtype().name().toLowerCase(Locale.ROOT)).distinct().toList());
    }

    /** config.json fields with errors that name the file and the field. */
    private record Config(Path file, JsonNode node) {
        boolean has(String field) {
            return node.has(field);
        }

        String architecture() throws ModelFormatException {
            JsonNode a = node.get("architectures");
            if (a == null || !a.isArray() || a.isEmpty() || !a.get(0).isTextual()) {
                throw new ModelFormatException(file, "architectures", "missing; expected e.g. [\"LlamaForCausalLM\"]");
            }
            return a.get(0).asText();
        }

        int integer(String field) throws ModelFormatException {
            JsonNode v = node.get(field);
            if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
                throw new ModelFormatException(file, field, (v == null ? "missing" : "value " + v)
                        + "; expected a positive integer");
            }
            return v.asInt();
        }

        int integer(String field, int defaultValue) throws ModelFormatException {
            return node.hasNonNull(field) ? integer(field) : defaultValue;
        }

        double number(String field, double defaultValue) throws ModelFormatException {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return defaultValue;
            }
            if (!v.isNumber()) {
                throw new ModelFormatException(file, field, "value " + v + "; expected a number");
            }
            return v.asDouble();
        }

        boolean bool(String field, boolean defaultValue) throws ModelFormatException {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return defaultValue;
            }
            if (!v.isBoolean()) {
                throw new ModelFormatException(file, field, "value " + v + "; expected true or false");
            }
            return v.asBoolean();
        }

        String text(String field, String defaultValue) throws ModelFormatException {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) {
                return defaultValue;
            }
            if (!v.isTextual()) {
                throw new ModelFormatException(file, field, "value " + v + "; expected a string");
            }
            return v.asText();
        }
    }
}
