package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashlm.testing.SharedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stories260K tokenizer (tok512.bin and the one inside stories260K.gguf) against the README's reference. */
class Stories260kTokenizerTest {
    static final int[] REFERENCE_IDS = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426,
        338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261,
        370, 432, 352, 266, 268, 388, 426, 338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333,
        415, 426, 13, 438, 310};
    static final String REFERENCE_TEXT = "Once upon a time, there was a little girl named Lily. She loved to play"
            + " outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too"
            + " high.\nLily";

    static SentencePieceBpeTokenizer tok512() throws IOException {
        return SentencePieceBpeTokenizer.fromLlama2cFile(SharedModels.require("tok512.bin"), 512);
    }

    static SentencePieceBpeTokenizer gguf() throws IOException {
        GgufVocab v = GgufVocab.read(SharedModels.require("stories260K.gguf"));
        return SentencePieceBpeTokenizer.fromVocab(v.tokens(), v.scores(), v.types(), v.bos(), v.eos(), v.unk());
    }

    static List<String> calibStories() throws IOException {
        String text = Files.readString(SharedModels.require("tinyopt-relu/calib.txt"));
        return Arrays.stream(text.split("\n\n")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    @Test
    void tok512EncodesThePrompt() throws IOException {
        SentencePieceBpeTokenizer tok = tok512();
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, tok.encode("Once upon a time", true));
        assertArrayEquals(new int[] {403, 407, 261, 378}, tok.encode("Once upon a time", false));
        assertArrayEquals(new int[] {1}, tok.encode("", true));
        assertFalse(tok.usesMetaspace());
        assertEquals(512, tok.vocabSize());
        assertEquals(1, tok.bos());
        assertEquals(2, tok.eos());
        assertEquals(" Once", tok.piece(403));
        assertEquals("<0x0A>", tok.piece(13));
        assertTrue(tok.isSpecial(1));
    }

    @Test
    void tok512DecodesTheReferenceGeneration() throws IOException {
        SentencePieceBpeTokenizer tok = tok512();
        int[] withBos = withBos(REFERENCE_IDS);
        assertEquals(REFERENCE_TEXT, tok.decode(withBos));
        // piece by piece, as a generation loop prints
        TokenStreamDecoder stream = tok.streamDecoder();
        StringBuilder printed = new StringBuilder();
        for (int id : withBos) {
            printed.append(stream.accept(id));
        }
        assertEquals(REFERENCE_TEXT, printed.append(stream.finish()).toString());
        // the prompt part re-encodes to the same ids
        assertArrayEquals(Arrays.copyOf(withBos, 5), tok.encode("Once upon a time", true));
    }

    @Test
    void ggufVocabGivesTheSameIds() throws IOException {
        SentencePieceBpeTokenizer gguf = gguf();
        assertTrue(gguf.usesMetaspace());
        assertEquals("\u2581Once", gguf.piece(403));
        assertArrayEquals(new int[] {1, 403, 407, 261, 378}, gguf.encode("Once upon a time", true));
        assertEquals(REFERENCE_TEXT, gguf.decode(withBos(REFERENCE_IDS)));
    }

    @Test
    void binAndGgufAgreeAndRoundTripOnCalibrationStories() throws IOException {
        SentencePieceBpeTokenizer bin = tok512();
        SentencePieceBpeTokenizer gguf = gguf();
        for (String story : calibStories()) {
            int[] ids = bin.encode(story, true);
            assertArrayEquals(ids, gguf.encode(story, true), story);
            assertEquals(story, bin.decode(ids), "round trip");
            assertEquals(story, gguf.decode(ids), "round trip (gguf)");
        }
    }

    @Test
    void bytesOutsideTheVocabFallBackToByteTokens() throws IOException {
        SentencePieceBpeTokenizer tok = tok512();
        // ö and 😀 are not pieces of this tiny vocab (é is: id 485); byte token id = byte + 3
        int[] ids = tok.encode("\u00f6\ud83d\ude00\u00e9", false);
        assertArrayEquals(new int[] {410, 0xC3 + 3, 0xB6 + 3, 0xF0 + 3, 0x9F + 3, 0x98 + 3, 0x80 + 3, 485}, ids);
        assertEquals("\u00f6\ud83d\ude00\u00e9", tok.decode(withBos(ids)));
    }

    @Test
    void encodesAllOfCalibTxtQuickly() throws IOException {
        SentencePieceBpeTokenizer tok = tok512();
        String text = Files.readString(SharedModels.require("tinyopt-relu/calib.txt"));
        tok.encode(text.substring(0, 10_000), true); // warm up
        long start = System.nanoTime();
        int[] ids = tok.encode(text, true);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("stories260K tokenizer: %d chars -> %d tokens in %.3f s%n", text.length(), ids.length,
                seconds);
        assertEquals(text, tok.decode(ids));
        assertTrue(seconds < 5, "encoding calib.txt took " + seconds + " s");
    }

    static int[] withBos(int[] ids) {
        int[] out = new int[ids.length + 1];
        out[0] = 1;
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }
}
