package io.flashlm.format;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A GGUF file (versions 2 and 3), mapped read-only as one segment.
 *
 * <p>Layout (all little-endian): magic "GGUF", uint32 version, uint64 tensor_count, uint64
 * metadata_kv_count, the key/value pairs (string key, uint32 value type, value), the tensor infos (string
 * name, uint32 n_dims, uint64 ne[n_dims], uint32 type, uint64 offset), padding to {@code general.alignment}
 * (default 32), then the data section; each tensor's offset is relative to the data section and aligned.
 *
 * <p>Tensors are exposed in row-major shape order, i.e. GGUF's {@code ne[]} reversed (see
 * {@link GgufTensorInfo#shape()}). Every tensor is a slice of the mapping; the mapping lives as long as
 * the arena passed to {@link #open}.
 */
public final class GgufFile implements TensorStore {
    /** "GGUF" read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** ggml tensors have at most 4 dimensions. */
    static final int MAX_DIMS = 4;
    /** Arrays of arrays deeper than this are refused (they only serve to blow the stack). */
    static final int MAX_ARRAY_NESTING = 8;
    /** Smallest tensor info: empty name (8), n_dims (4), one ne (8), type (4), offset (8). */
    private static final long MIN_TENSOR_INFO_BYTES = 32;
    /** Smallest key/value pair: empty key (8), type (4), a one-byte value. */
    private static final long MIN_KV_BYTES = 13;

    private final Path path;
    private final MemorySegment mapping;
    private final int version;
    private final int alignment;
    private final long dataOffset;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> tensorInfos;
    private final Map<String, Tensor> tensors;

    private GgufFile(Path path, MemorySegment mapping, int version, int alignment, long dataOffset,
            GgufMetadata metadata, List<GgufTensorInfo> tensorInfos, Map<String, Tensor> tensors) {
        this.path = path;
        this.mapping = mapping;
        this.version = version;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.tensorInfos = tensorInfos;
        this.tensors = tensors;
    }

    /**
     * Maps {@code path} read-only into {@code arena} and parses and validates the header and every tensor
     * info.
     *
     * @throws ModelFormatException if the file is not a valid GGUF v2/v3 file with supported tensor types
     * @throws IOException if the file cannot be read or mapped
     */
    public static GgufFile open(Path path, Arena arena) throws IOException {
        MemorySegment mapping;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        return parse(path, mapping);
    }

    static GgufFile parse(Path path, MemorySegment seg) throws ModelFormatException {
        ByteCursor c = new ByteCursor(seg, path, 0);
        int magic = c.i32("header.magic");
        if (magic != MAGIC) {
            throw c.error("header.magic", "expected \"GGUF\" (47 47 55 46), found " + hexBytes(magic) + "; not a GGUF file");
        }
        int version = c.i32("header.version");
        if (version == 1) {
            throw c.error("header.version", "GGUF version 1 is not supported (it used 32-bit counts); expected 2 or 3");
        }
        if (version != 2 && version != 3) {
            String hint = Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3
                    ? " (this looks like a big-endian GGUF file, which is not supported)" : "";
            throw c.error("header.version", "unsupported GGUF version " + Integer.toUnsignedString(version)
                    + ", expected 2 or 3" + hint);
        }
        long tensorCount = c.count("header.tensor_count", (c.remaining() - 8) / MIN_TENSOR_INFO_BYTES,
                "(tensor infos that fit in the rest of the file)");
        long kvCount = c.count("header.metadata_kv_count", (c.remaining() - 8) / MIN_KV_BYTES,
                "(key/value pairs that fit in the rest of the file)");

        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = c.string("metadata[" + i + "].key");
            String field = "metadata." + key;
            if (kv.containsKey(key)) {
                throw c.error(field, "duplicate key (pair " + i + ")");
            }
            int typeId = c.i32(field + ".type");
            kv.put(key, readValue(c, valueType(c, typeId, field + ".type"), field, 0));
        }
        GgufMetadata metadata = new GgufMetadata(path, kv);
        int alignment = alignment(c, kv.get(ALIGNMENT_KEY));

        List<GgufTensorInfo> infos = new ArrayList<>((int) tensorCount);
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            GgufTensorInfo info = readTensorInfo(c, i, alignment);
            if (!names.add(info.name())) {
                throw c.error("tensor_infos[" + i + "].name", "duplicate tensor name '" + info.name() + "'");
            }
            infos.add(info);
        }

        long dataOffset = alignUp(c.position(), alignment);
        long fileSize = seg.byteSize();
        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (GgufTensorInfo info : infos) {
            long[] shape = info.shape();
            long bytes = byteSize(c, info.name(), info.type(), shape);
            // Overflow-safe form of dataOffset + offset + bytes <= fileSize.
            if (dataOffset > fileSize || info.offset() > fileSize - dataOffset
                    || bytes > fileSize - dataOffset - info.offset()) {
                throw c.error("tensor '" + info.name() + "'", "data [" + info.offset() + ", +" + bytes
                        + ") from the data section at " + dataOffset + " extends past the end of the file (size "
                        + fileSize + "); truncated file?");
            }
            tensors.put(info.name(), new Tensor(info.name(), info.type(), shape,
                    seg.asSlice(dataOffset + info.offset(), bytes)));
        }
        return new GgufFile(path, seg, version, alignment, dataOffset, metadata, List.copyOf(infos),
                Collections.unmodifiableMap(tensors));
    }

    private static GgufTensorInfo readTensorInfo(ByteCursor c, long i, int alignment) throws ModelFormatException {
        String field = "tensor_infos[" + i + "]";
        String name = c.string(field + ".name");
        String named = "tensor '" + name + "' (" + field + ")";
        int nDims = c.i32(named + ".n_dims");
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw c.error(named + ".n_dims", "n_dims " + Integer.toUnsignedString(nDims) + ", expected 1.." + MAX_DIMS);
        }
        long[] ne = new long[nDims];
        for (int d = 0; d < nDims; d++) {
            ne[d] = c.i64(named + ".ne[" + d + "]");
            if (ne[d] < 0) {
                throw c.error(named + ".ne[" + d + "]", "dimension " + Long.toUnsignedString(ne[d]) + " is impossible");
            }
        }
        int typeId = c.i32(named + ".type");
        DType type = DType.fromGgmlTypeId(typeId).orElseThrow(() -> c.error(named + ".type",
                "unsupported GGML tensor type id " + Integer.toUnsignedString(typeId) + " (" + ggmlTypeName(typeId)
                        + "); supported: " + supportedTypes()));
        if (ne[0] % type.blockSize() != 0) {
            throw c.error(named + ".ne[0]", type + " needs ne[0] to be a multiple of " + type.blockSize() + ", found "
                    + ne[0]);
        }
        long offset = c.i64(named + ".offset");
        if (offset < 0 || offset % alignment != 0) {
            throw c.error(named + ".offset", "offset " + Long.toUnsignedString(offset)
                    + " must be a multiple of the alignment " + alignment);
        }
        return new GgufTensorInfo(name, ne, type, offset);
    }

    private static long byteSize(ByteCursor c, String name, DType type, long[] shape) throws ModelFormatException {
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return type.bytesFor(n);
        } catch (ArithmeticException e) {
            throw c.error("tensor '" + name + "'", "shape " + Arrays.toString(shape) + " overflows a 64-bit size");
        }
    }

    private static int alignment(ByteCursor c, GgufValue v) throws ModelFormatException {
        if (v == null) {
            return DEFAULT_ALIGNMENT;
        }
        String field = "metadata." + ALIGNMENT_KEY;
        if (v.isArray() || !v.type().isInteger()) {
            throw c.error(field, "has type " + v.type() + ", expected uint32");
        }
        long a = (Long) v.raw();
        if (a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
            throw c.error(field, "alignment " + a + " must be a power of two (at most 2^30)");
        }
        return (int) a;
    }

    private static GgufValueType valueType(ByteCursor c, int id, String field) throws ModelFormatException {
        GgufValueType t = GgufValueType.fromId(id);
        if (t == null) {
            throw c.error(field, "unknown metadata value type " + Integer.toUnsignedString(id) + ", expected 0..12");
        }
        return t;
    }

    private static GgufValue readValue(ByteCursor c, GgufValueType type, String field, int depth)
            throws ModelFormatException {
        return switch (type) {
            case UINT8 -> GgufValue.scalar(type, c.i8(field) & 0xFFL);
            case INT8 -> GgufValue.scalar(type, (long) c.i8(field));
            case UINT16 -> GgufValue.scalar(type, c.i16(field) & 0xFFFFL);
            case INT16 -> GgufValue.scalar(type, (long) c.i16(field));
            case UINT32 -> GgufValue.scalar(type, Integer.toUnsignedLong(c.i32(field)));
            case INT32 -> GgufValue.scalar(type, (long) c.i32(field));
            case UINT64, INT64 -> GgufValue.scalar(type, c.i64(field));
            case FLOAT32 -> GgufValue.scalar(type, c.f32(field));
            case FLOAT64 -> GgufValue.scalar(type, c.f64(field));
            case BOOL -> GgufValue.scalar(type, bool(c, c.i8(field), field));
            case STRING -> GgufValue.scalar(type, c.string(field));
            case ARRAY -> readArray(c, field, depth);
        };
    }

    private static GgufValue readArray(ByteCursor c, String field, int depth) throws ModelFormatException {
        GgufValueType et = valueType(c, c.i32(field + ".element_type"), field + ".element_type");
        if (et == GgufValueType.ARRAY && depth >= MAX_ARRAY_NESTING) {
            throw c.error(field, "arrays nested deeper than " + MAX_ARRAY_NESTING);
        }
        // Every element takes at least minBytes, so this bounds the allocation by the file size.
        int n = (int) c.count(field + ".length", Math.min((c.remaining() - 8) / et.minBytes(), Integer.MAX_VALUE - 8),
                "(" + et + " elements that fit in the rest of the file)");
        Object values = switch (et) {
            case UINT8, INT8 -> read(c, ValueLayout.JAVA_BYTE, new byte[n], field);
            case UINT16, INT16 -> read(c, ValueLayout.JAVA_SHORT_UNALIGNED, new short[n], field);
            case UINT32, INT32 -> read(c, ValueLayout.JAVA_INT_UNALIGNED, new int[n], field);
            case UINT64, INT64 -> read(c, ValueLayout.JAVA_LONG_UNALIGNED, new long[n], field);
            case FLOAT32 -> read(c, ValueLayout.JAVA_FLOAT_UNALIGNED, new float[n], field);
            case FLOAT64 -> read(c, ValueLayout.JAVA_DOUBLE_UNALIGNED, new double[n], field);
            case BOOL -> {
                byte[] raw = read(c, ValueLayout.JAVA_BYTE, new byte[n], field);
                boolean[] b = new boolean[n];
                for (int i = 0; i < n; i++) {
                    b[i] = bool(c, raw[i], field + "[" + i + "]");
                }
                yield b;
            }
            case STRING -> {
                String[] s = new String[n];
                for (int i = 0; i < n; i++) {
                    s[i] = c.string(field + "[" + i + "]");
                }
                yield s;
            }
            case ARRAY -> {
                List<GgufValue> list = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    list.add(readArray(c, field + "[" + i + "]", depth + 1));
                }
                yield Collections.unmodifiableList(list);
            }
        };
        return GgufValue.array(et, values);
    }

    private static <A> A read(ByteCursor c, ValueLayout layout, A array, String field) throws ModelFormatException {
        c.values(layout, array, java.lang.reflect.Array.getLength(array), field);
        return array;
    }

    private static boolean bool(ByteCursor c, byte b, String field) throws ModelFormatException {
        if (b != 0 && b != 1) {
            throw c.error(field, "bool byte " + (b & 0xFF) + ", expected 0 or 1");
        }
        return b == 1;
    }

    static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** GGML {@code ne[]} (contiguous dimension first) to a row-major shape (contiguous dimension last). */
    static long[] rowMajor(long[] ne) {
        long[] shape = new long[ne.length];
        for (int i = 0; i < ne.length; i++) {
            shape[i] = ne[ne.length - 1 - i];
        }
        return shape;
    }

    private static String hexBytes(int v) {
        return String.format("%02x %02x %02x %02x", v & 0xFF, (v >>> 8) & 0xFF, (v >>> 16) & 0xFF, v >>> 24);
    }

    private static String supportedTypes() {
        return Arrays.stream(DType.values()).sorted(Comparator.comparingInt(DType::ggmlTypeId))
                .map(t -> t + "(" + t.ggmlTypeId() + ")").collect(Collectors.joining(", "));
    }

    /** Names of the ggml_type ids, for error messages about types flashlm does not read. */
    static String ggmlTypeName(int id) {
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1", "Q8_0",
            "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
            "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4 (removed)",
            "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)", "TQ1_0", "TQ2_0"};
        return id >= 0 && id < names.length ? names[id] : "unknown type";
    }

    @Override
    public Path path() {
        return path;
    }

    /** The whole file, mapped read-only. */
    public MemorySegment mapping() {
        return mapping;
    }

    public long fileSize() {
        return mapping.byteSize();
    }

    public int version() {
        return version;
    }

    /** {@code general.alignment}, or 32 when absent. */
    public int alignment() {
        return alignment;
    }

    /** File offset of the data section (end of the tensor infos, aligned). */
    public long dataOffset() {
        return dataOffset;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** The tensor infos in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return tensorInfos;
    }

    @Override
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public String toString() {
        return "GgufFile[" + path + ", v" + version + ", " + metadata.keys().size() + " keys, " + tensors.size()
                + " tensors]";
    }
}
