package io.flashlm.model;

import io.flashlm.format.Llama2cCheckpoint;
import io.flashlm.format.Llama2cHeader;
import io.flashlm.kernels.ComputePool;
import io.flashlm.tokenizer.SentencePieceBpeTokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A llama2.c checkpoint (legacy v0, fp32) with its tokenizer file: RoPE on interleaved pairs, SiLU gated FFN. */
final class Llama2cLoader {
    private Llama2cLoader() {
    }

    static LanguageModel load(Path path, Path tokenizerPath, int threads) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            Llama2cCheckpoint ckpt = Llama2cCheckpoint.open(path, arena);
            Llama2cHeader h = ckpt.header();
            Path tokPath = tokenizerPath != null ? tokenizerPath : findTokenizer(path, h.vocabSize());
            SentencePieceBpeTokenizer tokenizer = SentencePieceBpeTokenizer.fromLlama2cFile(tokPath, h.vocabSize());
            ModelConfig c = new ModelConfig(ModelConfig.Architecture.LLAMA, h.dim(), h.hiddenDim(), h.nLayers(),
                    h.nHeads(), h.nKvHeads(), h.vocabSize(), h.seqLen(), 1e-5f, 10000f,
                    ModelConfig.RopeStyle.INTERLEAVED, ModelConfig.Activation.SILU, true, h.dim(), true, 0);
            ShapeCheck s = new ShapeCheck(ckpt);
            long dim = c.dim(), kv = c.kvDim(), hidden = c.hiddenDim();
            List<LlamaWeights.Layer> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                String p = "layers." + l + ".";
                layers.add(new LlamaWeights.Layer(s.get(p + "rms_att", dim), s.get(p + "wq", dim, dim),
                        s.get(p + "wk", kv, dim), s.get(p + "wv", kv, dim), s.get(p + "wo", dim, dim),
                        s.get(p + "rms_ffn", dim), s.get(p + "w1", hidden, dim), s.get(p + "w3", hidden, dim),
                        s.get(p + "w2", dim, hidden)));
            }
            LlamaWeights w = new LlamaWeights(s.get("token_embedding", c.vocabSize(), dim), layers,
                    s.get("rms_final", dim), s.get("wcls", c.vocabSize(), dim));
            String description = "llama2.c checkpoint " + path.getFileName() + ": " + ModelDescriptions.of(c, "f32");
            return new LlamaModel(c, w, tokenizer, new ComputePool(threads), arena::close, description);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** tokenizer.bin, else tok{vocab}.bin, beside the checkpoint. */
    private static Path findTokenizer(Path checkpoint, int vocab) throws IOException {
        Path dir = checkpoint.toAbsolutePath().getParent();
        for (String name : new String[]{"tokenizer.bin", "tok" + vocab + ".bin"}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new NoSuchFileException(checkpoint.toString(), null, "llama2.c checkpoints keep the tokenizer apart:"
                + " found neither tokenizer.bin nor tok" + vocab + ".bin beside it; pass --tokenizer FILE");
    }
}
