package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny hand-made SentencePiece vocabulary whose merges can be worked out by hand. */
class SentencePieceBpeTokenizerTest {
    // ids 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then:
    static final int SPACE = 259;
    static final int A = 260;
    static final int B = 261;
    static final int C = 262;
    static final int AB = 263;
    static final int BC = 264;
    static final int SPACE_A = 265;
    static final int ABC = 266;
    static final int AA = 267;
    static final int TOOL = 268;

    static final String[] NORMAL = {" ", "a", "b", "c", "ab", "bc", " a", "abc", "aa"};
    static final float[] NORMAL_SCORES = {-10, -10, -10, -10, -1, -2, -3, -0.5f, -1.5f};

    /** The vocabulary, with spaces written as {@code space} (" " as in llama2.c or "▁" as in GGUF). */
    static List<String> pieces(String space) {
        List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b));
        }
        for (String p : NORMAL) {
            pieces.add(p.replace(" ", space));
        }
        pieces.add("<tool>");
        return pieces;
    }

    static float[] scores() {
        float[] scores = new float[TOOL + 1];
        System.arraycopy(NORMAL_SCORES, 0, scores, SPACE, NORMAL_SCORES.length);
        return scores;
    }

    static int[] types() {
        int[] types = new int[TOOL + 1];
        types[0] = SentencePieceBpeTokenizer.TYPE_UNKNOWN;
        types[1] = SentencePieceBpeTokenizer.TYPE_CONTROL;
        types[2] = SentencePieceBpeTokenizer.TYPE_CONTROL;
        for (int id = 3; id < SPACE; id++) {
            types[id] = SentencePieceBpeTokenizer.TYPE_BYTE;
        }
        for (int id = SPACE; id < TOOL; id++) {
            types[id] = SentencePieceBpeTokenizer.TYPE_NORMAL;
        }
        types[TOOL] = SentencePieceBpeTokenizer.TYPE_USER_DEFINED;
        return types;
    }

    static SentencePieceBpeTokenizer tokenizer(String space) {
        return SentencePieceBpeTokenizer.fromVocab(pieces(space), scores(), types(), 1, 2, 0);
    }

    static int byteToken(int b) {
        return 3 + b;
    }

    @Test
    void mergesTheBestScoringPairFirst() {
        SentencePieceBpeTokenizer tok = tokenizer(" ");
        // " abc": pairs " a" -3, "ab" -1, "bc" -2 -> "ab"; then "abc" -0.5 -> [" ", "abc"] (not [" a", "bc"])
        assertArrayEquals(new int[] {1, SPACE, ABC}, tok.encode("abc", true));
        // " bc": only "bc" -> [" ", "bc"]
        assertArrayEquals(new int[] {SPACE, BC}, tok.encode("bc", false));
        // " ab c" -> " ab" is no piece, so " " "ab" " " "c" -> after "ab" nothing else; " c" no piece
        assertArrayEquals(new int[] {SPACE, AB, SPACE, C}, tok.encode("ab c", false));
        // " a" wins when it is the only pair
        assertArrayEquals(new int[] {SPACE_A}, tok.encode("a", false));
    }

    @Test
    void equalScoresMergeLeftmostFirst() {
        SentencePieceBpeTokenizer tok = tokenizer(" ");
        // " aaa": pairs " a" -3, "aa" -1.5 twice -> the leftmost "aa": [" ", "aa", "a"]
        assertArrayEquals(new int[] {SPACE, AA, A}, tok.encode("aaa", false));
        // " aaaa" -> [" ", "aa", "aa"]
        assertArrayEquals(new int[] {SPACE, AA, AA}, tok.encode("aaaa", false));
    }

    @Test
    void unknownCharactersFallBackToUtf8ByteTokens() {
        SentencePieceBpeTokenizer tok = tokenizer(" ");
        String emoji = "\ud83d\ude00"; // U+1F600, F0 9F 98 80
        assertArrayEquals(new int[] {1, SPACE_A, byteToken(0xF0), byteToken(0x9F), byteToken(0x98), byteToken(0x80)},
                tok.encode("a" + emoji, true));
        assertArrayEquals(new int[] {SPACE, byteToken(0xC3), byteToken(0xA9), B}, tok.encode("\u00e9b", false));
        // pieces of byte/control tokens are never produced from text
        int[] literal = tok.encode("<0x41><s>", false);
        for (int id : literal) {
            assertTrue(id >= 3 && id < SPACE || id == SPACE, "id " + id);
        }
    }

    @Test
    void userDefinedTokensAreMatchedLiterally() {
        SentencePieceBpeTokenizer tok = tokenizer(" ");
        assertArrayEquals(new int[] {SPACE_A, TOOL, B}, tok.encode("a<tool>b", false));
        assertEquals("a<tool>b", tok.decode(tok.encode("a<tool>b", true)));
    }

    @Test
    void streamingDecodeHoldsSplitCharactersAndStripsTheSpaceAfterBos() {
        SentencePieceBpeTokenizer tok = tokenizer(" ");
        TokenStreamDecoder stream = tok.streamDecoder();
        assertEquals("", stream.accept(1));
        assertEquals("a", stream.accept(SPACE_A)); // dummy-prefix space dropped after BOS
        assertEquals("", stream.accept(byteToken(0xF0)));
        assertEquals("", stream.accept(byteToken(0x9F)));
        assertEquals("", stream.accept(byteToken(0x98)));
        assertEquals("\ud83d\ude00", stream.accept(byteToken(0x80)));
        assertEquals(" a", stream.accept(SPACE_A)); // not after BOS: kept
        assertEquals("", stream.accept(byteToken(0xC3)));
        assertEquals("\ufffd", stream.finish()); // an unfinished character
        assertEquals("", tok.decode(new int[] {1, 2, 0}));
    }

    @Test
    void metaspaceVocabularyEncodesAndDecodesTheSame() {
        SentencePieceBpeTokenizer plain = tokenizer(" ");
        SentencePieceBpeTokenizer meta = tokenizer("\u2581");
        assertFalse(plain.usesMetaspace());
        assertTrue(meta.usesMetaspace());
        for (String text : List.of("abc", "a b c aa", " leading", "ab\ud83d\ude00 c", "")) {
            int[] ids = plain.encode(text, true);
            assertArrayEquals(ids, meta.encode(text, true), text);
            assertEquals(text, meta.decode(ids));
            assertEquals(text, plain.decode(ids));
        }
        assertEquals("\u2581a", meta.piece(SPACE_A));
        assertArrayEquals(" a".getBytes(StandardCharsets.UTF_8), meta.decodeBytes(SPACE_A));
    }

    @Test
    void llama2cFileGivesTheSameTokenizer(@TempDir Path dir) throws IOException {
        Path file = writeLlama2c(dir.resolve("tok.bin"), pieces(" "), scores());
        SentencePieceBpeTokenizer fromFile = SentencePieceBpeTokenizer.fromLlama2cFile(file, TOOL + 1);
        SentencePieceBpeTokenizer fromVocab = tokenizer(" ");
        for (String text : List.of("abc", "aaa b", "a\ud83d\ude00")) {
            assertArrayEquals(fromVocab.encode(text, true), fromFile.encode(text, true), text);
        }
        assertEquals(SentencePieceBpeTokenizer.TYPE_BYTE, fromFile.tokenType(3));
        assertEquals(SentencePieceBpeTokenizer.TYPE_CONTROL, fromFile.tokenType(1));
    }

    /** Writes the llama2.c tokenizer.bin format: max_token_length, then (score, length, bytes) per token. */
    static Path writeLlama2c(Path file, List<String> pieces, float[] scores) throws IOException {
        int size = 4;
        for (String p : pieces) {
            size += 8 + p.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        buf.putInt(8);
        for (int i = 0; i < pieces.size(); i++) {
            byte[] bytes = pieces.get(i).getBytes(StandardCharsets.UTF_8);
            buf.putFloat(scores[i]).putInt(bytes.length).put(bytes);
        }
        return Files.write(file, buf.array());
    }
}
