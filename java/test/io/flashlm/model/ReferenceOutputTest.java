package io.flashlm.model;

import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.testing.SharedModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The real models in ../shared/models reproduce the greedy references of its README, token for token. */
class ReferenceOutputTest {
    /** stories260K: the 64 ids after BOS of the README: the prompt's 4, then 60 generated. */
    static final int[] STORIES_IDS = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338,
            401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261,
            370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270,
            333, 415, 426, 13, 438, 310};

    static final int[] TINYOPT_PROMPT = {2, 932, 455, 393, 262, 635};
    static final int[] TINYOPT_IDS = {48, 646, 289, 262, 437, 536, 513, 377, 50, 329, 517, 267, 330, 328, 322, 563,
            270, 330, 328, 322, 563, 50, 533, 351, 48, 378, 370, 262, 345, 48, 707, 481, 324, 266, 456, 50, 329, 399,
            267, 330, 328, 309, 48, 388, 378, 399, 267, 330, 328, 309, 50, 14, 349, 352, 354, 313, 48, 308, 77, 348,
            267, 330, 328, 331, 48, 388, 332, 348, 267, 330, 328, 331, 350, 377, 313, 48, 308, 640, 48, 332, 427, 330,
            328, 309, 350, 14, 349, 289, 383, 267, 497, 266, 481, 270, 313, 48, 308, 755, 331, 48};

    static final String TINYOPT_TEXT = """
            Once upon a time, there was a little girl named Lily. She loved to play with her toys and play with her \
            toys. One day, she saw a big, red ball in the park. She wanted to play with it, but she wanted to play \
            with it.
            Lily's mom said, "I want to play with you, but I want to play with you." Lily said, "Yes, I can play with \
            it."
            Lily was happy to see the ball and said, "Thank you,""";

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stories260K.bin", "stories260K.gguf"})
    void stories260kGreedyMatchesTheReference(String file) throws IOException {
        Path model = SharedModels.require(file);
        for (int threads : new int[]{1, 2}) {
            try (FlashModel m = FlashModel.open(model, ModelOptions.defaults().withThreads(threads));
                 Session s = m.newSession()) {
                Generation g = s.generate("Once upon a time", GenerateOptions.greedy(STORIES_IDS.length - 4));
                int[] all = concat(Arrays.copyOfRange(g.promptIds(), 1, g.promptIds().length), g.generatedIds());
                assertEquals(1, g.promptIds()[0], "BOS first");
                assertArrayEquals(STORIES_IDS, all, file + " with " + threads + " threads");
            }
        }
    }

    @Test
    void tinyOptGreedyMatchesTheReference() throws IOException {
        Path dir = SharedModels.require("tinyopt-relu/model.safetensors").getParent();
        for (int threads : new int[]{1, 2}) {
            try (FlashModel m = FlashModel.open(dir, ModelOptions.defaults().withThreads(threads));
                 Session s = m.newSession()) {
                Generation g = s.generate("Once upon a time", GenerateOptions.greedy(100));
                assertArrayEquals(TINYOPT_PROMPT, g.promptIds(), "prompt ids with BOS");
                assertArrayEquals(TINYOPT_IDS, g.generatedIds(), "generated ids, " + threads + " threads");
                assertEquals(TINYOPT_TEXT, "Once upon a time" + g.text());
            }
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
