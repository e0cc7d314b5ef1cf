package io.flashlm.model;

import io.flashlm.format.GgufFile;
import io.flashlm.format.GgufMetadata;
import io.flashlm.format.ModelFormatException;
import io.flashlm.kernels.ComputePool;
import io.flashlm.tensor.Tensor;
import io.flashlm.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A GGUF v2/v3 file with architecture {@code llama}: GGML tensor names, Q/K rows already arranged
 * for interleaved RoPE (as llama.cpp's converter leaves them), the vocabulary embedded (SentencePiece or
 * byte-level BPE, {@link GgufTokenizers}).
 * The FFN is gated SiLU; the flashlm key {@code llama.feed_forward_activation} = "relu" marks a
 * ReLU-fied model (GGUF has no standard key for it).
 */
final class GgufLoader {
    static final String ACTIVATION_KEY = "llama.feed_forward_activation";

    private GgufLoader() {
    }

    static LanguageModel load(Path path, int threads) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            GgufFile gguf = GgufFile.open(path, arena);
            GgufMetadata m = gguf.metadata();
            String arch = m.getString("general.architecture");
            if (!arch.equals("llama")) {
                throw new ModelFormatException(path, "metadata.general.architecture", "'" + arch
                        + "' is not supported; expected 'llama'");
            }
            Tokenizer tokenizer = GgufTokenizers.read(path, m);
            ShapeCheck s = new ShapeCheck(gguf);
            int dim = m.getInt("llama.embedding_length");
            int heads = m.getInt("llama.attention.head_count");
            int vocab = m.contains("llama.vocab_size") ? m.getInt("llama.vocab_size") : tokenizer.vocabSize();
            Tensor up0 = gguf.tensor("blk.0.ffn_up.weight");
            boolean gated = gguf.contains("blk.0.ffn_gate.weight");
            ModelConfig.Activation act = activation(path, m.getString(ACTIVATION_KEY, "silu"));
            ModelConfig c = new ModelConfig(ModelConfig.Architecture.LLAMA, dim,
                    m.getInt("llama.feed_forward_length", (int) up0.dim(0)), m.getInt("llama.block_count"), heads,
                    m.getInt("llama.attention.head_count_kv", heads), vocab, m.getInt("llama.context_length"),
                    m.getFloat("llama.attention.layer_norm_rms_epsilon", 1e-5f), m.getFloat("llama.rope.freq_base", 10000f),
                    ModelConfig.RopeStyle.INTERLEAVED, act, gated, dim, true, 0);
            long kv = c.kvDim(), hidden = c.hiddenDim();
            List<LlamaWeights.Layer> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                String p = "blk." + l + ".";
                layers.add(new LlamaWeights.Layer(s.get(p + "attn_norm.weight", dim),
                        s.get(p + "attn_q.weight", dim, dim), s.get(p + "attn_k.weight", kv, dim),
                        s.get(p + "attn_v.weight", kv, dim), s.get(p + "attn_output.weight", dim, dim),
                        s.get(p + "ffn_norm.weight", dim),
                        gated ? s.get(p + "ffn_gate.weight", hidden, dim) : null,
                        s.get(p + "ffn_up.weight", hidden, dim), s.get(p + "ffn_down.weight", dim, hidden)));
            }
            Tensor embedding = s.get("token_embd.weight", vocab, dim);
            Tensor output = s.optional("output.weight", vocab, dim);
            LlamaWeights w = new LlamaWeights(embedding, layers, s.get("output_norm.weight", dim),
                    output != null ? output : embedding);
            String dtypes = String.join("/", gguf.tensors().values().stream()
                    .map(t -> t.dtype().name().toLowerCase(Locale.ROOT)).distinct().toList());
            String description = "GGUF " + path.getFileName() + ": " + ModelDescriptions.of(c, dtypes);
            return new LlamaModel(c, w, tokenizer, new ComputePool(threads), arena::close, description);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static ModelConfig.Activation activation(Path path, String name) throws ModelFormatException {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "silu", "swish" -> ModelConfig.Activation.SILU;
            case "relu" -> ModelConfig.Activation.RELU;
            case "gelu" -> ModelConfig.Activation.GELU;
            default -> throw new ModelFormatException(path, "activation", "'" + name
                    + "' is not supported; expected silu, relu or gelu");
        };
    }
}
