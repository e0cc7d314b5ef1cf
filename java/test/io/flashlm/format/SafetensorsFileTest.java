package io.flashlm.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import io.flashlm.testing.SharedModels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    @Test
    void tinyOpt() throws IOException {
        Path file = SharedModels.require("tinyopt-relu/model.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile st = SafetensorsFile.open(file, arena);
            assertEquals(68, st.tensors().size());
            assertEquals(68, st.entries().size());
            assertEquals(0, st.dataOffset() % 8);
            assertShape(st, "model.decoder.embed_tokens.weight", 1024, 256);
            assertShape(st, "model.decoder.embed_positions.weight", 514, 256);
            List<String> expected = new ArrayList<>(List.of("model.decoder.embed_tokens.weight",
                    "model.decoder.embed_positions.weight"));
            for (int l = 0; l < 4; l++) {
                String p = "model.decoder.layers." + l + ".";
                for (String proj : List.of("q_proj", "k_proj", "v_proj", "out_proj")) {
                    assertShape(st, p + "self_attn." + proj + ".weight", 256, 256);
                    assertShape(st, p + "self_attn." + proj + ".bias", 256);
                }
                assertShape(st, p + "self_attn_layer_norm.weight", 256);
                assertShape(st, p + "self_attn_layer_norm.bias", 256);
                assertShape(st, p + "fc1.weight", 1024, 256);
                assertShape(st, p + "fc1.bias", 1024);
                assertShape(st, p + "fc2.weight", 256, 1024);
                assertShape(st, p + "fc2.bias", 256);
                assertShape(st, p + "final_layer_norm.weight", 256);
                assertShape(st, p + "final_layer_norm.bias", 256);
            }
            assertShape(st, "model.decoder.final_layer_norm.weight", 256);
            assertShape(st, "model.decoder.final_layer_norm.bias", 256);
            assertFalse(st.contains("lm_head.weight"));
            long params = st.tensors().values().stream().mapToLong(Tensor::elementCount).sum();
            assertEquals(3_553_280, params);

            // Independent read: our own JSON parse of the header and positional reads of the floats.
            long headerLen = readLe(file, 0, 8).getLong(0);
            assertEquals(8 + headerLen, st.dataOffset());
            JsonNode header = new ObjectMapper().readTree(new String(readLe(file, 8, (int) headerLen).array(), "UTF-8"));
            String name = "model.decoder.layers.2.fc1.weight";
            long begin = header.get(name).get("data_offsets").get(0).asLong();
            long at = 8 + headerLen + begin + 4L * (5 * 256 + 7);
            assertEquals(readLe(file, at, 4).getFloat(0), st.tensor(name).getFloat(5, 7));
            String bias = "model.decoder.final_layer_norm.bias";
            long end = header.get(bias).get("data_offsets").get(1).asLong();
            assertEquals(readLe(file, 8 + headerLen + end - 4, 4).getFloat(0), st.tensor(bias).getFloat(255));
            assertEquals(Files.size(file), 8 + headerLen + end); // the last tensor ends the file
        }
    }

    private static void assertShape(SafetensorsFile st, String name, long... shape) throws IOException {
        Tensor t = st.tensor(name);
        assertEquals(DType.F32, t.dtype(), name);
        assertArrayEquals(shape, t.shape(), name);
    }

    private static ByteBuffer readLe(Path file, long pos, int n) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
                // read fully
            }
            return b.flip();
        }
    }

    @Test
    void halfPrecisionAndUnsupportedDtypes() throws IOException {
        byte[] f16 = new LeBytes().u16(0x3C00).u16(0xC000).u16(0x3800).u16(0x7BFF).toByteArray(); // 1, -2, 0.5, 65504
        byte[] bf16 = new LeBytes().u16(0x3F80).u16(0x4049).toByteArray(); // 1, 3.140625
        Path f = new SafetensorsWriter()
                .metadata("format", "pt")
                .tensor("a.f16", "F16", new long[] {2, 2}, f16)
                .tensor("b.bf16", "BF16", new long[] {2}, bf16)
                .tensor("c.f32", "F32", new long[] {1, 3}, LeBytes.f32s(1.5f, -2.5f, 3.5f))
                .tensor("position_ids", "I64", new long[] {2}, new LeBytes().u64(0).u64(1).toByteArray())
                .tensor("scalar", "F32", new long[0], LeBytes.f32s(42))
                .write(tmp.resolve("mixed.safetensors"));
        SafetensorsFile st = SafetensorsFile.open(f, Arena.ofAuto());
        assertEquals("pt", st.metadata().get("format"));
        assertEquals(List.of("a.f16", "b.bf16", "c.f32", "scalar"), List.copyOf(st.tensors().keySet()));
        assertEquals(5, st.entries().size());
        assertArrayEquals(new float[] {1, -2, 0.5f, 65504}, st.tensor("a.f16").toFloatArray());
        assertEquals(0.5f, st.tensor("a.f16").getFloat(1, 0));
        assertArrayEquals(new float[] {1, 3.140625f}, st.tensor("b.bf16").toFloatArray());
        assertArrayEquals(new float[] {1.5f, -2.5f, 3.5f}, st.tensor("c.f32").toFloatArray());
        assertEquals(0, st.tensor("scalar").rank());
        assertEquals(42f, st.tensor("scalar").getFloat(0));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> st.tensor("position_ids"));
        assertTrue(e.getMessage().contains("position_ids") && e.getMessage().contains("I64")
                && e.getMessage().contains("mixed.safetensors"), e.getMessage());
        assertEquals("I64", st.entry("position_ids").orElseThrow().dtype());
        e = assertThrows(ModelFormatException.class, () -> st.tensor("nope"));
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
    }

    private ModelFormatException fails(byte[] bytes, String... mustContain) throws IOException {
        Path f = Files.write(tmp.resolve("bad.safetensors"), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(f, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
        for (String s : mustContain) {
            assertTrue(e.getMessage().contains(s), () -> "'" + s + "' not in: " + e.getMessage());
        }
        return e;
    }

    private static byte[] one(String dtype, String shape, String offsets, byte[] data) {
        return SafetensorsWriter.withHeader("{\"w\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape
                + ",\"data_offsets\":" + offsets + "}}", data);
    }

    @Test
    void badHeaders() throws IOException {
        fails(new byte[5], "header_length", "truncated");
        fails(new LeBytes().u64(1000).bytes(new byte[20]).toByteArray(), "header_length", "1000");
        fails(new LeBytes().u64(1L << 60).toByteArray(), "header_length");
        fails(SafetensorsWriter.withHeader("{\"w\": [1, 2", new byte[0]), "header", "invalid JSON");
        fails(SafetensorsWriter.withHeader("[]", new byte[0]), "header", "JSON object");
        fails(SafetensorsWriter.withHeader("{} {}", new byte[0]), "header");
        fails(SafetensorsWriter.withHeader("{\"w\":1,\"w\":2}", new byte[0]), "header", "w");
        fails(one("F32", "[2]", "[0]", new byte[8]), "tensor 'w'.data_offsets");
        fails(one("F32", "[-2]", "[0, 8]", new byte[8]), "tensor 'w'.shape[0]");
        fails(one("F32", "[2.5]", "[0, 8]", new byte[8]), "tensor 'w'.shape[0]");
        fails(SafetensorsWriter.withHeader("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]), "w'.dtype");
        fails(SafetensorsWriter.withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"__metadata__\":{\"n\":1}}", new byte[8]), "__metadata__.n");
    }

    @Test
    void unknownDtypeIsAnError() throws IOException {
        fails(one("F42", "[2]", "[0, 8]", new byte[8]), "tensor 'w'.dtype", "F42");
    }

    @Test
    void offsetsMustMatchShapeAndFile() throws IOException {
        fails(one("F32", "[3]", "[0, 8]", new byte[8]), "tensor 'w'.data_offsets", "needs 12");
        fails(one("F16", "[4]", "[0, 4]", new byte[8]), "needs 8");
        fails(one("F32", "[2]", "[8, 0]", new byte[8]), "begin <= end");
        // A tensor past the end of the file.
        fails(one("F32", "[4]", "[0, 16]", new byte[8]), "tensor 'w'.data_offsets", "truncated");
        fails(SafetensorsWriter.withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]), "overlaps");
        fails(one("F32", "[4294967296, 4294967296]", "[0, 8]", new byte[8]), "overflows");
        fails(one("F32", "[2]", "[0, 99999999999999999999]", new byte[8]), "data_offsets[1]");
    }

    @Test
    void everyTruncationIsAFormatError() throws IOException {
        byte[] full = new SafetensorsWriter()
                .tensor("a", "F32", new long[] {2}, LeBytes.f32s(1, 2))
                .tensor("b", "BF16", new long[] {3}, new byte[6])
                .build();
        Path file = tmp.resolve("cut.safetensors");
        SafetensorsFile.parse(file, MemorySegment.ofArray(full));
        for (int len = 0; len < full.length; len++) {
            byte[] cut = Arrays.copyOf(full, len);
            final int n = len;
            assertThrows(ModelFormatException.class, () -> SafetensorsFile.parse(file, MemorySegment.ofArray(cut)),
                    () -> "prefix of " + n + " bytes");
        }
    }

    @Test
    void corruptedBytesNeverEscapeAsOtherExceptions() {
        byte[] full = new SafetensorsWriter()
                .metadata("format", "pt")
                .tensor("a", "F32", new long[] {2, 2}, LeBytes.f32s(1, 2, 3, 4))
                .tensor("b", "F16", new long[] {3}, new byte[6])
                .tensor("c", "I32", new long[] {1}, new byte[4])
                .build();
        Path file = tmp.resolve("fuzz.safetensors");
        Random rnd = new Random(7L);
        for (int iter = 0; iter < 3000; iter++) {
            byte[] b = full.clone();
            for (int k = 0, flips = 1 + rnd.nextInt(3); k < flips; k++) {
                b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            try {
                SafetensorsFile st = SafetensorsFile.parse(file, MemorySegment.ofArray(b));
                for (Tensor t : st.tensors().values()) {
                    t.toFloatArray();
                }
            } catch (ModelFormatException e) {
                assertTrue(e.getMessage().startsWith(file.toString()));
            } catch (Throwable t) {
                throw new AssertionError("iteration " + iter + " escaped as " + t, t);
            }
        }
    }
}
