package io.flashlm.synth;

import io.flashlm.format.GgufFile;
import io.flashlm.format.GgufValueType;
import io.flashlm.tensor.DType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Writes a synthetic llama-architecture GGUF v3 model for benchmarks: the shape of a real model,
 * random weights, and a byte-level SentencePiece vocabulary (unk, BOS, EOS, the 256 {@code <0xNN>}
 * byte tokens, then single characters, pairs and triples of printable ASCII and '▁'), so that any
 * prompt encodes and any generated id decodes.
 *
 * <p>Weights come straight from a seeded xorshift generator and are streamed to disk through a small
 * buffer; the model is never held in memory. They are uniform with the spread of a trained model:
 * standard deviation 1/sqrt(fan-in) for the projections (activations keep their scale through the
 * layers), 0.02 for the token embedding (tied to the output, so the logits spread by about
 * 0.02 * sqrt(dim)), and 1.0 for the RMSNorm weights, which are always F32. Quantized types get
 * uniform random quants and a block scale (and min) that spread them over about [-a, a], a = sqrt(3) std (the
 * k-quants: every sub-block scale and min at its largest, under the super-block's d and dmin).
 *
 * <p>The same {@link Spec} always gives the same bytes.
 */
public final class SyntheticLlamaGguf {
    private static final int ALIGNMENT = GgufFile.DEFAULT_ALIGNMENT;
    private static final int BUFFER_BYTES = 1 << 20;
    private static final char METASPACE = '\u2581';

    private SyntheticLlamaGguf() {
    }

    /**
     * The shape of a synthetic model.
     *
     * @param dtype storage type of the matrices and the embedding (any DType)
     */
    public record Spec(int dim, int layers, int heads, int kvHeads, int hiddenDim, int vocabSize, int contextLength,
                       DType dtype, long seed) {
        public Spec {
            if (dim <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || hiddenDim <= 0 || contextLength <= 0) {
                throw new IllegalArgumentException("dimensions must be positive");
            }
            if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
                throw new IllegalArgumentException("dim " + dim + ", " + heads + " heads, " + kvHeads
                        + " kv heads: dim must split into heads of even size, heads into kv heads");
            }
            if (vocabSize < 3 + 256) {
                throw new IllegalArgumentException("vocab size must be at least 259 (specials and byte tokens)");
            }
            if (dim % dtype.blockSize() != 0 || hiddenDim % dtype.blockSize() != 0) {
                throw new IllegalArgumentException(dtype + " needs dim and hiddenDim to be multiples of "
                        + dtype.blockSize());
            }
        }

        /**
         * About 110M parameters: dim 768, 12 layers, 12 heads, FFN 2048, vocabulary 32000 (the
         * embedding doubles as the output), context 512.
         */
        public static Spec llama110M(DType dtype) {
            return new Spec(768, 12, 12, 12, 2048, 32000, 512, dtype, 42);
        }

        /**
         * About 1.04B parameters, the "1.2 B Llama shape" of the issue 11 decode targets (Llama 3.2 1B's body with a
         * Llama 2 vocabulary): dim 2048, 16 layers, 32 heads, 8 kv heads, FFN 8192, vocabulary 32000 (the
         * embedding doubles as the output), context 2048.
         */
        public static Spec llama1B(DType dtype) {
            return new Spec(2048, 16, 32, 8, 8192, 32000, 2048, dtype, 42);
        }

        public int kvDim() {
            return dim / heads * kvHeads;
        }

        public long parameterCount() {
            long perLayer = 2L * dim + (long) dim * dim * 2 + 2L * dim * kvDim() + 3L * dim * hiddenDim;
            return (long) vocabSize * dim + layers * perLayer + dim;
        }

        /** Bytes of weights one token's forward pass reads: every matrix plus the output (tied embedding). */
        public long bytesPerToken() {
            long matrices = (long) layers * ((long) dim * dim * 2 + 2L * dim * kvDim() + 3L * dim * hiddenDim);
            return dtype.bytesFor(matrices) + dtype.bytesFor((long) vocabSize * dim);
        }

        /** A file name that identifies the spec, so a cached file is reused only for the same spec. */
        public String fileName() {
            return String.format(Locale.ROOT, "synthetic-llama-d%d-l%d-h%d-kv%d-ffn%d-v%d-ctx%d-%s-s%d.gguf", dim,
                    layers, heads, kvHeads, hiddenDim, vocabSize, contextLength,
                    dtype.name().toLowerCase(Locale.ROOT), seed);
        }
    }

    private record TensorPlan(String name, long[] ne, DType type, float std, long offset, long bytes) {
    }

    /**
     * The model for {@code spec} in {@code dir}, written there first unless a file of that spec is
     * already present (written to a temporary name and renamed, so a half-written file is never reused).
     */
    public static Path cached(Spec spec, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(spec.fileName());
        if (Files.isRegularFile(file) && Files.size(file) == plannedSize(spec)) {
            return file;
        }
        Path tmp = Files.createTempFile(dir, spec.fileName(), ".tmp");
        try {
            write(spec, tmp);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return file;
    }

    /** The size in bytes of the file {@link #write} produces for {@code spec}. */
    public static long plannedSize(Spec spec) {
        List<TensorPlan> tensors = plan(spec);
        byte[] header = header(spec, tensors);
        TensorPlan last = tensors.getLast();
        return align(header.length) + last.offset() + last.bytes();
    }

    /** Writes the model for {@code spec} to {@code file} (replacing it). */
    public static void write(Spec spec, Path file) throws IOException {
        List<TensorPlan> tensors = plan(spec);
        byte[] header = header(spec, tensors);
        ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        Xorshift rng = new Xorshift(spec.seed());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            buf.put(header);
            pad(buf, ch, align(header.length) - header.length);
            long written = 0; // bytes of the data section
            for (TensorPlan t : tensors) {
                pad(buf, ch, t.offset() - written);
                fill(buf, ch, t, rng);
                written = t.offset() + t.bytes();
            }
            flush(buf, ch);
        }
    }

    private static List<TensorPlan> plan(Spec s) {
        List<TensorPlan> out = new ArrayList<>();
        long[] offset = {0};
        class Add {
            void add(String name, DType type, float std, long... ne) {
                long n = 1;
                for (long d : ne) {
                    n *= d;
                }
                long bytes = type.bytesFor(n);
                out.add(new TensorPlan(name, ne, type, std, offset[0], bytes));
                offset[0] = align(offset[0] + bytes);
            }
        }
        Add a = new Add();
        DType w = s.dtype();
        float byDim = (float) (1 / Math.sqrt(s.dim()));
        float byHidden = (float) (1 / Math.sqrt(s.hiddenDim()));
        a.add("token_embd.weight", w, 0.02f, s.dim(), s.vocabSize());
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            a.add(p + "attn_norm.weight", DType.F32, 0, s.dim());
            a.add(p + "attn_q.weight", w, byDim, s.dim(), s.dim());
            a.add(p + "attn_k.weight", w, byDim, s.dim(), s.kvDim());
            a.add(p + "attn_v.weight", w, byDim, s.dim(), s.kvDim());
            a.add(p + "attn_output.weight", w, byDim, s.dim(), s.dim());
            a.add(p + "ffn_norm.weight", DType.F32, 0, s.dim());
            a.add(p + "ffn_gate.weight", w, byDim, s.dim(), s.hiddenDim());
            a.add(p + "ffn_up.weight", w, byDim, s.dim(), s.hiddenDim());
            a.add(p + "ffn_down.weight", w, byHidden, s.hiddenDim(), s.dim());
        }
        a.add("output_norm.weight", DType.F32, 0, s.dim());
        return out;
    }

    // ---- header: metadata and tensor infos ----

    private static byte[] header(Spec s, List<TensorPlan> tensors) {
        String[] pieces = vocabulary(s.vocabSize());
        float[] scores = new float[pieces.length];
        int[] types = new int[pieces.length];
        for (int id = 0; id < pieces.length; id++) {
            types[id] = id == 0 ? 2 : id <= 2 ? 3 : id < 259 ? 6 : 1; // unknown, control, byte, normal
            scores[id] = id < 259 ? 0f : -(id - 259); // shorter pieces merge first
        }
        Le b = new Le();
        int kvCount = 20;
        b.u32(GgufFile.MAGIC).u32(3).u64(tensors.size()).u64(kvCount);
        b.key("general.architecture").u32(GgufValueType.STRING.id()).str("llama");
        b.key("general.name").u32(GgufValueType.STRING.id()).str("flashlm synthetic " + s.fileName());
        b.key(GgufFile.ALIGNMENT_KEY).u32(GgufValueType.UINT32.id()).u32(ALIGNMENT);
        b.key("general.file_type").u32(GgufValueType.UINT32.id()).u32(fileType(s.dtype()));
        b.key("llama.context_length").u32(GgufValueType.UINT32.id()).u32(s.contextLength());
        b.key("llama.embedding_length").u32(GgufValueType.UINT32.id()).u32(s.dim());
        b.key("llama.block_count").u32(GgufValueType.UINT32.id()).u32(s.layers());
        b.key("llama.feed_forward_length").u32(GgufValueType.UINT32.id()).u32(s.hiddenDim());
        b.key("llama.rope.dimension_count").u32(GgufValueType.UINT32.id()).u32(s.dim() / s.heads());
        b.key("llama.attention.head_count").u32(GgufValueType.UINT32.id()).u32(s.heads());
        b.key("llama.attention.head_count_kv").u32(GgufValueType.UINT32.id()).u32(s.kvHeads());
        b.key("llama.attention.layer_norm_rms_epsilon").u32(GgufValueType.FLOAT32.id()).f32(1e-5f);
        b.key("llama.rope.freq_base").u32(GgufValueType.FLOAT32.id()).f32(10000f);
        b.key("llama.vocab_size").u32(GgufValueType.UINT32.id()).u32(s.vocabSize());
        b.key("tokenizer.ggml.model").u32(GgufValueType.STRING.id()).str("llama");
        b.key("tokenizer.ggml.tokens").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id())
                .u64(pieces.length);
        for (String p : pieces) {
            b.str(p);
        }
        b.key("tokenizer.ggml.scores").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.FLOAT32.id())
                .u64(scores.length);
        for (float f : scores) {
            b.f32(f);
        }
        b.key("tokenizer.ggml.token_type").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.INT32.id())
                .u64(types.length);
        for (int t : types) {
            b.u32(t);
        }
        b.key("tokenizer.ggml.bos_token_id").u32(GgufValueType.UINT32.id()).u32(1);
        b.key("tokenizer.ggml.eos_token_id").u32(GgufValueType.UINT32.id()).u32(2);
        if (b.keys != kvCount) {
            throw new AssertionError(b.keys + " keys written, header says " + kvCount);
        }
        for (TensorPlan t : tensors) {
            b.str(t.name()).u32(t.ne().length);
            for (long d : t.ne()) {
                b.u64(d);
            }
            b.u32(t.type().ggmlTypeId()).u64(t.offset());
        }
        return b.toByteArray();
    }

    /** llama.cpp's general.file_type (LLAMA_FTYPE_*) of a model whose matrices are of {@code t}. */
    private static int fileType(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q4_1 -> 3;
            case Q8_0 -> 7;
            case Q5_0 -> 8;
            case Q5_1 -> 9;
            case IQ4_NL -> 25;
            case BF16 -> 32;
            case Q6_K -> 18;
            case Q4_K -> 14; // Q4_K_S: every matrix Q4_K
            case Q5_K -> 16; // Q5_K_S
            case Q3_K -> 11; // Q3_K_S
            case Q2_K -> 10;
            case IQ4_XS -> 30;
        };
    }

    /** unk, BOS, EOS, the byte tokens, then 1-, 2- and 3-character pieces over '▁' and printable ASCII. */
    static String[] vocabulary(int size) {
        String[] pieces = new String[size];
        pieces[0] = "<unk>";
        pieces[1] = "<s>";
        pieces[2] = "</s>";
        for (int b = 0; b < 256; b++) {
            pieces[3 + b] = String.format(Locale.ROOT, "<0x%02X>", b);
        }
        StringBuilder alphabet = new StringBuilder().append(METASPACE);
        for (char c = 33; c < 127; c++) {
            alphabet.append(c);
        }
        int a = alphabet.length();
        int id = 259;
        for (int len = 1; id < size; len++) {
            long combos = (long) Math.pow(a, len);
            for (long k = 0; k < combos && id < size; k++) {
                char[] piece = new char[len];
                long v = k;
                for (int i = len - 1; i >= 0; i--) {
                    piece[i] = alphabet.charAt((int) (v % a));
                    v /= a;
                }
                pieces[id++] = new String(piece);
            }
        }
        return pieces;
    }

    // ---- data ----

    private static void fill(ByteBuffer buf, FileChannel ch, TensorPlan t, Xorshift rng) throws IOException {
        long n = t.bytes();
        switch (t.type()) {
            case F32 -> {
                if (t.std() == 0) { // norm weights
                    for (long i = 0; i < n / 4; i++) {
                        room(buf, ch, 4).putFloat(1f);
                    }
                } else {
                    float a = (float) (t.std() * Math.sqrt(3));
                    for (long i = 0; i < n / 4; i++) {
                        room(buf, ch, 4).putFloat(rng.uniform() * a);
                    }
                }
            }
            case F16 -> {
                float a = (float) (t.std() * Math.sqrt(3));
                for (long i = 0; i < n / 2; i++) {
                    room(buf, ch, 2).putShort(Float.floatToFloat16(rng.uniform() * a));
                }
            }
            case BF16 -> {
                float a = (float) (t.std() * Math.sqrt(3));
                for (long i = 0; i < n / 2; i++) {
                    room(buf, ch, 2).putShort((short) (Float.floatToRawIntBits(rng.uniform() * a) >>> 16));
                }
            }
            case Q8_0 -> {
                short scale = Float.floatToFloat16((float) (t.std() * Math.sqrt(3)) / 127);
                for (long blk = 0; blk < n / 34; blk++) {
                    ByteBuffer b = room(buf, ch, 34).putShort(scale);
                    for (int i = 0; i < 32; i += 8) {
                        long r = rng.next();
                        for (int k = 0; k < 8; k++) {
                            int q = (int) ((r >>> (8 * k)) & 0xFF) - 128;
                            b.put((byte) (q == -128 ? -127 : q));
                        }
                    }
                }
            }
            case Q4_0 -> {
                short scale = Float.floatToFloat16((float) (t.std() * Math.sqrt(3)) / 8);
                for (long blk = 0; blk < n / 18; blk++) {
                    ByteBuffer b = room(buf, ch, 18).putShort(scale);
                    b.putLong(rng.next()).putLong(rng.next());
                }
            }
            case Q4_1, Q5_0, Q5_1, IQ4_NL -> {
                // scales that spread the quants over [-a, a]; the min, where the type has one, is -a
                float a = (float) (t.std() * Math.sqrt(3));
                float d = switch (t.type()) {
                    case Q4_1 -> 2 * a / 15;
                    case Q5_0 -> a / 16;
                    case Q5_1 -> 2 * a / 31;
                    default -> a / 127; // IQ4_NL
                };
                boolean withMin = t.type() == DType.Q4_1 || t.type() == DType.Q5_1;
                int block = t.type().bytesPerBlock();
                int header = withMin ? 4 : 2;
                for (long blk = 0; blk < n / block; blk++) {
                    ByteBuffer b = room(buf, ch, block).putShort(Float.floatToFloat16(d));
                    if (withMin) {
                        b.putShort(Float.floatToFloat16(-a));
                    }
                    if (block - header == 20) { // qh (4 bytes) and qs (16)
                        b.putInt((int) rng.next());
                    }
                    b.putLong(rng.next()).putLong(rng.next());
                }
            }
            case Q6_K, Q4_K, Q5_K, Q3_K, Q2_K, IQ4_XS -> {
                // random quants under fixed sub-block scales (and mins); the super-block's d (and dmin) spread
                // them over [-a, a]
                float a = (float) (t.std() * Math.sqrt(3));
                SuperBlockFill f = SuperBlockFill.of(t.type(), a);
                int block = t.type().bytesPerBlock();
                byte[] bytes = new byte[(block + 7) / 8 * 8]; // whole longs of random bits, the block's first
                ByteBuffer le = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                for (long blk = 0; blk < n / block; blk++) {
                    for (int i = 0; i < bytes.length; i += 8) {
                        le.putLong(i, rng.next());
                    }
                    Arrays.fill(bytes, f.scalesAt(), f.scalesAt() + f.scalesLength(), f.scaleByte());
                    le.putShort(f.dAt(), Float.floatToFloat16(f.d()));
                    if (f.dminAt() >= 0) {
                        le.putShort(f.dminAt(), Float.floatToFloat16(f.dmin()));
                    }
                    room(buf, ch, block).put(bytes, 0, block);
                }
            }
        }
    }

    /**
     * Where a k-quant super-block keeps its sub-block scales (all set to scaleByte, the largest scale and min)
     * and its f16 d and dmin (-1: none), with the d and dmin that spread its quants over [-a, a].
     */
    private record SuperBlockFill(int scalesAt, int scalesLength, byte scaleByte, int dAt, float d, int dminAt,
                                  float dmin) {
        static SuperBlockFill of(DType t, float a) {
            return switch (t) {
                case Q6_K -> new SuperBlockFill(192, 16, (byte) 127, 208, a / (127 * 32), -1, 0); // d * 127 * (q - 32)
                case Q4_K -> new SuperBlockFill(4, 12, (byte) 0xFF, 0, 2 * a / (63 * 15), 2, a / 63); // d 63 q - dmin 63
                case Q5_K -> new SuperBlockFill(4, 12, (byte) 0xFF, 0, 2 * a / (63 * 31), 2, a / 63);
                case Q3_K -> new SuperBlockFill(96, 12, (byte) 0xFF, 108, a / (31 * 4), -1, 0); // d 31 (q - 4)
                case Q2_K -> new SuperBlockFill(0, 16, (byte) 0xFF, 80, 2 * a / (15 * 3), 82, a / 15); // d 15 q - dmin 15
                case IQ4_XS -> new SuperBlockFill(2, 6, (byte) 0xFF, 0, a / (31 * 127), -1, 0); // d 31 grid, |grid| <= 127
                default -> throw new IllegalArgumentException(t + " is not a k-quant");
            };
        }
    }

    /** The buffer, flushed first if it lacks {@code bytes} of room. */
    private static ByteBuffer room(ByteBuffer buf, FileChannel ch, int bytes) throws IOException {
        if (buf.remaining() < bytes) {
            flush(buf, ch);
        }
        return buf;
    }

    private static void pad(ByteBuffer buf, FileChannel ch, long zeros) throws IOException {
        for (long i = 0; i < zeros; i++) {
            room(buf, ch, 1).put((byte) 0);
        }
    }

    private static void flush(ByteBuffer buf, FileChannel ch) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }

    private static long align(long x) {
        return (x + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** xorshift64*: fast, seeded, plenty for random weights. */
    private static final class Xorshift {
        private long s;

        Xorshift(long seed) {
            s = seed * 0x9E3779B97F4A7C15L + 0x2545F4914F6CDD1DL;
            if (s == 0) {
                s = 1;
            }
        }

        long next() {
            s ^= s >>> 12;
            s ^= s << 25;
            s ^= s >>> 27;
            return s * 0x2545F4914F6CDD1DL;
        }

        /** Uniform in [-1, 1). */
        float uniform() {
            return (next() >> 40) * 0x1p-23f;
        }
    }

    /** A growable little-endian byte buffer for the header. */
    private static final class Le {
        private ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        int keys;

        private ByteBuffer room(int n) {
            if (b.remaining() < n) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n))
                        .order(ByteOrder.LITTLE_ENDIAN);
                b.flip();
                bigger.put(b);
                b = bigger;
            }
            return b;
        }

        Le u32(int v) {
            room(4).putInt(v);
            return this;
        }

        Le u64(long v) {
            room(8).putLong(v);
            return this;
        }

        Le f32(float v) {
            room(4).putFloat(v);
            return this;
        }

        Le str(String s) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            room(8 + bytes.length).putLong(bytes.length).put(bytes);
            return this;
        }

        /** A metadata key (counted, to check the header's count). */
        Le key(String k) {
            keys++;
            return str(k);
        }

        byte[] toByteArray() {
            byte[] out = new byte[b.position()];
            b.flip().get(out);
            return out;
        }
    }

    /** Writes one model, {@code SyntheticLlamaGguf DIR [DTYPE]} (any DType, lower case); prints its path. */
    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: SyntheticLlamaGguf DIR [f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|iq4_nl|q6_k|q4_k|q5_k|q3_k|q2_k|iq4_xs]");
            System.exit(2);
        }
        DType t = args.length > 1 ? DType.valueOf(args[1].toUpperCase(Locale.ROOT)) : DType.F32;
        Spec spec = Spec.llama110M(t);
        long t0 = System.nanoTime();
        Path p = cached(spec, Path.of(args[0]));
        System.out.printf(Locale.ROOT, "%s: %,d parameters, %,d bytes (%.1f s)%n", p, spec.parameterCount(),
                Files.size(p), (System.nanoTime() - t0) / 1e9);
    }
}
