package io.flashlm.model.arch;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An independent double-precision forward pass of the decoder families, written from the Hugging Face modeling
 * code (LlamaForCausalLM, MistralForCausalLM, Qwen2/Qwen3/Qwen3Moe, Phi3, Gemma2/Gemma3, Falcon (7B layout),
 * Mixtral, Olmoe). It reads the weights by their Hugging Face names, recomputes the whole sequence (no cache) and
 * shares no code with the engine. RoPE is always Hugging Face's half-split (rotate_half) form: the GGUF files
 * permute Q/K rows where llama.cpp's converter does, so the same reference describes both formats.
 */
final class ArchReference {
    private ArchReference() {
    }

    enum Family {
        LLAMA, MISTRAL, QWEN2, QWEN3, PHI3, GEMMA2, GEMMA3, FALCON, MIXTRAL, QWEN3MOE, OLMOE;

        boolean gemma() {
            return this == GEMMA2 || this == GEMMA3;
        }

        boolean moe() {
            return this == MIXTRAL || this == QWEN3MOE || this == OLMOE;
        }
    }

    /** The hyper-parameters of one model as the reference sees them (filled by {@link ArchModels}). */
    static final class Spec {
        Family family;
        int dim, ffn, layers, heads, kvHeads, headDim, vocab;
        double eps;
        boolean tied;
        /** RoPE inverse frequencies per layer, [layers][headDim / 2]. */
        double[][] invFreq;
        /** Multiplies cos and sin (LongRoPE's attention factor); 1 elsewhere. */
        double ropeFactor = 1;
        /** Sliding window per layer: position p sees t when p - t < window; 0 = the whole past. */
        int[] window;
        double attnScale;
        /** tanh soft-caps (Gemma 2) of the attention scores and the final logits; 0 = none. */
        double attnSoftcap, finalSoftcap;
        int experts, expertsUsed;
        /** Renormalise the top-k routing probabilities to sum 1 (Mixtral, Qwen3-MoE norm_topk_prob). */
        boolean normTopK;
        /** When set, the experts each MoE layer picks, in order of probability, per layer and position. */
        List<int[]> routes;
    }

