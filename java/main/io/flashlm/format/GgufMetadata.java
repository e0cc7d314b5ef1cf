package io.flashlm.format;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The metadata key/value pairs of a GGUF file, in file order, with typed accessors that fail with a
 * {@link ModelFormatException} naming the file and key when a key is missing or has another type.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, GgufValue> values;

    GgufMetadata(Path file, LinkedHashMap<String, GgufValue> values) {
        this.file = file;
        this.values = Collections.unmodifiableMap(values);
    }

    public Set<String> keys() {
        return values.keySet();
    }

    public boolean contains(String key) {
        return values.containsKey(key);
    }

    public Optional<GgufValue> get(String key) {
        return Optional.ofNullable(values.get(key));
    }

    public GgufValue require(String key) throws ModelFormatException {
        GgufValue v = values.get(key);
        if (v == null) {
            throw new ModelFormatException(file, "metadata." + key, "missing key");
        }
        return v;
    }

    /** An integer of any width and signedness, exactly. */
    public long getLong(String key) throws ModelFormatException {
        GgufValue v = require(key);
        if (!v.type().isInteger()) {
            throw wrongType(key, v, "an integer");
        }
        long x = (Long) v.raw();
        if (v.type() == GgufValueType.UINT64 && x < 0) {
            throw new ModelFormatException(file, "metadata." + key, "uint64 " + Long.toUnsignedString(x)
                    + " does not fit a signed 64-bit integer");
        }
        return x;
    }

    public long getLong(String key, long defaultValue) throws ModelFormatException {
        return contains(key) ? getLong(key) : defaultValue;
    }

    /** An integer that must fit an int. */
    public int getInt(String key) throws ModelFormatException {
        long x = getLong(key);
        if (x != (int) x) {
            throw new ModelFormatException(file, "metadata." + key, "value " + x + " does not fit a 32-bit int");
        }
        return (int) x;
    }

    public int getInt(String key, int defaultValue) throws ModelFormatException {
        return contains(key) ? getInt(key) : defaultValue;
    }

    /** A float32 or float64 (narrowed). */
    public float getFloat(String key) throws ModelFormatException {
        return (float) getDouble(key);
    }

    public float getFloat(String key, float defaultValue) throws ModelFormatException {
        return contains(key) ? getFloat(key) : defaultValue;
    }

    /** A float32 (widened exactly) or float64. */
    public double getDouble(String key) throws ModelFormatException {
        GgufValue v = require(key);
        return switch (v.raw()) {
            case Float f -> f;
            case Double d -> d;
            default -> throw wrongType(key, v, "float32 or float64");
        };
    }

    public boolean getBoolean(String key) throws ModelFormatException {
        GgufValue v = require(key);
        if (v.raw() instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, v, "bool");
    }

    public boolean getBoolean(String key, boolean defaultValue) throws ModelFormatException {
        return contains(key) ? getBoolean(key) : defaultValue;
    }

    public String getString(String key) throws ModelFormatException {
        GgufValue v = require(key);
        if (v.raw() instanceof String s) {
            return s;
        }
        throw wrongType(key, v, "string");
    }

    public String getString(String key, String defaultValue) throws ModelFormatException {
        return contains(key) ? getString(key) : defaultValue;
    }

    /** An array of strings (a copy). */
    public String[] getStringArray(String key) throws ModelFormatException {
        GgufValue v = require(key);
        if (v.raw() instanceof String[] a) {
            return a.clone();
        }
        throw wrongType(key, v, "array of string");
    }

    /** An array of float32 (a copy). */
    public float[] getFloatArray(String key) throws ModelFormatException {
        GgufValue v = require(key);
        if (v.raw() instanceof float[] a) {
            return a.clone();
        }
        throw wrongType(key, v, "array of float32");
    }

    /** An array of integers of any width, sign-correct, each of which must fit an int. */
    public int[] getIntArray(String key) throws ModelFormatException {
        long[] wide = getLongArray(key);
        int[] out = new int[wide.length];
        for (int i = 0; i < wide.length; i++) {
            if (wide[i] != (int) wide[i]) {
                throw new ModelFormatException(file, "metadata." + key + "[" + i + "]", "value " + wide[i]
                        + " does not fit a 32-bit int");
            }
            out[i] = (int) wide[i];
        }
        return out;
    }

    /** An array of integers of any width, sign-correct (uint64 above {@code Long.MAX_VALUE} is an error). */
    public long[] getLongArray(String key) throws ModelFormatException {
        GgufValue v = require(key);
        if (!v.isArray() || !v.elementType().isInteger()) {
            throw wrongType(key, v, "array of integers");
        }
        boolean unsigned = v.elementType().isUnsigned();
        long[] out;
        switch (v.raw()) {
            case byte[] a -> {
                out = new long[a.length];
                for (int i = 0; i < a.length; i++) {
                    out[i] = unsigned ? a[i] & 0xFFL : a[i];
                }
            }
            case short[] a -> {
                out = new long[a.length];
                for (int i = 0; i < a.length; i++) {
                    out[i] = unsigned ? a[i] & 0xFFFFL : a[i];
                }
            }
            case int[] a -> {
                out = new long[a.length];
                for (int i = 0; i < a.length; i++) {
                    out[i] = unsigned ? Integer.toUnsignedLong(a[i]) : a[i];
                }
            }
            case long[] a -> {
                out = a.clone();
                for (int i = 0; unsigned && i < a.length; i++) {
                    if (a[i] < 0) {
                        throw new ModelFormatException(file, "metadata." + key + "[" + i + "]", "uint64 "
                                + Long.toUnsignedString(a[i]) + " does not fit a signed 64-bit integer");
                    }
                }
            }
            default -> throw wrongType(key, v, "array of integers");
        }
        return out;
    }

    /** The array length of {@code key}. */
    public int arrayLength(String key) throws ModelFormatException {
        GgufValue v = require(key);
        if (!v.isArray()) {
            throw wrongType(key, v, "an array");
        }
        return v.length();
    }

    private ModelFormatException wrongType(String key, GgufValue v, String expected) {
        String actual = v.isArray() ? "array of " + v.elementType() : v.type().toString();
        return new ModelFormatException(file, "metadata." + key, "has type " + actual + ", expected " + expected);
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
