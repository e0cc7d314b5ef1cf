package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each tokenizer.ggml.pre family on constructed strings. The expected words were worked out by hand from the
 * regexes (and agree with Python's third-party {@code regex} module, a different engine, on the same patterns).
 */
class GgufPreTokenizersTest {
    static final String WORDS = "Hello world's  123456 !!\n\n x";
    static final String CASES = "IT'S we'LL";
    static final String PUNCT = "Hello, world!! 12345 $5+3=8";
    static final String CAMEL = "HelloWorld ABC 42 HTTPServer";
    static final String UNICODE = "na\u00efve caf\u00e9 \u00fcber 10\u00bd \ud83d\ude00 \u65e5\u672c\u8a9e";
    static final String CONTROL = "a\tb\r\nc  ";

    static List<String> split(String name, String text) {
        return GgufPreTokenizers.byName(name).preTokenizer().split(text);
    }

    @Test
    void gpt2KeepsDigitRunsAndLeadingSpaces() {
        // "  123456": the first space stays alone (\s+(?!\S)), the second joins the digits ( ?\p{N}+)
        assertEquals(List.of("Hello", " world", "'s", " ", " 123456", " !!", "\n\n", " x"), split("gpt-2", WORDS));
        // contractions are lowercase only: "'S" is punctuation, then a word
        assertEquals(List.of("IT", "'", "S", " we", "'", "LL"), split("gpt-2", CASES));
        assertEquals(List.of("Hello", ",", " world", "!!", " 12345", " $", "5", "+", "3", "=", "8"),
                split("gpt-2", PUNCT));
        assertEquals(List.of("na\u00efve", " caf\u00e9", " \u00fcber", " 10\u00bd", " \ud83d\ude00",
                " \u65e5\u672c\u8a9e"), split("gpt-2", UNICODE)); // \p{N} includes '½'; the emoji is one code point
        assertEquals(List.of("a", "\t", "b", "\r", "\n", "c", "  "), split("gpt-2", CONTROL));
    }

    @Test
    void llama3CutsDigitsInThreesAndKeepsNewlinesWithPunctuation() {
        assertEquals(List.of("Hello", " world", "'s", " ", " ", "123", "456", " !!\n\n", " x"), split("llama-bpe", WORDS));
        assertEquals(List.of("IT", "'S", " we", "'LL"), split("llama-bpe", CASES)); // contractions in either case
        assertEquals(List.of("Hello", ",", " world", "!!", " ", "123", "45", " $", "5", "+", "3", "=", "8"),
                split("llama-bpe", PUNCT));
        // one non-letter, non-digit (here a tab) may lead a word; \r\n stays together
        assertEquals(List.of("a", "\tb", "\r\n", "c", "  "), split("llama-bpe", CONTROL));
        assertEquals(List.of("x", " =", " f", "(y", ")/", "2", ";", " //", " ok", "\n"), split("llama-bpe",
                "x = f(y)/2; // ok\n"));
    }

    @Test
    void qwen2IsLlama3WithSingleDigits() {
        assertEquals(List.of("Hello", " world", "'s", " ", " ", "1", "2", "3", "4", "5", "6", " !!\n\n", " x"),
                split("qwen2", WORDS));
        assertEquals(List.of("IT", "'S", " we", "'LL"), split("qwen2", CASES));
        assertEquals(List.of("na\u00efve", " caf\u00e9", " \u00fcber", " ", "1", "0", "\u00bd", " \ud83d\ude00",
                " \u65e5\u672c\u8a9e"), split("qwen2", UNICODE));
    }

    @Test
    void smollmIsolatesEveryDigitThenSplitsLikeGpt2() {
        // the digits go first, so the two spaces before them are one piece of text at the end of a chunk
        assertEquals(List.of("Hello", " world", "'s", "  ", "1", "2", "3", "4", "5", "6", " !!", "\n\n", " x"),
                split("smollm", WORDS));
        assertEquals(List.of("IT", "'", "S", " we", "'", "LL"), split("smollm", CASES));
        assertEquals(List.of("Hello", ",", " world", "!!", " ", "1", "2", "3", "4", "5", " $", "5", "+", "3", "=", "8"),
                split("smollm", PUNCT));
    }

    @Test
    void tekkenSplitsAtCaseChanges() {
        assertEquals(List.of("Hello", "World", " ABC", " ", "4", "2", " HTTPServer"), split("tekken", CAMEL));
        assertEquals(List.of("IT", "'S", " we", "'LL"), split("tekken", CASES));
        assertEquals(List.of("Hello", " world", "'s", " ", " ", "1", "2", "3", "4", "5", "6", " !!\n\n", " x"),
                split("tekken", WORDS));
        // the other families keep camelCase together
        assertEquals(List.of("HelloWorld", " ABC", " 42", " HTTPServer"), split("gpt-2", CAMEL));
    }

    @Test
    void defaultCutsPunctuationFirstAndDigitRunsInThrees() {
        // punctuation runs (and $ + < = > ^ ~ |) split first: "'s" becomes "'" and "s"; then " 12345" loses
        // its space to \p{N}+ and is cut 123 + 45
        assertEquals(List.of("Hello", " world", "'", "s", " ", " ", "123", "456", " ", "!!", "\n\n", " x"),
                split("default", WORDS));
        assertEquals(List.of("Hello", ",", " world", "!!", " ", "123", "45", " ", "$", "5", "+", "3", "=", "8"),
                split("default", PUNCT));
    }

    @Test
    void namesAndFlags() {
        assertSame(GgufPreTokenizers.byName("llama-bpe"), GgufPreTokenizers.byName("llama3"));
        assertSame(GgufPreTokenizers.byName("tekken"), GgufPreTokenizers.byName("mistral-nemo"));
        assertSame(GgufPreTokenizers.byName("gpt-2"), GgufPreTokenizers.byName("phi-2"));
        assertSame(GgufPreTokenizers.byName("qwen2"), GgufPreTokenizers.byName("deepseek-r1-qwen"));
        assertNull(GgufPreTokenizers.byName("gpt2")); // GGUF spells it gpt-2
        assertNull(GgufPreTokenizers.byName("deepseek-llm"));
        assertTrue(GgufPreTokenizers.names().containsAll(List.of("default", "gpt-2", "llama-bpe", "qwen2", "smollm",
                "tekken")));
        // the reference engine adds BOS and takes whole vocabulary words for Llama 3 and tekken only
        for (String name : List.of("llama-bpe", "tekken")) {
            assertTrue(GgufPreTokenizers.byName(name).addBos(), name);
            assertTrue(GgufPreTokenizers.byName(name).ignoreMerges(), name);
        }
        for (String name : List.of("default", "gpt-2", "qwen2", "smollm")) {
            assertFalse(GgufPreTokenizers.byName(name).addBos(), name);
            assertFalse(GgufPreTokenizers.byName(name).ignoreMerges(), name);
        }
    }

    @Test
    void everyFamilyKeepsEveryCharacter() {
        String text = WORDS + CASES + PUNCT + CAMEL + UNICODE + CONTROL + " \u00a0\u2003x\u0301 ";
        for (String name : GgufPreTokenizers.names()) {
            List<String> words = split(name, text);
            assertEquals(text, String.join("", words), name);
            assertTrue(words.stream().noneMatch(String::isEmpty), name);
        }
    }
}
