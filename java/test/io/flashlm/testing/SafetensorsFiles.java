package io.flashlm.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writes a safetensors file of float tensors for tests: header JSON padded to 8 bytes, data back to back. */
public final class SafetensorsFiles {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsFiles() {
    }

    /** Tensors in map order, stored as dtype F32, F16 or BF16 (BF16 truncates, so round the values first). */
    public static void write(Path file, Map<String, float[]> tensors, Map<String, long[]> shapes, String dtype)
            throws IOException {
        int width = dtype.equals("F32") ? 4 : 2;
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (var e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", dtype);
            ArrayNode shape = t.putArray("shape");
            for (long d : shapes.get(e.getKey())) {
                shape.add(d);
            }
            long end = offset + (long) e.getValue().length * width;
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        StringBuilder h = new StringBuilder(header.toString());
        while (h.length() % 8 != 0) {
            h.append(' ');
        }
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate((int) (8 + hb.length + offset)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(hb.length).put(hb);
        for (float[] v : tensors.values()) {
            for (float f : v) {
                switch (dtype) {
                    case "F32" -> buf.putFloat(f);
                    case "F16" -> buf.putShort(Float.floatToFloat16(f));
                    case "BF16" -> buf.putShort((short) (Float.floatToIntBits(f) >>> 16));
                    default -> throw new IllegalArgumentException("dtype " + dtype);
                }
            }
        }
        Files.write(file, buf.array());
    }
}
