package io.flashlm.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small GGUF files for tests, following the GGUF v3 layout, with hooks to break them on purpose
 * (magic, version, raw key/value bytes, tensor offsets). Public for the model tests' synthetic GGUF models.
 */
public final class GgufWriter {
    private record Kv(String key, int typeId, byte[] payload) {
    }

    private record TensorSpec(String name, long[] ne, int typeId, byte[] data, Long offsetOverride) {
    }

    private int magic = GgufFile.MAGIC;
    private int version = 3;
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;
    private final List<Kv> kvs = new ArrayList<>();
    private final List<TensorSpec> tensors = new ArrayList<>();

    GgufWriter magic(int m) {
        magic = m;
        return this;
    }

    GgufWriter version(int v) {
        version = v;
        return this;
    }

    /** Sets general.alignment (written as a uint32 key) and uses it for the layout. */
    GgufWriter alignment(int a) {
        alignment = a;
        return kv(GgufFile.ALIGNMENT_KEY, GgufValue.scalar(GgufValueType.UINT32, (long) a));
    }

    public GgufWriter kv(String key, GgufValue value) {
        LeBytes b = new LeBytes();
        writeValue(b, value);
        return kvRaw(key, value.type().id(), b.toByteArray());
    }

    /** A key with an arbitrary type id and payload bytes. */
    GgufWriter kvRaw(String key, int typeId, byte[] payload) {
        kvs.add(new Kv(key, typeId, payload));
        return this;
    }

    /** A tensor with GGML dims {@code ne} (ne[0] contiguous) and raw data. */
    public GgufWriter tensor(String name, int typeId, long[] ne, byte[] data) {
        tensors.add(new TensorSpec(name, ne, typeId, data, null));
        return this;
    }

    /** A tensor info whose offset is forced (its data is still written at the natural place). */
    GgufWriter tensorAt(String name, int typeId, long[] ne, byte[] data, long offset) {
        tensors.add(new TensorSpec(name, ne, typeId, data, offset));
        return this;
    }

    public byte[] build() {
        LeBytes b = new LeBytes();
        b.u32(magic).u32(version).u64(tensors.size()).u64(kvs.size());
        for (Kv kv : kvs) {
            b.str(kv.key()).u32(kv.typeId()).bytes(kv.payload());
        }
        long offset = 0;
        for (TensorSpec t : tensors) {
            b.str(t.name()).u32(t.ne().length);
            for (long d : t.ne()) {
                b.u64(d);
            }
            b.u32(t.typeId()).u64(t.offsetOverride() != null ? t.offsetOverride() : offset);
            offset = GgufFile.alignUp(offset + t.data().length, alignment);
        }
        b.pad(alignment);
        for (int i = 0; i < tensors.size(); i++) {
            b.bytes(tensors.get(i).data());
            if (i < tensors.size() - 1) {
                b.pad(alignment);
            }
        }
        return b.toByteArray();
    }

    public Path write(Path file) throws IOException {
        return Files.write(file, build());
    }

    static void writeValue(LeBytes b, GgufValue v) {
        if (v.isArray()) {
            b.u32(v.elementType().id()).u64(v.length());
            Object raw = v.value();
            switch (raw) {
                case byte[] a -> b.bytes(a);
                case short[] a -> {
                    for (short x : a) {
                        b.u16(x);
                    }
                }
                case int[] a -> {
                    for (int x : a) {
                        b.u32(x);
                    }
                }
                case long[] a -> {
                    for (long x : a) {
                        b.u64(x);
                    }
                }
                case float[] a -> {
                    for (float x : a) {
                        b.f32(x);
                    }
                }
                case double[] a -> {
                    for (double x : a) {
                        b.f64(x);
                    }
                }
                case boolean[] a -> {
                    for (boolean x : a) {
                        b.u8(x ? 1 : 0);
                    }
                }
                case String[] a -> {
                    for (String x : a) {
                        b.str(x);
                    }
                }
                case List<?> l -> {
                    for (Object x : l) {
                        writeValue(b, (GgufValue) x);
                    }
                }
                default -> throw new IllegalArgumentException(raw.getClass().toString());
            }
            return;
        }
        switch (v.type()) {
            case UINT8, INT8 -> b.u8((int) (long) (Long) v.value());
            case UINT16, INT16 -> b.u16((int) (long) (Long) v.value());
            case UINT32, INT32 -> b.u32((int) (long) (Long) v.value());
            case UINT64, INT64 -> b.u64((Long) v.value());
            case FLOAT32 -> b.f32((Float) v.value());
            case FLOAT64 -> b.f64((Double) v.value());
            case BOOL -> b.u8((Boolean) v.value() ? 1 : 0);
            case STRING -> b.str((String) v.value());
            case ARRAY -> throw new AssertionError();
        }
    }
}
