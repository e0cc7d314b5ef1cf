package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashlm.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** tinyopt-relu's byte-level BPE (tokenizer.json) against the README's reference encodings. */
class TinyOptTokenizerTest {
    static final int[] PROMPT_IDS = {2, 932, 455, 393, 262, 635};
    static final int[] GENERATED_IDS = {48, 646, 289, 262, 437, 536, 513, 377, 50, 329, 517, 267, 330, 328, 322, 563,
        270, 330, 328, 322, 563, 50, 533, 351, 48, 378, 370, 262, 345, 48, 707, 481, 324, 266, 456, 50, 329, 399, 267,
        330, 328, 309, 48, 388, 378, 399, 267, 330, 328, 309, 50, 14, 349, 352, 354, 313, 48, 308, 77, 348, 267, 330,
        328, 331, 48, 388, 332, 348, 267, 330, 328, 331, 350, 377, 313, 48, 308, 640, 48, 332, 427, 330, 328, 309, 350,
        14, 349, 289, 383, 267, 497, 266, 481, 270, 313, 48, 308, 755, 331, 48};
    static final String REFERENCE_TEXT = """
            Once upon a time, there was a little girl named Lily. She loved to play with her toys and play with \
            her toys. One day, she saw a big, red ball in the park. She wanted to play with it, but she wanted to \
            play with it.
            Lily's mom said, "I want to play with you, but I want to play with you." Lily said, "Yes, I can play \
            with it."
            Lily was happy to see the ball and said, "Thank you,""";

    static ByteLevelBpeTokenizer tokenizer() throws IOException {
        return ByteLevelBpeTokenizer.fromTokenizerJson(SharedModels.require("tinyopt-relu/tokenizer.json"));
    }

    static List<String> stories(String file) throws IOException {
        String text = Files.readString(SharedModels.require("tinyopt-relu/" + file));
        return Arrays.stream(text.split("\n\n")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    @Test
    void encodesThePrompt() throws IOException {
        ByteLevelBpeTokenizer tok = tokenizer();
        assertArrayEquals(PROMPT_IDS, tok.encode("Once upon a time", true));
        assertArrayEquals(Arrays.copyOfRange(PROMPT_IDS, 1, PROMPT_IDS.length), tok.encode("Once upon a time", false));
        assertEquals(2, tok.bos());
        assertEquals(2, tok.eos());
        assertEquals(1024, tok.vocabSize());
        assertTrue(tok.isSpecial(2));
        assertEquals("</s>", tok.piece(2));
        assertEquals("\u0120t", tok.piece(260)); // "Ġt"
        assertArrayEquals(new int[] {2}, tok.encode("", true));
    }

    @Test
    void decodesTheReferenceGeneration() throws IOException {
        ByteLevelBpeTokenizer tok = tokenizer();
        int[] all = new int[PROMPT_IDS.length + GENERATED_IDS.length];
        System.arraycopy(PROMPT_IDS, 0, all, 0, PROMPT_IDS.length);
        System.arraycopy(GENERATED_IDS, 0, all, PROMPT_IDS.length, GENERATED_IDS.length);
        assertEquals(REFERENCE_TEXT, tok.decode(all));
        TokenStreamDecoder stream = tok.streamDecoder();
        StringBuilder printed = new StringBuilder();
        for (int id : all) {
            printed.append(stream.accept(id));
        }
        assertEquals(REFERENCE_TEXT, printed.append(stream.finish()).toString());
    }

    @Test
    void calibrationStoriesRoundTripAndEncodeStably() throws IOException {
        ByteLevelBpeTokenizer tok = tokenizer();
        ByteLevelBpeTokenizer fresh = tokenizer();
        List<String> stories = stories("calib.txt");
        assertEquals(225, stories.size());
        int[][] first = new int[stories.size()][];
        for (int i = 0; i < stories.size(); i++) {
            first[i] = tok.encode(stories.get(i), true);
            assertEquals(2, first[i][0]);
            assertEquals(stories.get(i), tok.decode(first[i]), "round trip of story " + i);
        }
        for (int i = stories.size() - 1; i >= 0; i--) { // other order, warm and cold word caches
            assertArrayEquals(first[i], tok.encode(stories.get(i), true), "story " + i + " again");
            assertArrayEquals(first[i], fresh.encode(stories.get(i), true), "story " + i + " on a fresh tokenizer");
        }
    }

    /** The README's held-out perplexity counts 30,490 story tokens, as encoded by Hugging Face's tokenizers. */
    @Test
    void heldOutStoriesHaveTheReferenceTokenCount() throws IOException {
        ByteLevelBpeTokenizer tok = tokenizer();
        List<String> stories = stories("heldout.txt");
        assertEquals(137, stories.size());
        long tokens = 0;
        for (String story : stories) {
            int[] ids = tok.encode(story, false);
            tokens += ids.length;
            assertEquals(story, tok.decode(ids));
        }
        assertEquals(30_490, tokens);
    }

    @Test
    void encodesAllOfCalibTxtQuickly() throws IOException {
        ByteLevelBpeTokenizer tok = tokenizer();
        String text = Files.readString(SharedModels.require("tinyopt-relu/calib.txt"));
        long start = System.nanoTime();
        int[] ids = tok.encode(text, true);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("tinyopt tokenizer: %d chars -> %d tokens in %.3f s (cold cache)%n", text.length(),
                ids.length, seconds);
        assertEquals(text, tok.decode(ids));
        assertTrue(seconds < 5, "encoding calib.txt took " + seconds + " s");
    }
}
