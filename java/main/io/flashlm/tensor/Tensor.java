package io.flashlm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named, typed, row-major view of raw little-endian tensor bytes, usually a slice of a mapped model
 * file (nothing is copied onto the heap).
 *
 * <p>Shapes follow the PyTorch / Hugging Face convention: the last dimension is contiguous and, for a
 * Linear weight, {@code shape[0]} is the number of rows = output features and {@code shape[1]} the input
 * features. A "row" is one run of the last dimension; block-quantized types require the last dimension
 * to be a whole number of blocks, so rows never split a block. A tensor of rank 0 is a scalar.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Destination layout of {@link #rowToFloat(long, MemorySegment)}: native order, for native kernels. */
    private static final ValueLayout.OfFloat F32_NATIVE = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;
    private final long elementCount;
    private final long rowLength;
    private final long rowCount;
    private final long rowBytes;

    /**
     * @throws IllegalArgumentException if a dimension is negative, a quantized tensor's last dimension is
     *     not a whole number of blocks, or {@code data} is not exactly the size the shape implies
     */
    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        this.name = Objects.requireNonNull(name, "name");
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = Objects.requireNonNull(shape, "shape").clone();
        this.data = Objects.requireNonNull(data, "data");
        long count = 1;
        long leading = 1;
        for (int i = 0; i < this.shape.length; i++) {
            long d = this.shape[i];
            if (d < 0) {
                throw new IllegalArgumentException(name + ": negative dimension in shape " + Arrays.toString(this.shape));
            }
            count = Math.multiplyExact(count, d);
            if (i < this.shape.length - 1) {
                leading = Math.multiplyExact(leading, d);
            }
        }
        this.elementCount = count;
        this.rowLength = this.shape.length == 0 ? 1 : this.shape[this.shape.length - 1];
        this.rowCount = leading;
        if (dtype.isQuantized() && (this.shape.length == 0 || rowLength % dtype.blockSize() != 0)) {
            throw new IllegalArgumentException(name + ": " + dtype + " needs the last dimension to be a multiple of "
                    + dtype.blockSize() + ", shape " + Arrays.toString(this.shape));
        }
        this.rowBytes = dtype.bytesFor(rowLength);
        long expected = dtype.bytesFor(count);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": " + dtype + " " + Arrays.toString(this.shape) + " needs "
                    + expected + " bytes, data has " + data.byteSize());
        }
    }

    /** A tensor of any type over {@code data}. */
    public static Tensor of(String name, DType dtype, MemorySegment data, long... shape) {
        return new Tensor(name, dtype, shape, data);
    }

    /** An F32 tensor over little-endian {@code data} (not copied). */
    public static Tensor f32(String name, MemorySegment data, long... shape) {
        return new Tensor(name, DType.F32, shape, data);
    }

    /** An F32 tensor holding a little-endian copy of {@code values} on the heap (for tests and small tensors). */
    public static Tensor f32(String name, float[] values, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, 4)]);
        MemorySegment.copy(values, 0, seg, F32_LE, 0, values.length);
        return new Tensor(name, DType.F32, shape, seg);
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the row-major shape. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Dimension {@code i} of the shape. */
    public long dim(int i) {
        return shape[i];
    }

    /** The raw little-endian bytes (a slice of the mapping, read-only when it is). */
    public MemorySegment data() {
        return data;
    }

    public long elementCount() {
        return elementCount;
    }

    public long byteSize() {
        return data.byteSize();
    }

    /** Elements in one row: the last dimension (1 for a scalar). */
    public long rowLength() {
        return rowLength;
    }

    /** Number of rows: the product of all dimensions but the last. */
    public long rowCount() {
        return rowCount;
    }

    /** Bytes in one row. */
    public long rowBytes() {
        return rowBytes;
    }

    /** The raw bytes of row {@code row}. */
    public MemorySegment row(long row) {
        Objects.checkIndex(row, rowCount);
        return data.asSlice(row * rowBytes, rowBytes);
    }

    /**
     * Rows [from, from + count) of a matrix as a matrix of their own, sharing the bytes: a part of a fused
     * projection (Phi-3's qkv and gate_up, Falcon's query_key_value).
     */
    public Tensor rows(String partName, long from, long count) {
        if (shape.length != 2) {
            throw new IllegalArgumentException(name + ": rows of a " + shape.length + "-d tensor; expected a matrix");
        }
        Objects.checkFromIndexSize(from, count, rowCount);
        return new Tensor(partName, dtype, new long[]{count, rowLength}, data.asSlice(from * rowBytes, count * rowBytes));
    }

    /** Matrix {@code index} of a stack of matrices [n, rows, cols] (one expert of a mixture), sharing the bytes. */
    public Tensor matrix(String matrixName, long index) {
        if (shape.length != 3) {
            throw new IllegalArgumentException(name + ": matrix " + index + " of a " + shape.length
                    + "-d tensor; expected a stack [n, rows, cols]");
        }
        Objects.checkIndex(index, shape[0]);
        long bytes = shape[1] * rowBytes;
        return new Tensor(matrixName, dtype, new long[]{shape[1], shape[2]}, data.asSlice(index * bytes, bytes));
    }

    /** Element {@code index} in row-major order, dequantized to f32 (slow path: tests and references). */
    public float getFloat(long index) {
        Objects.checkIndex(index, elementCount);
        return switch (dtype) {
            case F32 -> data.get(F32_LE, index * 4);
            case F16 -> Float16.toFloat(data.get(I16_LE, index * 2));
            case BF16 -> BFloat16.toFloat(data.get(I16_LE, index * 2));
            default -> QuantBlocks.value(dtype, data, (index / dtype.blockSize()) * dtype.bytesPerBlock(),
                    (int) (index % dtype.blockSize()));
        };
    }

    /** Element {@code col} of row {@code row}, dequantized to f32. */
    public float getFloat(long row, long col) {
        Objects.checkIndex(row, rowCount);
        Objects.checkIndex(col, rowLength);
        return getFloat(row * rowLength + col);
    }

    /** Dequantizes row {@code row} into {@code dst[dstIndex .. dstIndex + rowLength())}. */
    public void rowToFloat(long row, float[] dst, int dstIndex) {
        Objects.checkIndex(row, rowCount);
        Objects.checkFromIndexSize(dstIndex, rowLength, dst.length);
        int n = (int) rowLength;
        long base = row * rowBytes;
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32_LE, base, dst, dstIndex, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstIndex + i] = Float16.toFloat(data.get(I16_LE, base + 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstIndex + i] = BFloat16.toFloat(data.get(I16_LE, base + 2L * i));
                }
            }
            default -> {
                int block = dtype.blockSize();
                for (int b = 0; b < n / block; b++) {
                    QuantBlocks.decodeBlock(dtype, data, base + (long) b * dtype.bytesPerBlock(), dst, dstIndex + b * block);
                }
            }
        }
    }

    /**
     * Dequantizes row {@code row} into the first {@code rowLength()} floats of {@code dstF32}, written in
     * native byte order (what native kernels and {@code ValueLayout.JAVA_FLOAT} read).
     */
    public void rowToFloat(long row, MemorySegment dstF32) {
        Objects.checkIndex(row, rowCount);
        if (dstF32.byteSize() < rowLength * 4) {
            throw new IllegalArgumentException(name + ": destination holds " + dstF32.byteSize() + " bytes, a row needs "
                    + rowLength * 4);
        }
        if (dtype == DType.F32) {
            MemorySegment.copy(data, F32_LE, row * rowBytes, dstF32, F32_NATIVE, 0, rowLength);
            return;
        }
        float[] chunk = new float[(int) Math.min(rowLength, 4096)];
        for (long done = 0; done < rowLength; ) {
            int n = (int) Math.min(chunk.length, rowLength - done);
            decodeRun(row * rowLength + done, chunk, n);
            MemorySegment.copy(chunk, 0, dstF32, F32_NATIVE, done * 4, n);
            done += n;
        }
    }

    /** All elements, dequantized, in row-major order. Only for tensors that fit a Java array. */
    public float[] toFloatArray() {
        if (elementCount > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException(name + ": " + elementCount + " elements do not fit a float[]");
        }
        float[] out = new float[(int) elementCount];
        if (rowLength == 0) {
            return out;
        }
        for (long r = 0; r < rowCount; r++) {
            rowToFloat(r, out, (int) (r * rowLength));
        }
        return out;
    }

    // Decodes n elements starting at a block boundary (chunks of 4096 are whole blocks, up to the row's end).
    private void decodeRun(long first, float[] dst, int n) {
        if (dtype.isQuantized()) {
            int size = dtype.blockSize();
            float[] block = new float[size];
            for (int i = 0; i < n; i += size) {
                long blockIndex = (first + i) / size;
                QuantBlocks.decodeBlock(dtype, data, blockIndex * dtype.bytesPerBlock(), block, 0);
                System.arraycopy(block, 0, dst, i, Math.min(size, n - i));
            }
        } else {
            for (int i = 0; i < n; i++) {
                dst[i] = getFloat(first + i);
            }
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + name + ", " + dtype + ", " + Arrays.toString(shape) + ", " + data.byteSize() + " bytes]";
    }
}
