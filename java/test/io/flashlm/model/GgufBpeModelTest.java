package io.flashlm.model;

import io.flashlm.api.ModelLoader;
import io.flashlm.format.GgufValue;
import io.flashlm.format.GgufValueType;
import io.flashlm.format.ModelFormatException;
import io.flashlm.model.GgufModelFixture.WeightType;
import io.flashlm.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.UnaryOperator;

import static io.flashlm.model.GgufBpeFixture.BOS;
import static io.flashlm.model.GgufBpeFixture.EOS;
import static io.flashlm.model.GgufBpeFixture.G_THE;
import static io.flashlm.model.GgufBpeFixture.HE;
import static io.flashlm.model.GgufBpeFixture.byteId;
import static io.flashlm.model.GgufBpeFixture.str;
import static io.flashlm.model.GgufBpeFixture.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Synthetic llama GGUF files with a byte-level BPE vocabulary ({@code tokenizer.ggml.model = gpt2}): the model
 * loads with it and runs as with the SentencePiece one, and each broken tokenizer key fails the load with a
 * {@link ModelFormatException} naming the file and the key.
 */
class GgufBpeModelTest {
    @TempDir
    Path tmp;

    private Path write(String name, GgufBpeFixture vocab) throws IOException {
        return new GgufModelFixture(53, WeightType.F32).vocabulary(vocab).write(tmp.resolve(name));
    }

    @Test
    void loadsAndEncodesWithTheMerges() throws IOException {
        GgufModelFixture f = new GgufModelFixture(53, WeightType.F32).vocabulary(new GgufBpeFixture());
        Path file = f.write(tmp.resolve("bpe.gguf"));
        try (LanguageModel m = ModelLoader.load(file, null, 1); InferenceState s = m.newState()) {
            Tokenizer tok = m.tokenizer();
            assertEquals(GgufModelFixture.VOCAB, tok.vocabSize());
            assertEquals(BOS, tok.bos());
            assertEquals(EOS, tok.eos());
            // "the other" = "the" + " other": (h,e) rank 1 wins over (e,r) rank 3 inside " other"
            assertArrayEquals(new int[] {BOS, byteId('t'), HE, byteId(' '), byteId('o'), byteId('t'), HE, byteId('r')},
                    tok.encode("the other", true));
            assertArrayEquals(new int[] {G_THE, EOS, BOS}, tok.encode(" the</s><s>", false));
            assertEquals(" the", tok.decode(new int[] {BOS, G_THE, EOS}));
            // the same logits as the reference, with these ids as input
            int[] ids = tok.encode("the other", true);
            for (int pos = 0; pos < ids.length; pos++) {
                MemorySegment logits = m.forward(s, ids[pos], pos);
                double[] expected = ScalarReference.llamaLogits(f.reference(), f.weights,
                        Arrays.copyOf(ids, pos + 1));
                DenseForwardReferenceTest.assertClose(expected, logits, "position " + pos);
            }
        }
    }

    @Test
    void optionalKeysTakeTheReferenceDefaults() throws IOException {
        // no add_bos_token: a gpt-2 vocabulary adds no BOS; no pre: "default" (which cuts digits in threes)
        Path file = write("defaults.gguf", new GgufBpeFixture().remove("tokenizer.ggml.add_bos_token")
                .remove("tokenizer.ggml.pre").remove("tokenizer.ggml.token_type"));
        try (LanguageModel m = ModelLoader.load(file, null, 1)) {
            assertEquals(-1, m.tokenizer().bos());
            assertArrayEquals(new int[] {G_THE}, m.tokenizer().encode(" the", true));
        }
        // the all-ones uint32 converters write for "no such token"
        file = write("none.gguf", new GgufBpeFixture().set("tokenizer.ggml.padding_token_id", u32(0xFFFFFFFFL))
                .set("tokenizer.ggml.eos_token_id", u32(0xFFFFFFFFL)));
        try (LanguageModel m = ModelLoader.load(file, null, 1)) {
            assertEquals(-1, m.tokenizer().eos());
        }
    }

    @Test
    void brokenTokenizerKeysNameTheFileAndKey() throws IOException {
        assertRejected(v -> v.set("tokenizer.ggml.pre", str("klingon")), "metadata.tokenizer.ggml.pre",
                "'klingon' is not supported", "gpt-2", "llama-bpe", "qwen2", "smollm", "tekken");
        assertRejected(v -> v.set("tokenizer.ggml.merges", strings("h e", "\u0120 zz")),
                "metadata.tokenizer.ggml.merges[1]", "'zz'", "not in tokenizer.ggml.tokens");
        assertRejected(v -> v.set("tokenizer.ggml.merges", strings("he")), "metadata.tokenizer.ggml.merges[0]",
                "two pieces separated by one space");
        assertRejected(v -> v.set("tokenizer.ggml.merges", GgufValue.array(GgufValueType.INT32, new int[] {1, 2})),
                "metadata.tokenizer.ggml.merges", "expected array of string");
        assertRejected(v -> v.remove("tokenizer.ggml.merges"), "metadata.tokenizer.ggml.merges", "missing key");
        assertRejected(v -> v.set("tokenizer.ggml.tokens", strings("a", "b")), "metadata.tokenizer.ggml.token_type",
                "264 entries for the 2 tokens");
        assertRejected(v -> v.set("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.FLOAT32, new float[3])),
                "metadata.tokenizer.ggml.tokens", "expected array of string");
        assertRejected(v -> v.set("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.STRING,
                new String[] {"normal"})), "metadata.tokenizer.ggml.token_type", "expected array of integers");
        assertRejected(v -> v.set("tokenizer.ggml.bos_token_id", u32(5000)), "metadata.tokenizer.ggml.bos_token_id",
                "id 5000 is outside the 264 tokens");
        assertRejected(v -> v.remove("tokenizer.ggml.bos_token_id"), "metadata.tokenizer.ggml.bos_token_id",
                "missing, but BOS is to be added");
        assertRejected(v -> v.set("tokenizer.ggml.add_bos_token", u32(1)), "metadata.tokenizer.ggml.add_bos_token",
                "expected bool");
        assertRejected(v -> v.set("tokenizer.ggml.model", str("bert")), "metadata.tokenizer.ggml.model",
                "'bert' is not supported", "'llama'", "'gpt2'");
    }

    private void assertRejected(UnaryOperator<GgufBpeFixture> breakIt, String field, String... mentions)
            throws IOException {
        Path file = write("broken.gguf", breakIt.apply(new GgufBpeFixture()));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelLoader.load(file, null, 1),
                field);
        assertEquals(file, e.file());
        assertEquals(field, e.field());
        assertTrue(e.getMessage().startsWith(file + ": " + field + ": "), e.getMessage());
        for (String part : mentions) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    private static GgufValue strings(String... values) {
        return GgufValue.array(GgufValueType.STRING, values);
    }
}
