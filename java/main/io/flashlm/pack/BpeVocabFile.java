package io.flashlm.pack;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.ModelFormatException;
import io.flashlm.tokenizer.ByteLevelBpeTokenizer;
import io.flashlm.tokenizer.GgufBpeVocab;
import io.flashlm.tokenizer.Tokenizer;
import io.flashlm.tokenizer.VocabFieldException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A pack's byte-level BPE vocabulary taken from a GGUF source ({@link PackTokenizer#BPE_VOCAB}): the GGUF
 * file's {@code tokenizer.ggml.*} keys of a gpt2 vocabulary as one JSON object, under their GGUF names, so a
 * problem found on reading names the same key as it would in the GGUF file.
 */
final class BpeVocabFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String K = "tokenizer.ggml.";

    private BpeVocabFile() {
    }

    static void write(GgufBpeVocab v, Path out) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put(K + "model", "gpt2");
        if (v.pre() != null) {
            root.put(K + "pre", v.pre());
        }
        ArrayNode tokens = root.putArray(K + "tokens");
        v.tokens().forEach(tokens::add);
        if (v.types() != null) {
            ArrayNode types = root.putArray(K + "token_type");
            for (int t : v.types()) {
                types.add(t);
            }
        }
        ArrayNode merges = root.putArray(K + "merges");
        v.merges().forEach(merges::add);
        String[] idKeys = {"bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id"};
        int[] ids = {v.bos(), v.eos(), v.unk(), v.pad()};
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] >= 0) {
                root.put(K + idKeys[i], ids[i]);
            }
        }
        if (v.addBos() != null) {
            root.put(K + "add_bos_token", v.addBos());
        }
        Files.writeString(out, root.toString());
    }

    static Tokenizer read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new ModelFormatException(file, "json", "invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(file, "json", "expected an object of tokenizer.ggml.* keys");
        }
        GgufBpeVocab v = new GgufBpeVocab(strings(file, root, "tokens"), ints(file, root, "token_type"),
                strings(file, root, "merges"), text(file, root, "pre"), id(file, root, "bos_token_id"),
                id(file, root, "eos_token_id"), id(file, root, "unknown_token_id"), id(file, root, "padding_token_id"),
                bool(file, root, "add_bos_token"));
        try {
            return ByteLevelBpeTokenizer.fromGgufVocab(v);
        } catch (VocabFieldException e) {
            throw new ModelFormatException(file, e.field(), e.problem(), e);
        }
    }

    /** A required array of strings. */
    private static List<String> strings(Path file, JsonNode root, String key) throws ModelFormatException {
        JsonNode node = root.path(K + key);
        List<String> out = new ArrayList<>();
        for (int i = 0; node.isArray() && i < node.size() && node.get(i).isTextual(); i++) {
            out.add(node.get(i).asText());
        }
        if (!node.isArray() || out.size() != node.size()) {
            throw new ModelFormatException(file, K + key, "expected an array of strings");
        }
        return out;
    }

    /** An optional array of ints; null when absent. */
    private static int[] ints(Path file, JsonNode root, String key) throws ModelFormatException {
        JsonNode node = root.get(K + key);
        if (node == null) {
            return null;
        }
        int[] out = new int[node.size()];
        for (int i = 0; node.isArray() && i < out.length; i++) {
            if (!node.get(i).canConvertToInt()) {
                throw new ModelFormatException(file, K + key + "[" + i + "]", "expected an int, got " + node.get(i));
            }
            out[i] = node.get(i).asInt();
        }
        if (!node.isArray()) {
            throw new ModelFormatException(file, K + key, "expected an array of ints");
        }
        return out;
    }

    /** An optional token id; -1 when absent. */
    private static int id(Path file, JsonNode root, String key) throws ModelFormatException {
        JsonNode node = root.get(K + key);
        if (node != null && !node.canConvertToInt()) {
            throw new ModelFormatException(file, K + key, "expected an int token id, got " + node);
        }
        return node == null ? -1 : node.asInt();
    }

    private static String text(Path file, JsonNode root, String key) throws ModelFormatException {
        JsonNode node = root.get(K + key);
        if (node != null && !node.isTextual()) {
            throw new ModelFormatException(file, K + key, "expected a string, got " + node);
        }
        return node == null ? null : node.asText();
    }

    private static Boolean bool(Path file, JsonNode root, String key) throws ModelFormatException {
        JsonNode node = root.get(K + key);
        if (node != null && !node.isBoolean()) {
            throw new ModelFormatException(file, K + key, "expected true or false, got " + node);
        }
        return node == null ? null : node.asBoolean();
    }
}
