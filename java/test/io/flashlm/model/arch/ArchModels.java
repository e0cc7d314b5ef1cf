package io.flashlm.model.arch;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.model.arch.ArchReference.Family;

import java.util.Arrays;

import static io.flashlm.model.arch.ArchModel.VOCAB;
import static io.flashlm.model.arch.ArchModel.f32;
import static io.flashlm.model.arch.ArchModel.str;
import static io.flashlm.model.arch.ArchModel.u32;

/**
 * The tiny models of each family (hidden size 64, 2 to 6 layers): Hugging Face config and weights, the GGUF keys
 * llama.cpp's converter writes for them, and the reference's view of the hyper-parameters.
 */
final class ArchModels {
    static final int DIM = 64, HEADS = 4, KV_HEADS = 2, CONTEXT = 64;

    private ArchModels() {
    }

    /** A plain Llama (no RoPE scaling): the control that checks this fixture and reference against the engine. */
    static ArchModel llama() {
        ArchModel m = base(Family.LLAMA, "LlamaForCausalLM", "llama", "llama", 97, 2, HEADS, KV_HEADS, 16, 96,
                1e-5, 500000, false);
        llamaKeys(m);
        denseLayers(m, false);
        return m;
    }

    /** Llama 3.1 RoPE scaling, chosen so that head dim 16 (theta 500000, original context 64) has all 3 regions. */
    static ArchModel llama3() {
        ArchModel m = base(Family.LLAMA, "LlamaForCausalLM", "llama", "llama", 101, 2, HEADS, KV_HEADS, 16, 96,
                1e-5, 500000, false);
        m.config.put("max_position_embeddings", 512);
        m.config.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0).put("low_freq_factor", 1.0)
                .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 64);
        double[] inv = ArchReference.invFreq(500000, 16);
        double[] div = ArchReference.llama3Divisors(inv, 8, 1, 4, 64);
        float[] stored = new float[div.length];
        for (int i = 0; i < div.length; i++) {
            inv[i] /= div[i];
            stored[i] = (float) div[i];
        }
        Arrays.fill(m.spec.invFreq, inv);
        m.ggufExtra.put("rope_freqs.weight", stored);
        llamaKeys(m);
        denseLayers(m, false);
        return m;
    }

    /**
     * Mistral: a sliding window of 3 over 8 positions, in GGUF the llama architecture. With {@code headDim} 32
     * (Mistral Nemo's kind: wider than hidden / heads) config.json names head_dim and the converter writes
     * key_length and value_length.
     */
    static ArchModel mistral(int headDim) {
        ArchModel m = base(Family.MISTRAL, "MistralForCausalLM", "mistral", "llama", 103 + headDim, 2, HEADS,
                KV_HEADS, headDim, 96, 1e-5, 10000, false);
        m.config.put("sliding_window", 3);
        Arrays.fill(m.spec.window, 3);
        llamaKeys(m);
        if (headDim != DIM / HEADS) {
            m.config.put("head_dim", headDim);
            m.gguf("attention.key_length", u32(headDim)).gguf("attention.value_length", u32(headDim));
        }
        m.gguf("attention.sliding_window", u32(3));
        denseLayers(m, false);
        return m;
    }

    /**
     * Qwen2: q/k/v biases, NeoX RoPE; the config names a sliding window of 4 but use_sliding_window is false (as
     * published Qwen2.5 configs), so every layer sees the whole past.
     */
    static ArchModel qwen2(boolean tied) {
        ArchModel m = base(Family.QWEN2, "Qwen2ForCausalLM", "qwen2", "qwen2", tied ? 107 : 109, 2, HEADS, KV_HEADS,
                16, 96, 1e-6, 1000000, tied);
        m.config.put("use_sliding_window", false).put("sliding_window", 4).put("max_window_layers", 2);
        m.gguf("rope.freq_base", f32(1000000));
        denseLayers(m, true);
        return m;
    }

    /** Qwen3: head_dim 32 (q width 128 from hidden 64), per-head q/k RMSNorm before RoPE. */
    static ArchModel qwen3(boolean tied) {
        ArchModel m = base(Family.QWEN3, "Qwen3ForCausalLM", "qwen3", "qwen3", tied ? 113 : 193, 2, HEADS, KV_HEADS,
                32, 96, 1e-6, 1000000, tied);
        m.config.put("head_dim", 32).put("attention_bias", false);
        m.gguf("rope.freq_base", f32(1000000)).gguf("attention.key_length", u32(32))
                .gguf("attention.value_length", u32(32));
        denseLayers(m, false);
        return m;
    }

    /**
     * Phi-3 with LongRoPE: fused qkv_proj and gate_up_proj, head dim 16, trained for {@code max} positions over an
     * original {@code orig}; the attention factor sqrt(1 + ln(max / orig) / ln(orig)) (1 when max <= orig)
     * multiplies cos and sin. Which factors apply: Hugging Face picks by the sequence length so far (short up to
     * {@code orig}), llama.cpp and flashlm by the context the model runs with (long when it exceeds {@code orig};
     * flashlm's default context is min(max, 4096)). {@code longFactors} says which the reference uses:
     * <ul>
     *   <li>(32, 32, short): short factors, attention factor 1: every definition agrees;</li>
     *   <li>(4096, 8192, short): Phi-3-128k's kind at flashlm's default context 4096 = orig: short factors with
     *       the attention factor 1.04, which Hugging Face and llama.cpp agree on for these 8 positions;</li>
     *   <li>(32, 128, long): context 128 > 32, so llama.cpp's (and flashlm's) long factors at every position,
     *       attention factor 1.18 (Hugging Face would use the short ones for the first 32 positions).</li>
     * </ul>
     */
    static ArchModel phi3(int orig, int max, boolean longFactors) {
        int hd = 16, ffn = 96;
        ArchModel m = base(Family.PHI3, "Phi3ForCausalLM", "phi3", "phi3", 127 + max, 2, HEADS, KV_HEADS,
                hd, ffn, 1e-5, 10000, false);
        double[] shortF = {1.0, 1.05, 1.2, 1.5, 2.0, 2.75, 3.5, 5.0};
        double[] longF = {1.0, 1.5, 3.0, 6.0, 12.0, 20.0, 31.0, 40.0};
        m.config.put("max_position_embeddings", max).put("original_max_position_embeddings", orig)
                .put("sliding_window", 2047);
        ObjectNode rs = m.config.putObject("rope_scaling");
        rs.put("type", "longrope");
        ArrayNode s = rs.putArray("short_factor"), l = rs.putArray("long_factor");
        float[] shortStored = new float[hd / 2], longStored = new float[hd / 2];
        double[] inv = ArchReference.invFreq(10000, hd);
        for (int i = 0; i < hd / 2; i++) {
            s.add(shortF[i]);
            l.add(longF[i]);
            shortStored[i] = (float) shortF[i];
            longStored[i] = (float) longF[i];
            inv[i] /= longFactors ? longF[i] : shortF[i];
        }
        Arrays.fill(m.spec.invFreq, inv);
        double attnFactor = max > orig ? Math.sqrt(1 + Math.log((double) max / orig) / Math.log(orig)) : 1.0;
        m.spec.ropeFactor = attnFactor;
        m.ggufKeys.put("phi3.context_length", u32(max));
        m.gguf("rope.scaling.original_context_length", u32(orig)).gguf("rope.dimension_count", u32(hd))
                .gguf("rope.freq_base", f32(10000)).gguf("rope.scaling.attn_factor", f32(attnFactor))
                .gguf("attention.sliding_window", u32(2047));
        m.ggufExtra.put("rope_factors_long.weight", longStored);
        m.ggufExtra.put("rope_factors_short.weight", shortStored);
        m.random("model.embed_tokens.weight", 0, 1f, VOCAB, DIM);
        int q = HEADS * hd, kv = KV_HEADS * hd;
        for (int i = 0; i < 2; i++) {
            String p = "model.layers." + i + ".";
            m.random(p + "input_layernorm.weight", 1, 0.2f, DIM);
            m.random(p + "self_attn.qkv_proj.weight", 0, 0.25f, q + 2 * kv, DIM);
            m.random(p + "self_attn.o_proj.weight", 0, 0.25f, DIM, q);
            m.random(p + "post_attention_layernorm.weight", 1, 0.2f, DIM);
            m.random(p + "mlp.gate_up_proj.weight", 0, 0.25f, 2 * ffn, DIM);
            m.random(p + "mlp.down_proj.weight", 0, 0.2f, DIM, ffn);
        }
        finalNormAndHead(m);
        return m;
    }

    /**
     * Gemma 2: embedding * sqrt(64) = 8, (1 + w) norms, four per layer, GELU-tanh, head_dim 32 with
     * query_pre_attn_scalar 32, attention and final soft-caps small enough to bend, a window of 3 on even layers.
     */
    static ArchModel gemma2() {
        int hd = 32, layers = 4;
        ArchModel m = base(Family.GEMMA2, "Gemma2ForCausalLM", "gemma2", "gemma2", 131, layers, HEADS, KV_HEADS,
                hd, 128, 1e-6, 10000, true);
        m.config.put("head_dim", hd).put("query_pre_attn_scalar", hd).put("attn_logit_softcapping", 3.0)
                .put("final_logit_softcapping", 2.0).put("sliding_window", 3)
                .put("hidden_activation", "gelu_pytorch_tanh").put("hidden_act", "gelu_pytorch_tanh");
        m.spec.attnSoftcap = 3.0;
        m.spec.finalSoftcap = 2.0;
        for (int l = 0; l < layers; l++) {
            m.spec.window[l] = l % 2 == 0 ? 3 : 0;
        }
        // Gemma2Model.set_gguf_parameters writes no rope.freq_base: llama.cpp's default 10000 applies.
        m.gguf("attention.key_length", u32(hd)).gguf("attention.value_length", u32(hd))
                .gguf("attn_logit_softcapping", f32(3.0)).gguf("final_logit_softcapping", f32(2.0))
                .gguf("attention.sliding_window", u32(3));
        gemmaLayers(m, false);
        return m;
    }

    /**
     * Gemma 3 (text): 6 layers, layers 0-4 sliding (window 3, RoPE base 10000 unscaled), layer 5 global (base 1e6
     * with linear scaling 8), per-head (1 + w) q/k norms, no soft-caps.
     */
    static ArchModel gemma3() {
        int hd = 32, layers = 6;
        ArchModel m = base(Family.GEMMA3, "Gemma3ForCausalLM", "gemma3_text", "gemma3", 137, layers, HEADS, KV_HEADS,
                hd, 128, 1e-6, 1000000, true);
        m.config.put("head_dim", hd).put("query_pre_attn_scalar", hd).putNull("attn_logit_softcapping")
                .putNull("final_logit_softcapping").put("sliding_window", 3).put("sliding_window_pattern", 6)
                .put("rope_local_base_freq", 10000.0)
                .put("hidden_activation", "gelu_pytorch_tanh").put("hidden_act", "gelu_pytorch_tanh");
        m.config.putObject("rope_scaling").put("rope_type", "linear").put("factor", 8.0);
        double[] local = ArchReference.invFreq(10000, hd), global = ArchReference.invFreq(1000000, hd);
        for (int i = 0; i < global.length; i++) {
            global[i] /= 8;
        }
        for (int l = 0; l < layers; l++) {
            boolean sliding = (l + 1) % 6 != 0;
            m.spec.window[l] = sliding ? 3 : 0;
            m.spec.invFreq[l] = sliding ? local : global;
        }
        m.gguf("attention.key_length", u32(hd)).gguf("attention.value_length", u32(hd))
                .gguf("rope.freq_base", f32(1000000)).gguf("attention.sliding_window", u32(3))
                .gguf("rope.scaling.type", str("linear"))
                .gguf("rope.scaling.factor", f32(8));
        gemmaLayers(m, true);
        return m;
    }

    /** Falcon 7B's layout: multi-query, parallel attention and MLP on one biased LayerNorm, exact GELU, no biases. */
    static ArchModel falcon(boolean tied) {
        int hd = DIM / HEADS, ffn = 4 * DIM;
        ArchModel m = new ArchModel(Family.FALCON, "falcon", tied ? 139 : 149);
        spec(m, 2, HEADS, 1, hd, ffn, 1e-5, 10000, tied);
        m.config.putArray("architectures").add("FalconForCausalLM");
        m.config.put("model_type", "falcon").put("hidden_size", DIM).put("num_attention_heads", HEADS)
                .put("num_hidden_layers", 2).put("vocab_size", VOCAB).put("layer_norm_epsilon", 1e-5)
                .put("multi_query", true).put("parallel_attn", true).put("new_decoder_architecture", false)
                .put("bias", false).put("alibi", false).put("rope_theta", 10000.0)
                .put("max_position_embeddings", CONTEXT).put("activation", "gelu").put("tie_word_embeddings", tied)
                .put("torch_dtype", "float32");
        m.gguf("context_length", u32(2048)).gguf("tensor_data_layout", str("jploski"))
                .gguf("embedding_length", u32(DIM)).gguf("feed_forward_length", u32(ffn))
                .gguf("block_count", u32(2)).gguf("attention.head_count", u32(HEADS))
                .gguf("attention.head_count_kv", u32(1)).gguf("attention.layer_norm_epsilon", f32(1e-5));
        m.random("transformer.word_embeddings.weight", 0, 1f, VOCAB, DIM);
        for (int l = 0; l < 2; l++) {
            String p = "transformer.h." + l + ".";
            m.random(p + "input_layernorm.weight", 1, 0.2f, DIM);
            m.random(p + "input_layernorm.bias", 0, 0.1f, DIM);
            m.random(p + "self_attention.query_key_value.weight", 0, 0.25f, (HEADS + 2) * hd, DIM);
            m.random(p + "self_attention.dense.weight", 0, 0.25f, DIM, DIM);
            m.random(p + "mlp.dense_h_to_4h.weight", 0, 0.25f, ffn, DIM);
            m.random(p + "mlp.dense_4h_to_h.weight", 0, 0.15f, DIM, ffn);
        }
        m.random("transformer.ln_f.weight", 1, 0.2f, DIM);
        m.random("transformer.ln_f.bias", 0, 0.1f, DIM);
        if (!tied) {
            m.random("lm_head.weight", 0, 0.3f, VOCAB, DIM);
        }
        return m;
    }

    /** Mixtral: 4 experts of width 64, top 2 renormalised; GGUF arch llama with permuted Q/K. */
    static ArchModel mixtral(long seed) {
        ArchModel m = base(Family.MIXTRAL, "MixtralForCausalLM", "mixtral", "llama", seed, 2, HEADS, KV_HEADS, 16, 64,
                1e-5, 1000000, false);
        m.config.put("num_local_experts", 4).put("num_experts_per_tok", 2).putNull("sliding_window");
        experts(m, 4, 2, true);
        llamaKeys(m);
        m.gguf("expert_count", u32(4)).gguf("expert_used_count", u32(2));
        denseLayers(m, false);
        return m;
    }

    /** Qwen3-MoE: Qwen3's head_dim 32 and q/k norms, 4 experts of moe_intermediate_size 64, norm_topk_prob. */
    static ArchModel qwen3moe(long seed) {
        ArchModel m = base(Family.QWEN3MOE, "Qwen3MoeForCausalLM", "qwen3_moe", "qwen3moe", seed, 2, HEADS, KV_HEADS,
                32, 64, 1e-6, 1000000, false);
        // intermediate_size is the (unused) dense width; the experts' is moe_intermediate_size.
        m.config.put("head_dim", 32).put("intermediate_size", 192).put("moe_intermediate_size", 64)
                .put("num_experts", 4).put("num_experts_per_tok", 2).put("norm_topk_prob", true)
                .put("decoder_sparse_step", 1).putArray("mlp_only_layers");
        experts(m, 4, 2, true);
        m.gguf("feed_forward_length", u32(192)).gguf("rope.freq_base", f32(1000000))
                .gguf("attention.key_length", u32(32)).gguf("attention.value_length", u32(32))
                .gguf("expert_count", u32(4)).gguf("expert_used_count", u32(2))
                .gguf("expert_feed_forward_length", u32(64));
        denseLayers(m, false);
        return m;
    }

    /** OLMoE: q/k RMSNorm over the whole q (64) and k (32) vectors, 4 experts, top 2 not renormalised. */
    static ArchModel olmoe(long seed) {
        ArchModel m = base(Family.OLMOE, "OlmoeForCausalLM", "olmoe", "olmoe", seed, 2, HEADS, KV_HEADS, 16, 64,
                1e-5, 10000, false);
        m.config.put("num_experts", 4).put("num_experts_per_tok", 2).put("norm_topk_prob", false)
                .putNull("clip_qkv");
        experts(m, 4, 2, false);
        m.gguf("rope.freq_base", f32(10000)).gguf("expert_count", u32(4)).gguf("expert_used_count", u32(2));
        denseLayers(m, false);
        return m;
    }

    /** An architecture flashlm does not run, in each format. */
    static ArchModel bloom() {
        ArchModel m = new ArchModel(Family.LLAMA, "bloom", 151);
        spec(m, 1, HEADS, HEADS, 16, 4 * DIM, 1e-5, 10000, true);
        m.config.putArray("architectures").add("BloomForCausalLM");
        m.config.put("model_type", "bloom").put("hidden_size", DIM).put("n_head", HEADS).put("n_layer", 1)
                .put("vocab_size", VOCAB).put("layer_norm_epsilon", 1e-5);
        m.gguf("context_length", u32(CONTEXT)).gguf("embedding_length", u32(DIM)).gguf("block_count", u32(1))
                .gguf("feed_forward_length", u32(4 * DIM)).gguf("attention.head_count", u32(HEADS))
                .gguf("attention.head_count_kv", u32(HEADS)).gguf("attention.layer_norm_epsilon", f32(1e-5));
        m.random("transformer.word_embeddings.weight", 0, 1f, VOCAB, DIM);
        return m;
    }

    // ---- shared parts ----

    /** Common config.json entries and GGUF keys of the RMSNorm families; per-family code adds the rest. */
    private static ArchModel base(Family f, String hfArch, String modelType, String ggufArch, long seed, int layers,
                                  int heads, int kvHeads, int headDim, int ffn, double eps, double theta,
                                  boolean tied) {
        ArchModel m = new ArchModel(f, ggufArch, seed);
        spec(m, layers, heads, kvHeads, headDim, ffn, eps, theta, tied);
        m.config.putArray("architectures").add(hfArch);
        m.config.put("model_type", modelType).put("hidden_size", DIM).put("intermediate_size", ffn)
                .put("num_hidden_layers", layers).put("num_attention_heads", heads)
                .put("num_key_value_heads", kvHeads).put("vocab_size", VOCAB)
                .put("max_position_embeddings", CONTEXT).put("rms_norm_eps", eps).put("rope_theta", theta)
                .put("hidden_act", "silu").put("tie_word_embeddings", tied).put("torch_dtype", "float32");
        m.gguf("context_length", u32(CONTEXT)).gguf("embedding_length", u32(DIM)).gguf("block_count", u32(layers))
                .gguf("feed_forward_length", u32(ffn)).gguf("attention.head_count", u32(heads))
                .gguf("attention.head_count_kv", u32(kvHeads)).gguf("attention.layer_norm_rms_epsilon", f32(eps));
        return m;
    }

    private static void spec(ArchModel m, int layers, int heads, int kvHeads, int headDim, int ffn, double eps,
                             double theta, boolean tied) {
        ArchReference.Spec s = m.spec;
        s.dim = DIM;
        s.ffn = ffn;
        s.layers = layers;
        s.heads = heads;
        s.kvHeads = kvHeads;
        s.headDim = headDim;
        s.vocab = VOCAB;
        s.eps = eps;
        s.tied = tied;
        s.invFreq = new double[layers][];
        Arrays.fill(s.invFreq, ArchReference.invFreq(theta, headDim));
        s.window = new int[layers];
        s.attnScale = 1 / Math.sqrt(headDim);
    }

    /** What LlamaModel.set_gguf_parameters adds: rope base, rope dimension count, vocab size; Q/K permuted. */
    private static void llamaKeys(ArchModel m) {
        m.permuteQk = true;
        m.gguf("rope.freq_base", f32(m.config.get("rope_theta").asDouble()))
                .gguf("rope.dimension_count", u32(m.spec.headDim)).gguf("vocab_size", u32(VOCAB));
    }

    private static void experts(ArchModel m, int experts, int used, boolean normTopK) {
        m.spec.experts = experts;
        m.spec.expertsUsed = used;
        m.spec.normTopK = normTopK;
    }

    /**
     * Llama-style layers: separate q/k/v/o (with q/k/v biases when {@code qkvBias}), q/k norms for Qwen3,
     * Qwen3-MoE and OLMoE, a gated MLP or experts.
     */
    private static void denseLayers(ArchModel m, boolean qkvBias) {
        ArchReference.Spec s = m.spec;
        int q = s.heads * s.headDim, kv = s.kvHeads * s.headDim;
        m.random("model.embed_tokens.weight", 0, 1f, VOCAB, DIM);
        for (int l = 0; l < s.layers; l++) {
            String p = "model.layers." + l + ".";
            m.random(p + "input_layernorm.weight", 1, 0.2f, DIM);
            m.random(p + "self_attn.q_proj.weight", 0, 0.25f, q, DIM);
            m.random(p + "self_attn.k_proj.weight", 0, 0.25f, kv, DIM);
            m.random(p + "self_attn.v_proj.weight", 0, 0.25f, kv, DIM);
            if (qkvBias) {
                m.random(p + "self_attn.q_proj.bias", 0, 0.5f, q);
                m.random(p + "self_attn.k_proj.bias", 0, 0.5f, kv);
                m.random(p + "self_attn.v_proj.bias", 0, 0.5f, kv);
            }
            m.random(p + "self_attn.o_proj.weight", 0, 0.25f, DIM, q);
            if (s.family == Family.QWEN3 || s.family == Family.QWEN3MOE) {
                m.random(p + "self_attn.q_norm.weight", 1, 0.3f, s.headDim);
                m.random(p + "self_attn.k_norm.weight", 1, 0.3f, s.headDim);
            } else if (s.family == Family.OLMOE) {
                m.random(p + "self_attn.q_norm.weight", 1, 0.3f, q);
                m.random(p + "self_attn.k_norm.weight", 1, 0.3f, kv);
            }
            m.random(p + "post_attention_layernorm.weight", 1, 0.2f, DIM);
            if (s.family.moe()) {
                boolean mixtral = s.family == Family.MIXTRAL;
                String b = p + (mixtral ? "block_sparse_moe." : "mlp.");
                m.random(b + "gate.weight", 0, 0.5f, s.experts, DIM);
                for (int e = 0; e < s.experts; e++) {
                    String x = b + "experts." + e + ".";
                    m.random(x + (mixtral ? "w1" : "gate_proj") + ".weight", 0, 0.25f, s.ffn, DIM);
                    m.random(x + (mixtral ? "w2" : "down_proj") + ".weight", 0, 0.25f, DIM, s.ffn);
                    m.random(x + (mixtral ? "w3" : "up_proj") + ".weight", 0, 0.25f, s.ffn, DIM);
                }
            } else {
                m.random(p + "mlp.gate_proj.weight", 0, 0.25f, s.ffn, DIM);
                m.random(p + "mlp.up_proj.weight", 0, 0.25f, s.ffn, DIM);
                m.random(p + "mlp.down_proj.weight", 0, 0.2f, DIM, s.ffn);
            }
        }
        finalNormAndHead(m);
    }

    /** Gemma layers: norms as w around 0 (used as 1 + w), embedding around +-1/8 (scaled by 8). */
    private static void gemmaLayers(ArchModel m, boolean qkNorm) {
        ArchReference.Spec s = m.spec;
        s.attnScale = 1 / Math.sqrt(m.config.get("query_pre_attn_scalar").asDouble());
        int q = s.heads * s.headDim, kv = s.kvHeads * s.headDim;
        m.random("model.embed_tokens.weight", 0, 0.125f, VOCAB, DIM);
        for (int l = 0; l < s.layers; l++) {
            String p = "model.layers." + l + ".";
            m.random(p + "input_layernorm.weight", 0, 0.2f, DIM);
            m.random(p + "self_attn.q_proj.weight", 0, 0.25f, q, DIM);
            m.random(p + "self_attn.k_proj.weight", 0, 0.25f, kv, DIM);
            m.random(p + "self_attn.v_proj.weight", 0, 0.25f, kv, DIM);
            m.random(p + "self_attn.o_proj.weight", 0, 0.2f, DIM, q);
            if (qkNorm) {
                m.random(p + "self_attn.q_norm.weight", 0, 0.3f, s.headDim);
                m.random(p + "self_attn.k_norm.weight", 0, 0.3f, s.headDim);
            }
            m.random(p + "post_attention_layernorm.weight", 0, 0.2f, DIM);
            m.random(p + "pre_feedforward_layernorm.weight", 0, 0.2f, DIM);
            m.random(p + "mlp.gate_proj.weight", 0, 0.25f, s.ffn, DIM);
            m.random(p + "mlp.up_proj.weight", 0, 0.25f, s.ffn, DIM);
            m.random(p + "mlp.down_proj.weight", 0, 0.2f, DIM, s.ffn);
            m.random(p + "post_feedforward_layernorm.weight", 0, 0.2f, DIM);
        }
        m.random("model.norm.weight", 0, 0.2f, DIM);
    }

    private static void finalNormAndHead(ArchModel m) {
        m.random("model.norm.weight", 1, 0.2f, DIM);
        if (!m.spec.tied) {
            m.random("lm_head.weight", 0, 0.3f, VOCAB, DIM);
        }
    }
}
