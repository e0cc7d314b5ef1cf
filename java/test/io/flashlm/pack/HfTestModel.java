package io.flashlm.pack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.model.ModelConfig;
import io.flashlm.synth.SyntheticTokenizer;
import io.flashlm.testing.SafetensorsFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Tiny Hugging Face model directories for pack tests: random weights under the real tensor names,
 * config.json, and the synthetic byte-level tokenizer. Values can be rounded to f16 while stored as
 * F32, so that an F32 source converted to an f16 pack can be compared with the F16 source.
 */
final class HfTestModel {
    static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, float[]> tensors = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final ObjectNode config = JSON.createObjectNode();
    private final Random rnd;
    private final boolean roundToF16;
    private final ModelConfig shape;

    private HfTestModel(long seed, boolean roundToF16, ModelConfig shape) {
        this.rnd = new Random(seed);
        this.roundToF16 = roundToF16;
        this.shape = shape;
    }

    /** A Llama model: dim 64, ffn 96, 2 layers, 4 heads (2 kv), vocab 300; a gated FFN with SiLU or ReLU. */
    static HfTestModel llama(long seed, boolean roundToF16, boolean silu) {
        int dim = 64, hidden = 96, layers = 2, heads = 4, kvHeads = 2, vocab = 300;
        ModelConfig c = new ModelConfig(ModelConfig.Architecture.LLAMA, dim, hidden, layers, heads, kvHeads, vocab, 64,
                1e-5f, 10000f, ModelConfig.RopeStyle.HALF_SPLIT, silu ? ModelConfig.Activation.SILU
                : ModelConfig.Activation.RELU, true, dim, true, 0);
        HfTestModel m = new HfTestModel(seed, roundToF16, c);
        m.config.putArray("architectures").add("LlamaForCausalLM");
        m.config.put("hidden_size", dim).put("intermediate_size", hidden).put("num_hidden_layers", layers)
                .put("num_attention_heads", heads).put("num_key_value_heads", kvHeads).put("vocab_size", vocab)
                .put("max_position_embeddings", 64).put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0)
                .put("hidden_act", silu ? "silu" : "relu").put("tie_word_embeddings", false);
        int kv = kvHeads * (dim / heads);
        m.random("model.embed_tokens.weight", 0, 1f, vocab, dim);
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            m.random(p + "input_layernorm.weight", 1, 0.2f, dim);
            m.random(p + "self_attn.q_proj.weight", 0, 0.25f, dim, dim);
            m.random(p + "self_attn.k_proj.weight", 0, 0.25f, kv, dim);
            m.random(p + "self_attn.v_proj.weight", 0, 0.25f, kv, dim);
            m.random(p + "self_attn.o_proj.weight", 0, 0.25f, dim, dim);
            m.random(p + "post_attention_layernorm.weight", 1, 0.2f, dim);
            m.random(p + "mlp.gate_proj.weight", 0, 0.25f, hidden, dim);
            m.random(p + "mlp.up_proj.weight", 0, 0.25f, hidden, dim);
            m.random(p + "mlp.down_proj.weight", 0, 0.2f, dim, hidden);
        }
        m.random("model.norm.weight", 1, 0.2f, dim);
        m.random("lm_head.weight", 0, 0.3f, vocab, dim);
        return m;
    }

    /** An OPT model: dim 64, ffn 128, 2 layers, 4 heads, vocab 290, pre-norm, tied head, ReLU. */
    static HfTestModel opt(long seed, boolean roundToF16) {
        int dim = 64, hidden = 128, layers = 2, heads = 4, vocab = 290, context = 48;
        ModelConfig c = new ModelConfig(ModelConfig.Architecture.OPT, dim, hidden, layers, heads, heads, vocab, context,
                1e-5f, 0f, ModelConfig.RopeStyle.HALF_SPLIT, ModelConfig.Activation.RELU, false, dim, true, 2);
        HfTestModel m = new HfTestModel(seed, roundToF16, c);
        m.config.putArray("architectures").add("OPTForCausalLM");
        m.config.put("hidden_size", dim).put("ffn_dim", hidden).put("num_hidden_layers", layers)
                .put("num_attention_heads", heads).put("vocab_size", vocab).put("max_position_embeddings", context)
                .put("activation_function", "relu").put("do_layer_norm_before", true).put("word_embed_proj_dim", dim)
                .put("enable_bias", true);
        String r = "model.decoder.";
        m.random(r + "embed_tokens.weight", 0, 0.5f, vocab, dim);
        m.random(r + "embed_positions.weight", 0, 0.2f, context + 2, dim);
        for (int l = 0; l < layers; l++) {
            String p = r + "layers." + l + ".";
            m.random(p + "self_attn_layer_norm.weight", 1, 0.2f, dim);
            m.random(p + "self_attn_layer_norm.bias", 0, 0.1f, dim);
            for (String proj : new String[]{"q_proj", "k_proj", "v_proj", "out_proj"}) {
                m.random(p + "self_attn." + proj + ".weight", 0, 0.25f, dim, dim);
                m.random(p + "self_attn." + proj + ".bias", 0, 0.1f, dim);
            }
            m.random(p + "final_layer_norm.weight", 1, 0.2f, dim);
            m.random(p + "final_layer_norm.bias", 0, 0.1f, dim);
            m.random(p + "fc1.weight", 0, 0.25f, hidden, dim);
            m.random(p + "fc1.bias", -0.2f, 0.2f, hidden);
            m.random(p + "fc2.weight", 0, 0.2f, dim, hidden);
            m.random(p + "fc2.bias", 0, 0.1f, dim);
        }
        m.random(r + "final_layer_norm.weight", 1, 0.2f, dim);
        m.random(r + "final_layer_norm.bias", 0, 0.1f, dim);
        return m;
    }

    private void random(String name, float center, float scale, long... dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            float f = center + (rnd.nextFloat() * 2 - 1) * scale;
            v[i] = roundToF16 ? Float.float16ToFloat(Float.floatToFloat16(f)) : f;
        }
        tensors.put(name, v);
        shapes.put(name, dims);
    }

    /** Writes the directory with tensors stored as dtype (F32, F16 or BF16). */
    Path write(Path dir, String dtype) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        SafetensorsFiles.write(dir.resolve("model.safetensors"), tensors, shapes, dtype);
        SyntheticTokenizer.write(dir, shape);
        return dir;
    }
}
