package io.flashlm.model;

import io.flashlm.api.ModelLoader;
import io.flashlm.format.GgufFile;
import io.flashlm.testing.SharedModels;
import io.flashlm.tokenizer.ByteLevelBpeTokenizer;
import io.flashlm.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tinyllama-gqa in ../shared/models as Hugging Face safetensors + tokenizer.json and as GGUF f32 with a gpt2
 * vocabulary: the GGUF's tokenizer encodes and decodes like tokenizer.json (which the models README checked
 * against Hugging Face's library), and both forms generate the README's greedy ids.
 */
class TinyLlamaGgufTest {
    static final int[] PROMPT_IDS = {0, 932, 455, 393, 262, 635};
    /** The README's 64 greedy ids for "Once upon a time" (the training module and the reference engine agree). */
    static final int[] GREEDY_IDS = {48, 646, 289, 262, 437, 536, 513, 377, 50, 329, 517, 267, 330, 605, 324, 266,
            456, 50, 533, 351, 48, 378, 370, 262, 345, 48, 707, 481, 324, 266, 456, 50, 329, 399, 267, 330, 328, 309,
            48, 388, 378, 289, 423, 271, 1009, 50, 14, 349, 352, 354, 543, 267, 266, 456, 270, 313, 48, 308, 77, 348,
            267, 330, 328, 309};

    /** Spaces, newlines, digits, unicode, special tokens (whole, repeated, cut short, glued to words). */
    static final List<String> EDGE_CASES = List.of("", " ", "  ", "   x", "x   ", "a  b", "\n", "\n\n\n", " \n ",
            "\t", "\r\n", "line\n\nnext", "0", "123 4567 89012", "3.14159, -42", "1st 2nd 10th", "caf\u00e9",
            "na\u00efve \u00fcber \u65e5\u672c\u8a9e", "\ud83d\ude00\ud83c\uddfa\ud83c\uddf8", "e\u0301", "\u00a0\u2003",
            "<s>", "</s>", "<pad><unk>", "<s>Once upon</s> a<s>", "<s<s>>", "</s", "x</s>y", "don't I'LL we've",
            "\"Hi!\" she said.", "Once upon a time");

    static Path dir() {
        return SharedModels.require("tinyllama-gqa/model.safetensors").getParent();
    }

    static Tokenizer ggufTokenizer(Path gguf) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return GgufTokenizers.read(gguf, GgufFile.open(gguf, arena).metadata());
        }
    }

    @Test
    void ggufTokenizerEncodesLikeTokenizerJson() throws IOException {
        Path dir = dir();
        Tokenizer json = ByteLevelBpeTokenizer.fromTokenizerJson(dir.resolve("tokenizer.json"));
        Tokenizer gguf = ggufTokenizer(SharedModels.require("tinyllama-gqa/tinyllama-f32.gguf"));
        assertArrayEquals(PROMPT_IDS, gguf.encode("Once upon a time", true));
        assertEquals(json.vocabSize(), gguf.vocabSize());
        assertEquals(json.bos(), gguf.bos());
        assertEquals(json.eos(), gguf.eos());
        for (int id = 0; id < json.vocabSize(); id++) {
            assertEquals(json.piece(id), gguf.piece(id), "piece " + id);
            assertEquals(json.isSpecial(id), gguf.isSpecial(id), "special " + id);
            assertArrayEquals(json.decodeBytes(id), gguf.decodeBytes(id), "bytes of " + id);
        }
        List<String> texts = new ArrayList<>(EDGE_CASES);
        int tokens = 0;
        for (String file : List.of("calib.txt", "heldout.txt")) {
            String text = Files.readString(dir.resolve(file));
            texts.add(text); // blank lines between stories, and the last newline
            Arrays.stream(text.split("\n\n")).map(String::strip).filter(s -> !s.isEmpty()).forEach(texts::add);
        }
        for (String text : texts) {
            int[] expected = json.encode(text, true);
            assertArrayEquals(expected, gguf.encode(text, true), () -> "encoding of '" + text + "'");
            assertArrayEquals(json.encode(text, false), gguf.encode(text, false), () -> "'" + text + "' without BOS");
            assertEquals(json.decode(expected), gguf.decode(expected));
            tokens += expected.length;
        }
        assertTrue(tokens > 40_000, tokens + " tokens compared"); // the stories were really there
        int[] specials = gguf.encode("<s>Once</s>", false); // each special a single id, as in tokenizer.json
        assertEquals(0, specials[0]);
        assertEquals(2, specials[specials.length - 1]);
    }

    @Test
    void ggufAndSafetensorsGenerateTheReferenceGreedily() throws IOException {
        Path dir = dir();
        Path gguf = SharedModels.require("tinyllama-gqa/tinyllama-f32.gguf");
        try (LanguageModel hf = ModelLoader.load(dir, null, 2); LanguageModel gg = ModelLoader.load(gguf, null, 2)) {
            ModelConfig a = hf.config(), b = gg.config();
            assertEquals(List.of(a.dim(), a.hiddenDim(), a.layers(), a.heads(), a.kvHeads(), a.vocabSize()),
                    List.of(b.dim(), b.hiddenDim(), b.layers(), b.heads(), b.kvHeads(), b.vocabSize()));
            int[] hfPrompt = hf.tokenizer().encode("Once upon a time", hf.addBos());
            int[] ggPrompt = gg.tokenizer().encode("Once upon a time", gg.addBos());
            assertArrayEquals(PROMPT_IDS, hfPrompt);
            assertArrayEquals(PROMPT_IDS, ggPrompt);
            assertArrayEquals(GREEDY_IDS, greedy(hf, hfPrompt, GREEDY_IDS.length), "safetensors");
            assertArrayEquals(GREEDY_IDS, greedy(gg, ggPrompt, GREEDY_IDS.length), "GGUF f32");
        }
    }

    /** Argmax decoding, the first index on ties, not stopped at EOS (as the README's reference). */
    static int[] greedy(LanguageModel m, int[] prompt, int n) {
        int[] out = new int[n];
        try (InferenceState s = m.newState()) {
            MemorySegment logits = null;
            for (int pos = 0; pos < prompt.length; pos++) {
                logits = m.forward(s, prompt[pos], pos);
            }
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int v = 1; v < m.config().vocabSize(); v++) {
                    if (logits.getAtIndex(JAVA_FLOAT, v) > logits.getAtIndex(JAVA_FLOAT, best)) {
                        best = v;
                    }
                }
                out[i] = best;
                logits = m.forward(s, best, prompt.length + i);
            }
        }
        return out;
    }
}
