package io.flashlm.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashlm.format.ModelFormatException;

import java.nio.file.Path;

/** config.json fields with errors that name the file and the field. */
record HfConfig(Path file, JsonNode node) {
    boolean has(String field) {
        return node.has(field);
    }

    String architecture() throws ModelFormatException {
        JsonNode a = node.get("architectures");
        if (a == null || !a.isArray() || a.isEmpty() || !a.get(0).isTextual()) {
            throw new ModelFormatException(file, "architectures", "missing; expected e.g. [\"LlamaForCausalLM\"]");
        }
        return a.get(0).asText();
    }

    int integer(String field) throws ModelFormatException {
        JsonNode v = node.get(field);
        if (v == null || !v.canConvertToInt() || v.asInt() <= 0) {
            throw new ModelFormatException(file, field, (v == null ? "missing" : "value " + v)
                    + "; expected a positive integer");
        }
        return v.asInt();
    }

    int integer(String field, int defaultValue) throws ModelFormatException {
        return node.hasNonNull(field) ? integer(field) : defaultValue;
    }

    double number(String field, double defaultValue) throws ModelFormatException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        if (!v.isNumber()) {
            throw new ModelFormatException(file, field, "value " + v + "; expected a number");
        }
        return v.asDouble();
    }

    boolean bool(String field, boolean defaultValue) throws ModelFormatException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        if (!v.isBoolean()) {
            throw new ModelFormatException(file, field, "value " + v + "; expected true or false");
        }
        return v.asBoolean();
    }

    String text(String field, String defaultValue) throws ModelFormatException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return defaultValue;
        }
        if (!v.isTextual()) {
            throw new ModelFormatException(file, field, "value " + v + "; expected a string");
        }
        return v.asText();
    }
}
