package io.flashlm.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad and unsupported tokenizer files fail with a message that names the file and the problem. */
class TokenizerErrorsTest {

    @Test
    void missingFiles(@TempDir Path dir) {
        Path bin = dir.resolve("nope.bin");
        var e = assertThrows(NoSuchFileException.class, () -> SentencePieceBpeTokenizer.fromLlama2cFile(bin, 512));
        assertMentions(e, bin.toString(), "not found");
        Path json = dir.resolve("tokenizer.json");
        e = assertThrows(NoSuchFileException.class, () -> ByteLevelBpeTokenizer.fromTokenizerJson(json));
        assertMentions(e, json.toString(), "not found");
    }

    @Test
    void truncatedLlama2cFile(@TempDir Path dir) throws IOException {
        Path full = SentencePieceBpeTokenizerTest.writeLlama2c(dir.resolve("full.bin"),
                SentencePieceBpeTokenizerTest.pieces(" "), SentencePieceBpeTokenizerTest.scores());
        byte[] bytes = Files.readAllBytes(full);
        Path cut = Files.write(dir.resolve("cut.bin"), Arrays.copyOf(bytes, bytes.length - 3));
        var e = assertThrows(TokenizerFormatException.class,
                () -> SentencePieceBpeTokenizer.fromLlama2cFile(cut, SentencePieceBpeTokenizerTest.TOOL + 1));
        assertMentions(e, cut.toString(), "truncated", "token " + SentencePieceBpeTokenizerTest.TOOL);
        // asking for more tokens than the file holds is the same mistake
        e = assertThrows(TokenizerFormatException.class,
                () -> SentencePieceBpeTokenizer.fromLlama2cFile(full, SentencePieceBpeTokenizerTest.TOOL + 2));
        assertMentions(e, full.toString(), "truncated", "wrong vocab size");
        e = assertThrows(TokenizerFormatException.class,
                () -> SentencePieceBpeTokenizer.fromLlama2cFile(full, SentencePieceBpeTokenizerTest.TOOL));
        assertMentions(e, full.toString(), "more than " + SentencePieceBpeTokenizerTest.TOOL + " tokens");
        Path tiny = Files.write(dir.resolve("tiny.bin"), new byte[] {1, 0});
        e = assertThrows(TokenizerFormatException.class, () -> SentencePieceBpeTokenizer.fromLlama2cFile(tiny, 3));
        assertMentions(e, tiny.toString(), "truncated");
        Path json = Files.writeString(dir.resolve("not-a-tokenizer.bin"), "{\"model\": {\"type\": \"BPE\"}}");
        e = assertThrows(TokenizerFormatException.class, () -> SentencePieceBpeTokenizer.fromLlama2cFile(json, 512));
        assertMentions(e, json.toString(), "not a llama2.c tokenizer");
    }

    @Test
    void unsupportedModelType(@TempDir Path dir) throws IOException {
        assertRejected(dir, json -> ((ObjectNode) json.get("model")).put("type", "Unigram"), "model.type",
                "Unigram");
    }

    @Test
    void otherUnsupportedOrBrokenFields(@TempDir Path dir) throws IOException {
        assertRejected(dir, json -> json.putObject("pre_tokenizer").put("type", "Metaspace"), "pre_tokenizer",
                "Metaspace");
        assertRejected(dir, json -> json.putNull("pre_tokenizer"), "pre_tokenizer", "ByteLevel");
        assertRejected(dir, json -> ((ObjectNode) json.get("model")).putArray("merges").add("h x"),
                "model.merges[0]", "'x'");
        assertRejected(dir, json -> ((ObjectNode) json.get("model")).putArray("merges").add("abc"),
                "model.merges[0]");
        assertRejected(dir, json -> ((ObjectNode) json.get("model")).put("dropout", 0.1), "model.dropout");
        assertRejected(dir, json -> json.putObject("normalizer").put("type", "BertNormalizer"), "normalizer.type");
        assertRejected(dir, json -> json.putObject("decoder").put("type", "WordPiece"), "decoder.type");
        assertRejected(dir, json -> json.putObject("post_processor").put("type", "Weird"), "post_processor.type");
        assertRejected(dir, json -> {
            ObjectNode split = json.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers")
                    .addObject().put("type", "Split").put("behavior", "Isolated");
            split.putObject("pattern").put("Regex", "(unclosed");
            ((ArrayNode) json.get("pre_tokenizer").get("pretokenizers"))
                    .addObject().put("type", "ByteLevel");
        }, "pre_tokenizer.pretokenizers[0].pattern", "regex");
    }

    @Test
    void invalidJson(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        var e = assertThrows(TokenizerFormatException.class, () -> ByteLevelBpeTokenizer.fromTokenizerJson(file));
        assertMentions(e, file.toString(), "invalid JSON");
    }

    private static void assertRejected(Path dir, Consumer<ObjectNode> breakIt, String... mentions)
            throws IOException {
        ObjectNode json = ByteLevelBpeTokenizerTest.gpt2Style();
        breakIt.accept(json);
        Path file = dir.resolve("tokenizer.json");
        ByteLevelBpeTokenizerTest.JSON.writeValue(file.toFile(), json);
        var e = assertThrows(TokenizerFormatException.class, () -> ByteLevelBpeTokenizer.fromTokenizerJson(file));
        String[] all = Arrays.copyOf(mentions, mentions.length + 1);
        all[mentions.length] = file.toString();
        assertMentions(e, all);
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
        }
    }
}
