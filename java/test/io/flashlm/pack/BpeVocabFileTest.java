package io.flashlm.pack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.ModelFormatException;
import io.flashlm.tokenizer.ByteLevelBpeTokenizer;
import io.flashlm.tokenizer.GgufBpeVocab;
import io.flashlm.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A GGUF gpt2 vocabulary written into a pack as JSON reads back as the same tokenizer; bad keys are named. */
class BpeVocabFileTest {
    static final ObjectMapper JSON = new ObjectMapper();
    // 0 <s> (control), then "a", "b", "ab", "Ġ" (space), "Ġab"
    static final List<String> TOKENS = List.of("<s>", "a", "b", "ab", "\u0120", "\u0120ab");
    static final List<String> MERGES = List.of("a b", "\u0120 ab");

    @TempDir
    Path tmp;

    @Test
    void readsBackTheSameTokenizer() throws IOException {
        List<GgufBpeVocab> vocabs = List.of(
                new GgufBpeVocab(TOKENS, new int[] {3, 1, 1, 1, 1, 1}, MERGES, "llama-bpe", 0, 0, -1, -1, false),
                new GgufBpeVocab(TOKENS, null, MERGES, null, -1, -1, -1, -1, null));
        for (GgufBpeVocab v : vocabs) {
            Path file = tmp.resolve("vocab.json");
            BpeVocabFile.write(v, file);
            Tokenizer read = BpeVocabFile.read(file);
            Tokenizer direct = ByteLevelBpeTokenizer.fromGgufVocab(v);
            for (String text : List.of(" ab ab<s>b", "ab", "<s>")) {
                assertArrayEquals(direct.encode(text, true), read.encode(text, true), text);
            }
            assertEquals(direct.bos(), read.bos());
            assertEquals(direct.eos(), read.eos());
            assertEquals(direct.isSpecial(0), read.isSpecial(0));
        }
        // the first vocabulary: " ab" a word of the vocabulary, <s> cut out whole, no BOS (add_bos_token false)
        BpeVocabFile.write(vocabs.getFirst(), tmp.resolve("first.json"));
        assertArrayEquals(new int[] {5, 5, 0, 2}, BpeVocabFile.read(tmp.resolve("first.json")).encode(" ab ab<s>b",
                true));
    }

    @Test
    void badKeysAreNamed() throws IOException {
        assertRejected(j -> j.put("tokenizer.ggml.tokens", "abc"), "tokenizer.ggml.tokens", "array of strings");
        assertRejected(j -> j.putArray("tokenizer.ggml.token_type").add(1).add("x"), "tokenizer.ggml.token_type[1]",
                "expected an int");
        assertRejected(j -> j.put("tokenizer.ggml.bos_token_id", "zero"), "tokenizer.ggml.bos_token_id", "token id");
        assertRejected(j -> j.put("tokenizer.ggml.add_bos_token", 1), "tokenizer.ggml.add_bos_token", "true or false");
        assertRejected(j -> j.putArray("tokenizer.ggml.merges").add("a z"), "tokenizer.ggml.merges[0]", "'z'");
        assertRejected(j -> j.put("tokenizer.ggml.pre", "klingon"), "tokenizer.ggml.pre", "'klingon'");
    }

    private void assertRejected(Consumer<ObjectNode> breakIt, String field, String... mentions) throws IOException {
        Path file = tmp.resolve("broken.json");
        BpeVocabFile.write(new GgufBpeVocab(TOKENS, null, MERGES, "gpt-2", 0, -1, -1, -1, true), file);
        ObjectNode json = (ObjectNode) JSON.readTree(file.toFile());
        breakIt.accept(json);
        JSON.writeValue(file.toFile(), json);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> BpeVocabFile.read(file));
        assertEquals(field, e.field());
        for (String part : mentions) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
        }
    }
}
