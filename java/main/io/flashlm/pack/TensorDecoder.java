package io.flashlm.pack;

import io.flashlm.tensor.BFloat16;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.Float16;
import io.flashlm.tensor.QuantBlocks;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/** Part of a tensor row as f32, for any stored dtype (a slice of a row, which Tensor does not offer). */
final class TensorDecoder {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorDecoder() {
    }

    /**
     * Values [col, col + n) of row {@code row} into dst[off, off + n), anywhere in the row (for block-quantized
     * tensors the blocks the range cuts through are decoded whole).
     */
    static void decode(Tensor t, long row, long col, int n, float[] dst, int off) {
        Objects.checkFromIndexSize(col, n, t.rowLength());
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
            default -> {
                // whole blocks straight into dst; a block the range cuts through goes through a scratch block
                int block = d.blockSize();
                float[] scratch = null;
                for (long c = col; c < col + n; ) {
                    long first = c / block * block;
                    int from = (int) (c - first), count = (int) Math.min(block - from, col + n - c);
                    long at = base + first / block * d.bytesPerBlock();
                    if (count == block) {
                        QuantBlocks.decodeBlock(d, data, at, dst, off + (int) (c - col));
                    } else {
                        scratch = scratch != null ? scratch : new float[block];
                        QuantBlocks.decodeBlock(d, data, at, scratch, 0);
                        System.arraycopy(scratch, from, dst, off + (int) (c - col), count);
                    }
                    c += count;
                }
            }
        }
    }
}
