package io.flashlm.format;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** A little-endian byte sink for writing model files by hand in tests. */
final class LeBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    LeBytes u8(int v) {
        out.write(v);
        return this;
    }

    LeBytes u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    LeBytes u32(int v) {
        return u16(v).u16(v >>> 16);
    }

    LeBytes u64(long v) {
        return u32((int) v).u32((int) (v >>> 32));
    }

    LeBytes f32(float v) {
        return u32(Float.floatToRawIntBits(v));
    }

    LeBytes f64(double v) {
        return u64(Double.doubleToRawLongBits(v));
    }

    /** A GGUF string: uint64 length then UTF-8 bytes. */
    LeBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(b.length);
        return bytes(b);
    }

    LeBytes bytes(byte[] b) {
        out.write(b, 0, b.length);
        return this;
    }

    /** Zero bytes up to a multiple of {@code alignment}. */
    LeBytes pad(int alignment) {
        while (out.size() % alignment != 0) {
            out.write(0);
        }
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    static byte[] f32s(float... v) {
        LeBytes b = new LeBytes();
        for (float x : v) {
            b.f32(x);
        }
        return b.toByteArray();
    }
}
