package io.flashlm.format;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@code .safetensors} file, mapped read-only as one segment.
 *
 * <p>Layout: uint64 little-endian header length N, N bytes of UTF-8 JSON, then the data buffer. The JSON
 * maps each tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} with offsets relative
 * to the start of the data buffer; the optional {@code "__metadata__"} object maps strings to strings.
 *
 * <p>F32, F16 and BF16 tensors are readable. Tensors of other dtypes (integer buffers such as
 * {@code position_ids} appear in some checkpoints) do not stop the file from opening: their layout is
 * still validated, they are left out of {@link #tensors()}, and asking for one by name fails with an
 * error that names the tensor and its dtype.
 */
public final class SafetensorsFile implements TensorStore {
    /** The reference implementation refuses headers above 100 MB; so do we. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    public static final String METADATA_KEY = "__metadata__";

    /** One header entry: dtype as written, row-major shape, offsets relative to the data buffer. */
    public record Entry(String name, String dtype, long[] shape, long begin, long end) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public String toString() {
            return "Entry[" + name + ", " + dtype + ", " + Arrays.toString(shape) + ", [" + begin + ", " + end + ")]";
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final MemorySegment mapping;
    private final long dataOffset;
    private final Map<String, String> metadata;
    private final List<Entry> entries;
    private final Map<String, Entry> entryByName;
    private final Map<String, Tensor> tensors;

    private SafetensorsFile(Path path, MemorySegment mapping, long dataOffset, Map<String, String> metadata,
            List<Entry> entries, Map<String, Tensor> tensors) {
        this.path = path;
        this.mapping = mapping;
        this.dataOffset = dataOffset;
        this.metadata = metadata;
        this.entries = entries;
        this.tensors = tensors;
        Map<String, Entry> byName = new LinkedHashMap<>();
        for (Entry e : entries) {
            byName.put(e.name(), e);
        }
        this.entryByName = Collections.unmodifiableMap(byName);
    }

    /**
     * Maps {@code path} read-only into {@code arena} and parses and validates the header.
     *
     * @throws ModelFormatException if the header is malformed or an offset does not match its shape and dtype
     * @throws IOException if the file cannot be read or mapped
     */
    public static SafetensorsFile open(Path path, Arena arena) throws IOException {
        MemorySegment mapping;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            mapping = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
        return parse(path, mapping);
    }

    static SafetensorsFile parse(Path path, MemorySegment seg) throws ModelFormatException {
        ByteCursor c = new ByteCursor(seg, path, 0);
        long headerLen = c.count("header_length", Math.min(MAX_HEADER_BYTES, Math.max(0, c.remaining() - 8)),
                "(the rest of the file, and the 100 MB safetensors header limit)");
        byte[] headerBytes = new byte[(int) headerLen];
        c.bytes(headerBytes, "header");
        long dataOffset = c.position();
        long dataSize = seg.byteSize() - dataOffset;

        JsonNode root;
        try {
            root = JSON.readTree(headerBytes);
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(path, "header", "invalid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(path, "header", "unreadable JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(path, "header", "expected a JSON object");
        }

        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : root.properties()) {
            if (f.getKey().equals(METADATA_KEY)) {
                metadata = readMetadata(path, f.getValue());
            } else {
                entries.add(readEntry(path, f.getKey(), f.getValue(), dataSize));
            }
        }
        checkNoOverlap(path, entries);

        LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
        for (Entry e : entries) {
            DType t = dtype(e.dtype());
            if (t != null) {
                tensors.put(e.name(), new Tensor(e.name(), t, e.shape(), seg.asSlice(dataOffset + e.begin(),
                        e.end() - e.begin())));
            }
        }
        return new SafetensorsFile(path, seg, dataOffset, metadata, List.copyOf(entries),
                Collections.unmodifiableMap(tensors));
    }

    private static Entry readEntry(Path path, String name, JsonNode node, long dataSize) throws ModelFormatException {
        String field = "tensor '" + name + "'";
        if (!node.isObject()) {
            throw new ModelFormatException(path, field, "expected an object with dtype, shape and data_offsets");
        }
        JsonNode dt = node.get("dtype");
        if (dt == null || !dt.isTextual()) {
            throw new ModelFormatException(path, field + ".dtype", "missing or not a string");
        }
        String dtype = dt.textValue();
        long[] shape = longs(path, field + ".shape", node.get("shape"), -1);
        long[] offsets = longs(path, field + ".data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw new ModelFormatException(path, field + ".data_offsets", "[" + begin + ", " + end
                    + ") must satisfy begin <= end <= " + dataSize + " (the data buffer size); truncated file?");
        }
        int elementBytes = elementBytes(dtype);
        if (elementBytes < 0) {
            throw new ModelFormatException(path, field + ".dtype", "unknown safetensors dtype \"" + dtype + "\"");
        }
        long expected;
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            expected = Math.multiplyExact(n, (long) elementBytes);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(path, field + ".shape", Arrays.toString(shape) + " overflows a 64-bit size");
        }
        if (end - begin != expected) {
            throw new ModelFormatException(path, field + ".data_offsets", "[" + begin + ", " + end + ") holds "
                    + (end - begin) + " bytes, but " + dtype + " " + Arrays.toString(shape) + " needs " + expected);
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    /** Non-negative integers; {@code length} -1 means any length. */
    private static long[] longs(Path path, String field, JsonNode node, int length) throws ModelFormatException {
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new ModelFormatException(path, field, "expected an array of " + (length >= 0 ? length + " " : "")
                    + "non-negative integers");
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new ModelFormatException(path, field + "[" + i + "]", "expected a non-negative integer, found " + v);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    private static Map<String, String> readMetadata(Path path, JsonNode node) throws ModelFormatException {
        if (!node.isObject()) {
            throw new ModelFormatException(path, METADATA_KEY, "expected an object of strings");
        }
        LinkedHashMap<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> f : node.properties()) {
            if (!f.getValue().isTextual()) {
                throw new ModelFormatException(path, METADATA_KEY + "." + f.getKey(), "expected a string value");
            }
            m.put(f.getKey(), f.getValue().textValue());
        }
        return Collections.unmodifiableMap(m);
    }

    // The format forbids overlapping tensors; an overlap means a corrupt or hand-edited header.
    private static void checkNoOverlap(Path path, List<Entry> entries) throws ModelFormatException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < sorted.size(); i++) {
            Entry a = sorted.get(i - 1);
            Entry b = sorted.get(i);
            if (b.begin() < a.end()) {
                throw new ModelFormatException(path, "tensor '" + b.name() + "'.data_offsets", "[" + b.begin() + ", "
                        + b.end() + ") overlaps tensor '" + a.name() + "' [" + a.begin() + ", " + a.end() + ")");
            }
        }
    }

    /** The flashlm type of a safetensors dtype name, or null when flashlm does not read it. */
    static DType dtype(String name) {
        return switch (name) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            default -> null;
        };
    }

    /** Bytes per element of the byte-sized safetensors dtypes, or -1 for a name the format does not define. */
    private static int elementBytes(String dtype) {
        return switch (dtype) {
            case "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0" -> 1;
            case "I16", "U16", "F16", "BF16" -> 2;
            case "I32", "U32", "F32" -> 4;
            case "I64", "U64", "F64", "C64" -> 8;
            default -> -1;
        };
    }

    @Override
    public Path path() {
        return path;
    }

    public MemorySegment mapping() {
        return mapping;
    }

    /** File offset of the data buffer: 8 + the header length. */
    public long dataOffset() {
        return dataOffset;
    }

    /** The {@code __metadata__} strings (empty when absent). flashlm does not interpret them. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Every header entry in header order, including tensors of dtypes flashlm does not read. */
    public List<Entry> entries() {
        return entries;
    }

    /** The header entry {@code name}, whatever its dtype. */
    public Optional<Entry> entry(String name) {
        return Optional.ofNullable(entryByName.get(name));
    }

    /** The F32/F16/BF16 tensors in header order. */
    @Override
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public Tensor tensor(String name) throws ModelFormatException {
        Tensor t = tensors.get(name);
        if (t != null) {
            return t;
        }
        Entry e = entryByName.get(name);
        if (e != null) {
            throw unsupported(path, e);
        }
        throw TensorStore.missing(path, name, tensors);
    }

    private static ModelFormatException unsupported(Path path, Entry e) {
        return new ModelFormatException(path, "tensor '" + e.name() + "'.dtype", "dtype " + e.dtype()
                + " is not supported; flashlm reads F32, F16 and BF16");
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + entries.size() + " tensors]";
    }
}
