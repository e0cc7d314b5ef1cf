package io.flashlm.pack;

import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.ModelLoader;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.model.LanguageModel;
import io.flashlm.tensor.DType;
import io.flashlm.testing.Logits;
import io.flashlm.testing.SharedModels;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The real models of ../shared/models, converted to f32 packs: the greedy ids of their README, token for
 * token, and logits bit-identical to the source's (skipped where the models are absent).
 */
class SharedModelPackTest {
    /** stories260K: the 64 ids after BOS in ../shared/models/README.md (the prompt's 4, then 60 generated). */
    static final int[] STORIES_IDS = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338,
            401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261,
            370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270,
            333, 415, 426, 13, 438, 310};
    /** tinyopt-relu: the prompt with BOS and the 100 greedy ids of the README. */
    static final int[] TINYOPT_PROMPT = {2, 932, 455, 393, 262, 635};
    static final int[] TINYOPT_IDS = {48, 646, 289, 262, 437, 536, 513, 377, 50, 329, 517, 267, 330, 328, 322, 563,
            270, 330, 328, 322, 563, 50, 533, 351, 48, 378, 370, 262, 345, 48, 707, 481, 324, 266, 456, 50, 329, 399,
            267, 330, 328, 309, 48, 388, 378, 399, 267, 330, 328, 309, 50, 14, 349, 352, 354, 313, 48, 308, 77, 348,
            267, 330, 328, 331, 48, 388, 332, 348, 267, 330, 328, 331, 350, 377, 313, 48, 308, 640, 48, 332, 427, 330,
            328, 309, 350, 14, 349, 289, 383, 267, 497, 266, 481, 270, 313, 48, 308, 755, 331, 48};
    /** tinyllama-gqa: the prompt with BOS (&lt;s&gt; = 0) and the 64 greedy ids of the README. */
    static final int[] TINYLLAMA_PROMPT = {0, 932, 455, 393, 262, 635};
    static final int[] TINYLLAMA_IDS = {48, 646, 289, 262, 437, 536, 513, 377, 50, 329, 517, 267, 330, 605, 324, 266,
            456, 50, 533, 351, 48, 378, 370, 262, 345, 48, 707, 481, 324, 266, 456, 50, 329, 399, 267, 330, 328, 309,
            48, 388, 378, 289, 423, 271, 1009, 50, 14, 349, 352, 354, 543, 267, 266, 456, 270, 313, 48, 308, 77, 348,
            267, 330, 328, 309};
    static final int[] SOME_TOKENS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("pack-shared");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    private static Path convert(Path from, String name, DType dtype, PackLayout layout) throws IOException {
        return PackConverter.convert(new PackConverter.Options(from, null, root.resolve(name), dtype, layout, 4096,
                false), PackRoundTripTest.QUIET, false).dir();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bundled", "unbundled"})
    void tinyOptFromThePackGivesTheReferenceIds(String layout) throws IOException {
        Path src = SharedModels.require("tinyopt-relu/model.safetensors").getParent();
        Path pack = convert(src, "tinyopt-" + layout, DType.F32, PackLayout.parse(layout));
        try (FlashModel m = FlashModel.open(pack, ModelOptions.defaults().withThreads(2)); Session s = m.newSession()) {
            Generation g = s.generate("Once upon a time", GenerateOptions.greedy(100));
            assertArrayEquals(TINYOPT_PROMPT, g.promptIds());
            assertArrayEquals(TINYOPT_IDS, g.generatedIds());
        }
        assertNull(Logits.firstDifference(logits(src), logits(pack)));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stories260K.bin", "stories260K.gguf"})
    void storiesFromThePackGivesTheReferenceIds(String file) throws IOException {
        Path src = SharedModels.require(file);
        Path pack = convert(src, "stories-" + file, DType.F32, PackLayout.BUNDLED);
        try (FlashModel m = FlashModel.open(pack, ModelOptions.defaults().withThreads(2)); Session s = m.newSession()) {
            Generation g = s.generate("Once upon a time", GenerateOptions.greedy(STORIES_IDS.length - 4));
            int[] all = Arrays.copyOf(Arrays.copyOfRange(g.promptIds(), 1, g.promptIds().length), STORIES_IDS.length);
            System.arraycopy(g.generatedIds(), 0, all, 4, g.generatedIds().length);
            assertEquals(1, g.promptIds()[0], "BOS first");
            assertArrayEquals(STORIES_IDS, all);
        }
        assertNull(Logits.firstDifference(logits(src), logits(pack)));
    }

    /** tinyllama-gqa's f32 GGUF, with its byte-level BPE vocabulary carried into the pack. */
    @Test
    void tinyLlamaGgufFromThePackGivesTheReferenceIds() throws IOException {
        Path src = SharedModels.require("tinyllama-gqa/tinyllama-f32.gguf");
        Path pack = convert(src, "tinyllama-gguf", DType.F32, PackLayout.BUNDLED);
        try (FlashModel m = FlashModel.open(pack, ModelOptions.defaults().withThreads(2)); Session s = m.newSession()) {
            Generation g = s.generate("Once upon a time", GenerateOptions.greedy(TINYLLAMA_IDS.length));
            assertArrayEquals(TINYLLAMA_PROMPT, g.promptIds());
            assertArrayEquals(TINYLLAMA_IDS, g.generatedIds());
        }
        assertNull(Logits.firstDifference(logits(src), logits(pack)));
    }

    /** stories260K's FFN is 172 wide: not a multiple of 32, which q8_0 does not need (blocks run along d_model = 64). */
    @Test
    void storiesAsQ8_0StaysCloseToF32() throws IOException {
        Path src = SharedModels.require("stories260K.bin");
        Path pack = convert(src, "stories-q8_0", DType.Q8_0, PackLayout.BUNDLED);
        float[][] expected = logits(src);
        float[][] actual = logits(pack);
        double err = Logits.maxRelativeError(expected, actual);
        System.out.printf(Locale.ROOT, "stories260K q8_0 pack: max |logit error| / max |logit| = %.5f, top-1 agreement"
                + " %.2f%n", err, Logits.top1Agreement(expected, actual));
        org.junit.jupiter.api.Assertions.assertTrue(err < 0.03, "q8_0 error " + err);
    }

    private static float[][] logits(Path model) throws IOException {
        try (LanguageModel m = ModelLoader.load(model, null, 2)) {
            return Logits.of(m, SOME_TOKENS);
        }
    }
}
