package io.flashlm.pack;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashlm.format.ModelFormatException;

import java.nio.file.Path;

/** Typed reads of a JSON tree whose errors name the file and the field's path, e.g. {@code dram.tensors[3].offset}. */
record Json(Path file, String path, JsonNode node) {

    Json get(String field) throws ModelFormatException {
        JsonNode v = node.get(field);
        String p = path.isEmpty() ? field : path + "." + field;
        if (v == null || v.isNull()) {
            throw new ModelFormatException(file, p, "missing");
        }
        return new Json(file, p, v);
    }

    boolean has(String field) {
        return node.hasNonNull(field);
    }

    Json at(int i) {
        return new Json(file, path + "[" + i + "]", node.get(i));
    }

    int size() throws ModelFormatException {
        if (!node.isArray()) {
            throw error("expected an array");
        }
        return node.size();
    }

    String text() throws ModelFormatException {
        if (!node.isTextual()) {
            throw error("value " + node + "; expected a string");
        }
        return node.asText();
    }

    long longValue(long min, long max) throws ModelFormatException {
        if (!node.isIntegralNumber() || !node.canConvertToLong() || node.asLong() < min || node.asLong() > max) {
            throw error("value " + node + "; expected an integer in [" + min + ", " + max + "]");
        }
        return node.asLong();
    }

    int intValue(int min, int max) throws ModelFormatException {
        return (int) longValue(min, max);
    }

    int positiveInt() throws ModelFormatException {
        return intValue(1, Integer.MAX_VALUE);
    }

    double number() throws ModelFormatException {
        if (!node.isNumber()) {
            throw error("value " + node + "; expected a number");
        }
        return node.asDouble();
    }

    boolean bool() throws ModelFormatException {
        if (!node.isBoolean()) {
            throw error("value " + node + "; expected true or false");
        }
        return node.asBoolean();
    }

    /** A CRC-32C written as 8 hex digits. */
    int crc32c() throws ModelFormatException {
        String s = text();
        if (!s.matches("[0-9a-f]{8}")) {
            throw error("value \"" + s + "\"; expected a CRC-32C as 8 lower-case hex digits");
        }
        return Integer.parseUnsignedInt(s, 16);
    }

    ModelFormatException error(String problem) {
        return new ModelFormatException(file, path, problem);
    }
}
