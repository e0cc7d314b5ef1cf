package io.flashlm.model.arch;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashlm.format.GgufValue;
import io.flashlm.format.GgufValueType;
import io.flashlm.format.GgufWriter;
import io.flashlm.model.ModelConfig;
import io.flashlm.synth.SyntheticTokenizer;
import io.flashlm.testing.SafetensorsFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One tiny random-weight model of some family, written by the test in both published formats: a Hugging Face
 * directory (config.json, model.safetensors in F32 under the transformers names, a byte-level tokenizer.json) and
 * a GGUF file converted as llama.cpp's convert_hf_to_gguf.py would (GGML tensor names, Q/K rows permuted for the
 * {@code llama} architecture, Gemma norms stored as 1 + w, experts stacked, extra tensors such as rope_freqs).
 * {@link #tensors} holds the weights under the Hugging Face names, which {@link ArchReference} reads.
 */
final class ArchModel {
    static final ObjectMapper JSON = new ObjectMapper();
    /** 4 specials, the 256 bytes, 4 merge results, then filler tokens. */
    static final int VOCAB = 272;

    final ArchReference.Spec spec = new ArchReference.Spec();
    final String ggufArch;
    final ObjectNode config = JSON.createObjectNode();
    final Map<String, float[]> tensors = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    /** Metadata beyond general.* and tokenizer.*, in writing order. */
    final Map<String, GgufValue> ggufKeys = new LinkedHashMap<>();
    /** 1-D F32 tensors the converter adds (rope_freqs.weight, rope_factors_*.weight). */
    final Map<String, float[]> ggufExtra = new LinkedHashMap<>();
    /** Whether the converter permutes q_proj/k_proj rows for interleaved RoPE (llama.cpp's {@code llama}). */
    boolean permuteQk;
    private final Random rnd;

    ArchModel(ArchReference.Family family, String ggufArch, long seed) {
        this.spec.family = family;
        this.ggufArch = ggufArch;
        this.rnd = new Random(seed);
    }

    /** A tensor of uniform values in center +- scale under its Hugging Face name. */
    float[] random(String name, float center, float scale, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = center + (rnd.nextFloat() * 2 - 1) * scale;
        }
        tensors.put(name, v);
        shapes.put(name, shape);
        return v;
    }

    /** Writes {@code key} prefixed by the GGUF architecture name. */
    ArchModel gguf(String key, GgufValue value) {
        ggufKeys.put(ggufArch + "." + key, value);
        return this;
    }

    static GgufValue u32(long v) {
        return GgufValue.scalar(GgufValueType.UINT32, v);
    }

    static GgufValue f32(double v) {
        return GgufValue.scalar(GgufValueType.FLOAT32, (float) v);
    }

    static GgufValue str(String s) {
        return GgufValue.scalar(GgufValueType.STRING, s);
    }

    Path writeHf(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        SafetensorsFiles.write(dir.resolve("model.safetensors"), tensors, shapes, "F32");
        SyntheticTokenizer.write(dir, ModelConfig.Architecture.LLAMA, VOCAB);
        return dir;
    }

    Path writeGguf(Path file) throws IOException {
        GgufWriter w = new GgufWriter();
        w.kv("general.architecture", str(ggufArch));
        w.kv("general.name", str("flashlm arch test " + spec.family));
        ggufKeys.forEach(w::kv);
        tokenizer(w);
        for (var e : ggufExtra.entrySet()) {
            w.tensor(e.getKey(), 0, new long[]{e.getValue().length}, f32Bytes(e.getValue()));
        }
        Pattern expert = Pattern.compile("model\\.layers\\.(\\d+)\\.(block_sparse_moe|mlp)\\.experts\\.(\\d+)\\.(\\w+)\\.weight");
        for (var e : tensors.entrySet()) {
            String name = e.getKey();
            long[] shape = shapes.get(name);
            Matcher m = expert.matcher(name);
            if (m.matches()) {
                if (m.group(3).equals("0")) { // stack every expert: torch [E, rows, cols], GGUF ne [cols, rows, E]
                    float[] all = new float[e.getValue().length * spec.experts];
                    for (int x = 0; x < spec.experts; x++) {
                        float[] one = tensors.get(name.replace(".experts.0.", ".experts." + x + "."));
                        System.arraycopy(one, 0, all, x * one.length, one.length);
                    }
                    String kind = switch (m.group(4)) {
                        case "w1", "gate_proj" -> "gate";
                        case "w3", "up_proj" -> "up";
                        case "w2", "down_proj" -> "down";
                        default -> throw new IllegalArgumentException(name);
                    };
                    w.tensor("blk." + m.group(1) + ".ffn_" + kind + "_exps.weight", 0,
                            new long[]{shape[1], shape[0], spec.experts}, f32Bytes(all));
                }
                continue;
            }
            float[] data = e.getValue();
            if (permuteQk && name.endsWith("self_attn.q_proj.weight")) {
                data = permute(data, spec.heads, (int) shape[0], (int) shape[1]);
            } else if (permuteQk && name.endsWith("self_attn.k_proj.weight")) {
                data = permute(data, spec.kvHeads, (int) shape[0], (int) shape[1]);
            } else if (spec.family.gemma() && name.endsWith("norm.weight")) {
                data = data.clone();
                for (int i = 0; i < data.length; i++) {
                    data[i] += 1;
                }
            }
            long[] ne = new long[shape.length];
            for (int i = 0; i < shape.length; i++) {
                ne[i] = shape[shape.length - 1 - i];
            }
            w.tensor(ggmlName(name), 0, ne, f32Bytes(data));
        }
        return w.write(file);
    }

    /** llama.cpp's tensor_mapping for the names these fixtures use. */
    String ggmlName(String hf) {
        switch (hf) {
            case "model.embed_tokens.weight", "transformer.word_embeddings.weight":
                return "token_embd.weight";
            case "lm_head.weight":
                return "output.weight";
            default:
        }
        Matcher top = Pattern.compile("(model\\.norm|transformer\\.ln_f)\\.(weight|bias)").matcher(hf);
        if (top.matches()) {
            return "output_norm." + top.group(2);
        }
        Matcher m = Pattern.compile("(model\\.layers|transformer\\.h)\\.(\\d+)\\.(.+)\\.(weight|bias)").matcher(hf);
        if (!m.matches()) {
            throw new IllegalArgumentException("no GGUF name for " + hf);
        }
        String g = switch (m.group(3)) {
            case "input_layernorm" -> "attn_norm";
            case "self_attn.q_proj" -> "attn_q";
            case "self_attn.k_proj" -> "attn_k";
            case "self_attn.v_proj" -> "attn_v";
            case "self_attn.o_proj", "self_attention.dense" -> "attn_output";
            case "self_attn.qkv_proj", "self_attention.query_key_value" -> "attn_qkv";
            case "self_attn.q_norm" -> "attn_q_norm";
            case "self_attn.k_norm" -> "attn_k_norm";
            case "post_attention_layernorm" -> spec.family.gemma() ? "post_attention_norm" : "ffn_norm";
            case "pre_feedforward_layernorm" -> "ffn_norm";
            case "post_feedforward_layernorm" -> "post_ffw_norm";
            case "mlp.gate_proj" -> "ffn_gate";
            case "mlp.up_proj", "mlp.gate_up_proj", "mlp.dense_h_to_4h" -> "ffn_up";
            case "mlp.down_proj", "mlp.dense_4h_to_h" -> "ffn_down";
            case "mlp.gate", "block_sparse_moe.gate" -> "ffn_gate_inp";
            default -> throw new IllegalArgumentException("no GGUF name for " + hf);
        };
        return "blk." + m.group(2) + "." + g + "." + m.group(4);
    }

    /**
     * convert_hf_to_gguf.py's LlamaModel.permute: within each head of hd rows, row j * hd/2 + i (half-split
     * pair member j of frequency i) moves to row 2i + j (interleaved).
     */
    static float[] permute(float[] w, int heads, int rows, int cols) {
        int hd = rows / heads;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < 2; j++) {
                for (int i = 0; i < hd / 2; i++) {
                    System.arraycopy(w, (h * hd + j * hd / 2 + i) * cols, out, (h * hd + 2 * i + j) * cols, cols);
                }
            }
        }
        return out;
    }

    /** A byte-level BPE (gpt2) vocabulary of VOCAB tokens laid out as the Hugging Face tokenizer.json's. */
    private static void tokenizer(GgufWriter w) {
        List<String> tokens = new ArrayList<>(List.of("<s>", "<pad>", "</s>", "<unk>"));
        for (int b = 0; b < 256; b++) {
            tokens.add(new String(Character.toChars(byteChar(b))));
        }
        tokens.addAll(List.of("\u0120t", "he", "\u0120the", "er"));
        while (tokens.size() < VOCAB) {
            tokens.add("<" + tokens.size() + ">");
        }
        int[] types = new int[VOCAB];
        Arrays.fill(types, 1);
        Arrays.fill(types, 0, 4, 3);
        w.kv("tokenizer.ggml.model", str("gpt2"));
        w.kv("tokenizer.ggml.pre", str("gpt-2"));
        w.kv("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens.toArray(String[]::new)));
        w.kv("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        w.kv("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING,
                new String[]{"\u0120 t", "h e", "\u0120t he", "e r"}));
        w.kv("tokenizer.ggml.bos_token_id", u32(0));
        w.kv("tokenizer.ggml.eos_token_id", u32(2));
        w.kv("tokenizer.ggml.padding_token_id", u32(1));
        w.kv("tokenizer.ggml.unknown_token_id", u32(3));
    }

    /** GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the others for 256, 257, ... */
    private static int byteChar(int b) {
        int next = 256;
        for (int x = 0; x < 256; x++) {
            boolean printable = (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF);
            int c = printable ? x : next++;
            if (x == b) {
                return c;
            }
        }
        throw new IllegalArgumentException("byte " + b);
    }

    private static byte[] f32Bytes(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }
}
