package io.flashlm.format;

import io.flashlm.tensor.DType;
import java.util.Arrays;

/**
 * One GGUF tensor info as stored: {@code ne} in GGML order ({@code ne[0]} is the contiguous dimension),
 * the type, and the byte offset from the start of the data section.
 */
public record GgufTensorInfo(String name, long[] ne, DType type, long offset) {
    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /**
     * The row-major shape: {@code ne} reversed, so that a GGUF weight with {@code ne = [in, out]} becomes
     * {@code [out, in]} like the PyTorch Linear weight it was converted from.
     */
    public long[] shape() {
        return GgufFile.rowMajor(ne);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && Arrays.equals(ne, t.ne) && type == t.type
                && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return "GgufTensorInfo[" + name + ", ne=" + Arrays.toString(ne) + ", " + type + ", offset " + offset + "]";
    }
}
