package io.flashlm.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.api.FlashModel;
import io.flashlm.api.GenerateOptions;
import io.flashlm.api.Generation;
import io.flashlm.api.GenerationStats;
import io.flashlm.api.ModelLoader;
import io.flashlm.api.ModelOptions;
import io.flashlm.api.Session;
import io.flashlm.format.GgufFile;
import io.flashlm.format.HfCheckpoint;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.GgufModelFixture.WeightType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Broken model files and misuse of a loaded model: each fails with an exception whose message names the
 * file (or the offending value) and what was expected, never with a crash or an index error, and a loaded
 * model keeps working after a rejected call.
 */
class ModelErrorsTest {
    static final int DIM = 32, HIDDEN = 64, HEADS = 2, KV_HEADS = 1, VOCAB = 260; // HfFixture's tokenizer: 260 ids

    @TempDir
    Path tmp;

    // ---- GGUF ----

    @Test
    void truncatedGgufDataSection() throws IOException {
        byte[] full = Files.readAllBytes(new GgufModelFixture(1, WeightType.Q8_0).write(tmp.resolve("full.gguf")));
        Path cut = Files.write(tmp.resolve("cut.gguf"), Arrays.copyOf(full, full.length - 1000));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(cut, null, 1));
        assertMentions(e, "cut.gguf", "extends past the end of the file", "truncated file?");
    }

    @Test
    void ggufCutAnywhereInTheHeader() throws IOException {
        Path full = new GgufModelFixture(1, WeightType.F32).write(tmp.resolve("full.gguf"));
        byte[] bytes = Files.readAllBytes(full);
        long dataStart;
        try (Arena arena = Arena.ofConfined()) {
            dataStart = GgufFile.open(full, arena).dataOffset();
        }
        // Cuts in the fixed header, the metadata (the vocabulary is most of it) and the tensor infos.
        for (long at = 8; at < dataStart; at += dataStart / 16) {
            Path cut = Files.write(tmp.resolve("cut.gguf"), Arrays.copyOf(bytes, (int) at));
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(cut, null, 1),
                    "cut at " + at);
            assertMentions(e, "cut.gguf", "truncated");
        }
    }

    @Test
    void fileTooShortForAnyHeader() throws IOException {
        Path f = Files.write(tmp.resolve("tiny.gguf"), new byte[]{'G', 'G'});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(f, null, 1));
        assertMentions(e, "tiny.gguf", "2 bytes is too short");
    }

    @Test
    void unknownGgufArchitecture() throws IOException {
        Path f = new GgufModelFixture(1, WeightType.F32).architecture("gpt2").write(tmp.resolve("gpt2.gguf"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(f, null, 1));
        assertMentions(e, "gpt2.gguf", "general.architecture", "'gpt2' is not supported", "expected one of llama, qwen2");
    }

    /** A k-quant (12 = Q4_K) in a model of 64 columns: its rows are not whole super-blocks of 256. */
    @Test
    void kQuantRowsMustBeWholeSuperBlocks() throws IOException {
        Path file = new GgufModelFixture(1, WeightType.F32).typeId("blk.1.attn_q.weight", 12)
                .write(tmp.resolve("q4k.gguf"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(file, null, 1));
        assertMentions(e, "q4k.gguf", "blk.1.attn_q.weight", "Q4_K", "multiple of 256", "found 64");
    }

    @Test
    void unsupportedGgufTensorType() throws IOException {
        // 16 = IQ2_XXS: a real type flashlm does not read; 1000 is no type at all.
        Path iq2 = new GgufModelFixture(1, WeightType.F32).typeId("blk.1.attn_q.weight", 16)
                .write(tmp.resolve("iq2.gguf"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(iq2, null, 1));
        assertMentions(e, "iq2.gguf", "blk.1.attn_q.weight", "type id 16 (IQ2_XXS)", "supported: F32(0)");
        Path bogus = new GgufModelFixture(1, WeightType.F32).typeId("output.weight", 1000)
                .write(tmp.resolve("bogus.gguf"));
        e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(bogus, null, 1));
        assertMentions(e, "bogus.gguf", "output.weight", "type id 1000 (unknown type)");
    }

    @Test
    void unsupportedGgufActivation() throws IOException {
        Path f = new GgufModelFixture(1, WeightType.F32).activation("tanh").write(tmp.resolve("tanh.gguf"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(f, null, 1));
        assertMentions(e, "tanh.gguf", "'tanh' is not supported", "silu, relu or gelu");
    }

    // ---- llama.c checkpoints (no magic: anything that is not GGUF or a directory lands here) ----

    @Test
    void textFileIsNotALlama2cCheckpoint() throws IOException {
        Path f = Files.writeString(tmp.resolve("notes.bin"), "these are notes, not a model\n".repeat(20));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(f, null, 1));
        assertMentions(e, "notes.bin");
        assertTrue(e.getMessage().contains("header.") || e.getMessage().contains("file size"), e.getMessage());
    }

    @Test
    void llama2cHeaderWithNegativeDimension() throws IOException {
        Path f = Files.write(tmp.resolve("neg.bin"), header(-64, 172, 5, 8, 4, 512, 512, 4096));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(f, null, 1));
        assertMentions(e, "neg.bin", "header.dim", "value -64", "expected a positive int");
    }

    @Test
    void llama2cHeaderThatDoesNotFitTheFileSize() throws IOException {
        Path f = Files.write(tmp.resolve("short.bin"), header(64, 172, 5, 8, 4, 512, 512, 4096));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(f, null, 1));
        assertMentions(e, "short.bin", "file size", "implies", "truncated file?");
    }

    @Test
    void missingModelPath() {
        Path nowhere = tmp.resolve("nowhere.gguf");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ModelLoader.load(nowhere, null, 1));
        assertMentions(e, "nowhere.gguf", "expected a .gguf file");
    }

    // ---- Hugging Face directories ----

    @Test
    void unknownArchitectureInConfig() throws IOException {
        HfFixture f = tinyLlama(16);
        f.config.putArray("architectures").add("BertModel");
        Path dir = f.write(tmp.resolve("bert"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir, null, 1));
        assertMentions(e, dir.resolve("config.json").toString(), "architectures", "'BertModel' is not supported",
                "LlamaForCausalLM");
    }

    @Test
    void tensorShapeThatDisagreesWithTheConfig() throws IOException {
        HfFixture f = tinyLlama(16);
        f.random("model.layers.0.self_attn.q_proj.weight", 0, 0.25f, DIM, DIM / 2);
        Path dir = f.write(tmp.resolve("badshape"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir, null, 1));
        assertMentions(e, "badshape", "model.layers.0.self_attn.q_proj.weight", "shape [32, 16]",
                "which implies [32, 32]");
    }

    @Test
    void missingShard() throws IOException {
        Path dir = tinyLlama(16).write(tmp.resolve("sharded"));
        Path first = dir.resolve("model-00001-of-00002.safetensors");
        Files.move(dir.resolve(HfCheckpoint.SINGLE_FILE), first);
        ObjectNode index = HfFixture.JSON.createObjectNode();
        ObjectNode map = index.putObject("weight_map");
        map.put("model.embed_tokens.weight", first.getFileName().toString());
        map.put("lm_head.weight", "model-00002-of-00002.safetensors"); // never written
        Files.writeString(dir.resolve(HfCheckpoint.INDEX_FILE), index.toString());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(dir, null, 1));
        assertMentions(e, HfCheckpoint.INDEX_FILE, "lm_head.weight", "model-00002-of-00002.safetensors",
                "does not exist");
    }

    @Test
    void missingTokenizerJson() throws IOException {
        Path dir = tinyLlama(16).write(tmp.resolve("notok"));
        Files.delete(dir.resolve("tokenizer.json"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ModelLoader.load(dir, null, 1));
        assertMentions(e, dir.resolve("tokenizer.json").toString(), "no tokenizer.json");
    }

    // ---- misuse of a loaded model ----

    @Test
    void emptyAndOverlongPromptsAreRejectedAndTheSessionStillWorks() throws IOException {
        Path dir = tinyLlama(8).write(tmp.resolve("ctx8"));
        try (FlashModel model = FlashModel.open(dir, ModelOptions.defaults().withThreads(1));
             Session session = model.newSession()) {
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                    () -> session.generate("", GenerateOptions.greedy(4)));
            assertMentions(empty, "prompt is empty");
            assertThrows(IllegalArgumentException.class, () -> session.generate(null, GenerateOptions.greedy(4)));
            // Byte-level vocabulary without merges: BOS + one token per byte = 9 tokens for a context of 8.
            IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                    () -> session.generate("12345678", GenerateOptions.greedy(4)));
            assertMentions(tooLong, "prompt of 9 tokens", "does not fit the context", "of 8");
            assertEquals(0, session.position(), "a rejected prompt must not use up context");

            // 7 tokens leave room for one more: the first generated token fills it, the second finds it full.
            Generation g = session.generate("123456", GenerateOptions.greedy(10).withIgnoreEos(true));
            assertEquals(7, g.promptIds().length);
            assertEquals(2, g.generatedIds().length);
            assertEquals(GenerationStats.StopReason.CONTEXT_FULL, g.stats().stopReason());
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> session.generate("1", GenerateOptions.greedy(1)));
            assertMentions(full, "does not fit the context", "already used of 8");
        }
    }

    @Test
    void tokenOrPositionOutsideTheModelIsRejected() throws IOException {
        Path dir = tinyLlama(8).write(tmp.resolve("range"));
        try (LanguageModel m = ModelLoader.load(dir, null, 1); InferenceState s = m.newState()) {
            assertMentions(assertThrows(IllegalArgumentException.class, () -> m.forward(s, VOCAB, 0)),
                    "token id 260", "vocabulary of 260");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> m.forward(s, -1, 0)), "token id -1");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> m.forward(s, 5, 8)),
                    "position 8", "context of 8");
            assertMentions(assertThrows(IllegalArgumentException.class, () -> m.forward(s, 5, -1)), "position -1");
            MemorySegment logits = m.forward(s, 5, 0);
            for (int i = 0; i < VOCAB; i++) {
                assertTrue(Float.isFinite(logits.getAtIndex(JAVA_FLOAT, i)), "logit " + i);
            }
        }
    }

    @Test
    void tokenOutsideTheVocabularyOfAGgufModel() throws IOException {
        Path f = new GgufModelFixture(1, WeightType.Q4_0).write(tmp.resolve("range.gguf"));
        try (LanguageModel m = ModelLoader.load(f, null, 2); InferenceState s = m.newState()) {
            assertMentions(assertThrows(IllegalArgumentException.class,
                    () -> m.forward(s, GgufModelFixture.VOCAB, 0)), "outside the vocabulary");
            assertTrue(Float.isFinite(m.forward(s, 1, 0).getAtIndex(JAVA_FLOAT, 0)));
        }
    }

    /** A valid one-layer Hugging Face Llama with the given context; tests then break one thing. */
    private static HfFixture tinyLlama(int context) {
        HfFixture f = new HfFixture(5, "F32");
        f.config.putArray("architectures").add("LlamaForCausalLM");
        f.config.put("hidden_size", DIM).put("intermediate_size", HIDDEN).put("num_hidden_layers", 1)
                .put("num_attention_heads", HEADS).put("num_key_value_heads", KV_HEADS).put("vocab_size", VOCAB)
                .put("max_position_embeddings", context).put("rms_norm_eps", 1e-5).put("tie_word_embeddings", false);
        int kv = KV_HEADS * DIM / HEADS;
        f.random("model.embed_tokens.weight", 0, 1f, VOCAB, DIM);
        String p = "model.layers.0.";
        f.random(p + "input_layernorm.weight", 1, 0.2f, DIM);
        f.random(p + "self_attn.q_proj.weight", 0, 0.25f, DIM, DIM);
        f.random(p + "self_attn.k_proj.weight", 0, 0.25f, kv, DIM);
        f.random(p + "self_attn.v_proj.weight", 0, 0.25f, kv, DIM);
        f.random(p + "self_attn.o_proj.weight", 0, 0.25f, DIM, DIM);
        f.random(p + "post_attention_layernorm.weight", 1, 0.2f, DIM);
        f.random(p + "mlp.gate_proj.weight", 0, 0.25f, HIDDEN, DIM);
        f.random(p + "mlp.up_proj.weight", 0, 0.25f, HIDDEN, DIM);
        f.random(p + "mlp.down_proj.weight", 0, 0.2f, DIM, HIDDEN);
        f.random("model.norm.weight", 1, 0.2f, DIM);
        f.random("lm_head.weight", 0, 0.3f, VOCAB, DIM);
        return f;
    }

    /** A llama2.c v0 header (7 int32) followed by {@code extraBytes} zero bytes. */
    private static byte[] header(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seqLen,
                                 int extraBytes) {
        ByteBuffer b = ByteBuffer.allocate(28 + extraBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kvHeads).putInt(vocab).putInt(seqLen);
        return b.array();
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(part),
                    () -> "'" + part + "' not in: " + e.getMessage());
        }
    }
}
