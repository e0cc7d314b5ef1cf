package io.flashlm.model;

import io.flashlm.api.ModelLoader;
import io.flashlm.format.ModelFormatException;
import io.flashlm.testing.SharedModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * tinyllama-gqa's GGUF files quantized by the reference engine's tool (../shared/models/README.md): each
 * generates the README's greedy ids for "Once upon a time" up to its "checked" step (past a near tie of the
 * reference's own logits another engine may legitimately pick the other token). A file holding a tensor type
 * flashlm does not read is skipped, with the reason.
 */
class TinyLlamaQuantizedTest {
    /** The README's 24 greedy ids of most files: the f32 model's first 24. */
    static final String F32_LIKE = "48 646 289 262 437 536 513 377 50 329 517 267 330 605 324 266 456 50 533 351 48 378 "
            + "370 262";
    /** Q4_1's and Q2_K's, which part from the f32 model's at step 14. */
    static final String PARTING = "48 646 289 262 437 536 513 377 50 329 517 267 330 328 322 563 270 330 328 322 563 50 "
            + "533 351";

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "Q8_0, f32-like, 24", "Q6_K, f32-like, 24", "Q5_K_M, f32-like, 24", "Q4_K_M, f32-like, 13",
        "Q4_0, f32-like, 24", "Q5_0, f32-like, 24", "Q5_1, f32-like, 24", "Q4_1, parting, 13",
        "Q3_K_M, f32-like, 24", "Q2_K, parting, 24", "IQ4_NL, f32-like, 24", "IQ4_XS, f32-like, 24"})
    void generatesTheReferenceGreedyIds(String preset, String ids, int checked) throws IOException {
        Path file = SharedModels.require("tinyllama-gqa/tinyllama-" + preset + ".gguf");
        int[] expected = Arrays.stream((ids.equals("parting") ? PARTING : F32_LIKE).split(" "))
                .mapToInt(Integer::parseInt).toArray();
        LanguageModel m;
        try {
            m = ModelLoader.load(file, null, 2);
        } catch (ModelFormatException e) {
            if (e.getMessage().contains("unsupported GGML tensor type")) {
                abort(file.getFileName() + " holds a tensor type flashlm does not read: " + e.getMessage());
            }
            throw e;
        }
        try (m) {
            int[] prompt = m.tokenizer().encode("Once upon a time", m.addBos());
            assertArrayEquals(TinyLlamaGgufTest.PROMPT_IDS, prompt);
            int[] got = TinyLlamaGgufTest.greedy(m, prompt, checked);
            assertArrayEquals(Arrays.copyOf(expected, checked), got, () -> preset + ": " + Arrays.toString(got));
        }
    }
}
