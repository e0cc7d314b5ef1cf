package io.flashlm.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes small safetensors files for tests: header JSON padded to 8 bytes, tensors back to back. */
final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode header = JSON.createObjectNode();
    private final LeBytes data = new LeBytes();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    SafetensorsWriter tensor(String name, String dtype, long[] shape, byte[] bytes) {
        int begin = data.size();
        data.bytes(bytes);
        return entry(name, dtype, shape, begin, data.size());
    }

    /** A header entry with explicit offsets (no data written). */
    SafetensorsWriter entry(String name, String dtype, long[] shape, long begin, long end) {
        ObjectNode e = header.putObject(name);
        e.put("dtype", dtype);
        ArrayNode s = e.putArray("shape");
        for (long d : shape) {
            s.add(d);
        }
        e.putArray("data_offsets").add(begin).add(end);
        return this;
    }

    SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    byte[] build() {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(m::put);
        }
        root.setAll(header);
        return withHeader(root.toString(), data.toByteArray());
    }

    /** A file with the given header JSON (padded with spaces to 8 bytes) and data. */
    static byte[] withHeader(String json, byte[] data) {
        StringBuilder sb = new StringBuilder(json);
        while (sb.length() % 8 != 0) {
            sb.append(' ');
        }
        byte[] h = sb.toString().getBytes(StandardCharsets.UTF_8);
        return new LeBytes().u64(h.length).bytes(h).bytes(data).toByteArray();
    }

    Path write(Path file) throws IOException {
        return Files.write(file, build());
    }
}
