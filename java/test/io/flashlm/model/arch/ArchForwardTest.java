package io.flashlm.model.arch;

import io.flashlm.api.ModelLoader;
import io.flashlm.model.InferenceState;
import io.flashlm.model.LanguageModel;
import io.flashlm.testing.Logits;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12: every supported family as a tiny random-weight model written in both formats (Hugging Face directory
 * and GGUF as llama.cpp converts it). Fed 8 tokens one by one, each format's logits at every position match the
 * independent double-precision {@link ArchReference} to 1e-4 of the largest |logit|, and the two formats agree to
 * 1e-5 relative.
 */
class ArchForwardTest {
    /** Specials, bytes, merge results and fillers: any id below VOCAB is a valid input. */
    static final int[] TOKENS = {0, 266, 72, 261, 3, 200, 271, 45};
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("arch");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    static Stream<Arguments> families() {
        return Stream.of(
                family("llama, plain (control)", ArchModels::llama),
                family("llama, Llama 3.1 RoPE scaling", ArchModels::llama3),
                family("mistral, sliding window 3", () -> ArchModels.mistral(16)),
                family("mistral, sliding window 3, head_dim 32", () -> ArchModels.mistral(32)),
                family("qwen2, qkv biases, untied", () -> ArchModels.qwen2(false)),
                family("qwen2, qkv biases, tied", () -> ArchModels.qwen2(true)),
                family("qwen3, head_dim 32, q/k norms, tied", () -> ArchModels.qwen3(true)),
                family("qwen3, head_dim 32, q/k norms, untied", () -> ArchModels.qwen3(false)),
                family("phi3, fused qkv and gate_up, LongRoPE short factors", () -> ArchModels.phi3(32, 32, false)),
                family("phi3, LongRoPE short factors, attention factor (context 4096 of 8192)",
                        () -> ArchModels.phi3(4096, 8192, false)),
                family("phi3, LongRoPE long factors, attention factor (context 128 > 32)",
                        () -> ArchModels.phi3(32, 128, true)),
                family("gemma2, soft-caps, alternating window", ArchModels::gemma2),
                family("gemma3, local/global RoPE, q/k norms", ArchModels::gemma3),
                family("falcon 7B layout, untied", () -> ArchModels.falcon(false)),
                family("falcon 7B layout, tied", () -> ArchModels.falcon(true)),
                family("mixtral", () -> ArchModels.mixtral(157)),
                family("qwen3moe", () -> ArchModels.qwen3moe(163)),
                family("olmoe", () -> ArchModels.olmoe(167)));
    }

