package io.flashlm.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import io.flashlm.testing.SharedModels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void stories260K() throws IOException {
        Path file = SharedModels.require("stories260K.bin");
        try (Arena arena = Arena.ofConfined()) {
            Llama2cCheckpoint c = Llama2cCheckpoint.open(file, arena);
            Llama2cHeader h = c.header();
            assertEquals(new Llama2cHeader(64, 172, 5, 8, 4, 512, 512, true), h);
            assertEquals(8, h.headSize());
            assertEquals(32, h.kvDim());
            assertEquals(1 + 5 * 9 + 1 + 1, c.tensors().size());
            assertArrayEquals(new long[] {512, 64}, c.tensor("token_embedding").shape());
            for (int l = 0; l < 5; l++) {
                String p = "layers." + l + ".";
                assertArrayEquals(new long[] {64}, c.tensor(p + "rms_att").shape());
                assertArrayEquals(new long[] {64, 64}, c.tensor(p + "wq").shape());
                assertArrayEquals(new long[] {32, 64}, c.tensor(p + "wk").shape());
                assertArrayEquals(new long[] {32, 64}, c.tensor(p + "wv").shape());
                assertArrayEquals(new long[] {64, 64}, c.tensor(p + "wo").shape());
                assertArrayEquals(new long[] {64}, c.tensor(p + "rms_ffn").shape());
                assertArrayEquals(new long[] {172, 64}, c.tensor(p + "w1").shape());
                assertArrayEquals(new long[] {64, 172}, c.tensor(p + "w2").shape());
                assertArrayEquals(new long[] {172, 64}, c.tensor(p + "w3").shape());
            }
            assertArrayEquals(new long[] {64}, c.tensor("rms_final").shape());
            // Shared classifier: the same bytes as the embedding.
            Tensor wcls = c.tensor("wcls");
            assertEquals(c.tensor("token_embedding").data().address(), wcls.data().address());

            // Header + every distinct tensor + the two skipped RoPE tables (512 * 8 / 2 floats each) = file size.
            long bytes = Llama2cHeader.BYTES + 2L * 4 * (512 * 8 / 2);
            for (Tensor t : c.tensors().values()) {
                assertEquals(DType.F32, t.dtype());
                bytes += t.name().equals("wcls") ? 0 : t.byteSize();
            }
            assertEquals(Files.size(file), bytes);

            // Tensors are consecutive views: rms_final ends where the RoPE tables begin.
            Tensor rmsFinal = c.tensor("rms_final");
            assertEquals(Files.size(file) - 2L * 4 * 2048, rmsFinal.data().address() - c.mapping().address() + 256);

            // Values cross-checked against a manual read of the bytes.
            ByteBuffer head = read(file, 0, 28 + 8);
            assertEquals(64, head.getInt(0));
            assertEquals(512, head.getInt(20));
            assertEquals(head.getFloat(28), c.tensor("token_embedding").getFloat(0));
            assertEquals(head.getFloat(32), c.tensor("token_embedding").getFloat(0, 1));
            long lastW3 = Files.size(file) - 2L * 4 * 2048 - 4 * 64 - 4;
            assertEquals(read(file, lastW3, 4).getFloat(0), c.tensor("layers.4.w3").getFloat(171, 63));
        }
    }

    private static ByteBuffer read(Path file, long pos, int n) throws IOException {
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(b, pos);
            return b.flip();
        }
    }

    /**
     * A tiny checkpoint whose floats count up from 0, so each tensor's first value is its float offset:
     * dim 8, hidden 16, 2 layers, 2 heads, 1 kv head (kv_dim 4), vocab 10, seq_len 4 (head_size 4).
     */
    private static byte[] tiny(int vocabField, boolean withClassifier, int extraFloats) {
        int floats = 10 * 8 + 2 * 8 + 2 * 64 + 2 * 2 * 32 + 2 * 64 + 2 * 8 + 3 * 2 * 128 + 8 + 2 * 8
                + (withClassifier ? 80 : 0) + extraFloats;
        LeBytes b = new LeBytes().u32(8).u32(16).u32(2).u32(2).u32(1).u32(vocabField).u32(4);
        for (int i = 0; i < floats; i++) {
            b.f32(i);
        }
        return b.toByteArray();
    }

    @Test
    void separateClassifierAfterRopeTables() throws IOException {
        Path f = Files.write(tmp.resolve("sep.bin"), tiny(-10, true, 0));
        Llama2cCheckpoint c = Llama2cCheckpoint.open(f, Arena.ofAuto());
        assertFalse(c.header().sharedClassifier());
        assertEquals(10, c.header().vocabSize());
        assertEquals(0f, c.tensor("token_embedding").getFloat(0));
        assertEquals(80f, c.tensor("layers.0.rms_att").getFloat(0));
        assertEquals(88f, c.tensor("layers.1.rms_att").getFloat(0));
        assertEquals(96f, c.tensor("layers.0.wq").getFloat(0));
        assertEquals(160f, c.tensor("layers.1.wq").getFloat(0));
        assertEquals(224f, c.tensor("layers.0.wk").getFloat(0));
        assertArrayEquals(new long[] {4, 8}, c.tensor("layers.0.wk").shape());
        assertEquals(256f, c.tensor("layers.1.wk").getFloat(0));
        assertEquals(288f, c.tensor("layers.0.wv").getFloat(0));
        int rmsFinal = 80 + 16 + 128 + 64 + 64 + 128 + 16 + 768;
        assertEquals(rmsFinal, c.tensor("rms_final").getFloat(0));
        // wcls skips the two RoPE tables of seq_len * head_size / 2 = 8 floats each.
        assertEquals(rmsFinal + 8 + 16, c.tensor("wcls").getFloat(0));
        assertEquals(rmsFinal + 8 + 16 + 79, c.tensor("wcls").getFloat(9, 7));
    }

    @Test
    void sharedClassifierIsTheEmbedding() throws IOException {
        Path f = Files.write(tmp.resolve("shared.bin"), tiny(10, false, 0));
        Llama2cCheckpoint c = Llama2cCheckpoint.open(f, Arena.ofAuto());
        assertTrue(c.header().sharedClassifier());
        assertEquals(-1, c.tensor("wcls").data().mismatch(c.tensor("token_embedding").data()));
        assertSame(c.tensors(), c.tensors());
    }

    @Test
    void sizeMustMatchTheHeaderExactly() throws IOException {
        byte[] good = tiny(-10, true, 0);
        ModelFormatException e = fail("cut.bin", Arrays.copyOf(good, good.length - 4), "file size", "truncated");
        assertEquals("file size", e.field());
        fail("long.bin", tiny(-10, true, 1), "file size");
        // Positive vocab_size but a classifier present: say so.
        fail("mixed.bin", tiny(10, true, 0), "fits a separate classifier");
        // Negative vocab_size but no classifier.
        fail("nocls.bin", tiny(-10, false, 0), "separate classifier", "truncated");
        fail("short.bin", new byte[10], "header.", "truncated");
        fail("empty.bin", new byte[0], "header.dim", "truncated");
    }

    @Test
    void headerValuesAreChecked() throws IOException {
        fail("dim0.bin", new LeBytes().u32(0).u32(16).u32(2).u32(2).u32(1).u32(10).u32(4).toByteArray(), "header.dim");
        fail("heads.bin", new LeBytes().u32(8).u32(16).u32(2).u32(3).u32(1).u32(10).u32(4).toByteArray(),
                "header.n_heads", "not divisible");
        fail("kv.bin", new LeBytes().u32(8).u32(16).u32(2).u32(2).u32(4).u32(10).u32(4).toByteArray(), "header.n_kv_heads");
        fail("vocab.bin", new LeBytes().u32(8).u32(16).u32(2).u32(2).u32(1).u32(0).u32(4).toByteArray(),
                "header.vocab_size");
        // Dimensions whose product overflows a long.
        fail("huge.bin", new LeBytes().u32(1 << 30).u32(1 << 30).u32(1 << 30).u32(1).u32(1).u32(1 << 30).u32(4)
                .toByteArray(), "overflow");
    }

    private ModelFormatException fail(String name, byte[] bytes, String... mustContain) throws IOException {
        Path f = Files.write(tmp.resolve(name), bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Llama2cCheckpoint.open(f, Arena.ofAuto()));
        assertTrue(e.getMessage().contains(name), e.getMessage());
        for (String s : mustContain) {
            assertTrue(e.getMessage().contains(s), () -> "'" + s + "' not in: " + e.getMessage());
        }
        return e;
    }
}
