package io.flashlm.tokenizer;

import static io.flashlm.tokenizer.ByteLevelBpeTokenizerTest.BEGIN;
import static io.flashlm.tokenizer.ByteLevelBpeTokenizerTest.END;
import static io.flashlm.tokenizer.ByteLevelBpeTokenizerTest.G_THE;
import static io.flashlm.tokenizer.ByteLevelBpeTokenizerTest.HE;
import static io.flashlm.tokenizer.ByteLevelBpeTokenizerTest.N34;
import static io.flashlm.tokenizer.ByteLevelBpeTokenizerTest.THER;
import static io.flashlm.tokenizer.ByteLevelBpeTokenizerTest.USER;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GGUF byte-level BPE vocabulary given as its keys' values: ByteLevelBpeTokenizerTest's hand-made vocabulary
 * (bytes 0..255, five merges, specials at 262..264), written the way GGUF stores it, plus an unused token.
 */
class GgufBpeVocabTest {
    static final int UNUSED = 265; // "[PAD265]", as converters fill a vocabulary up to the embedding's rows
    static final List<String> MERGES = List.of("\u0120 t", "h e", "\u0120t he", "e r", "3 4");

    static List<String> tokens() {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(Gpt2ByteMap.toChar(b)));
        }
        tokens.addAll(List.of("\u0120t", "he", "\u0120the", "er", "34", "ther", "<|end|>", "<|begin|>", "<user>",
                "[PAD265]"));
        return tokens;
    }

    static int[] types() {
        int[] types = new int[266];
        Arrays.fill(types, GgufBpeVocab.NORMAL);
        types[END] = types[BEGIN] = GgufBpeVocab.CONTROL;
        types[USER] = GgufBpeVocab.USER_DEFINED;
        types[UNUSED] = GgufBpeVocab.UNUSED;
        return types;
    }

    /** As tokenizer.json's gpt2Style: GPT-2 regex, BOS = &lt;|begin|&gt; added. */
    static GgufBpeVocab gpt2Style() {
        return new GgufBpeVocab(tokens(), types(), MERGES, "gpt-2", BEGIN, END, -1, -1, true);
    }

    static ByteLevelBpeTokenizer build(GgufBpeVocab v) {
        return ByteLevelBpeTokenizer.fromGgufVocab(v);
    }

    @Test
    void encodesAsTheSameVocabularyFromTokenizerJson(@TempDir Path dir) throws IOException {
        ByteLevelBpeTokenizer json = ByteLevelBpeTokenizerTest.load(dir, ByteLevelBpeTokenizerTest.gpt2Style());
        ByteLevelBpeTokenizer gguf = build(gpt2Style());
        for (String text : List.of("the other", " the", "123456", "hi<|end|>the<user> the", "caf\u00e9 \ud83d\ude00!",
                "  two  spaces \n\n end ", "<|begin|><|begin|>", "<|end", "")) {
            for (boolean bos : new boolean[] {true, false}) {
                assertArrayEquals(json.encode(text, bos), gguf.encode(text, bos), text);
            }
        }
        assertArrayEquals(new int[] {BEGIN, 't', HE, ' ', 'o', 't', HE, 'r'}, gguf.encode("the other", true));
        assertArrayEquals(new int[] {'1', '2', N34, '5', '6'}, gguf.encode("123456", false));
        for (int id = 0; id < 265; id++) {
            assertEquals(json.piece(id), gguf.piece(id));
            assertArrayEquals(json.decodeBytes(id), gguf.decodeBytes(id), "id " + id);
            assertEquals(json.isSpecial(id), gguf.isSpecial(id), "id " + id);
        }
        assertEquals(BEGIN, gguf.bos());
        assertEquals(END, gguf.eos());
    }

    @Test
    void tokenTypesDecideSpecials() {
        ByteLevelBpeTokenizer tok = build(gpt2Style());
        // control and user-defined tokens are cut out whole; an unused one is ordinary text
        assertArrayEquals(new int[] {'h', 'i', END, 't', HE, USER, G_THE}, tok.encode("hi<|end|>the<user> the", false));
        assertEquals("[", tok.piece(tok.encode("[PAD265]", false)[0]));
        assertEquals("hithe<user> the", tok.decode(tok.encode("hi<|end|>the<user> the", true)));
        assertTrue(tok.isSpecial(END));
        assertFalse(tok.isSpecial(USER));
        // unused tokens decode to no text, as the reference engine prints them
        assertTrue(tok.isSpecial(UNUSED));
        assertEquals(0, tok.decodeBytes(UNUSED).length);
        assertEquals("[PAD265]", tok.piece(UNUSED));
        assertEquals(266, tok.vocabSize());
        // an unknown-type token is matched and silent too
        int[] types = types();
        types[USER] = GgufBpeVocab.UNKNOWN;
        tok = build(new GgufBpeVocab(tokens(), types, MERGES, "gpt-2", BEGIN, END, USER, -1, true));
        assertArrayEquals(new int[] {'a', USER}, tok.encode("a<user>", false));
        assertTrue(tok.isSpecial(USER));
        assertEquals("a", tok.decode(new int[] {'a', USER}));
    }

    @Test
    void addBosDefaultsByPreTokenizer() {
        // GPT-2 style vocabularies add no BOS unless the file says so; Llama 3's do
        ByteLevelBpeTokenizer tok = build(new GgufBpeVocab(tokens(), types(), MERGES, "gpt-2", BEGIN, END, -1, -1,
                null));
        assertEquals(-1, tok.bos());
        assertArrayEquals(new int[] {G_THE}, tok.encode(" the", true));
        tok = build(new GgufBpeVocab(tokens(), types(), MERGES, "llama-bpe", BEGIN, END, -1, -1, null));
        assertArrayEquals(new int[] {BEGIN, G_THE}, tok.encode(" the", true));
        tok = build(new GgufBpeVocab(tokens(), types(), MERGES, "llama-bpe", BEGIN, END, -1, -1, false));
        assertArrayEquals(new int[] {G_THE}, tok.encode(" the", true));
    }

    @Test
    void llama3TakesVocabularyWordsWhole() {
        ByteLevelBpeTokenizer tok = build(new GgufBpeVocab(tokens(), types(), MERGES, "llama-bpe", BEGIN, END, -1, -1,
                true));
        assertArrayEquals(new int[] {THER}, tok.encode("ther", false)); // no merge builds "ther"
        assertArrayEquals(new int[] {'1', '2', '3', '4', '5', '6'}, tok.encode("123456", false)); // "123" "456"
        tok = build(gpt2Style());
        assertArrayEquals(new int[] {'t', HE, 'r'}, tok.encode("ther", false));
    }

    @Test
    void missingPreTokenizerMeansDefault() {
        ByteLevelBpeTokenizer tok = build(new GgufBpeVocab(tokens(), types(), MERGES, null, BEGIN, END, -1, -1,
                false));
        // default cuts "12345" into "123" and "45", so 3 and 4 never meet; gpt-2 keeps it one word
        assertArrayEquals(new int[] {'1', '2', '3', '4', '5'}, tok.encode("12345", false));
        assertArrayEquals(new int[] {'1', '2', N34, '5'}, build(gpt2Style()).encode("12345", false));
    }

    @Test
    void typesMayBeAbsent() {
        ByteLevelBpeTokenizer tok = build(new GgufBpeVocab(tokens(), null, MERGES, "gpt-2", -1, -1, -1, -1, null));
        // every token normal: nothing is cut out, and "<|end|>" decodes as its text
        assertEquals("<|end|>", tok.decode(new int[] {END}));
        assertFalse(Arrays.stream(tok.encode("<|end|>", false)).anyMatch(id -> id == END));
    }

    @Test
    void badKeysNameTheirField() {
        assertRejected(v -> new GgufBpeVocab(v.tokens(), v.types(), v.merges(), "klingon", BEGIN, END, -1, -1, true),
                "tokenizer.ggml.pre", "'klingon' is not supported", "default, gpt-2", "llama-bpe", "tekken");
        assertRejected(v -> withMerges(v, "h e", "\u0120 zz"), "tokenizer.ggml.merges[1]", "'zz'",
                "not in tokenizer.ggml.tokens");
        assertRejected(v -> withMerges(v, "h e", "t h"), "tokenizer.ggml.merges[1]", "'th'");
        assertRejected(v -> withMerges(v, "abc"), "tokenizer.ggml.merges[0]", "'abc'", "one space");
        assertRejected(v -> withMerges(v, "a b c"), "tokenizer.ggml.merges[0]", "one space");
        assertRejected(v -> new GgufBpeVocab(v.tokens(), Arrays.copyOf(v.types(), 10), v.merges(), "gpt-2", BEGIN,
                END, -1, -1, true), "tokenizer.ggml.token_type", "10 entries for the 266 tokens");
        int[] types = types();
        types[7] = 9;
        assertRejected(v -> new GgufBpeVocab(v.tokens(), types, v.merges(), "gpt-2", BEGIN, END, -1, -1, true),
                "tokenizer.ggml.token_type[7]", "type 9", "6 (byte)");
        List<String> tokens = new ArrayList<>(tokens());
        tokens.set(UNUSED, "he");
        assertRejected(v -> new GgufBpeVocab(tokens, v.types(), v.merges(), "gpt-2", BEGIN, END, -1, -1, true),
                "tokenizer.ggml.tokens[265]", "'he' repeats token 257");
        assertRejected(v -> new GgufBpeVocab(v.tokens(), v.types(), v.merges(), "gpt-2", 266, END, -1, -1, true),
                "tokenizer.ggml.bos_token_id", "id 266 is outside the 266 tokens");
        assertRejected(v -> new GgufBpeVocab(v.tokens(), v.types(), v.merges(), "gpt-2", BEGIN, -7, -1, -1, true),
                "tokenizer.ggml.eos_token_id", "id -7");
        assertRejected(v -> new GgufBpeVocab(v.tokens(), v.types(), v.merges(), "gpt-2", BEGIN, END, 999, -1, true),
                "tokenizer.ggml.unknown_token_id");
        assertRejected(v -> new GgufBpeVocab(v.tokens(), v.types(), v.merges(), "gpt-2", BEGIN, END, -1, 300, true),
                "tokenizer.ggml.padding_token_id");
        assertRejected(v -> new GgufBpeVocab(v.tokens(), v.types(), v.merges(), "gpt-2", -1, END, -1, -1, true),
                "tokenizer.ggml.bos_token_id", "missing, but BOS is to be added", "add_bos_token = true");
        assertRejected(v -> new GgufBpeVocab(v.tokens(), v.types(), v.merges(), "tekken", -1, END, -1, -1, null),
                "tokenizer.ggml.bos_token_id", "the default for tokenizer.ggml.pre 'tekken'");
        assertRejected(v -> new GgufBpeVocab(List.of(), null, List.of(), "gpt-2", -1, -1, -1, -1, null),
                "tokenizer.ggml.tokens", "is empty");
    }

    private static GgufBpeVocab withMerges(GgufBpeVocab v, String... merges) {
        return new GgufBpeVocab(v.tokens(), v.types(), List.of(merges), v.pre(), v.bos(), v.eos(), v.unk(), v.pad(),
                v.addBos());
    }

    private static void assertRejected(UnaryOperator<GgufBpeVocab> breakIt, String field, String... mentions) {
        GgufBpeVocab broken = breakIt.apply(gpt2Style());
        VocabFieldException e = assertThrows(VocabFieldException.class, () -> build(broken));
        assertEquals(field, e.field());
        for (String part : mentions) {
            assertTrue(e.problem().contains(part), "problem '" + e.problem() + "' lacks '" + part + "'");
        }
    }
}