    private static Arguments family(String name, Supplier<ArchModel> build) {
        return Arguments.of(name, build);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void bothFormatsMatchReference(String name, Supplier<ArchModel> build) throws IOException {
        ArchModel m = build.get();
        assertBothFormatsMatchReference(m, name,
                Files.createTempDirectory(root, m.spec.family.toString().toLowerCase()));
    }

    /** Writes both formats of {@code m} into {@code dir}, compares them with the reference and each other. */
    static void assertBothFormatsMatchReference(ArchModel m, String name, Path dir) throws IOException {
        Path hf = m.writeHf(dir.resolve("hf"));
        Path gguf = m.writeGguf(dir.resolve("model.gguf"));
        double[][] ref = ArchReference.logits(m.spec, m.tensors, TOKENS);
        float[][][] out = new float[2][][];
        assertAll(name,
                () -> out[0] = assertMatchesReference(ref, hf, "safetensors"),
                () -> out[1] = assertMatchesReference(ref, gguf, "gguf"));
        double rel = Logits.maxRelativeError(out[0], out[1]);
        assertTrue(rel <= 1e-5, name + ": gguf vs safetensors logits differ by " + rel + " of the largest");
    }

    private static float[][] assertMatchesReference(double[][] ref, Path model, String format) throws IOException {
        float[][] got = new float[TOKENS.length][];
        try (LanguageModel lm = ModelLoader.load(model, null, 2); InferenceState s = lm.newState()) {
            assertEquals(ArchModel.VOCAB, lm.config().vocabSize(), format + " vocabulary");
            for (int pos = 0; pos < TOKENS.length; pos++) {
                got[pos] = lm.forward(s, TOKENS[pos], pos).asSlice(0, 4L * ArchModel.VOCAB).toArray(JAVA_FLOAT);
            }
        }
        for (int pos = 0; pos < TOKENS.length; pos++) {
            double maxRef = 0, maxErr = 0;
            for (int i = 0; i < ref[pos].length; i++) {
                maxRef = Math.max(maxRef, Math.abs(ref[pos][i]));
                maxErr = Math.max(maxErr, Math.abs(ref[pos][i] - got[pos][i]));
            }
            assertTrue(maxErr <= 1e-4 * maxRef, format + " position " + pos + ": max error " + maxErr
                    + " vs max |logit| " + maxRef);
        }
        return got;
    }

    /**
     * Gemma 2 27B's kind: query_pre_attn_scalar (here 64) is not head_dim (32), so the attention scale comes from
     * the config (Hugging Face only: GGUF has no key for it, llama.cpp derives it from the model size).
     */
    @Test
    void gemma2QueryPreAttnScalarFromConfig() throws IOException {
        ArchModel m = ArchModels.gemma2();
        m.config.put("query_pre_attn_scalar", 64);
        m.spec.attnScale = 1 / Math.sqrt(64);
        Path dir = m.writeHf(Files.createTempDirectory(root, "gemma2-scalar").resolve("hf"));
        assertMatchesReference(ArchReference.logits(m.spec, m.tensors, TOKENS), dir, "safetensors");
    }

    /**
     * Gemma 3's sliding_window_pattern read from config.json (Hugging Face only: llama.cpp fixes it at 6): with
     * pattern 3 over 6 layers, layers 2 and 5 are global (base 1e6, linear scaling 8), the others sliding.
     */
    @Test
    void gemma3SlidingWindowPatternFromConfig() throws IOException {
        ArchModel m = ArchModels.gemma3();
        m.config.put("sliding_window_pattern", 3);
        for (int l = 0; l < m.spec.layers; l++) {
            boolean sliding = (l + 1) % 3 != 0;
            m.spec.window[l] = sliding ? 3 : 0;
            m.spec.invFreq[l] = sliding ? m.spec.invFreq[0] : m.spec.invFreq[5];
        }
        Path dir = m.writeHf(Files.createTempDirectory(root, "gemma3-pattern").resolve("hf"));
        assertMatchesReference(ArchReference.logits(m.spec, m.tensors, TOKENS), dir, "safetensors");
    }

    /**
     * The features under test change the logits by far more than the tolerance, so a loader that ignores one
     * cannot pass by accident.
     */
    @Test
    void featuresAreNotVacuous() {
        assertChanges(ArchModels.llama3(), s -> Arrays.fill(s.invFreq, ArchReference.invFreq(500000, 16)));
        assertChanges(ArchModels.mistral(16), s -> Arrays.fill(s.window, 0));
        assertChanges(ArchModels.qwen2(false), s -> s.window = new int[]{4, 4});
        assertChanges(ArchModels.phi3(4096, 8192, false), s -> s.ropeFactor = 1);
        assertChanges(ArchModels.phi3(32, 128, true), s -> s.ropeFactor = 1);
        assertChanges(ArchModels.phi3(32, 32, false), s -> Arrays.fill(s.invFreq, ArchReference.invFreq(10000, 16)));
        assertChanges(ArchModels.phi3(32, 128, true), s -> Arrays.fill(s.invFreq, ArchReference.invFreq(10000, 16)));
        assertChanges(ArchModels.gemma2(), s -> s.attnSoftcap = 0);
        assertChanges(ArchModels.gemma2(), s -> s.finalSoftcap = 0);
        assertChanges(ArchModels.gemma2(), s -> Arrays.fill(s.window, 0));
        assertChanges(ArchModels.gemma3(), s -> s.invFreq[5] = s.invFreq[0]);
        assertChanges(ArchModels.gemma3(), s -> Arrays.fill(s.window, 0));
        assertChanges(ArchModels.olmoe(167), s -> s.normTopK = true);
        assertChanges(ArchModels.qwen3moe(163), s -> s.normTopK = false);
    }

    private static void assertChanges(ArchModel m, Consumer<ArchReference.Spec> change) {
        double[][] before = ArchReference.logits(m.spec, m.tensors, TOKENS);
        change.accept(m.spec);
        double[][] after = ArchReference.logits(m.spec, m.tensors, TOKENS);
        double maxAbs = 0, maxDiff = 0;
        for (int p = 0; p < before.length; p++) {
            for (int i = 0; i < before[p].length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(before[p][i]));
                maxDiff = Math.max(maxDiff, Math.abs(before[p][i] - after[p][i]));
            }
        }
        assertTrue(maxDiff > 1e-2 * maxAbs, m.spec.family + ": feature changes logits by only " + maxDiff / maxAbs);
    }

    @Test
    void referenceErfIsAccurate() {
        assertEquals(0.5204998778130465, ArchReference.erf(0.5), 1e-15);
        assertEquals(0.8427007929497149, ArchReference.erf(1), 1e-15);
        assertEquals(-0.9953222650189527, ArchReference.erf(-2), 1e-15);
        assertEquals(0.9999999845827421, ArchReference.erf(4), 1e-15);
    }
}
