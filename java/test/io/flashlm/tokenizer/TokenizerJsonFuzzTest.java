package io.flashlm.tokenizer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashlm.model.ModelConfig;
import io.flashlm.synth.SyntheticTokenizer;
import io.flashlm.testing.Fuzzing;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Fuzzes {@code tokenizer.json} (Hugging Face's byte-level BPE: vocabulary, merges, added tokens,
 * pre-tokenizer): read, then a text with every kind of character encoded and every id decoded. Seeds: the
 * synthetic tokenizers {@code synth} writes for OPT and Llama shapes, and the shared models' where present.
 */
class TokenizerJsonFuzzTest {

    static Stream<byte[]> seeds() throws IOException {
        Path dir = Fuzzing.scratch("tokenizer-json-seeds");
        SyntheticTokenizer.write(Files.createDirectories(dir.resolve("opt")), ModelConfig.Architecture.OPT, 300);
        SyntheticTokenizer.write(Files.createDirectories(dir.resolve("llama")), ModelConfig.Architecture.LLAMA, 300);
        return Stream.of(Fuzzing.bytes(dir.resolve("opt/tokenizer.json")), Fuzzing.bytes(dir.resolve("llama/tokenizer.json")),
                        Fuzzing.sharedModelSeed("tinyllama-gqa/tokenizer.json").findFirst().orElse(null),
                        Fuzzing.sharedModelSeed("tinyopt-relu/tokenizer.json").findFirst().orElse(null))
                .filter(b -> b != null && b.length > 0);
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "")
    void read(byte[] input) throws IOException {
        Path file = Files.write(Fuzzing.scratch("tokenizer-json").resolve("tokenizer.json"), input);
        Fuzzing.loadedOrRefused(() -> {
            ByteLevelBpeTokenizer tokenizer = ByteLevelBpeTokenizer.fromTokenizerJson(file);
            int[] ids = tokenizer.encode(Fuzzing.TEXT, true);
            tokenizer.decode(ids);
            for (int id = 0; id < tokenizer.vocabSize(); id++) {
                tokenizer.decodeBytes(id);
            }
        });
    }
}
