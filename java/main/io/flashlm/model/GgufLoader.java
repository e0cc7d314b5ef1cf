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
 * A GGUF v2/v3 file of a Llama-family architecture ({@link GgufFamilies}): GGML tensor names, the
 * vocabulary embedded (SentencePiece or byte-level BPE, {@link GgufTokenizers}).
 * The FFN is gated SiLU; the flashlm key {@code llama.feed_forward_activation} = "relu" marks a
 * ReLU-fied model (GGUF has no standard key for it).
 */
final class GgufLoader {
    static final String ACTIVATION_KEY = "llama.feed_forward_activation";

    private GgufLoader() {
    }

    /** @param context positions to allocate the KV cache for; 0 for {@link ModelFiles#defaultContext} */
    static LanguageModel load(Path path, int threads, int context) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            GgufFile gguf = GgufFile.open(path, arena);
            GgufMetadata m = gguf.metadata();
            String arch = m.getString("general.architecture");
            GgufFamilies.requireSupported(path, arch);
            Tokenizer tokenizer = GgufTokenizers.read(path, m);
            int vocab = m.contains(arch + ".vocab_size") ? m.getInt(arch + ".vocab_size") : tokenizer.vocabSize();
            ModelConfig c = GgufFamilies.config(path, gguf, m, arch, vocab, context);
            LlamaWeights w = GgufFamilies.weights(gguf, c, arena);
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
