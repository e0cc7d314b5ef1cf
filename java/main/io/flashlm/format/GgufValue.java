package io.flashlm.format;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One GGUF metadata value.
 *
 * <p>Scalars: integers of every width as {@link Long} holding the true value (uint8/16/32 are widened
 * without sign; a uint64 keeps its raw 64 bits, so values above {@code Long.MAX_VALUE} read negative),
 * {@link Float}, {@link Double}, {@link Boolean}, {@link String}.
 *
 * <p>Arrays ({@code type == ARRAY}, {@code elementType} set) hold primitive arrays of the stored width with
 * the raw bits: {@code byte[]} (uint8/int8), {@code short[]} (uint16/int16), {@code int[]} (uint32/int32),
 * {@code long[]} (uint64/int64), {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]}, and
 * for arrays of arrays an unmodifiable {@code List<GgufValue>}. {@link GgufMetadata} offers checked,
 * sign-correct accessors.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {
    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if ((type == GgufValueType.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("elementType is set exactly for arrays");
        }
    }

    public static GgufValue scalar(GgufValueType type, Object value) {
        return new GgufValue(type, null, value);
    }

    public static GgufValue array(GgufValueType elementType, Object values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, values);
    }

    public boolean isArray() {
        return type == GgufValueType.ARRAY;
    }

    /** The value; arrays are returned as copies so the metadata stays immutable. */
    @Override
    public Object value() {
        return switch (value) {
            case byte[] a -> a.clone();
            case short[] a -> a.clone();
            case int[] a -> a.clone();
            case long[] a -> a.clone();
            case float[] a -> a.clone();
            case double[] a -> a.clone();
            case boolean[] a -> a.clone();
            case String[] a -> a.clone();
            default -> value;
        };
    }

    /** The stored object without a copy, for this package's accessors. */
    Object raw() {
        return value;
    }

    /** Number of elements of an array value. */
    public int length() {
        return switch (value) {
            case byte[] a -> a.length;
            case short[] a -> a.length;
            case int[] a -> a.length;
            case long[] a -> a.length;
            case float[] a -> a.length;
            case double[] a -> a.length;
            case boolean[] a -> a.length;
            case String[] a -> a.length;
            case List<?> l -> l.size();
            default -> throw new IllegalStateException("not an array: " + type);
        };
    }

    @Override
    public String toString() {
        if (!isArray()) {
            return type + ":" + value;
        }
        String head = switch (value) {
            case byte[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case short[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case int[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case long[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case float[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case double[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case boolean[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case String[] a -> Arrays.toString(Arrays.copyOf(a, Math.min(a.length, 8)));
            case List<?> l -> l.subList(0, Math.min(l.size(), 8)).toString();
            default -> value.toString();
        };
        return "ARRAY<" + elementType + ">[" + length() + "]" + head;
    }
}
