package io.flashlm.pack;

import io.flashlm.tensor.BFloat16;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Float16;
import io.flashlm.tensor.QuantBlocks;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Part of a tensor row as f32, for any stored dtype (a slice of a row, which Tensor does not offer). */
final class TensorDecoder {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorDecoder() {
    }

    /**
     * Values [col, col + n) of row {@code row} into dst[off, off + n). For block-quantized tensors col
     * must start a block and n must end one or the row.
     */
    static void decode(Tensor t, long row, long col, int n, float[] dst, int off) {
        DType d = t.dtype();
        long base = row * t.rowBytes();
        MemorySegment data = t.data();
        switch (d) {
            case F32 -> MemorySegment.copy(data, F32_LE, base + col * 4, dst, off, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Float16.toFloat(data.get(I16_LE, base + (col + i) * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = BFloat16.toFloat(data.get(I16_LE, base + (col + i) * 2));
                }
            }
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL -> {
                int block = QuantBlocks.BLOCK;
                if (col % block != 0 || (n % block != 0 && col + n != t.rowLength())) {
                    throw new IllegalArgumentException(t.name() + ": columns [" + col + ", " + (col + n)
                            + ") do not start and end on " + d + " blocks");
                }
                for (int b = 0; b < n / block; b++) {
                    QuantBlocks.decodeBlock(d, data, base + (col / block + b) * d.bytesPerBlock(), dst, off + b * block);
                }
            }
        }
    }
}
