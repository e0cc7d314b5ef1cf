package io.flashlm.model.arch;

import io.flashlm.api.ModelLoader;
import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Issue 13: a prompt run through {@link LanguageModel#forwardBatch} in chunks gives, bit for bit, the logits
 * of token-at-a-time forward passes, and leaves the same KV cache behind (the tokens decoded after it give
 * the same logits too), for every family (sliding windows, parallel blocks, post-norms, q/k norms, biases,
 * experts) and chunks that split the prompt unevenly.
 */
class ArchPrefillTest {
    static final int[] PROMPT = {0, 266, 72, 261, 3, 200, 271, 45, 9, 130, 64};
    static final int[] AFTER = {17, 250, 5};
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("arch-prefill");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama3", (Supplier<ArchModel>) ArchModels::llama3),
                Arguments.of("mistral", (Supplier<ArchModel>) () -> ArchModels.mistral(32)),
                Arguments.of("qwen2", (Supplier<ArchModel>) () -> ArchModels.qwen2(false)),
                Arguments.of("qwen3", (Supplier<ArchModel>) () -> ArchModels.qwen3(true)),
                Arguments.of("phi3", (Supplier<ArchModel>) () -> ArchModels.phi3(32, 32, false)),
                Arguments.of("gemma2", (Supplier<ArchModel>) ArchModels::gemma2),
                Arguments.of("gemma3", (Supplier<ArchModel>) ArchModels::gemma3),
                Arguments.of("falcon", (Supplier<ArchModel>) () -> ArchModels.falcon(true)),
                Arguments.of("mixtral", (Supplier<ArchModel>) () -> ArchModels.mixtral(157)),
                Arguments.of("olmoe", (Supplier<ArchModel>) () -> ArchModels.olmoe(167)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void chunkedPrefillEqualsTokenAtATime(String name, Supplier<ArchModel> build) throws IOException {
        Path dir = Files.createTempDirectory(root, name);
        Path gguf = build.get().writeGguf(dir.resolve("model.gguf"));
        try (LanguageModel m = ModelLoader.load(gguf, null, 2)) {
            float[][] one = run(m, 1);
            for (int chunk : new int[] {2, 4, 11}) {
                assertNull(Logits.firstDifference(one, run(m, chunk)), name + ", chunks of " + chunk);
            }
        }
    }

    /** The logits after the prompt fed in chunks of {@code chunk}, then after each token of AFTER. */
    private static float[][] run(LanguageModel m, int chunk) {
        float[][] out = new float[1 + AFTER.length][];
        try (InferenceState s = m.newState()) {
            int vocab = m.config().vocabSize();
            for (int i = 0; i < PROMPT.length; i += chunk) {
                int n = Math.min(chunk, PROMPT.length - i);
                out[0] = m.forwardBatch(s, PROMPT, i, n, i).asSlice(0, 4L * vocab).toArray(JAVA_FLOAT);
            }
            for (int j = 0; j < AFTER.length; j++) {
                out[1 + j] = m.forward(s, AFTER[j], PROMPT.length + j).asSlice(0, 4L * vocab).toArray(JAVA_FLOAT);
            }
        }
        return out;
    }
}
