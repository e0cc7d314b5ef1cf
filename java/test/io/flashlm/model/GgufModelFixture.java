package io.flashlm.model;

import io.flashlm.format.GgufValue;
import io.flashlm.format.GgufValueType;
import io.flashlm.format.GgufWriter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Writes a tiny llama GGUF v3 file for tests: the metadata llama.cpp's converter writes, a SentencePiece
 * vocabulary ({@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte tokens, a few pieces) and random weights
 * under the GGML tensor names, stored as F32, F16, one of the legacy blocks Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
 * IQ4_NL or one of the k-quants (norms always F32). With k-quants the model is {@link #wide()}: their rows
 * are whole super-blocks of 256.
 *
 * <p>{@link #weights} keeps every tensor under the Hugging Face name {@link ScalarReference} reads, as the
 * floats its stored bytes decode to. The decoding is done here from the bytes written, independently of the
 * engine's Tensor/QuantBlocks, so a reference run on these floats checks the engine's dequantization too.
 */
final class GgufModelFixture {
    static final int DIM = 64, HIDDEN = 96, LAYERS = 2, HEADS = 4, KV_HEADS = 2, CONTEXT = 32;
    /** The dimensions of a {@link #wide()} model, multiples of the k-quants' 256. */
    static final int WIDE_DIM = 256, WIDE_HIDDEN = 512;
    // Not the loader's defaults (1e-5, 10000), so that reading the keys matters.
    static final float EPS = 1e-6f, THETA = 50000f;
    static final String[] PIECES = {"\u2581", "\u2581a", "b", "\u2581ab", "c"};
    static final int VOCAB = 3 + 256 + PIECES.length;
    /** IQ4_NL's fixed grid, from the GGUF format. */
    static final int[] IQ4_NL_GRID = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** GGML storage types, with their ggml_type ids written out here rather than taken from the engine. */
    enum WeightType {
        F32(0), F16(1), Q4_0(2), Q4_1(3), Q5_0(6), Q5_1(7), Q8_0(8), IQ4_NL(20), Q6_K(14, 210), Q4_K(12, 144), Q5_K(13, 176), Q3_K(11, 110), Q2_K(10, 84), IQ4_XS(23, 136);

        final int ggmlId;
        /** Bytes per super-block of 256 for the k-quants, 0 for the others. */
        final int superBlockBytes;

        WeightType(int ggmlId) {
            this(ggmlId, 0);
        }

        WeightType(int ggmlId, int superBlockBytes) {
            this.ggmlId = ggmlId;
            this.superBlockBytes = superBlockBytes;
        }

        boolean superBlocks() {
            return superBlockBytes > 0;
        }

        /** Whether flashlm's kernels dot this type with x quantized to int8 (every block type). */
        boolean integerKernels() {
            return superBlocks() || this == Q8_0 || this == Q4_0 || this == Q4_1 || this == Q5_0 || this == Q5_1
                    || this == IQ4_NL;
        }
    }

    /** Decoded weights by Hugging Face name (Linear weights [out, in], row-major), filled by {@link #write}. */
    final Map<String, float[]> weights = new LinkedHashMap<>();
    /**
     * The Hugging Face names of the matrices stored as a block type (Q8_0, Q4_0, ..., the k-quants), whose products flashlm
     * computes with x quantized to int8 (ScalarReference.llamaLogits's int8Inputs), filled by {@link #write}.
     */
    final Set<String> int8Inputs = new HashSet<>();

    private final long seed;
    private Function<String, WeightType> typeOf;
    private boolean tied;
    private boolean gated = true;
    private String activation;
    private String architecture = "llama";
    private final Map<String, Integer> typeIdOverrides = new HashMap<>();
    private Consumer<GgufWriter> vocabulary;
    private int dim = DIM, hidden = HIDDEN;

    /** Every weight matrix (embedding and output included) stored as {@code type}; {@link #wide()} for a k-quant. */
    GgufModelFixture(long seed, WeightType type) {
        this.seed = seed;
        this.typeOf = name -> type;
        if (type.superBlocks()) {
            wide();
        }
    }

    /** Dimensions WIDE_DIM and WIDE_HIDDEN instead of DIM and HIDDEN, so that k-quants fit every matrix. */
    GgufModelFixture wide() {
        this.dim = WIDE_DIM;
        this.hidden = WIDE_HIDDEN;
        return this;
    }

    /** Dimensions 8 and 16: the smallest model the loader takes, as a fuzzing seed. */
    GgufModelFixture tiny() {
        this.dim = 8;
        this.hidden = 16;
        return this;
    }

    /** The storage type of each weight matrix, by GGML tensor name. */
    GgufModelFixture weightTypes(Function<String, WeightType> byGgmlName) {
        this.typeOf = byGgmlName;
        return this;
    }

    /** No output.weight: the classifier is token_embd.weight. */
    GgufModelFixture tied() {
        this.tied = true;
        return this;
    }

    /** No ffn_gate tensors: the FFN is down(act(up x)). */
    GgufModelFixture ungated() {
        this.gated = false;
        return this;
    }

    /** Writes the flashlm key llama.feed_forward_activation. */
    GgufModelFixture activation(String name) {
        this.activation = name;
        return this;
    }

    GgufModelFixture architecture(String name) {
        this.architecture = name;
        return this;
    }

    /** Writes these tokenizer.ggml.* keys instead of the SentencePiece vocabulary (they should describe VOCAB ids). */
    GgufModelFixture vocabulary(Consumer<GgufWriter> writeKeys) {
        this.vocabulary = writeKeys;
        return this;
    }

    /** Writes {@code id} as the type of tensor {@code ggmlName} (its data stays as before), to break the file. */
    GgufModelFixture typeId(String ggmlName, int id) {
        typeIdOverrides.put(ggmlName, id);
        return this;
    }

    /** The reference model these weights describe: interleaved RoPE, as GGUF stores Q and K. */
    ScalarReference.Llama reference() {
        boolean relu = "relu".equals(activation);
        return new ScalarReference.Llama(dim, hidden, LAYERS, HEADS, KV_HEADS, VOCAB, EPS, THETA,
                relu ? ScalarReference.RELU : ScalarReference.SILU, tied, true, gated);
    }

    Path write(Path file) throws IOException {
        weights.clear();
        int8Inputs.clear();
        Random rnd = new Random(seed);
        GgufWriter w = new GgufWriter();
        metadata(w);
        int kv = KV_HEADS * (dim / HEADS);
        matrix(w, rnd, "token_embd.weight", "model.embed_tokens.weight", 1f, VOCAB, dim);
        for (int l = 0; l < LAYERS; l++) {
            String g = "blk." + l + ".", h = "model.layers." + l + ".";
            norm(w, rnd, g + "attn_norm.weight", h + "input_layernorm.weight");
            matrix(w, rnd, g + "attn_q.weight", h + "self_attn.q_proj.weight", 0.25f, dim, dim);
            matrix(w, rnd, g + "attn_k.weight", h + "self_attn.k_proj.weight", 0.25f, kv, dim);
            matrix(w, rnd, g + "attn_v.weight", h + "self_attn.v_proj.weight", 0.25f, kv, dim);
            matrix(w, rnd, g + "attn_output.weight", h + "self_attn.o_proj.weight", 0.25f, dim, dim);
            norm(w, rnd, g + "ffn_norm.weight", h + "post_attention_layernorm.weight");
            if (gated) {
                matrix(w, rnd, g + "ffn_gate.weight", h + "mlp.gate_proj.weight", 0.25f, hidden, dim);
            }
            matrix(w, rnd, g + "ffn_up.weight", h + "mlp.up_proj.weight", 0.25f, hidden, dim);
            matrix(w, rnd, g + "ffn_down.weight", h + "mlp.down_proj.weight", 0.2f, dim, hidden);
        }
        norm(w, rnd, "output_norm.weight", "model.norm.weight");
        if (!tied) {
            matrix(w, rnd, "output.weight", "lm_head.weight", 0.3f, VOCAB, dim);
        }
        return w.write(file);
    }

    private void metadata(GgufWriter w) {
        w.kv("general.architecture", str(architecture));
        w.kv("general.name", str("flashlm test llama"));
        w.kv("llama.context_length", u32(CONTEXT));
        w.kv("llama.embedding_length", u32(dim));
        w.kv("llama.block_count", u32(LAYERS));
        w.kv("llama.feed_forward_length", u32(hidden));
        w.kv("llama.rope.dimension_count", u32(dim / HEADS));
        w.kv("llama.attention.head_count", u32(HEADS));
        w.kv("llama.attention.head_count_kv", u32(KV_HEADS));
        w.kv("llama.attention.layer_norm_rms_epsilon", GgufValue.scalar(GgufValueType.FLOAT32, EPS));
        w.kv("llama.rope.freq_base", GgufValue.scalar(GgufValueType.FLOAT32, THETA));
        if (activation != null) {
            w.kv("llama.feed_forward_activation", str(activation));
        }
        if (vocabulary != null) {
            vocabulary.accept(w);
            return;
        }
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
        }
        tokens.addAll(List.of(PIECES));
        float[] scores = new float[VOCAB];
        int[] types = new int[VOCAB];
        types[0] = 2; // unknown
        types[1] = types[2] = 3; // control
        for (int i = 3; i < VOCAB; i++) {
            types[i] = i < 259 ? 6 : 1; // byte, then normal pieces
            scores[i] = i < 259 ? 0 : -(i - 259);
        }
        w.kv("tokenizer.ggml.model", str("llama"));
        w.kv("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens.toArray(String[]::new)));
        w.kv("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        w.kv("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        w.kv("tokenizer.ggml.bos_token_id", u32(1));
        w.kv("tokenizer.ggml.eos_token_id", u32(2));
        w.kv("tokenizer.ggml.unknown_token_id", u32(0));
    }

    private static GgufValue str(String s) {
        return GgufValue.scalar(GgufValueType.STRING, s);
    }

    private static GgufValue u32(long v) {
        return GgufValue.scalar(GgufValueType.UINT32, v);
    }

    /** An F32 norm weight around 1. */
    private void norm(GgufWriter w, Random rnd, String ggmlName, String hfName) {
        float[] v = uniform(rnd, dim, 1f, 0.2f);
        put(w, ggmlName, hfName, WeightType.F32, encode(WeightType.F32, v), dim);
    }

    /** A [rows, cols] matrix; GGUF lists the dims reversed (ne[0] = cols, the contiguous one). */
    private void matrix(GgufWriter w, Random rnd, String ggmlName, String hfName, float scale, int rows, int cols) {
        WeightType type = typeOf.apply(ggmlName);
        put(w, ggmlName, hfName, type, encode(type, uniform(rnd, rows * cols, 0f, scale)), cols, rows);
    }

    private void put(GgufWriter w, String ggmlName, String hfName, WeightType type, byte[] data, long... ne) {
        long n = 1;
        for (long d : ne) {
            n *= d;
        }
        weights.put(hfName, decode(type, data, (int) n));
        if (type.integerKernels()) {
            int8Inputs.add(hfName);
        } else {
            int8Inputs.remove(hfName);
        }
        w.tensor(ggmlName, typeIdOverrides.getOrDefault(ggmlName, type.ggmlId), ne, data);
    }

    private static float[] uniform(Random rnd, int n, float center, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = center + (rnd.nextFloat() * 2 - 1) * scale;
        }
        return v;
    }

    /** Quantizes as ggml's reference quantizers do (the exact rounding does not matter: the reference decodes). */
    static byte[] encode(WeightType type, float[] v) {
        if (type.superBlocks()) {
            return SuperBlockCodec.encode(type, v);
        }
        ByteBuffer b = switch (type) {
            case F32 -> ByteBuffer.allocate(4 * v.length);
            case F16 -> ByteBuffer.allocate(2 * v.length);
            case Q8_0 -> ByteBuffer.allocate(v.length / 32 * 34);
            case Q4_0, IQ4_NL -> ByteBuffer.allocate(v.length / 32 * 18);
            case Q4_1 -> ByteBuffer.allocate(v.length / 32 * 20);
            case Q5_0 -> ByteBuffer.allocate(v.length / 32 * 22);
            case Q5_1 -> ByteBuffer.allocate(v.length / 32 * 24);
            default -> throw new IllegalArgumentException(type.toString());
        };
        b.order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < v.length; i++) {
            switch (type) {
                case F32 -> b.putFloat(v[i]);
                case F16 -> b.putShort(Float.floatToFloat16(v[i]));
                default -> {
                }
            }
        }
        for (int blk = 0; type == WeightType.Q8_0 && blk < v.length / 32; blk++) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(v[blk * 32 + i]));
            }
            float d = amax / 127, id = d != 0 ? 1 / d : 0;
            b.putShort(Float.floatToFloat16(d));
            for (int i = 0; i < 32; i++) {
                b.put((byte) Math.round(v[blk * 32 + i] * id));
            }
        }
        for (int blk = 0; type == WeightType.Q4_0 && blk < v.length / 32; blk++) {
            float max = 0; // the value of largest magnitude, with its sign
            for (int i = 0; i < 32; i++) {
                if (Math.abs(v[blk * 32 + i]) > Math.abs(max)) {
                    max = v[blk * 32 + i];
                }
            }
            float d = max / -8, id = d != 0 ? 1 / d : 0;
            b.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                int lo = Math.clamp((int) (v[blk * 32 + j] * id + 8.5f), 0, 15);
                int hi = Math.clamp((int) (v[blk * 32 + 16 + j] * id + 8.5f), 0, 15);
                b.put((byte) (lo | hi << 4));
            }
        }
        for (int blk = 0; (type == WeightType.Q4_1 || type == WeightType.Q5_1) && blk < v.length / 32; blk++) {
            // levels = 2^bits - 1 steps from the block's min to its max; value = d * q + m
            int levels = type == WeightType.Q4_1 ? 15 : 31;
            float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
            for (int i = 0; i < 32; i++) {
                min = Math.min(min, v[blk * 32 + i]);
                max = Math.max(max, v[blk * 32 + i]);
            }
            float d = (max - min) / levels, id = d != 0 ? 1 / d : 0;
            int[] q = new int[32];
            for (int i = 0; i < 32; i++) {
                q[i] = Math.clamp(Math.round((v[blk * 32 + i] - min) * id), 0, levels);
            }
            b.putShort(Float.floatToFloat16(d)).putShort(Float.floatToFloat16(min));
            putQuants(b, q, type == WeightType.Q5_1);
        }
        for (int blk = 0; type == WeightType.Q5_0 && blk < v.length / 32; blk++) {
            float max = 0; // as Q4_0, with 32 levels: value = d * (q - 16)
            for (int i = 0; i < 32; i++) {
                if (Math.abs(v[blk * 32 + i]) > Math.abs(max)) {
                    max = v[blk * 32 + i];
                }
            }
            float d = max / -16, id = d != 0 ? 1 / d : 0;
            int[] q = new int[32];
            for (int i = 0; i < 32; i++) {
                q[i] = Math.clamp((int) (v[blk * 32 + i] * id + 16.5f), 0, 31);
            }
            b.putShort(Float.floatToFloat16(d));
            putQuants(b, q, true);
        }
        for (int blk = 0; type == WeightType.IQ4_NL && blk < v.length / 32; blk++) {
            float amax = 0; // d = amax / 127, each value the nearest grid point
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(v[blk * 32 + i]));
            }
            float d = amax / 127;
            int[] q = new int[32];
            for (int i = 0; i < 32; i++) {
                float x = v[blk * 32 + i];
                for (int k = 1; k < 16; k++) {
                    if (Math.abs(d * IQ4_NL_GRID[k] - x) < Math.abs(d * IQ4_NL_GRID[q[i]] - x)) {
                        q[i] = k;
                    }
                }
            }
            b.putShort(Float.floatToFloat16(d));
            putQuants(b, q, false);
        }
        return b.array();
    }

    /**
     * 32 quants of 4 or 5 bits: the fifth bits (if any) as 4 bytes, bit j = quant j, then 16 bytes whose
     * low nibbles are quants 0..15 and high nibbles 16..31.
     */
    private static void putQuants(ByteBuffer b, int[] q, boolean fifthBits) {
        if (fifthBits) {
            int qh = 0;
            for (int j = 0; j < 32; j++) {
                qh |= (q[j] >> 4) << j;
            }
            b.putInt(qh); // little-endian, as the buffer is
        }
        for (int j = 0; j < 16; j++) {
            b.put((byte) ((q[j] & 0x0F) | (q[j + 16] & 0x0F) << 4));
        }
    }

    /**
     * The floats {@code n} stored values decode to, by the GGML block layouts: Q8_0 = f16 scale d, 32 int8 q,
     * value d*q; Q4_0 = f16 scale d, 16 bytes whose low nibbles are values 0..15 and high nibbles 16..31,
     * value d*(nibble-8); Q4_1 = f16 d, f16 m, the nibbles, value d*nibble+m; Q5_0 = f16 d, a little-endian
     * uint32 qh whose bit i is the fifth bit of value i, the nibbles, value d*(q-16); Q5_1 = f16 d, f16 m, qh,
     * the nibbles, value d*q+m; IQ4_NL = f16 d, the nibbles, value d*grid[nibble].
     */
    static float[] decode(WeightType type, byte[] data, int n) {
        if (type.superBlocks()) {
            return SuperBlockCodec.decode(type, data, n);
        }
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = switch (type) {
                case F32 -> b.getFloat(4 * i);
                case F16 -> Float.float16ToFloat(b.getShort(2 * i));
                case Q8_0 -> Float.float16ToFloat(b.getShort(i / 32 * 34)) * b.get(i / 32 * 34 + 2 + i % 32);
                case Q4_0 -> {
                    int block = i / 32 * 18, k = i % 32;
                    int bits = b.get(block + 2 + k % 16) & 0xFF;
                    yield Float.float16ToFloat(b.getShort(block)) * ((k < 16 ? bits & 0x0F : bits >>> 4) - 8);
                }
                case Q4_1 -> {
                    int block = i / 32 * 20, k = i % 32;
                    int bits = b.get(block + 4 + k % 16) & 0xFF;
                    yield Float.float16ToFloat(b.getShort(block)) * (k < 16 ? bits & 0x0F : bits >>> 4)
                            + Float.float16ToFloat(b.getShort(block + 2));
                }
                case Q5_0 -> {
                    int block = i / 32 * 22, k = i % 32;
                    int bits = b.get(block + 6 + k % 16) & 0xFF;
                    int q = (k < 16 ? bits & 0x0F : bits >>> 4) | ((b.getInt(block + 2) >>> k) & 1) << 4;
                    yield Float.float16ToFloat(b.getShort(block)) * (q - 16);
                }
                case Q5_1 -> {
                    int block = i / 32 * 24, k = i % 32;
                    int bits = b.get(block + 8 + k % 16) & 0xFF;
                    int q = (k < 16 ? bits & 0x0F : bits >>> 4) | ((b.getInt(block + 4) >>> k) & 1) << 4;
                    yield Float.float16ToFloat(b.getShort(block)) * q + Float.float16ToFloat(b.getShort(block + 2));
                }
                case IQ4_NL -> {
                    int block = i / 32 * 18, k = i % 32;
                    int bits = b.get(block + 2 + k % 16) & 0xFF;
                    yield Float.float16ToFloat(b.getShort(block)) * IQ4_NL_GRID[k < 16 ? bits & 0x0F : bits >>> 4];
                }
                default -> throw new IllegalArgumentException(type.toString());
            };
        }
        return out;
    }
}
