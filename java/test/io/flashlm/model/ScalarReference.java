package io.flashlm.model;

import java.util.Map;
import java.util.Set;
import java.util.function.DoubleUnaryOperator;

/**
 * Plainly written, independent reference forward passes in double precision, straight from the
 * architectures' definitions (Hugging Face LlamaForCausalLM and OPTForCausalLM). They recompute the
 * whole sequence for every call (no KV cache) and share no code with the engine.
 */
final class ScalarReference {
    private ScalarReference() {
    }

    /**
     * @param interleavedRope RoPE on pairs (2i, 2i+1) of each head, as llama2.c and GGUF store Q/K; else Hugging
     *                        Face's pairs (i, i + headDim/2)
     * @param gated           FFN down(act(gate x) * up x); else down(act(up x)) with no gate tensor
     */
    record Llama(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, double eps, double theta,
                 DoubleUnaryOperator act, boolean tied, boolean interleavedRope, boolean gated) {
        /** A Hugging Face Llama: half-split RoPE, gated FFN. */
        Llama(int dim, int hidden, int layers, int heads, int kvHeads, int vocab, double eps, double theta,
              DoubleUnaryOperator act, boolean tied) {
            this(dim, hidden, layers, heads, kvHeads, vocab, eps, theta, act, tied, false, true);
        }
    }

    record Opt(int dim, int hidden, int layers, int heads, int vocab, int projDim, boolean normBefore) {
    }

    static final DoubleUnaryOperator SILU = v -> v / (1 + Math.exp(-v));
    static final DoubleUnaryOperator RELU = v -> Math.max(0, v);

    /** Logits after the last token of {@code tokens}. */
    static double[] llamaLogits(Llama c, Map<String, float[]> w, int[] tokens) {
        return llamaLogits(c, w, tokens, Set.of());
    }

