package io.flashlm.model;

import io.flashlm.api.ModelLoader;
import io.flashlm.model.GgufModelFixture.WeightType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

import static io.flashlm.model.GgufModelFixture.CONTEXT;
import static io.flashlm.model.GgufModelFixture.DIM;
import static io.flashlm.model.GgufModelFixture.EPS;
import static io.flashlm.model.GgufModelFixture.HEADS;
import static io.flashlm.model.GgufModelFixture.HIDDEN;
import static io.flashlm.model.GgufModelFixture.KV_HEADS;
import static io.flashlm.model.GgufModelFixture.LAYERS;
import static io.flashlm.model.GgufModelFixture.THETA;
import static io.flashlm.model.GgufModelFixture.VOCAB;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Synthetic llama GGUF files (every weight type, tied and untied classifier, SiLU and ReLU FFNs): the
 * engine's logits match the independent double-precision reference, run on the weights decoded from the
 * written bytes (the model dequantized to f32) with interleaved RoPE, to 1e-4 of the largest |logit| at every
 * position; where flashlm quantizes x to int8 (every block type) the reference does too, and the
 * bound grows by the effect of that quantization (see assertClose).
 */
class GgufModelReferenceTest {
    // BOS, byte tokens, the normal pieces (259..263) and </s> mid-sequence: any id is a valid input.
    static final int[] TOKENS = {1, 262, 72, 259, 3, 200, 263, 45, 2, 258, 100};

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0} threads={1}")
    @CsvSource({"F32, 1", "F32, 2", "F16, 1", "F16, 2", "Q8_0, 1", "Q8_0, 2", "Q4_0, 1", "Q4_0, 2", "Q4_1, 1",
        "Q4_1, 2", "Q5_0, 1", "Q5_0, 2", "Q5_1, 1", "Q5_1, 2", "IQ4_NL, 1", "IQ4_NL, 2", "Q6_K, 1", "Q6_K, 2", "Q4_K, 1",
        "Q4_K, 2", "Q5_K, 1", "Q5_K, 2", "Q3_K, 1",
        "Q3_K, 2", "Q2_K, 1", "Q2_K, 2", "IQ4_XS, 1",
        "IQ4_XS, 2"})
    void separateOutputMatchesReference(WeightType type, int threads) throws IOException {
        assertMatchesReference(new GgufModelFixture(31, type), threads);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WeightType.class)
    void tiedOutputUsesTokenEmbedding(WeightType type) throws IOException {
        assertMatchesReference(new GgufModelFixture(37, type).tied(), 2);
    }

    /** As quantized GGUF files mix types: the embedding and classifier wider than the layers. */
    @Test
    void mixedWeightTypesMatchReference() throws IOException {
        GgufModelFixture f = new GgufModelFixture(41, WeightType.F32).weightTypes(name -> {
            if (name.equals("token_embd.weight")) {
                return WeightType.Q8_0;
            }
            if (name.equals("output.weight")) {
                return WeightType.F16;
            }
            return name.startsWith("blk.0.") ? WeightType.Q4_0 : name.contains("ffn") ? WeightType.Q8_0 : WeightType.F32;
        });
        assertMatchesReference(f, 2);
    }

    /** The legacy block types side by side, each in a different role, as a llama.cpp mixture would place them. */
    @Test
    void mixedLegacyBlockTypesMatchReference() throws IOException {
        GgufModelFixture f = new GgufModelFixture(53, WeightType.F32).weightTypes(name -> {
            if (name.equals("token_embd.weight")) {
                return WeightType.IQ4_NL;
            }
            if (name.equals("output.weight")) {
                return WeightType.Q5_1;
            }
            if (name.startsWith("blk.0.")) {
                return name.contains("ffn") ? WeightType.Q4_1 : WeightType.Q5_0;
            }
            return name.contains("ffn") ? WeightType.Q5_0 : WeightType.IQ4_NL;
        });
        assertMatchesReference(f, 2);
    }

    /**
     * As llama.cpp's quantized files place the k-quants (a wide model, every row whole super-blocks): the
     * classifier in Q6_K, the layers in other types.
     */
    @Test
    void kQuantMixtureMatchesReference() throws IOException {
        GgufModelFixture f = new GgufModelFixture(59, WeightType.F32).wide().weightTypes(name -> {
            if (name.equals("output.weight")) {
                return WeightType.Q6_K;
            }
            if (name.equals("token_embd.weight")) {
                return WeightType.Q4_K;
            }
            if (name.startsWith("blk.0.")) {
                return name.contains("attn_v") ? WeightType.Q5_K : WeightType.Q4_0;
            }
            if (name.contains("attn_q")) {
                return WeightType.Q2_K;
            }
            if (name.contains("attn_k")) {
                return WeightType.IQ4_XS;
            }
            return name.contains("ffn_up") ? WeightType.Q3_K : name.contains("ffn") ? WeightType.Q4_K : WeightType.Q8_0;
        });
        assertMatchesReference(f, 2);
    }

    /** flashlm's key llama.feed_forward_activation = "relu": gated relu(gate x) * up x, or ungated relu(up x). */
    @ParameterizedTest(name = "{0} gated={1} threads={2}")
    @CsvSource({"F32, true, 1", "Q8_0, true, 2", "Q4_0, false, 2", "F16, false, 1", "Q5_1, false, 2",
        "IQ4_NL, true, 1", "Q6_K, false, 2", "Q4_K, true, 1", "Q5_K, false, 1", "Q3_K, true, 2", "Q2_K, false, 2", "IQ4_XS, true, 1"})
    void reluFfnMatchesReference(WeightType type, boolean gated, int threads) throws IOException {
        GgufModelFixture f = new GgufModelFixture(43, type).activation("relu");
        if (!gated) {
            f.ungated();
        }
        LanguageModel m = assertMatchesReference(f, threads);
        assertEquals(ModelConfig.Activation.RELU, m.config().activation());
        assertEquals(gated, m.config().gatedFfn());
    }

    @Test
    void configAndTokenizerComeFromTheMetadata() throws IOException {
        Path file = new GgufModelFixture(47, WeightType.F32).write(tmp.resolve("meta.gguf"));
        try (LanguageModel m = ModelLoader.load(file, null, 1)) {
            ModelConfig c = m.config();
            assertEquals(ModelConfig.Architecture.LLAMA, c.architecture());
            assertEquals(DIM, c.dim());
            assertEquals(HIDDEN, c.hiddenDim());
            assertEquals(LAYERS, c.layers());
            assertEquals(HEADS, c.heads());
            assertEquals(KV_HEADS, c.kvHeads());
            assertEquals(VOCAB, c.vocabSize());
            assertEquals(CONTEXT, c.contextLength());
            assertEquals(EPS, c.normEps());
            assertEquals(THETA, c.ropeTheta());
            assertEquals(ModelConfig.RopeStyle.INTERLEAVED, c.rope());
            assertEquals(ModelConfig.Activation.SILU, c.activation());
            assertEquals(VOCAB, m.tokenizer().vocabSize());
            assertEquals(1, m.tokenizer().bos());
            assertEquals(2, m.tokenizer().eos());
        }
    }

    /** The reference's RoPE layout is what decides: the half-split layout gives logits far outside the tolerance. */
    @Test
    void halfSplitRopeWouldFailTheComparison() throws IOException {
        GgufModelFixture f = new GgufModelFixture(31, WeightType.F32);
        f.write(tmp.resolve("rope.gguf"));
        ScalarReference.Llama interleaved = f.reference();
        ScalarReference.Llama halfSplit = new ScalarReference.Llama(DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, EPS,
                THETA, interleaved.act(), false, false, true);
        int[] prefix = Arrays.copyOf(TOKENS, 6);
        double[] a = ScalarReference.llamaLogits(interleaved, f.weights, prefix);
        double[] b = ScalarReference.llamaLogits(halfSplit, f.weights, prefix);
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(a[i]));
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        }
        assertTrue(maxDiff > 1e-2 * maxRef, "RoPE layouts differ by only " + maxDiff + " of " + maxRef);
        assertNotEquals(0, maxRef);
    }

    /**
     * max |engine - reference| <= 1e-4 * max |reference| + max |reference - exact|: {@code expected} is the
     * reference with x quantized to int8 where flashlm quantizes it (every block type), {@code exact}
     * the one without. Without those types the two are one and the bound is 1e-4 of the largest |logit|. With them
     * the engine matches the quantizing reference to about 1e-6 at most positions, but not always: a value of x
     * within a float rounding of the midpoint between two int8 steps rounds one way in the engine's float and the
     * other in the reference's double, moving that product by a whole step, and the move spreads through the
     * layers. The allowance for such moves is the whole effect of x's quantization on the reference's logits.
     */
    static void assertClose(double[] expected, double[] exact, MemorySegment actual, String what) {
        double maxRef = 0, maxErr = 0, quantization = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            maxErr = Math.max(maxErr, Math.abs(expected[i] - actual.getAtIndex(JAVA_FLOAT, i)));
            quantization = Math.max(quantization, Math.abs(expected[i] - exact[i]));
        }
        assertTrue(maxErr <= 1e-4 * maxRef + quantization, what + ": max error " + maxErr + " vs max |logit| " + maxRef
                + " (x's quantization moves the reference by " + quantization + ")");
    }

    /** Loads the fixture's file and compares the logits at every position; returns the (closed) model. */
    private LanguageModel assertMatchesReference(GgufModelFixture f, int threads) throws IOException {
        Path file = f.write(tmp.resolve("model.gguf"));
        ScalarReference.Llama ref = f.reference();
        try (LanguageModel m = ModelLoader.load(file, null, threads); InferenceState s = m.newState()) {
            for (int pos = 0; pos < TOKENS.length; pos++) {
                MemorySegment logits = m.forward(s, TOKENS[pos], pos);
                int[] prefix = Arrays.copyOf(TOKENS, pos + 1);
                double[] expected = ScalarReference.llamaLogits(ref, f.weights, prefix, f.int8Inputs);
                double[] exact = f.int8Inputs.isEmpty() ? expected : ScalarReference.llamaLogits(ref, f.weights, prefix);
                assertClose(expected, exact, logits, "position " + pos);
            }
            return m;
        }
    }
}
