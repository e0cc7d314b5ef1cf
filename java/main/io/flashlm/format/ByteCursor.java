package io.flashlm.format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Sequential little-endian reads from a mapped file, every one bounds-checked so that a truncated or
 * corrupt header fails with a {@link ModelFormatException} naming the field, never an index error.
 */
final class ByteCursor {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final Path file;
    private long pos;

    ByteCursor(MemorySegment seg, Path file, long pos) {
        this.seg = seg;
        this.file = file;
        this.pos = pos;
    }

    long position() {
        return pos;
    }

    long remaining() {
        return seg.byteSize() - pos;
    }

    Path file() {
        return file;
    }

    ModelFormatException error(String field, String problem) {
        return new ModelFormatException(file, field, problem);
    }

    /** Fails unless {@code n} more bytes exist. */
    void need(long n, String field) throws ModelFormatException {
        if (n < 0 || n > remaining()) {
            throw error(field, "truncated: needs " + (n < 0 ? "an impossible number of" : Long.toString(n))
                    + " bytes at offset " + pos + ", the file ends at " + seg.byteSize());
        }
    }

    byte i8(String field) throws ModelFormatException {
        need(1, field);
        return seg.get(ValueLayout.JAVA_BYTE, pos++);
    }

    short i16(String field) throws ModelFormatException {
        need(2, field);
        short v = seg.get(I16, pos);
        pos += 2;
        return v;
    }

    int i32(String field) throws ModelFormatException {
        need(4, field);
        int v = seg.get(I32, pos);
        pos += 4;
        return v;
    }

    long i64(String field) throws ModelFormatException {
        need(8, field);
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    float f32(String field) throws ModelFormatException {
        need(4, field);
        float v = seg.get(F32, pos);
        pos += 4;
        return v;
    }

    double f64(String field) throws ModelFormatException {
        need(8, field);
        double v = seg.get(F64, pos);
        pos += 8;
        return v;
    }

    /** An unsigned 64-bit count or length that must be at most {@code max}. */
    long count(String field, long max, String why) throws ModelFormatException {
        long v = i64(field);
        if (v < 0 || v > max) {
            throw error(field, "value " + Long.toUnsignedString(v) + " is impossible: at most " + max + " " + why
                    + "; truncated or corrupt file?");
        }
        return v;
    }

    /** A string as a uint64 byte length then UTF-8 bytes (no terminator). */
    String string(String field) throws ModelFormatException {
        long len = count(field + ".length", Math.min(remaining() - 8, Integer.MAX_VALUE - 8),
                "(the bytes left in the file)");
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Reads {@code n} raw bytes (n already checked by the caller against {@link #remaining()}). */
    void bytes(byte[] dst, String field) throws ModelFormatException {
        need(dst.length, field);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, dst, 0, dst.length);
        pos += dst.length;
    }

    /**
     * Bulk-reads {@code n} little-endian values of {@code layout} into {@code dstArray} (a primitive
     * array of the layout's carrier type).
     */
    void values(ValueLayout layout, Object dstArray, int n, String field) throws ModelFormatException {
        long bytes = (long) n * layout.byteSize();
        need(bytes, field);
        MemorySegment.copy(seg, layout.withOrder(ByteOrder.LITTLE_ENDIAN), pos, dstArray, 0, n);
        pos += bytes;
    }

    void seek(long newPos) {
        pos = newPos;
    }
}
