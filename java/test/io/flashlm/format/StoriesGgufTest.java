package io.flashlm.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import io.flashlm.testing.SharedModels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real stories260K.gguf, checked against its metadata and against stories260K.bin. */
class StoriesGgufTest {
    private static Arena arena;
    private static GgufFile gguf;

    @BeforeAll
    static void open() throws IOException {
        arena = Arena.ofShared();
        gguf = GgufFile.open(SharedModels.require("stories260K.gguf"), arena);
    }

    @AfterAll
    static void close() {
        if (arena != null) {
            arena.close();
        }
    }

    @Test
    void header() {
        assertEquals(3, gguf.version());
        assertEquals(32, gguf.alignment()); // no general.alignment key: the default
        assertEquals(14176, gguf.dataOffset()); // tensor infos end at 14152, aligned up to 32
        assertEquals(1_185_376, gguf.fileSize());
        assertEquals(19, gguf.metadata().keys().size());
        assertEquals(48, gguf.tensors().size());
    }

    @Test
    void metadata() throws IOException {
        GgufMetadata m = gguf.metadata();
        assertEquals("llama", m.getString("general.architecture"));
        assertEquals(64, m.getInt("llama.embedding_length"));
        assertEquals(5, m.getInt("llama.block_count"));
        assertEquals(8, m.getInt("llama.attention.head_count"));
        assertEquals(4, m.getInt("llama.attention.head_count_kv"));
        assertEquals(172, m.getInt("llama.feed_forward_length"));
        assertEquals(2048, m.getInt("llama.context_length")); // note: the .bin header says seq_len 512
        assertEquals(8, m.getInt("llama.rope.dimension_count"));
        assertEquals(1e-5f, m.getFloat("llama.attention.layer_norm_rms_epsilon"));
        assertEquals(GgufValueType.UINT32, m.require("llama.block_count").type());

        assertEquals("llama", m.getString("tokenizer.ggml.model"));
        String[] tokens = m.getStringArray("tokenizer.ggml.tokens");
        assertEquals(512, tokens.length);
        assertEquals("<unk>", tokens[0]);
        assertEquals("<s>", tokens[1]);
        assertEquals("</s>", tokens[2]);
        assertEquals("<0x00>", tokens[3]);
        assertEquals("<0xFF>", tokens[258]);
        float[] scores = m.getFloatArray("tokenizer.ggml.scores");
        assertEquals(512, scores.length);
        assertEquals(0.0f, scores[0]);
        int[] types = m.getIntArray("tokenizer.ggml.token_type");
        assertEquals(512, types.length);
        assertEquals(GgufValueType.INT32, m.require("tokenizer.ggml.token_type").elementType());
        assertArrayEquals(new int[] {2, 3, 3, 6}, java.util.Arrays.copyOf(types, 4)); // unknown, control x2, byte
        assertEquals(1, m.getInt("tokenizer.ggml.bos_token_id"));
        assertEquals(2, m.getInt("tokenizer.ggml.eos_token_id"));
        assertEquals(0, m.getInt("tokenizer.ggml.unknown_token_id"));
        // uint32 0xFFFFFFFF ("none"), spelled "seperator" in the file.
        assertEquals(4294967295L, m.getLong("tokenizer.ggml.seperator_token_id"));
        assertThrows(ModelFormatException.class, () -> m.getInt("tokenizer.ggml.padding_token_id"));
    }

    @Test
    void tensorNamesShapesTypes() throws IOException {
        assertShape("token_embd.weight", 512, 64);
        assertShape("output_norm.weight", 64);
        assertShape("output.weight", 512, 64);
        for (int l = 0; l < 5; l++) {
            String b = "blk." + l + ".";
            assertShape(b + "attn_q.weight", 64, 64);
            assertShape(b + "attn_k.weight", 32, 64); // [kv_dim, dim]: out x in
            assertShape(b + "attn_v.weight", 32, 64);
            assertShape(b + "attn_output.weight", 64, 64);
            assertShape(b + "attn_norm.weight", 64);
            assertShape(b + "ffn_gate.weight", 172, 64);
            assertShape(b + "ffn_down.weight", 64, 172);
            assertShape(b + "ffn_up.weight", 172, 64);
            assertShape(b + "ffn_norm.weight", 64);
        }
        GgufTensorInfo first = gguf.tensorInfos().getFirst();
        assertEquals("token_embd.weight", first.name());
        assertArrayEquals(new long[] {64, 512}, first.ne()); // GGML order: contiguous dimension first
        assertEquals(0, first.offset());
        assertEquals(1_170_944, gguf.tensorInfos().getLast().offset());
    }

    private static void assertShape(String name, long... shape) throws IOException {
        Tensor t = gguf.tensor(name);
        assertEquals(DType.F32, t.dtype(), name);
        assertArrayEquals(shape, t.shape(), name);
    }

    @Test
    void tokenEmbeddingEqualsTheBinElementForElement() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            Llama2cCheckpoint bin = Llama2cCheckpoint.open(SharedModels.require("stories260K.bin"), a);
            Tensor g = gguf.tensor("token_embd.weight");
            Tensor b = bin.tensor("token_embedding");
            assertEquals(b.elementCount(), g.elementCount());
            for (long i = 0; i < g.elementCount(); i++) {
                if (Float.floatToRawIntBits(g.getFloat(i)) != Float.floatToRawIntBits(b.getFloat(i))) {
                    throw new AssertionError("token embedding element " + i + ": gguf " + g.getFloat(i) + ", bin "
                            + b.getFloat(i));
                }
            }
            assertTrue(g.data().mismatch(gguf.tensor("output.weight").data()) == -1, "output.weight == token_embd");
        }
    }

    /** Every GGUF tensor has the same shape and bytes as its .bin counterpart (Q/K are not permuted). */
    @Test
    void everyTensorMatchesTheBin() throws IOException {
        try (Arena a = Arena.ofConfined()) {
            Llama2cCheckpoint bin = Llama2cCheckpoint.open(SharedModels.require("stories260K.bin"), a);
            Map<String, String> names = new LinkedHashMap<>();
            names.put("token_embd.weight", "token_embedding");
            names.put("output.weight", "wcls");
            names.put("output_norm.weight", "rms_final");
            String[][] perLayer = {{"attn_q", "wq"}, {"attn_k", "wk"}, {"attn_v", "wv"}, {"attn_output", "wo"},
                {"attn_norm", "rms_att"}, {"ffn_gate", "w1"}, {"ffn_down", "w2"}, {"ffn_up", "w3"}, {"ffn_norm", "rms_ffn"}};
            for (int l = 0; l < 5; l++) {
                for (String[] p : perLayer) {
                    names.put("blk." + l + "." + p[0] + ".weight", "layers." + l + "." + p[1]);
                }
            }
            assertEquals(48, names.size());
            for (Map.Entry<String, String> e : names.entrySet()) {
                Tensor g = gguf.tensor(e.getKey());
                Tensor b = bin.tensor(e.getValue());
                assertArrayEquals(b.shape(), g.shape(), e.toString());
                assertEquals(-1, g.data().mismatch(b.data()), e.toString());
            }
        }
    }
}