    /** The logits at every position of {@code tokens}, [position][vocab]. */
    static double[][] logits(Spec s, Map<String, float[]> w, int[] tokens) {
        Family f = s.family;
        boolean falcon = f == Family.FALCON, gemma = f.gemma();
        int n = tokens.length, hd = s.headDim, qDim = s.heads * hd, kvDim = s.kvHeads * hd;
        String emb = falcon ? "transformer.word_embeddings.weight" : "model.embed_tokens.weight";
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = row(w.get(emb), tokens[t], s.dim);
            if (gemma) {
                scale(x[t], Math.sqrt(s.dim));
            }
        }
        for (int l = 0; l < s.layers; l++) {
            String p = (falcon ? "transformer.h." : "model.layers.") + l + ".";
            double[][] a = new double[n][], q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                a[t] = falcon ? layerNorm(x[t], w, p + "input_layernorm", s.eps)
                        : rmsNorm(x[t], w.get(p + "input_layernorm.weight"), s.eps, gemma);
                double[] qq, kk, vv;
                if (f == Family.PHI3 || falcon) {
                    double[] qkv = linear(w, p + (falcon ? "self_attention.query_key_value" : "self_attn.qkv_proj"),
                            a[t], qDim + 2 * kvDim);
                    qq = Arrays.copyOfRange(qkv, 0, qDim);
                    kk = Arrays.copyOfRange(qkv, qDim, qDim + kvDim);
                    vv = Arrays.copyOfRange(qkv, qDim + kvDim, qDim + 2 * kvDim);
                } else {
                    qq = linear(w, p + "self_attn.q_proj", a[t], qDim);
                    kk = linear(w, p + "self_attn.k_proj", a[t], kvDim);
                    vv = linear(w, p + "self_attn.v_proj", a[t], kvDim);
                }
                if (f == Family.QWEN3 || f == Family.QWEN3MOE || f == Family.GEMMA3) { // per head, before RoPE
                    qq = perHeadNorm(qq, w.get(p + "self_attn.q_norm.weight"), hd, s.eps, gemma);
                    kk = perHeadNorm(kk, w.get(p + "self_attn.k_norm.weight"), hd, s.eps, gemma);
                } else if (f == Family.OLMOE) { // over the whole q and k vectors
                    qq = rmsNorm(qq, w.get(p + "self_attn.q_norm.weight"), s.eps, false);
                    kk = rmsNorm(kk, w.get(p + "self_attn.k_norm.weight"), s.eps, false);
                }
                q[t] = rope(qq, t, s.invFreq[l], s.ropeFactor, hd);
                k[t] = rope(kk, t, s.invFreq[l], s.ropeFactor, hd);
                v[t] = vv;
            }
            for (int t = 0; t < n; t++) {
                double[] att = attention(s, q, k, v, t, s.window[l]);
                double[] o = linear(w, p + (falcon ? "self_attention.dense" : "self_attn.o_proj"), att, s.dim);
                if (falcon) { // parallel attention and MLP on the same LayerNorm output
                    double[] h = linear(w, p + "mlp.dense_h_to_4h", a[t], s.ffn);
                    for (int i = 0; i < h.length; i++) {
                        h[i] = gelu(h[i]);
                    }
                    add(x[t], o);
                    add(x[t], linear(w, p + "mlp.dense_4h_to_h", h, s.dim));
                    continue;
                }
                if (gemma) {
                    o = rmsNorm(o, w.get(p + "post_attention_layernorm.weight"), s.eps, true);
                }
                add(x[t], o);
                double[] h = rmsNorm(x[t], w.get(p + (gemma ? "pre_feedforward_layernorm.weight"
                        : "post_attention_layernorm.weight")), s.eps, gemma);
                double[] y = f.moe() ? moe(s, w, p, h) : mlp(s, w, p, h);
                if (gemma) {
                    y = rmsNorm(y, w.get(p + "post_feedforward_layernorm.weight"), s.eps, true);
                }
                add(x[t], y);
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] last = falcon ? layerNorm(x[t], w, "transformer.ln_f", s.eps)
                    : rmsNorm(x[t], w.get("model.norm.weight"), s.eps, gemma);
            out[t] = linear(w, s.tied ? emb.replace(".weight", "") : "lm_head", last, s.vocab);
            for (int i = 0; s.finalSoftcap > 0 && i < out[t].length; i++) {
                out[t][i] = Math.tanh(out[t][i] / s.finalSoftcap) * s.finalSoftcap;
            }
        }
        return out;
    }

    /** Gated MLP: down(act(gate x) * up x); Phi-3 fuses gate and up into gate_up_proj (gate rows first). */
    private static double[] mlp(Spec s, Map<String, float[]> w, String p, double[] x) {
        double[] g, u;
        if (s.family == Family.PHI3) {
            double[] gu = linear(w, p + "mlp.gate_up_proj", x, 2 * s.ffn);
            g = Arrays.copyOfRange(gu, 0, s.ffn);
            u = Arrays.copyOfRange(gu, s.ffn, 2 * s.ffn);
        } else {
            g = linear(w, p + "mlp.gate_proj", x, s.ffn);
            u = linear(w, p + "mlp.up_proj", x, s.ffn);
        }
        return linear(w, p + "mlp.down_proj", gatedAct(s, g, u), s.dim);
    }

    private static double[] gatedAct(Spec s, double[] g, double[] u) {
        double[] h = new double[g.length];
        for (int i = 0; i < h.length; i++) {
            h[i] = (s.family.gemma() ? geluTanh(g[i]) : silu(g[i])) * u[i];
        }
        return h;
    }

    /** Softmax over every expert's router logit, the top k, optionally renormalised, weighted sum of experts. */
    private static double[] moe(Spec s, Map<String, float[]> w, String p, double[] x) {
        boolean mixtral = s.family == Family.MIXTRAL;
        String base = p + (mixtral ? "block_sparse_moe." : "mlp.");
        double[] prob = softmax(linear(w, base + "gate", x, s.experts));
        int[] top = new int[s.expertsUsed];
        boolean[] taken = new boolean[s.experts];
        double sum = 0;
        for (int r = 0; r < top.length; r++) {
            int best = -1;
            for (int e = 0; e < s.experts; e++) {
                if (!taken[e] && (best < 0 || prob[e] > prob[best])) {
                    best = e;
                }
            }
            taken[best] = true;
            top[r] = best;
            sum += prob[best];
        }
        if (s.routes != null) {
            s.routes.add(top);
        }
        double[] y = new double[s.dim];
        for (int e : top) {
            String ex = base + "experts." + e + ".";
            double[] g = linear(w, ex + (mixtral ? "w1" : "gate_proj"), x, s.ffn);
            double[] u = linear(w, ex + (mixtral ? "w3" : "up_proj"), x, s.ffn);
            double[] d = linear(w, ex + (mixtral ? "w2" : "down_proj"), gatedAct(s, g, u), s.dim);
            double weight = s.normTopK ? prob[e] / sum : prob[e];
            for (int i = 0; i < y.length; i++) {
                y[i] += weight * d[i];
            }
        }
        return y;
    }

    private static double[] attention(Spec s, double[][] q, double[][] k, double[][] v, int t, int window) {
        int hd = s.headDim, group = s.heads / s.kvHeads;
        int first = window > 0 ? Math.max(0, t - window + 1) : 0;
        double[] out = new double[s.heads * hd];
        for (int h = 0; h < s.heads; h++) {
            int g = h / group;
            double[] score = new double[t + 1 - first];
            for (int j = first; j <= t; j++) {
                double dot = 0;
                for (int i = 0; i < hd; i++) {
                    dot += q[t][h * hd + i] * k[j][g * hd + i];
                }
                dot *= s.attnScale;
                score[j - first] = s.attnSoftcap > 0 ? Math.tanh(dot / s.attnSoftcap) * s.attnSoftcap : dot;
            }
            double[] pr = softmax(score);
            for (int j = first; j <= t; j++) {
                for (int i = 0; i < hd; i++) {
                    out[h * hd + i] += pr[j - first] * v[j][g * hd + i];
                }
            }
        }
        return out;
    }

    /** rotate_half RoPE: dimension i pairs with i + hd/2 in every head; cos and sin scaled by {@code factor}. */
    private static double[] rope(double[] v, int pos, double[] invFreq, double factor, int hd) {
        double[] out = v.clone();
        for (int h = 0; h < v.length / hd; h++) {
            for (int i = 0; i < hd / 2; i++) {
                double angle = pos * invFreq[i];
                double c = Math.cos(angle) * factor, sn = Math.sin(angle) * factor;
                double a = v[h * hd + i], b = v[h * hd + i + hd / 2];
                out[h * hd + i] = a * c - b * sn;
                out[h * hd + i + hd / 2] = b * c + a * sn;
            }
        }
        return out;
    }

    /** theta^(-2i/hd) for i < hd/2: the unscaled RoPE inverse frequencies. */
    static double[] invFreq(double theta, int hd) {
        double[] f = new double[hd / 2];
        for (int i = 0; i < f.length; i++) {
            f[i] = Math.pow(theta, -2.0 * i / hd);
        }
        return f;
    }

    /** Llama 3.1's scaling (HF _compute_llama3_parameters): the divisor of each inverse frequency. */
    static double[] llama3Divisors(double[] invFreq, double factor, double lowFreqFactor, double highFreqFactor,
                                   double originalContext) {
        double lowWavelen = originalContext / lowFreqFactor, highWavelen = originalContext / highFreqFactor;
        double[] d = new double[invFreq.length];
        for (int i = 0; i < d.length; i++) {
            double wavelen = 2 * Math.PI / invFreq[i];
            if (wavelen < highWavelen) {
                d[i] = 1;
            } else if (wavelen > lowWavelen) {
                d[i] = factor;
            } else {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                d[i] = 1 / ((1 - smooth) / factor + smooth);
            }
        }
        return d;
    }

    private static double[] perHeadNorm(double[] x, float[] weight, int hd, double eps, boolean plusOne) {
        double[] out = new double[x.length];
        for (int h = 0; h < x.length / hd; h++) {
            double[] n = rmsNorm(Arrays.copyOfRange(x, h * hd, (h + 1) * hd), weight, eps, plusOne);
            System.arraycopy(n, 0, out, h * hd, hd);
        }
        return out;
    }

    /** x / rms(x) * w, or * (1 + w) as Gemma's RMSNorm. */
    private static double[] rmsNorm(double[] x, float[] weight, double eps, boolean plusOne) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * (plusOne ? 1 + weight[i] : weight[i]);
        }
        return out;
    }

    private static double[] layerNorm(double[] x, Map<String, float[]> w, String name, double eps) {
        float[] weight = w.get(name + ".weight"), bias = w.get(name + ".bias");
        double mean = 0, var = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= x.length;
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = (x[i] - mean) / Math.sqrt(var + eps) * weight[i] + bias[i];
        }
        return out;
    }

    /** W x (+ b when the checkpoint has {@code name.bias}), W [out, in] row-major. */
    private static double[] linear(Map<String, float[]> w, String name, double[] x, int out) {
        float[] m = w.get(name + ".weight");
        if (m == null || m.length != out * x.length) {
            throw new IllegalArgumentException("reference: " + name + ".weight missing or not [" + out + ", "
                    + x.length + "]");
        }
        float[] b = w.get(name + ".bias");
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b != null ? b[o] : 0;
            for (int i = 0; i < x.length; i++) {
                s += m[o * x.length + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    private static double[] softmax(double[] s) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (double v : s) {
            max = Math.max(max, v);
        }
        double[] p = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            p[i] = Math.exp(s[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < s.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    /** PyTorch's exact GELU, x * Phi(x). */
    static double gelu(double v) {
        return 0.5 * v * (1 + erf(v / Math.sqrt(2)));
    }

    /** PyTorch's gelu(approximate="tanh") (gelu_pytorch_tanh). */
    static double geluTanh(double v) {
        return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
    }

    /** erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!: every term positive, so no cancellation. */
    static double erf(double x) {
        double ax = Math.abs(x);
        if (ax > 8) {
            return Math.signum(x);
        }
        double term = ax, sum = ax;
        for (int n = 1; n < 500 && term > 1e-17 * sum; n++) {
            term *= 2 * ax * ax / (2 * n + 1);
            sum += term;
        }
        return Math.signum(x) * Math.min(1, 2 / Math.sqrt(Math.PI) * Math.exp(-ax * ax) * sum);
    }

    private static double[] row(float[] m, int r, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            out[i] = m[r * width + i];
        }
        return out;
    }

    private static void scale(double[] x, double by) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= by;
        }
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
