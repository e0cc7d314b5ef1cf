package io.flashlm.model;

import io.flashlm.api.ModelLoader;
import io.flashlm.testing.TestFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiny Hugging Face checkpoints with random weights under the real tensor names: the engine's
 * logits match the independent double-precision reference to 1e-4 relative at every position.
 */
class DenseForwardReferenceTest {
    static final int VOCAB = 260;
    static final int[] TOKENS = {0, 17, 200, 5, 99, 143, 7, 250, 33, 64};
    static Path root;

    @BeforeAll
    static void setUp() throws IOException {
        root = TestFiles.newDirectory("dense-ref");
    }

    @AfterAll
    static void cleanUp() throws IOException {
        TestFiles.deleteRecursively(root);
    }

    @ParameterizedTest(name = "llama {0} {1} threads={2}")
    @CsvSource({"F32, silu, 1", "F32, silu, 2", "F16, silu, 2", "BF16, silu, 1", "F32, relu, 2"})
    void llamaMatchesReference(String dtype, String act, int threads) throws IOException {
        int dim = 64, hidden = 96, layers = 2, heads = 4, kvHeads = 2, hd = dim / heads;
        HfFixture f = new HfFixture(11, dtype);
        f.config.putArray("architectures").add("LlamaForCausalLM");
        f.config.put("hidden_size", dim).put("intermediate_size", hidden).put("num_hidden_layers", layers)
                .put("num_attention_heads", heads).put("num_key_value_heads", kvHeads).put("vocab_size", VOCAB)
                .put("max_position_embeddings", 32).put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0)
                .put("hidden_act", act).put("tie_word_embeddings", false);
        f.random("model.embed_tokens.weight", 0, 1f, VOCAB, dim);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            f.random(p + "input_layernorm.weight", 1, 0.2f, dim);
            f.random(p + "self_attn.q_proj.weight", 0, 0.25f, dim, dim);
            f.random(p + "self_attn.k_proj.weight", 0, 0.25f, kvHeads * hd, dim);
            f.random(p + "self_attn.v_proj.weight", 0, 0.25f, kvHeads * hd, dim);
            f.random(p + "self_attn.o_proj.weight", 0, 0.25f, dim, dim);
            f.random(p + "post_attention_layernorm.weight", 1, 0.2f, dim);
            f.random(p + "mlp.gate_proj.weight", 0, 0.25f, hidden, dim);
            f.random(p + "mlp.up_proj.weight", 0, 0.25f, hidden, dim);
            f.random(p + "mlp.down_proj.weight", 0, 0.2f, dim, hidden);
        }
        f.random("model.norm.weight", 1, 0.2f, dim);
        f.random("lm_head.weight", 0, 0.3f, VOCAB, dim);
        Path dir = f.write(root.resolve("llama-" + dtype + "-" + act + "-" + threads));
        var ref = new ScalarReference.Llama(dim, hidden, layers, heads, kvHeads, VOCAB, 1e-5, 10000,
                act.equals("relu") ? ScalarReference.RELU : ScalarReference.SILU, false);
        try (LanguageModel m = ModelLoader.load(dir, null, threads); InferenceState s = m.newState()) {
            for (int pos = 0; pos < TOKENS.length; pos++) {
                MemorySegment logits = m.forward(s, TOKENS[pos], pos);
                double[] expected = ScalarReference.llamaLogits(ref, f.tensors,
                        java.util.Arrays.copyOf(TOKENS, pos + 1));
                assertClose(expected, logits, "position " + pos);
            }
        }
    }

    @ParameterizedTest(name = "opt {0} normBefore={1} projDim={2}")
    @CsvSource({"F32, true, 64", "F16, true, 64", "F32, false, 48", "BF16, false, 48"})
    void optMatchesReference(String dtype, boolean normBefore, int projDim) throws IOException {
        int dim = 64, hidden = 128, layers = 2, heads = 4;
        HfFixture f = new HfFixture(23, dtype);
        f.config.putArray("architectures").add("OPTForCausalLM");
        f.config.put("hidden_size", dim).put("ffn_dim", hidden).put("num_hidden_layers", layers)
                .put("num_attention_heads", heads).put("vocab_size", VOCAB).put("max_position_embeddings", 32)
                .put("word_embed_proj_dim", projDim).put("do_layer_norm_before", normBefore)
                .put("activation_function", "relu").put("enable_bias", true).put("tie_word_embeddings", true);
        String r = "model.decoder.";
        f.random(r + "embed_tokens.weight", 0, 1f, VOCAB, projDim);
        f.random(r + "embed_positions.weight", 0, 0.5f, 34, dim);
        if (projDim != dim) {
            f.random(r + "project_in.weight", 0, 0.3f, dim, projDim);
            f.random(r + "project_out.weight", 0, 0.3f, projDim, dim);
        }
        for (int l = 0; l < layers; l++) {
            String p = r + "layers." + l + ".";
            f.random(p + "self_attn_layer_norm.weight", 1, 0.2f, dim);
            f.random(p + "self_attn_layer_norm.bias", 0, 0.1f, dim);
            for (String proj : new String[]{"q_proj", "k_proj", "v_proj", "out_proj"}) {
                f.random(p + "self_attn." + proj + ".weight", 0, 0.25f, dim, dim);
                f.random(p + "self_attn." + proj + ".bias", 0, 0.1f, dim);
            }
            f.random(p + "final_layer_norm.weight", 1, 0.2f, dim);
            f.random(p + "final_layer_norm.bias", 0, 0.1f, dim);
            f.random(p + "fc1.weight", 0, 0.25f, hidden, dim);
            f.random(p + "fc1.bias", -0.05f, 0.1f, hidden);
            f.random(p + "fc2.weight", 0, 0.2f, dim, hidden);
            f.random(p + "fc2.bias", 0, 0.1f, dim);
        }
        if (normBefore) {
            f.random(r + "final_layer_norm.weight", 1, 0.2f, dim);
            f.random(r + "final_layer_norm.bias", 0, 0.1f, dim);
        }
        Path dir = f.write(root.resolve("opt-" + dtype + "-" + normBefore + "-" + projDim));
        var ref = new ScalarReference.Opt(dim, hidden, layers, heads, VOCAB, projDim, normBefore);
        try (LanguageModel m = ModelLoader.load(dir, null, 2); InferenceState s = m.newState()) {
            for (int pos = 0; pos < TOKENS.length; pos++) {
                MemorySegment logits = m.forward(s, TOKENS[pos], pos);
                double[] expected = ScalarReference.optLogits(ref, f.tensors, java.util.Arrays.copyOf(TOKENS, pos + 1));
                assertClose(expected, logits, "position " + pos);
            }
        }
    }

    /** max |engine - reference| <= 1e-4 * max |reference|. */
    static void assertClose(double[] expected, MemorySegment actual, String what) {
        assertClose(expected, actual, what, 1e-4);
    }

    /** Within relative * the largest |logit|. */
    static void assertClose(double[] expected, MemorySegment actual, String what, double relative) {
        double maxRef = 0, maxErr = 0;
        for (int i = 0; i < expected.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(expected[i]));
            maxErr = Math.max(maxErr, Math.abs(expected[i] - actual.getAtIndex(JAVA_FLOAT, i)));
        }
        assertTrue(maxErr <= relative * maxRef, what + ": max error " + maxErr + " vs max |logit| " + maxRef);
    }
}
