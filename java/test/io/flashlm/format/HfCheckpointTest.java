package io.flashlm.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashlm.tensor.Tensor;
import io.flashlm.testing.SharedModels;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void tinyOptDirectory() throws IOException {
        Path dir = SharedModels.require("tinyopt-relu/model.safetensors").getParent();
        try (Arena arena = Arena.ofConfined()) {
            HfCheckpoint ck = HfCheckpoint.open(dir, arena);
            assertTrue(ck.index().isEmpty());
            assertEquals(1, ck.shards().size());
            assertEquals(68, ck.tensors().size());
            assertEquals("opt", ck.config().get("model_type").asText());
            assertEquals(256, ck.config().get("hidden_size").asInt());
            assertEquals(4, ck.config().get("num_hidden_layers").asInt());
            assertArrayEquals(new long[] {1024, 256}, ck.tensor("model.decoder.layers.3.fc1.weight").shape());
        }
    }

    private static final String CONFIG = "{\"model_type\":\"test\",\"hidden_size\":2}";

    /** Two shards and an index; tensors come from the shard the index names. */
    private Path sharded() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("ck"));
        Files.writeString(dir.resolve("config.json"), CONFIG);
        new SafetensorsWriter()
                .tensor("embed.weight", "F32", new long[] {2, 2}, LeBytes.f32s(1, 2, 3, 4))
                .tensor("layers.0.w", "F32", new long[] {2}, LeBytes.f32s(5, 6))
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter()
                .tensor("layers.1.w", "F16", new long[] {2}, new LeBytes().u16(0x4000).u16(0xC200).toByteArray()) // 2, -3
                .tensor("norm.weight", "F32", new long[] {2}, LeBytes.f32s(7, 8))
                .write(dir.resolve("model-00002-of-00002.safetensors"));
        writeIndex(dir, """
                {"metadata": {"total_size": 36},
                 "weight_map": {
                   "embed.weight": "model-00001-of-00002.safetensors",
                   "layers.0.w": "model-00001-of-00002.safetensors",
                   "layers.1.w": "model-00002-of-00002.safetensors",
                   "norm.weight": "model-00002-of-00002.safetensors"}}""");
        return dir;
    }

    private static void writeIndex(Path dir, String json) throws IOException {
        Files.writeString(dir.resolve(HfCheckpoint.INDEX_FILE), json);
    }

    @Test
    void shardedDirectory() throws IOException {
        Path dir = sharded();
        HfCheckpoint ck = HfCheckpoint.open(dir, Arena.ofAuto());
        assertEquals(dir.resolve(HfCheckpoint.INDEX_FILE), ck.index().orElseThrow());
        assertEquals(2, ck.shards().size());
        assertEquals(List.of("embed.weight", "layers.0.w", "layers.1.w", "norm.weight"), List.copyOf(ck.tensors().keySet()));
        assertArrayEquals(new float[] {1, 2, 3, 4}, ck.tensor("embed.weight").toFloatArray());
        assertArrayEquals(new float[] {2, -3}, ck.tensor("layers.1.w").toFloatArray());
        assertArrayEquals(new float[] {7, 8}, ck.tensor("norm.weight").toFloatArray());
        assertEquals(2, ck.config().get("hidden_size").asInt());
        Tensor t = ck.tensor("layers.0.w");
        assertEquals(ck.shards().getFirst().path(), dir.resolve("model-00001-of-00002.safetensors"));
        assertEquals(6f, t.getFloat(1));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ck.tensor("lm_head.weight"));
        assertTrue(e.getMessage().contains("lm_head.weight") && e.getMessage().contains("ck"), e.getMessage());
    }

    @Test
    void missingShardNamesShardAndIndex() throws IOException {
        Path dir = sharded();
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfCheckpoint.open(dir, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("model-00002-of-00002.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains(HfCheckpoint.INDEX_FILE), e.getMessage());
        assertEquals(dir.resolve(HfCheckpoint.INDEX_FILE), e.file());
    }

    @Test
    void indexPointingAtTheWrongShard() throws IOException {
        Path dir = sharded();
        writeIndex(dir, """
                {"weight_map": {"embed.weight": "model-00002-of-00002.safetensors"}}""");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfCheckpoint.open(dir, Arena.ofAuto()));
        assertTrue(e.getMessage().contains("embed.weight") && e.getMessage().contains("does not contain"), e.getMessage());
    }

    @Test
    void badIndexes() throws IOException {
        Path dir = sharded();
        writeIndex(dir, "{\"weight_map\": {\"w\": \"../elsewhere.safetensors\"}}");
        assertMessage(dir, "plain file name");
        writeIndex(dir, "{\"weight_map\": {\"w\": 3}}");
        assertMessage(dir, "weight_map['w']");
        writeIndex(dir, "{\"metadata\": {}}");
        assertMessage(dir, "weight_map");
        writeIndex(dir, "{\"weight_map\": ");
        assertMessage(dir, "invalid JSON");
    }

    @Test
    void noModelFiles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("empty"));
        assertMessage(dir, "neither model.safetensors nor model.safetensors.index.json");
        assertThrows(ModelFormatException.class, () -> HfCheckpoint.open(dir.resolve("absent"), Arena.ofAuto()));
    }

    @Test
    void configIsOptionalUntilAsked() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("noconfig"));
        new SafetensorsWriter().tensor("w", "F32", new long[] {1}, LeBytes.f32s(1)).write(dir.resolve("model.safetensors"));
        HfCheckpoint ck = HfCheckpoint.open(dir, Arena.ofAuto());
        assertFalse(ck.hasConfig());
        ModelFormatException e = assertThrows(ModelFormatException.class, ck::config);
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{oops");
        assertMessage(dir, "config.json");
    }

    private static void assertMessage(Path dir, String text) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> HfCheckpoint.open(dir, Arena.ofAuto()));
        assertTrue(e.getMessage().contains(text), e.getMessage());
    }
}
