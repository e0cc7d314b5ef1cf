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
 * tokenizer.json. The Llama-family classes of {@link HfFamilies} (half-split RoPE) and OPTForCausalLM.
 */
final class HfLoader {
    private HfLoader() {
    }

    /** @param context positions to allocate the KV cache for; 0 for {@link ModelFiles#defaultContext} */
    static LanguageModel load(Path dir, int threads, int context) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            HfCheckpoint ckpt = HfCheckpoint.open(dir, arena);
            HfConfig cfg = new HfConfig(dir.resolve(HfCheckpoint.CONFIG_FILE), ckpt.config());
            String arch = cfg.architecture();
            Path tokenizerJson = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(tokenizerJson)) {
                throw new NoSuchFileException(tokenizerJson.toString(), null,
                        "the model directory has no tokenizer.json (the fast-tokenizer file flashlm reads)");
            }
            Tokenizer tokenizer = ByteLevelBpeTokenizer.fromTokenizerJson(tokenizerJson);
            if (arch.equals("OPTForCausalLM")) {
                return opt(dir, ckpt, cfg, tokenizer, threads, arena);
            }
            if (!HfFamilies.SUPPORTED.contains(arch)) {
                throw new ModelFormatException(cfg.file(), "architectures", "'" + arch + "' is not supported; expected"
                        + " one of " + String.join(", ", HfFamilies.SUPPORTED) + ", OPTForCausalLM");
            }
            return llamaFamily(dir, ckpt, cfg, arch, tokenizer, threads, context, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static LanguageModel llamaFamily(Path dir, HfCheckpoint ckpt, HfConfig cfg, String cls,
                                             Tokenizer tokenizer, int threads, int context, Arena arena)
            throws IOException {
        ModelConfig c = HfFamilies.config(cfg, cls, context);
        LlamaWeights w = HfFamilies.weights(ckpt, cfg, c, arena);
        String description = "Hugging Face " + dir.getFileName() + ": " + ModelDescriptions.of(c, dtypes(ckpt));
        return new LlamaModel(c, w, tokenizer, new ComputePool(threads), arena::close, description);
    }

    private static LanguageModel opt(Path dir, HfCheckpoint ckpt, HfConfig cfg, Tokenizer tokenizer, int threads,
                                     Arena arena) throws IOException {
        if (!cfg.bool("enable_bias", true)) {
            throw new ModelFormatException(cfg.file(), "enable_bias", "OPT without biases is not supported; expected true");
        }
        if (!cfg.bool("layer_norm_elementwise_affine", true)) {
            throw new ModelFormatException(cfg.file(), "layer_norm_elementwise_affine", "expected true");
        }
        int dim = cfg.integer("hidden_size");
        int proj = cfg.integer("word_embed_proj_dim", dim);
        boolean normBefore = cfg.bool("do_layer_norm_before", true);
        int heads = cfg.integer("num_attention_heads");
        ModelConfig.Activation act = GgufLoader.activation(cfg.file(), cfg.text("activation_function", "relu"));
        ModelConfig c;
        try {
            c = new ModelConfig(ModelConfig.Architecture.OPT, dim, cfg.integer("ffn_dim"), cfg.integer("num_hidden_layers"),
                    heads, heads, cfg.integer("vocab_size"), cfg.integer("max_position_embeddings"), 1e-5f, 0f,
                    ModelConfig.RopeStyle.HALF_SPLIT, act, false, proj, normBefore, 2);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(cfg.file(), "hyperparameters", e.getMessage(), e);
        }
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
}
