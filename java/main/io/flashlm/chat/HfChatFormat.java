package io.flashlm.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.format.ModelFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The chat format of a Hugging Face directory (or a pack that kept its tokenizer_config.json): see
 * {@link ChatFormat}.
 */
final class HfChatFormat {
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    static final String TEMPLATE_FILE = "chat_template.jinja";
    static final String GENERATION_CONFIG = "generation_config.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfChatFormat() {
    }

    static ChatFormat read(Path dir) throws IOException {
        Path config = dir.resolve(TOKENIZER_CONFIG);
        JsonNode root = Files.isRegularFile(config) ? readJson(config) : JSON.createObjectNode();
        String template = null;
        String origin = "no " + TOKENIZER_CONFIG + " chat_template and no " + TEMPLATE_FILE;
        JsonNode t = root.path("chat_template");
        if (t.isTextual()) {
            template = t.asText();
            origin = config + ": chat_template";
        } else if (t.isArray()) {
            for (JsonNode named : t) {
                if (named.path("name").asText().equals("default")) {
                    template = text(config, named.path("template"), "chat_template[name=default].template");
                }
            }
            if (template == null) {
                throw new ModelFormatException(config, "chat_template", "a list of named templates without one"
                        + " named \"default\"; expected [{\"name\": \"default\", \"template\": ...}, ...]");
            }
            origin = config + ": chat_template (\"default\")";
        } else if (!t.isMissingNode() && !t.isNull()) {
            throw new ModelFormatException(config, "chat_template", "expected a string or a list of {name, template}");
        }
        if (template == null && Files.isRegularFile(dir.resolve(TEMPLATE_FILE))) {
            template = Files.readString(dir.resolve(TEMPLATE_FILE));
            origin = dir.resolve(TEMPLATE_FILE).toString();
        }
        String eos = token(config, root, "eos_token");
        List<String> stopTokens = eos != null ? List.of(eos) : List.of();
        return new ChatFormat(dir, template, origin, token(config, root, "bos_token"), eos,
                generationEos(dir.resolve(GENERATION_CONFIG)), stopTokens);
    }

    /** bos_token/eos_token: a string, or an added-token object {"content": ...}; null when absent. */
    private static String token(Path file, JsonNode root, String field) throws ModelFormatException {
        JsonNode v = root.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (v.isObject()) {
            return text(file, v.path("content"), field + ".content");
        }
        return text(file, v, field);
    }

    /** generation_config.json eos_token_id: one id or a list of ids. */
    private static List<Integer> generationEos(Path file) throws IOException {
        List<Integer> ids = new ArrayList<>();
        if (!Files.isRegularFile(file)) {
            return ids;
        }
        JsonNode v = readJson(file).path("eos_token_id");
        if (v.isMissingNode() || v.isNull()) {
            return ids;
        }
        for (JsonNode id : v.isArray() ? v : List.of(v)) {
            if (!id.canConvertToInt() || id.asInt() < 0) {
                throw new ModelFormatException(file, "eos_token_id", "expected a token id or a list of them, found "
                        + v);
            }
            ids.add(id.asInt());
        }
        return ids;
    }

    private static String text(Path file, JsonNode v, String field) throws ModelFormatException {
        if (!v.isTextual()) {
            throw new ModelFormatException(file, field, "expected a string, found " + v);
        }
        return v.asText();
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ModelFormatException(file, "json", "not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
