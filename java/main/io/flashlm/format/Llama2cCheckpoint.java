package io.flashlm.format;

import io.flashlm.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A legacy (version 0) llama2.c checkpoint, mapped read-only.
 *
 * <p>Layout: the 7-int header, then fp32 arrays in this order: token_embedding [vocab, dim], rms_att [L, dim],
 * wq [L, dim, dim], wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim], rms_ffn [L, dim],
 * w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim], two obsolete RoPE tables
 * (freq_cis_real, freq_cis_imag: seq_len * head_size / 2 floats each, skipped), then wcls [vocab, dim] only
 * when the stored vocab_size is negative.
 *
 * <p>Tensor names: {@code token_embedding}, {@code layers.N.{rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3}},
 * {@code rms_final} and {@code wcls} (the same bytes as {@code token_embedding} when shared). Weights are
 * [out, in] like PyTorch Linear weights.
 */
public final class Llama2cCheckpoint implements TensorStore {
    private final Path path;
    private final MemorySegment mapping;
    private final Llama2cHeader header;
    private final Map<String, Tensor> tensors;

    private Llama2cCheckpoint(Path path, MemorySegment mapping, Llama2cHeader header, Map<String, Tensor> tensors) {
        this.path = path;
        this.mapping = mapping;
        this.header = header;
        this.tensors = tensors;
    }

    /**
     * Maps {@code path} read-only into {@code arena} and checks that its size is exactly what the header
     * implies.
     */
    public static Llama2cCheckpoint open(Path path, Arena arena) throws IOException {
        MemorySegment mapping;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        return parse(path, mapping);
    }

    static Llama2cCheckpoint parse(Path path, MemorySegment seg) throws ModelFormatException {
        Llama2cHeader h = readHeader(path, seg);
        long dim = h.dim();
        long hidden = h.hiddenDim();
        long layers = h.nLayers();
        long kvDim = h.kvDim();
        long vocab = h.vocabSize();
        long ropeFloats;
        long sharedSize;
        long separateSize;
        try {
            // llama2.c skips seq_len * head_size / 2 floats twice, with C integer division.
            ropeFloats = 2 * (mul(h.seqLen(), h.headSize()) / 2);
            long floats = sum(mul(vocab, dim), mul(layers, dim), mul(layers, dim, dim), mul(2, layers, kvDim, dim),
                    mul(layers, dim, dim), mul(layers, dim), mul(3, layers, hidden, dim), dim, ropeFloats);
            sharedSize = sum(Llama2cHeader.BYTES, mul(4, floats));
            separateSize = sum(sharedSize, mul(4, vocab, dim));
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, "header", "dimensions " + h + " overflow a 64-bit size");
        }
        long expected = h.sharedClassifier() ? sharedSize : separateSize;
        long actual = seg.byteSize();
        if (actual != expected) {
            String problem = "file size " + actual + " bytes, but the header " + h + " implies " + expected
                    + " bytes (" + (h.sharedClassifier() ? "classifier shared with the token embedding"
                    : "separate classifier, vocab_size < 0") + ")";
            if (actual < expected) {
                problem += "; truncated file?";
            } else if (h.sharedClassifier() && actual == separateSize) {
                problem += "; the size fits a separate classifier, but vocab_size is positive";
            }
            throw new ModelFormatException(path, "file size", problem);
        }

        Slicer s = new Slicer(seg, Llama2cHeader.BYTES);
        LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
        Tensor embedding = s.next("token_embedding", vocab, dim);
        t.put("token_embedding", embedding);
        String[] perLayer = {"rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3"};
        long[][] shapes = {{dim}, {dim, dim}, {kvDim, dim}, {kvDim, dim}, {dim, dim}, {dim}, {hidden, dim},
            {dim, hidden}, {hidden, dim}};
        for (int k = 0; k < perLayer.length; k++) {
            // Each array is [L, ...] contiguous: one slice per layer.
            for (int l = 0; l < layers; l++) {
                String name = "layers." + l + "." + perLayer[k];
                t.put(name, s.next(name, shapes[k]));
            }
        }
        t.put("rms_final", s.next("rms_final", dim));
        s.skip(4 * ropeFloats);
        t.put("wcls", h.sharedClassifier() ? Tensor.f32("wcls", embedding.data(), vocab, dim) : s.next("wcls", vocab, dim));
        return new Llama2cCheckpoint(path, seg, h, Collections.unmodifiableMap(t));
    }

    private static Llama2cHeader readHeader(Path path, MemorySegment seg) throws ModelFormatException {
        ByteCursor c = new ByteCursor(seg, path, 0);
        String[] names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
        int[] v = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            v[i] = c.i32("header." + names[i]);
        }
        for (int i = 0; i < names.length; i++) {
            if (i != 5 && v[i] <= 0) {
                throw new ModelFormatException(path, "header." + names[i], "value " + v[i] + ", expected a positive int");
            }
        }
        int vocab = v[5];
        if (vocab == 0 || vocab == Integer.MIN_VALUE) {
            throw new ModelFormatException(path, "header.vocab_size", "value " + vocab
                    + ", expected a non-zero int (negative = separate classifier)");
        }
        if (v[0] % v[3] != 0) {
            throw new ModelFormatException(path, "header.n_heads", "dim " + v[0] + " is not divisible by n_heads " + v[3]);
        }
        if (v[4] > v[3] || v[3] % v[4] != 0) {
            throw new ModelFormatException(path, "header.n_kv_heads", "n_kv_heads " + v[4]
                    + " must divide n_heads " + v[3]);
        }
        return new Llama2cHeader(v[0], v[1], v[2], v[3], v[4], Math.abs(vocab), v[6], vocab > 0);
    }

    private static long sum(long... parts) {
        long s = 0;
        for (long p : parts) {
            s = Math.addExact(s, p);
        }
        return s;
    }

    private static long mul(long... factors) {
        long p = 1;
        for (long f : factors) {
            p = Math.multiplyExact(p, f);
        }
        return p;
    }

    /** Consecutive fp32 arrays; sizes were checked against the file size up front. */
    private static final class Slicer {
        private final MemorySegment seg;
        private long pos;

        Slicer(MemorySegment seg, long pos) {
            this.seg = seg;
            this.pos = pos;
        }

        Tensor next(String name, long... shape) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            Tensor t = Tensor.f32(name, seg.asSlice(pos, 4 * n), shape);
            pos += 4 * n;
            return t;
        }

        void skip(long bytes) {
            pos += bytes;
        }
    }

    @Override
    public Path path() {
        return path;
    }

    public MemorySegment mapping() {
        return mapping;
    }

    public Llama2cHeader header() {
        return header;
    }

    /** All weights by name, in file order, with {@code wcls} last. */
    @Override
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public String toString() {
        return "Llama2cCheckpoint[" + path + ", " + header + "]";
    }
}
