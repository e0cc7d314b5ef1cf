package io.flashlm.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads a Hugging Face tokenizer.json into a {@link ByteLevelBpeTokenizer.Spec}, refusing (with the file and
 * the field in the message) whatever would make our encoding differ from the library's.
 */
final class TokenizerJsonReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> EOS_NAMES = List.of("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>");

    private final Path file;
    private final Map<String, Integer> vocab = new HashMap<>();
    private final Map<String, Integer> addedIds = new HashMap<>();
    private final List<ByteLevelBpeTokenizer.AddedToken> addedTokens = new ArrayList<>();

    private TokenizerJsonReader(Path file) {
        this.file = file;
    }

    static ByteLevelBpeTokenizer.Spec read(Path file) throws IOException {
        return new TokenizerJsonReader(file).parse();
    }

    private ByteLevelBpeTokenizer.Spec parse() throws IOException {
        JsonNode root = readJson(file, "tokenizer.json");
        JsonNode model = root.path("model");
        if (!model.isObject()) {
            throw error("model: missing; not a Hugging Face tokenizer.json");
        }
        String type = model.path("type").asText(model.has("merges") ? "BPE" : "");
        if (!type.equals("BPE")) {
            throw error("model.type '" + type + "' is not supported (only byte-level BPE)");
        }
        readVocab(model.path("vocab"));
        MergeTable merges = readMerges(model.path("merges"));
        checkBpeOptions(model);
        readAddedTokens(root.path("added_tokens"));
        int unk = -1;
        if (textOrNull(model.get("unk_token")) != null) {
            unk = idOf(model.get("unk_token").asText(), "model.unk_token");
        }
        UnaryOperator<String> normalizer = readNormalizer(root.get("normalizer"), "normalizer");
        PreTokenizer preTokenizer = readPreTokenizer(root.get("pre_tokenizer"));
        checkDecoder(root.get("decoder"));
        List<Integer> prefix = new ArrayList<>();
        readPostProcessor(root.get("post_processor"), "post_processor", prefix);

        // tokenizer.json does not name EOS; the config beside it does.
        int eos = -1;
        Path configFile = file.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(configFile)) {
            JsonNode config = readJson(configFile, "tokenizer_config.json");
            String eosName = tokenName(config.get("eos_token"));
            if (eosName != null) {
                eos = lookup(eosName);
            }
            String bosName = tokenName(config.get("bos_token"));
            if (prefix.isEmpty() && config.path("add_bos_token").asBoolean(false) && bosName != null
                    && lookup(bosName) >= 0) {
                prefix.add(lookup(bosName));
            }
        }
        if (eos < 0) {
            for (String name : EOS_NAMES) {
                if (addedIds.containsKey(name)) {
                    eos = addedIds.get(name);
                    break;
                }
            }
        }
        return new ByteLevelBpeTokenizer.Spec(vocab, merges, addedTokens, Set.of(), normalizer, preTokenizer,
                model.path("ignore_merges").asBoolean(false), unk,
                prefix.stream().mapToInt(Integer::intValue).toArray(), eos);
    }

    private void readVocab(JsonNode node) throws TokenizerFormatException {
        if (!node.isObject()) {
            throw error("model.vocab: expected an object of piece -> id");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw error("model.vocab['" + e.getKey() + "']: id " + e.getValue() + " is not a non-negative int");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
    }

    /** Merges are "a b" strings (older files) or ["a", "b"] pairs (newer, allows spaces); rank = position. */
    private MergeTable readMerges(JsonNode node) throws TokenizerFormatException {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return new MergeTable(0);
        }
        if (!node.isArray()) {
            throw error("model.merges: expected an array");
        }
        MergeTableBuilder table = new MergeTableBuilder(vocab, node.size());
        for (int rank = 0; rank < node.size(); rank++) {
            JsonNode m = node.get(rank);
            String[] pair;
            if (m.isTextual()) {
                pair = MergeTableBuilder.splitPair(m.asText());
                if (pair == null) {
                    throw error("model.merges[" + rank + "]: '" + m.asText() + "' is not two pieces separated by"
                            + " one space");
                }
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                pair = new String[] {m.get(0).asText(), m.get(1).asText()};
            } else {
                throw error("model.merges[" + rank + "]: expected \"a b\" or [\"a\", \"b\"], got " + m);
            }
            String missing = table.add(pair[0], pair[1]);
            if (missing != null) {
                throw error("model.merges[" + rank + "]: '" + pair[0] + "' + '" + pair[1] + "' uses '" + missing
                        + "', which is not in model.vocab");
            }
        }
        return table.build();
    }

    private void checkBpeOptions(JsonNode model) throws TokenizerFormatException {
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
            throw error("model.dropout " + dropout + " is not supported (BPE dropout is random)");
        }
        for (String field : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            String value = textOrNull(model.get(field));
            if (value != null && !value.isEmpty()) {
                throw error("model." + field + " '" + value + "' is not supported");
            }
        }
    }

    private void readAddedTokens(JsonNode node) throws TokenizerFormatException {
        if (node == null || node.isMissingNode() || node.isNull()) {
            return;
        }
        if (!node.isArray()) {
            throw error("added_tokens: expected an array");
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode t = node.get(i);
            if (!t.path("id").canConvertToInt() || !t.path("content").isTextual() || t.path("content").asText()
                    .isEmpty()) {
                throw error("added_tokens[" + i + "]: needs an int id and a non-empty content, got " + t);
            }
            var token = new ByteLevelBpeTokenizer.AddedToken(t.get("id").asInt(), t.get("content").asText(),
                    t.path("special").asBoolean(false), t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("single_word").asBoolean(false));
            addedTokens.add(token);
            addedIds.put(token.content(), token.id());
        }
    }

    private UnaryOperator<String> readNormalizer(JsonNode node, String field) throws TokenizerFormatException {
        if (node == null || node.isNull()) {
            return s -> s;
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "NFC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            case "NFD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            case "NFKC" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            case "NFKD" -> s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(Locale.ROOT);
            case "Sequence" -> {
                JsonNode list = node.path("normalizers");
                UnaryOperator<String> all = s -> s;
                for (int i = 0; i < list.size(); i++) {
                    UnaryOperator<String> first = all;
                    UnaryOperator<String> then = readNormalizer(list.get(i), field + ".normalizers[" + i + "]");
                    all = s -> then.apply(first.apply(s));
                }
                yield all;
            }
            default -> throw error(field + ".type '" + type + "' is not supported");
        };
    }

    private PreTokenizer readPreTokenizer(JsonNode node) throws TokenizerFormatException {
        List<PreTokenizer.Step> steps = new ArrayList<>();
        if (node != null && !node.isNull()) {
            addPreTokenizerSteps(node, "pre_tokenizer", steps);
        }
        if (steps.isEmpty() || !(steps.getLast() instanceof PreTokenizer.ByteLevel)) {
            throw error("pre_tokenizer: a byte-level BPE needs a ByteLevel pre-tokenizer as the last step, got "
                    + node);
        }
        for (int i = 0; i < steps.size() - 1; i++) {
            if (steps.get(i) instanceof PreTokenizer.ByteLevel) {
                throw error("pre_tokenizer: ByteLevel followed by further steps is not supported");
            }
        }
        return new PreTokenizer(steps);
    }

    private void addPreTokenizerSteps(JsonNode node, String field, List<PreTokenizer.Step> steps)
            throws TokenizerFormatException {
        String type = node.path("type").asText();
        switch (type) {
            case "ByteLevel" -> steps.add(new PreTokenizer.ByteLevel(node.path("add_prefix_space").asBoolean(true),
                    node.path("use_regex").asBoolean(true)));
            case "Split" -> steps.add(readSplit(node, field));
            case "Sequence" -> {
                JsonNode list = node.path("pretokenizers");
                for (int i = 0; i < list.size(); i++) {
                    addPreTokenizerSteps(list.get(i), field + ".pretokenizers[" + i + "]", steps);
                }
            }
            default -> throw error(field + ".type '" + type + "' is not supported (only ByteLevel, Split, Sequence)");
        }
    }

    private PreTokenizer.Split readSplit(JsonNode node, String field) throws TokenizerFormatException {
        if (node.path("invert").asBoolean(false)) {
            throw error(field + ".invert = true is not supported");
        }
        JsonNode pattern = node.path("pattern");
        String regex;
        if (pattern.path("Regex").isTextual()) {
            regex = pattern.get("Regex").asText();
        } else if (pattern.path("String").isTextual()) {
            regex = Pattern.quote(pattern.get("String").asText());
        } else {
            throw error(field + ".pattern: expected {\"Regex\": ...} or {\"String\": ...}, got " + pattern);
        }
        PreTokenizer.Behavior behavior = switch (node.path("behavior").asText()) {
            case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
            case "Removed" -> PreTokenizer.Behavior.REMOVED;
            case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
            default -> throw error(field + ".behavior '" + node.path("behavior").asText() + "' is not supported");
        };
        try {
            return new PreTokenizer.Split(PreTokenizer.compile(regex), behavior);
        } catch (PatternSyntaxException e) {
            throw new TokenizerFormatException(file, field + ".pattern: regex not understood by Java: "
                    + e.getDescription(), e);
        }
    }

    private void checkDecoder(JsonNode node) throws TokenizerFormatException {
        if (node != null && !node.isNull() && !node.path("type").asText().equals("ByteLevel")) {
            throw error("decoder.type '" + node.path("type").asText() + "' is not supported with byte-level BPE"
                    + " (only ByteLevel)");
        }
    }

    /** Collects the special tokens the post-processor puts before the text of a single sequence. */
    private void readPostProcessor(JsonNode node, String field, List<Integer> prefix)
            throws TokenizerFormatException {
        if (node == null || node.isNull()) {
            return;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "ByteLevel" -> {
                // only adjusts offsets
            }
            case "TemplateProcessing" -> {
                JsonNode single = node.path("single");
                JsonNode specials = node.path("special_tokens");
                for (int i = 0; i < single.size(); i++) {
                    JsonNode piece = single.get(i);
                    if (piece.has("Sequence")) {
                        break; // what follows the text (e.g. EOS) is not added to prompts
                    }
                    String name = piece.path("SpecialToken").path("id").asText(null);
                    JsonNode ids = specials.path(name == null ? "" : name).path("ids");
                    if (name == null || !ids.isArray()) {
                        throw error(field + ".single[" + i + "]: special token " + name + " missing from "
                                + field + ".special_tokens");
                    }
                    ids.forEach(id -> prefix.add(id.asInt()));
                }
            }
            case "RobertaProcessing", "BertProcessing" -> {
                JsonNode cls = node.path("cls");
                if (!cls.isArray() || cls.size() != 2 || !cls.get(1).canConvertToInt()) {
                    throw error(field + ".cls: expected [token, id], got " + cls);
                }
                prefix.add(cls.get(1).asInt());
            }
            case "Sequence" -> {
                JsonNode list = node.path("processors");
                for (int i = 0; i < list.size(); i++) {
                    readPostProcessor(list.get(i), field + ".processors[" + i + "]", prefix);
                }
            }
            default -> throw error(field + ".type '" + type + "' is not supported");
        }
    }

    private int idOf(String token, String field) throws TokenizerFormatException {
        int id = lookup(token);
        if (id < 0) {
            throw error(field + ": token '" + token + "' is neither in model.vocab nor in added_tokens");
        }
        return id;
    }

    private int lookup(String token) {
        Integer id = addedIds.get(token);
        if (id == null) {
            id = vocab.get(token);
        }
        return id == null ? -1 : id;
    }

    /** tokenizer_config.json writes tokens as "</s>" or as {"content": "</s>", ...}. */
    private static String tokenName(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return node.isObject() ? textOrNull(node.get("content")) : textOrNull(node);
    }

    private static String textOrNull(JsonNode node) {
        return node == null || node.isNull() || !node.isTextual() ? null : node.asText();
    }

    private static JsonNode readJson(Path path, String what) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new NoSuchFileException(path.toString(), null, what + " not found");
        }
        try {
            JsonNode node = JSON.readTree(path.toFile());
            if (node == null || !node.isObject()) {
                throw new TokenizerFormatException(path, "expected a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new TokenizerFormatException(path, "invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private TokenizerFormatException error(String problem) {
        return new TokenizerFormatException(file, problem);
    }
}
