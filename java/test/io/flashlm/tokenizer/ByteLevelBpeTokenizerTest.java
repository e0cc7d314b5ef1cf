package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny hand-made byte-level BPE (a tokenizer.json written by the test) with merges worked out by hand. */
class ByteLevelBpeTokenizerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    // ids 0..255: the byte with that value (as its GPT-2 character); then the merges' results:
    static final int G_T = 256;   // "Ġt"  from rank 0: Ġ t
    static final int HE = 257;    // "he"  from rank 1: h e
    static final int G_THE = 258; // "Ġthe" from rank 2: Ġt he
    static final int ER = 259;    // "er"  from rank 3: e r
    static final int N34 = 260;   // "34"  from rank 4: 3 4
    static final int THER = 261;  // "ther": in the vocab, but no merge builds it
    static final int END = 262;   // <|end|>, special
    static final int BEGIN = 263; // <|begin|>, special, prepended by the post-processor
    static final int USER = 264;  // <user>, added but not special

    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"
            + " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** GPT-2 style: ByteLevel pre-tokenizer, "a b" merges, TemplateProcessing adding <|begin|>. */
    static ObjectNode gpt2Style() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        addToken(added, END, "<|end|>", true);
        addToken(added, BEGIN, "<|begin|>", true);
        addToken(added, USER, "<user>", false);
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        post.putArray("single").addObject().putObject("SpecialToken").put("id", "<|begin|>").put("type_id", 0);
        ((ArrayNode) post.get("single")).addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        post.putObject("special_tokens").putObject("<|begin|>").put("id", "<|begin|>")
                .set("ids", JSON.createArrayNode().add(BEGIN));
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE").putNull("dropout").putNull("unk_token");
        ObjectNode vocab = model.putObject("vocab");
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(Gpt2ByteMap.toChar(b)), b);
        }
        vocab.put("\u0120t", G_T).put("he", HE).put("\u0120the", G_THE).put("er", ER).put("34", N34)
                .put("ther", THER).put("<|end|>", END);
        model.putArray("merges").add("\u0120 t").add("h e").add("\u0120t he").add("e r").add("3 4");
        return root;
    }

    /** Llama-3 style: Split(regex) + ByteLevel(use_regex false), [a, b] merges, ignore_merges. */
    static ObjectNode llama3Style() {
        ObjectNode root = gpt2Style();
        ObjectNode pre = root.putObject("pre_tokenizer").put("type", "Sequence");
        ObjectNode split = pre.putArray("pretokenizers").addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", LLAMA3_REGEX);
        split.put("behavior", "Isolated").put("invert", false);
        ((ArrayNode) pre.get("pretokenizers")).addObject().put("type", "ByteLevel").put("add_prefix_space", false)
                .put("use_regex", false);
        ObjectNode model = (ObjectNode) root.get("model");
        model.put("ignore_merges", true);
        ArrayNode merges = model.putArray("merges");
        for (String m : List.of("\u0120 t", "h e", "\u0120t he", "e r", "3 4")) {
            merges.addArray().add(m.split(" ")[0]).add(m.split(" ")[1]);
        }
        ObjectNode post = JSON.createObjectNode().put("type", "Sequence");
        ArrayNode processors = post.putArray("processors");
        processors.addObject().put("type", "ByteLevel");
        processors.add(root.get("post_processor")); // the template, inside a Sequence as Llama 3 has it
        root.set("post_processor", post);
        return root;
    }

    static void addToken(ArrayNode added, int id, String content, boolean special) {
        added.addObject().put("id", id).put("content", content).put("single_word", false).put("lstrip", false)
                .put("rstrip", false).put("normalized", false).put("special", special);
    }

    static ByteLevelBpeTokenizer load(Path dir, ObjectNode json) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        JSON.writeValue(file.toFile(), json);
        return ByteLevelBpeTokenizer.fromTokenizerJson(file);
    }

    @Test
    void mergesByRankWithinWords(@TempDir Path dir) throws IOException {
        ByteLevelBpeTokenizer tok = load(dir, gpt2Style());
        // "the": (h,e) rank 1 -> t he; (t,he) has no rule
        assertArrayEquals(new int[] {'t', HE}, tok.encode("the", false));
        // " the": (Ġ,t) rank 0 -> Ġt h e -> (h,e) -> Ġt he -> (Ġt,he) rank 2 -> Ġthe
        assertArrayEquals(new int[] {G_THE}, tok.encode(" the", false));
        // " other": (h,e) rank 1 beats (e,r) rank 3, so "er" never forms
        assertArrayEquals(new int[] {' ', 'o', 't', HE, 'r'}, tok.encode(" other", false));
        // words are merged separately: "the other" = "the" + " other"
        assertArrayEquals(new int[] {BEGIN, 't', HE, ' ', 'o', 't', HE, 'r'}, tok.encode("the other", true));
        // the GPT-2 regex keeps "123456" one word, so 3 4 merges
        assertArrayEquals(new int[] {'1', '2', N34, '5', '6'}, tok.encode("123456", false));
        assertEquals(BEGIN, tok.bos());
        assertEquals(-1, tok.eos()); // no tokenizer_config.json, and <|end|> is not a well-known EOS name
    }

    @Test
    void addedTokensAreCutOutBeforePreTokenization(@TempDir Path dir) throws IOException {
        ByteLevelBpeTokenizer tok = load(dir, gpt2Style());
        assertArrayEquals(new int[] {BEGIN, 'h', 'i', END, 't', HE, USER, G_THE},
                tok.encode("hi<|end|>the<user> the", true));
        // special tokens decode to nothing, ordinary added tokens to their content
        assertEquals("hithe<user> the", tok.decode(tok.encode("hi<|end|>the<user> the", true)));
        assertTrue(tok.isSpecial(END));
        assertEquals("<|end|>", tok.piece(END));
        assertEquals("\u0120the", tok.piece(G_THE));
    }

    @Test
    void multiByteCharactersSurviveStreamingDecode(@TempDir Path dir) throws IOException {
        ByteLevelBpeTokenizer tok = load(dir, gpt2Style());
        String text = "caf\u00e9 \ud83d\ude00!";
        int[] ids = tok.encode(text, false);
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(utf8.length, ids.length); // no merges apply: one token per byte
        TokenStreamDecoder stream = tok.streamDecoder();
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            String piece = stream.accept(id);
            assertTrue(piece.chars().noneMatch(c -> c == '\ufffd'), "split character leaked: " + piece);
            out.append(piece);
        }
        assertEquals(text, out.append(stream.finish()).toString());
    }

    @Test
    void prefixSpaceOption(@TempDir Path dir) throws IOException {
        ObjectNode json = gpt2Style();
        ((ObjectNode) json.get("pre_tokenizer")).put("add_prefix_space", true);
        ByteLevelBpeTokenizer tok = load(dir, json);
        assertArrayEquals(new int[] {G_THE}, tok.encode("the", false));
        assertArrayEquals(new int[] {G_THE, END, G_THE}, tok.encode("the<|end|>the", false));
    }

    @Test
    void llama3StyleSplitRegexArrayMergesAndIgnoreMerges(@TempDir Path dir) throws IOException {
        ByteLevelBpeTokenizer tok = load(dir, llama3Style());
        // \p{N}{1,3} splits "123456" into "123" "456": 3 and 4 are in different words
        assertArrayEquals(new int[] {'1', '2', '3', '4', '5', '6'}, tok.encode("123456", false));
        // ignore_merges: "ther" is a vocab word, taken whole although no merge builds it
        assertArrayEquals(new int[] {THER}, tok.encode("ther", false));
        assertArrayEquals(new int[] {BEGIN, G_THE, ' ', 'o', 't', HE, 'r'}, tok.encode(" the other", true));
        assertEquals("It's 123456 ther", tok.decode(tok.encode("It's 123456 ther", true)));
    }

    @Test
    void tokenizerConfigBesideSuppliesEos(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"eos_token\": {\"content\": \"<|end|>\"}, \"bos_token\": \"<|begin|>\"}");
        ObjectNode json = gpt2Style();
        json.putNull("post_processor");
        ByteLevelBpeTokenizer tok = load(dir, json);
        assertEquals(END, tok.eos());
        assertEquals(-1, tok.bos()); // nothing is prepended without add_bos_token or a post-processor
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"eos_token\": \"<|end|>\", \"bos_token\": \"<|begin|>\", \"add_bos_token\": true}");
        tok = load(dir, json);
        assertEquals(BEGIN, tok.bos());
        assertArrayEquals(new int[] {BEGIN, G_THE}, tok.encode(" the", true));
    }
}
