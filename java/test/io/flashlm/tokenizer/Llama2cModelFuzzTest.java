package io.flashlm.tokenizer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashlm.api.ModelLoader;
import io.flashlm.model.LanguageModel;
import io.flashlm.testing.Fuzzing;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Fuzzes a llama2.c checkpoint and its {@code tokenizer.bin} as {@code generate --model model.bin} reads them:
 * the header, the exact file size, the tokenizer's records, then two positions. Seeds: tiny checkpoints with a
 * shared and a separate classifier written here, and stories260K.bin with tok512.bin where present.
 */
class Llama2cModelFuzzTest {
    static final String[] FILES = {"tokenizer.bin", "model.bin"};

    static Stream<byte[]> seeds() throws IOException {
        Path dir = Fuzzing.scratch("llama2c-seeds");
        List<String> pieces = SentencePieceBpeTokenizerTest.pieces("\u2581");
        byte[] tokenizer = Fuzzing.bytes(SentencePieceBpeTokenizerTest.writeLlama2c(dir.resolve("tok.bin"), pieces,
                SentencePieceBpeTokenizerTest.scores()));
        return Stream.concat(Stream.of(
                        Fuzzing.join(tokenizer, checkpoint(pieces.size(), true)),
                        Fuzzing.join(tokenizer, checkpoint(pieces.size(), false))),
                Fuzzing.sharedModelSeed("tok512.bin", "stories260K.bin"));
    }

    /**
     * dim 8, hidden 16, 2 layers, 2 heads, 1 kv head, seq_len 4: the header, then every weight (small values),
     * the RoPE tables llama2.c still writes, and a separate classifier when the vocab_size field is negative.
     */
    static byte[] checkpoint(int vocab, boolean sharedClassifier) {
        int dim = 8, hidden = 16, layers = 2, heads = 2, kvHeads = 1, seqLen = 4;
        int headSize = dim / heads, kvDim = kvHeads * headSize;
        long floats = (long) vocab * dim + layers * (dim + dim * dim + 2L * dim * kvDim + dim * dim + dim
                + 3L * dim * hidden) + dim + (long) seqLen * headSize + (sharedClassifier ? 0 : (long) vocab * dim);
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(28 + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads)
                .putInt(sharedClassifier ? vocab : -vocab).putInt(seqLen);
        for (long i = 0; i < floats; i++) {
            b.putFloat((float) Math.sin(i) * 0.1f);
        }
        return b.array();
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void load(byte[] input) {
        Path dir = Fuzzing.writeFiles(Fuzzing.scratch("llama2c"), input, FILES);
        Fuzzing.loadedOrRefused(() -> {
            try (LanguageModel model = ModelLoader.load(dir.resolve(FILES[1]), dir.resolve(FILES[0]), 1)) {
                Fuzzing.exercise(model);
            }
        });
    }
}
