package io.flashlm.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.synth.SyntheticTokenizer;
import io.flashlm.testing.SafetensorsFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Writes a tiny Hugging Face model directory for tests: config.json, model.safetensors with
 * random weights under the real tensor names, and a byte-level tokenizer.json (4 specials + 256
 * byte tokens, no merges). Keeps every tensor as floats, already rounded to the stored dtype, so
 * that a reference implementation can use exactly the weights the engine reads.
 */
final class HfFixture {
    static final ObjectMapper JSON = new ObjectMapper();

    final Map<String, float[]> tensors = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    final ObjectNode config = JSON.createObjectNode();
    private final Random rnd;
    private final String dtype;

    /** dtype: F32, F16 or BF16 (safetensors names). */
    HfFixture(long seed, String dtype) {
        this.rnd = new Random(seed);
        this.dtype = dtype;
    }

    /** A tensor of uniform values in [-scale, scale) (or center +- scale), rounded to the dtype. */
    float[] random(String name, float center, float scale, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = round(center + (rnd.nextFloat() * 2 - 1) * scale);
        }
        tensors.put(name, v);
        shapes.put(name, shape);
        return v;
    }

    float[] get(String name) {
        float[] v = tensors.get(name);
        if (v == null) {
            throw new IllegalArgumentException("fixture has no tensor " + name);
        }
        return v;
    }

    private float round(float f) {
        return switch (dtype) {
            case "F32" -> f;
            case "F16" -> Float.float16ToFloat(Float.floatToFloat16(f));
            case "BF16" -> Float.intBitsToFloat(Float.floatToIntBits(f) & 0xffff0000);
            default -> throw new IllegalArgumentException(dtype);
        };
    }

    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        SafetensorsFiles.write(dir.resolve("model.safetensors"), tensors, shapes, dtype);
        // The byte-level tokenizer that synthetic packs carry: 4 specials, then the 256 bytes.
        SyntheticTokenizer.write(dir, config.path("architectures").path(0).asText().startsWith("OPT")
                ? ModelConfig.Architecture.OPT : ModelConfig.Architecture.LLAMA, config.path("vocab_size").asInt());
        return dir;
    }
}