    /**
     * Logits after the last token of {@code tokens}, where the matrices named in {@code int8Inputs} multiply
     * their input quantized to int8, as flashlm's integer kernels (and llama.cpp's) do for the block types:
     * see {@link #quantizeInt8}.
     */
    static double[] llamaLogits(Llama c, Map<String, float[]> w, int[] tokens, Set<String> int8Inputs) {
        Linear linear = (name, x, out, in) -> linear(w.get(name),
                int8Inputs.contains(name) ? quantizeInt8(x) : x, out, in);
        int n = tokens.length;
        int hd = c.dim / c.heads;
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            x[t] = row(w.get("model.embed_tokens.weight"), tokens[t], c.dim);
        }
        for (int l = 0; l < c.layers; l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] xn = rmsNorm(x[t], w.get(p + "input_layernorm.weight"), c.eps);
                q[t] = rope(c, linear.apply(p + "self_attn.q_proj.weight", xn, c.dim, c.dim), t, hd);
                k[t] = rope(c, linear.apply(p + "self_attn.k_proj.weight", xn, c.kvHeads * hd, c.dim), t, hd);
                v[t] = linear.apply(p + "self_attn.v_proj.weight", xn, c.kvHeads * hd, c.dim);
            }
            for (int t = 0; t < n; t++) {
                double[] att = attention(q, k, v, t, c.heads, c.kvHeads, hd, 1 / Math.sqrt(hd));
                add(x[t], linear.apply(p + "self_attn.o_proj.weight", att, c.dim, c.dim));
                double[] xn = rmsNorm(x[t], w.get(p + "post_attention_layernorm.weight"), c.eps);
                double[] u = linear.apply(p + "mlp.up_proj.weight", xn, c.hidden, c.dim);
                double[] g = c.gated ? linear.apply(p + "mlp.gate_proj.weight", xn, c.hidden, c.dim) : null;
                double[] h = new double[c.hidden];
                for (int i = 0; i < c.hidden; i++) {
                    h[i] = c.gated ? c.act.applyAsDouble(g[i]) * u[i] : c.act.applyAsDouble(u[i]);
                }
                add(x[t], linear.apply(p + "mlp.down_proj.weight", h, c.dim, c.hidden));
            }
        }
        double[] last = rmsNorm(x[n - 1], w.get("model.norm.weight"), c.eps);
        return linear.apply(c.tied ? "model.embed_tokens.weight" : "lm_head.weight", last, c.vocab, c.dim);
    }

    static double[] optLogits(Opt c, Map<String, float[]> w, int[] tokens) {
        int n = tokens.length;
        int hd = c.dim / c.heads;
        String r = "model.decoder.";
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] e = row(w.get(r + "embed_tokens.weight"), tokens[t], c.projDim);
            if (c.projDim != c.dim) {
                e = linear(w.get(r + "project_in.weight"), e, c.dim, c.projDim);
            }
            add(e, row(w.get(r + "embed_positions.weight"), t + 2, c.dim));
            x[t] = e;
        }
        for (int l = 0; l < c.layers; l++) {
            String p = r + "layers." + l + ".";
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] xn = c.normBefore ? layerNorm(x[t], w.get(p + "self_attn_layer_norm.weight"),
                        w.get(p + "self_attn_layer_norm.bias")) : x[t];
                q[t] = linearBias(w, p + "self_attn.q_proj", xn, c.dim, c.dim);
                for (int i = 0; i < c.dim; i++) {
                    q[t][i] *= Math.pow(hd, -0.5);
                }
                k[t] = linearBias(w, p + "self_attn.k_proj", xn, c.dim, c.dim);
                v[t] = linearBias(w, p + "self_attn.v_proj", xn, c.dim, c.dim);
            }
            for (int t = 0; t < n; t++) {
                double[] att = attention(q, k, v, t, c.heads, c.heads, hd, 1);
                add(x[t], linearBias(w, p + "self_attn.out_proj", att, c.dim, c.dim));
                if (!c.normBefore) {
                    x[t] = layerNorm(x[t], w.get(p + "self_attn_layer_norm.weight"), w.get(p + "self_attn_layer_norm.bias"));
                }
                double[] xn = c.normBefore ? layerNorm(x[t], w.get(p + "final_layer_norm.weight"),
                        w.get(p + "final_layer_norm.bias")) : x[t];
                double[] h = linearBias(w, p + "fc1", xn, c.hidden, c.dim);
                for (int i = 0; i < h.length; i++) {
                    h[i] = Math.max(0, h[i]);
                }
                add(x[t], linearBias(w, p + "fc2", h, c.dim, c.hidden));
                if (!c.normBefore) {
                    x[t] = layerNorm(x[t], w.get(p + "final_layer_norm.weight"), w.get(p + "final_layer_norm.bias"));
                }
            }
        }
        double[] last = x[n - 1];
        if (c.normBefore) {
            last = layerNorm(last, w.get(r + "final_layer_norm.weight"), w.get(r + "final_layer_norm.bias"));
        }
        if (c.projDim != c.dim) {
            last = linear(w.get(r + "project_out.weight"), last, c.projDim, c.dim);
        }
        return linear(w.get(r + "embed_tokens.weight"), last, c.vocab, c.projDim);
    }

    private static double[] attention(double[][] q, double[][] k, double[][] v, int t, int heads, int kvHeads, int hd,
                                      double scale) {
        double[] out = new double[heads * hd];
        for (int h = 0; h < heads; h++) {
            int g = h / (heads / kvHeads);
            double[] s = new double[t + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j <= t; j++) {
                double dot = 0;
                for (int i = 0; i < hd; i++) {
                    dot += q[t][h * hd + i] * k[j][g * hd + i];
                }
                s[j] = dot * scale;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j <= t; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j <= t; j++) {
                for (int i = 0; i < hd; i++) {
                    out[h * hd + i] += s[j] / sum * v[j][g * hd + i];
                }
            }
        }
        return out;
    }

    private static double[] rope(Llama c, double[] v, int pos, int hd) {
        return c.interleavedRope ? ropeInterleaved(v, pos, hd, c.theta) : ropeHalf(v, pos, hd, c.theta);
    }

    /** llama2.c's (and GGUF's) convention: dimension 2i pairs with 2i + 1 in every head, frequency theta^(-2i/hd). */
    private static double[] ropeInterleaved(double[] v, int pos, int hd, double theta) {
        double[] out = v.clone();
        for (int h = 0; h < v.length / hd; h++) {
            for (int i = 0; i < hd / 2; i++) {
                double angle = pos * Math.pow(theta, -2.0 * i / hd);
                double a = v[h * hd + 2 * i], b = v[h * hd + 2 * i + 1];
                out[h * hd + 2 * i] = a * Math.cos(angle) - b * Math.sin(angle);
                out[h * hd + 2 * i + 1] = b * Math.cos(angle) + a * Math.sin(angle);
            }
        }
        return out;
    }

    /** Hugging Face's rotate_half convention: dimension i pairs with i + hd/2 in every head. */
    private static double[] ropeHalf(double[] v, int pos, int hd, double theta) {
        double[] out = v.clone();
        for (int h = 0; h < v.length / hd; h++) {
            for (int i = 0; i < hd / 2; i++) {
                double angle = pos * Math.pow(theta, -2.0 * i / hd);
                double a = v[h * hd + i], b = v[h * hd + i + hd / 2];
                out[h * hd + i] = a * Math.cos(angle) - b * Math.sin(angle);
                out[h * hd + i + hd / 2] = b * Math.cos(angle) + a * Math.sin(angle);
            }
        }
        return out;
    }

    private static double[] rmsNorm(double[] x, float[] weight, double eps) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * inv * weight[i];
        }
        return out;
    }

    private static double[] layerNorm(double[] x, float[] weight, float[] bias) {
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
            out[i] = (x[i] - mean) / Math.sqrt(var + 1e-5) * weight[i] + bias[i];
        }
        return out;
    }

    private interface Linear {
        double[] apply(String name, double[] x, int out, int in);
    }

    /**
     * x as int8 in blocks of 32: step d = the block's largest |x| / 127 (in float, as flashlm computes it),
     * value i becomes d * q with q = rint(x / d) within -127..127 (0 for a block of zeros).
     */
    static double[] quantizeInt8(double[] x) {
        double[] out = new double[x.length];
        for (int b = 0; b < x.length; b += 32) {
            double amax = 0;
            for (int i = b; i < b + 32; i++) {
                amax = Math.max(amax, Math.abs(x[i]));
            }
            float d = (float) amax / 127f;
            for (int i = b; amax > 0 && i < b + 32; i++) {
                double q = Math.max(-127, Math.min(127, Math.rint(x[i] * 127 / amax)));
                out[i] = d * q;
            }
        }
        return out;
    }

    private static double[] linear(float[] w, double[] x, int out, int in) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += w[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    private static double[] linearBias(Map<String, float[]> w, String name, double[] x, int out, int in) {
        double[] y = linear(w.get(name + ".weight"), x, out, in);
        float[] b = w.get(name + ".bias");
        for (int o = 0; o < out; o++) {
            y[o] += b[o];
        }
        return y;
    }

    private static double[] row(float[] m, int r, int width) {
        double[] out = new double[width];
        for (int i = 0; i < width; i++) {
            out[i] = m[r * width + i];
        }
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            x[i] += y[i];
        }
    }
}
