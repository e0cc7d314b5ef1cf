package io.flashlm.nativeabi;

import io.flashlm.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The native compute kernels, typed and bounds-checked: every segment is checked against the sizes
 * the call implies before C runs, so the native code never reads or writes past one; a non-zero
 * native return becomes an exception with the library's text. Argument errors are
 * {@link IllegalArgumentException}s, refusals by the native code {@link IllegalStateException}s.
 *
 * <p>On the per-token path: the checks are O(1) (the native code itself checks row indices in the
 * order arrays, which it can see), nothing is allocated and nothing is boxed. Segments must be
 * native (not heap) and accessible from the calling thread.
 */
public final class Kernels {
    /** The longest row the matrix kernels take (flm_matvec's limit). */
    private static final long MAX_COLS = 1L << 40;
    /** The widest FFN the bundle kernels take, and their longest record. */
    private static final long MAX_DIM = 1L << 30;
    private static final long MAX_RECORD_BYTES = 1L << 40;

    private static final String NO_ENCODER = "it has no encoder (f32, f16, bf16 and q8_0 have)";

    private Kernels() {
    }

    /**
     * Bytes of one row of {@code cols} values of {@code dtype}: flm_row_bytes, computed here without a
     * native call (a test holds the two equal).
     *
     * @throws IllegalArgumentException when cols is not positive or, for a block type, not a whole number of blocks
     */
    public static long rowBytes(DType dtype, long cols) {
        long bytes = rowBytesOrZero(dtype, cols);
        if (bytes == 0) {
            throw new IllegalArgumentException(cols + " columns are not valid for dtype " + dtype + " (positive"
                    + (dtype.blockSize() > 1 ? ", a multiple of " + dtype.blockSize() : "") + ")");
        }
        return bytes;
    }

    /** Whether the kernels use the AVX2/FMA/F16C paths on this CPU. */
    public static boolean simd() {
        return FlashNative.kernelsSimd();
    }

    /** y[r] = W[r, :] . x for every row r of W (rows x cols of dtype); see {@link #matvec(DType, MemorySegment, long, long, MemorySegment, MemorySegment, long, long)}. */
    public static void matvec(DType dtype, MemorySegment w, long rows, long cols, MemorySegment x, MemorySegment y) {
        matvec(dtype, w, rows, cols, x, y, 0, rows);
    }

    /**
     * y[r] = W[r, :] . x for r in [rowBegin, rowEnd): W rows x cols of dtype (row-major, rows
     * adjacent), x cols floats, y rows floats (only the range is written). A row's result depends
     * only on that row and x, so any split of the rows gives the same bits.
     */
    public static void matvec(DType dtype, MemorySegment w, long rows, long cols, MemorySegment x, MemorySegment y,
                              long rowBegin, long rowEnd) {
        long rowBytes = rowBytesOrZero(dtype, cols);
        if (rowBytes == 0 || cols > MAX_COLS || rows < 0 || w.byteSize() < product(rows, rowBytes)
                || x.byteSize() < cols * Float.BYTES || y.byteSize() < product(rows, Float.BYTES)
                || rowBegin < 0 || rowBegin > rowEnd || rowEnd > rows) {
            throw badMatvec(dtype, w, rows, cols, x, y, rowBegin, rowEnd);
        }
        int rc = FlashNative.matvec(dtype.nativeCode(), w, rows, cols, x, y, rowBegin, rowEnd);
        if (rc != 0) {
            throw new IllegalStateException("native matvec failed: " + FlashNative.describe(rc));
        }
    }

    // The messages live apart from the checks, so that the per-call methods stay small enough to inline.
    private static IllegalArgumentException badMatvec(DType dtype, MemorySegment w, long rows, long cols,
                                                      MemorySegment x, MemorySegment y, long rowBegin, long rowEnd) {
        long rowBytes = rowBytesOrZero(dtype, cols);
        if (rowBytes == 0 || cols > MAX_COLS) {
            return new IllegalArgumentException("matvec: " + cols + " columns are not valid for dtype " + dtype);
        }
        if (rows < 0 || w.byteSize() < product(rows, rowBytes)) {
            return new IllegalArgumentException("matvec: weight holds " + w.byteSize() + " bytes, " + rows + " x "
                    + cols + " " + dtype + " needs " + product(rows, rowBytes));
        }
        if (x.byteSize() < cols * Float.BYTES || y.byteSize() < product(rows, Float.BYTES)) {
            return new IllegalArgumentException("matvec: x holds " + x.byteSize() + " bytes (needs " + cols * 4
                    + "), y holds " + y.byteSize() + " (needs " + rows * 4 + ")");
        }
        return new IllegalArgumentException("matvec: rows [" + rowBegin + ", " + rowEnd + ") of " + rows);
    }

    /**
     * The batched product: for each of {@code batch} vectors x_t (cols floats at x + t * cols, token-major)
     * and r in [rowBegin, rowEnd), y[t * rows + r] = W[r, :] . x_t; y holds batch x rows floats (only those
     * entries are written). Each entry is {@link #matvec}'s bit for bit, so batched prefill equals
     * token-at-a-time; the weights are read once per tile of rows for all the tokens.
     */
    public static void matmul(DType dtype, MemorySegment w, long rows, long cols, MemorySegment x, int batch,
                              MemorySegment y, long rowBegin, long rowEnd) {
        long rowBytes = rowBytesOrZero(dtype, cols);
        if (rowBytes == 0 || cols > MAX_COLS || rows < 0 || batch < 0 || w.byteSize() < product(rows, rowBytes)
                || x.byteSize() < product(batch, cols * Float.BYTES)
                || y.byteSize() < product(batch, product(rows, Float.BYTES))
                || rowBegin < 0 || rowBegin > rowEnd || rowEnd > rows) {
            throw badMatmul(dtype, w, rows, cols, x, batch, y, rowBegin, rowEnd);
        }
        int rc = FlashNative.matmul(dtype.nativeCode(), w, rows, cols, x, batch, y, rowBegin, rowEnd);
        if (rc != 0) {
            throw new IllegalStateException("native matmul failed: " + FlashNative.describe(rc));
        }
    }

    private static IllegalArgumentException badMatmul(DType dtype, MemorySegment w, long rows, long cols,
                                                      MemorySegment x, int batch, MemorySegment y, long rowBegin,
                                                      long rowEnd) {
        long rowBytes = rowBytesOrZero(dtype, cols);
        if (rowBytes == 0 || cols > MAX_COLS) {
            return new IllegalArgumentException("matmul: " + cols + " columns are not valid for dtype " + dtype);
        }
        if (rows < 0 || w.byteSize() < product(rows, rowBytes)) {
            return new IllegalArgumentException("matmul: weight holds " + w.byteSize() + " bytes, " + rows + " x "
                    + cols + " " + dtype + " needs " + product(rows, rowBytes));
        }
        if (batch < 0) {
            return new IllegalArgumentException("matmul: batch " + batch + " is negative");
        }
        if (x.byteSize() < product(batch, cols * Float.BYTES) || y.byteSize() < product(batch, product(rows, Float.BYTES))) {
            return new IllegalArgumentException("matmul: x holds " + x.byteSize() + " bytes (needs "
                    + product(batch, cols * Float.BYTES) + " for " + batch + " x " + cols + "), y holds " + y.byteSize()
                    + " (needs " + product(batch, product(rows, Float.BYTES)) + " for " + batch + " x " + rows + ")");
        }
        return new IllegalArgumentException("matmul: rows [" + rowBegin + ", " + rowEnd + ") of " + rows);
    }

    /**
     * The up half of a sparse FFN over bundled neuron records: for i in [begin, end), r = order[i]
     * (or i when order is null), h[r] = act(up_r . x + bias[r]), or act(gate_r . x) * (up_r . x +
     * bias[r]) when gated. {@code rows} holds {@code count} records {@code recordBytes} apart, each
     * [gate |] up | down of dim values, the gate and up rows in rowDtype, the down column in downDtype
     * (each a type {@link #bundleTakes} takes); h and bias (null for none) hold one float per record,
     * x dim floats, order at least {@code end} ints (each a record index, checked by the native code).
     * A row's h depends only on the row, its bias and x: any split of [begin, end) gives the same bits.
     */
    public static void bundleFfnUp(DType rowDtype, DType downDtype, MemorySegment rows, long count, long recordBytes,
                                   long dim, boolean gated, FfnActivation activation, MemorySegment bias,
                                   MemorySegment x, MemorySegment order, long begin, long end, MemorySegment h) {
        checkRecords(rowDtype, downDtype, rows, count, recordBytes, dim, gated);
        long perRecord = product(count, Float.BYTES);
        if (begin < 0 || begin > end || end > count || x.byteSize() < dim * Float.BYTES || h.byteSize() < perRecord
                || (bias != null && bias.byteSize() < perRecord)
                || (order != null && order.byteSize() < product(end, Integer.BYTES))) {
            throw badUp(count, dim, bias, x, order, begin, end, h);
        }
        int rc = FlashNative.bundleFfnUp(rowDtype.nativeCode(), downDtype.nativeCode(), rows, count, recordBytes, dim, gated ? 1 : 0,
                activation.code, bias == null ? MemorySegment.NULL : bias, x,
                order == null ? MemorySegment.NULL : order, begin, end, h);
        if (rc != 0) {
            throw new IllegalStateException("native sparse FFN (up) failed: " + FlashNative.describe(rc));
        }
    }

    /**
     * The down half: for each column j in [colBegin, colEnd), for k = 0 .. n-1 in that order with r =
     * order[k] and h[r] != 0, y[j] = fma(h[r], down_r[j], y[j]). Records as in {@link #bundleFfnUp};
     * order holds at least n ints (record indices, checked by the native code; n at most count), h one
     * float per record, y at least colEnd floats. The result depends only on the sequence of (h, down
     * row), not on the column split.
     */
    public static void bundleFfnDown(DType rowDtype, DType downDtype, MemorySegment rows, long count, long recordBytes,
                                     long dim, boolean gated, MemorySegment h, MemorySegment order, long n,
                                     MemorySegment y, long colBegin, long colEnd) {
        checkRecords(rowDtype, downDtype, rows, count, recordBytes, dim, gated);
        if (n < 0 || n > count || colBegin < 0 || colBegin > colEnd || colEnd > dim
                || order.byteSize() < product(n, Integer.BYTES) || (n > 0 && h.byteSize() < product(count, Float.BYTES))
                || y.byteSize() < colEnd * Float.BYTES) {
            throw badDown(count, dim, h, order, n, y, colBegin, colEnd);
        }
        int rc = FlashNative.bundleFfnDown(rowDtype.nativeCode(), downDtype.nativeCode(), rows, count, recordBytes, dim, gated ? 1 : 0, h, order,
                n, y, colBegin, colEnd);
        if (rc != 0) {
            throw new IllegalStateException("native sparse FFN (down) failed: " + FlashNative.describe(rc));
        }
    }

    /**
     * {@link #bundleFfnUp} for {@code batch} inputs (x: batch vectors of dim floats) over the rows
     * [rowBegin, rowEnd) in place: h (and g, the gate dots' scratch, for a gated FFN; null otherwise) hold
     * batch x count floats, input t's h at t * count. Each input's h has the bits bundleFfnUp gives it.
     */
    public static void bundleFfnUpBatch(DType rowDtype, DType downDtype, MemorySegment rows, long count,
                                        long recordBytes, long dim, boolean gated, FfnActivation activation,
                                        MemorySegment bias, MemorySegment x, int batch, MemorySegment h,
                                        MemorySegment g, long rowBegin, long rowEnd) {
        checkRecords(rowDtype, downDtype, rows, count, recordBytes, dim, gated);
        long perInput = product(count, Float.BYTES);
        if (batch < 0 || rowBegin < 0 || rowBegin > rowEnd || rowEnd > count
                || x.byteSize() < product(batch, dim * Float.BYTES) || h.byteSize() < product(batch, perInput)
                || (gated && (g == null || g.byteSize() < product(batch, perInput)))
                || (bias != null && bias.byteSize() < perInput)) {
            throw new IllegalArgumentException("batched sparse FFN: " + batch + " inputs of " + dim + " over rows ["
                    + rowBegin + ", " + rowEnd + ") of " + count + ": x holds " + x.byteSize() + " bytes, h "
                    + h.byteSize() + ", g " + (g == null ? "none" : g.byteSize()) + ", bias "
                    + (bias == null ? "none" : bias.byteSize()));
        }
        int rc = FlashNative.bundleFfnUpBatch(rowDtype.nativeCode(), downDtype.nativeCode(), rows, count, recordBytes,
                dim, gated ? 1 : 0, activation.code, bias == null ? MemorySegment.NULL : bias, x, batch, h,
                g == null ? MemorySegment.NULL : g, rowBegin, rowEnd);
        if (rc != 0) {
            throw new IllegalStateException("native batched sparse FFN (up) failed: " + FlashNative.describe(rc));
        }
    }

    /**
     * {@link #bundleFfnDown} for {@code batch} inputs: h holds batch x count floats (input t's at t * count), y
     * batch x dim (input t's at t * dim); each input's y gets the bits bundleFfnDown gives it.
     */
    public static void bundleFfnDownBatch(DType rowDtype, DType downDtype, MemorySegment rows, long count,
                                          long recordBytes, long dim, boolean gated, MemorySegment h, int batch,
                                          MemorySegment order, long n, MemorySegment y, long colBegin, long colEnd) {
        checkRecords(rowDtype, downDtype, rows, count, recordBytes, dim, gated);
        if (batch < 0 || n < 0 || n > count || colBegin < 0 || colBegin > colEnd || colEnd > dim
                || order.byteSize() < product(n, Integer.BYTES)
                || (n > 0 && h.byteSize() < product(batch, product(count, Float.BYTES)))
                || y.byteSize() < product(batch, dim * Float.BYTES)) {
            throw new IllegalArgumentException("batched sparse FFN: " + batch + " inputs, " + n + " rows of " + count
                    + ", columns [" + colBegin + ", " + colEnd + ") of " + dim + ": h holds " + h.byteSize()
                    + " bytes, order " + order.byteSize() + ", y " + y.byteSize());
        }
        int rc = FlashNative.bundleFfnDownBatch(rowDtype.nativeCode(), downDtype.nativeCode(), rows, count,
                recordBytes, dim, gated ? 1 : 0, h, batch, order, n, y, colBegin, colEnd);
        if (rc != 0) {
            throw new IllegalStateException("native batched sparse FFN (down) failed: " + FlashNative.describe(rc));
        }
    }

    private static IllegalArgumentException badUp(long count, long dim, MemorySegment bias, MemorySegment x,
                                                  MemorySegment order, long begin, long end, MemorySegment h) {
        if (begin < 0 || begin > end || end > count) {
            return new IllegalArgumentException("sparse FFN: rows [" + begin + ", " + end + ") of " + count);
        }
        return new IllegalArgumentException("sparse FFN: x holds " + x.byteSize() + " bytes (needs " + dim * 4
                + "), h " + h.byteSize() + " and bias " + (bias == null ? "none" : bias.byteSize()) + " (need "
                + count * 4 + "), order " + (order == null ? "none" : order.byteSize()) + " (needs " + end * 4 + ")");
    }

    private static IllegalArgumentException badDown(long count, long dim, MemorySegment h, MemorySegment order, long n,
                                                    MemorySegment y, long colBegin, long colEnd) {
        if (n < 0 || n > count || colBegin < 0 || colBegin > colEnd || colEnd > dim) {
            return new IllegalArgumentException("sparse FFN: " + n + " rows of " + count + ", columns [" + colBegin
                    + ", " + colEnd + ") of " + dim);
        }
        return new IllegalArgumentException("sparse FFN: order holds " + order.byteSize() + " bytes (needs " + n * 4
                + "), h " + h.byteSize() + " (needs " + count * 4 + "), y " + y.byteSize() + " (needs " + colEnd * 4
                + ")");
    }

    /**
     * Whether the bundle kernels take this storage type for rows or down columns: f32, f16 and every
     * block type (q8_0, the 4- and 5-bit blocks, the k-quants); not bf16.
     */
    public static boolean bundleTakes(DType dtype) {
        return dtype != DType.BF16;
    }

    /** Whether the encoder and the synthetic fill produce this type: f32, f16, bf16, q8_0 (no 4- or 5-bit block, no k-quant). */
    public static boolean encodes(DType dtype) {
        return dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16 || dtype == DType.Q8_0;
    }

    /**
     * Encodes n f32 values at src into dtype at dst: f32 copied, f16 and bf16 rounded to nearest
     * even, q8_0 quantized per block of 32 (n a multiple of 32). No 4- or 5-bit block type nor k-quant is encoded.
     */
    public static void encodeF32(DType dtype, MemorySegment src, MemorySegment dst, long n) {
        if (!encodes(dtype) || n < 0 || n % dtype.blockSize() != 0) {
            throw new IllegalArgumentException("cannot encode " + n + " values as " + dtype
                    + (encodes(dtype) ? "" : ": " + NO_ENCODER));
        }
        long bytes = n / dtype.blockSize() * dtype.bytesPerBlock();
        if (src.byteSize() < product(n, Float.BYTES) || dst.byteSize() < bytes) {
            throw new IllegalArgumentException("encoding " + n + " values as " + dtype + ": source holds "
                    + src.byteSize() + " bytes (needs " + n * 4 + "), destination " + dst.byteSize() + " (needs "
                    + bytes + ")");
        }
        int rc = FlashNative.encodeF32(dtype.nativeCode(), src, dst, n);
        if (rc != 0) {
            throw new IllegalStateException("encoding " + n + " values as " + dtype + ": " + FlashNative.describe(rc));
        }
    }

    /**
     * Fills rows x cols seeded pseudo-random values of dtype at dst, row r at dst + r * strideBytes: mean + std
     * * z (z about standard normal) for the types {@link #encodes} takes; for the other block types (the 4- and
     * 5-bit blocks, the k-quants; mean must be 0) random quants under fixed scales, about uniform over
     * [-std sqrt 3, std sqrt 3], weights for speed tests. Row r comes from its own stream, seeded by seed and
     * firstRow + r, so any split of a matrix into calls gives the same bytes.
     */
    public static void synthFill(DType dtype, MemorySegment dst, long rows, long cols, long strideBytes, float mean,
                                 float std, long seed, long firstRow) {
        boolean randomBlocks = !encodes(dtype) && dtype.blockSize() > 1;
        if (cols < 0 || cols % dtype.blockSize() != 0 || rows < 0 || firstRow < 0 || !Float.isFinite(mean)
                || !Float.isFinite(std) || (randomBlocks && (mean != 0f || std < 0f))) {
            throw new IllegalArgumentException("cannot synthesize " + rows + " x " + cols + " values of " + dtype
                    + " from row " + firstRow + " (mean " + mean + ", std " + std + ")"
                    + (randomBlocks ? ": " + dtype + " gets random quants centred on 0 (mean 0, std >= 0), in whole"
                    + " blocks of " + dtype.blockSize() : ""));
        }
        long rowBytes = cols / dtype.blockSize() * dtype.bytesPerBlock();
        long needed = rows == 0 ? 0 : plus(product(rows - 1, strideBytes), rowBytes);
        if (strideBytes < rowBytes || dst.byteSize() < needed) {
            throw new IllegalArgumentException("synthesizing " + rows + " x " + cols + " " + dtype + " rows "
                    + strideBytes + " bytes apart: the destination holds " + dst.byteSize() + " bytes, needs "
                    + needed + " (rows of " + rowBytes + ")");
        }
        int rc = FlashNative.synthFill(dtype.nativeCode(), dst, rows, cols, strideBytes, mean, std, seed, firstRow);
        if (rc != 0) {
            throw new IllegalStateException("flm_synth_fill: " + FlashNative.describe(rc));
        }
    }

    /**
     * Reads every byte of {@code data} once, as fast as one core can (a memory-bandwidth probe), and
     * returns their XOR folded to 64 bits, also stored in the first 8 bytes of {@code checksum}.
     */
    public static long streamRead(MemorySegment data, MemorySegment checksum) {
        if (checksum.byteSize() < Long.BYTES) {
            throw new IllegalArgumentException("the checksum needs 8 bytes, has " + checksum.byteSize());
        }
        int rc = FlashNative.streamRead(data, data.byteSize(), checksum);
        if (rc != 0) {
            throw new IllegalStateException("flm_stream_read failed: " + FlashNative.describe(rc));
        }
        return checksum.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
    }

    /**
     * Advises the kernel to back the 2 MiB-aligned interior of the segment with huge pages. Returns
     * false when the advice was not taken (harmless: the memory works either way).
     */
    public static boolean adviseHugepage(MemorySegment segment) {
        int rc = FlashNative.adviseHugepage(segment, segment.byteSize());
        if (rc < 0) {
            throw new IllegalStateException("flm_advise_hugepage failed: " + FlashNative.describe(rc));
        }
        return rc == 0;
    }

    /** The record geometry shared by the bundle kernels: dtypes, dim, record size and the matrix's size. */
    private static void checkRecords(DType rowDtype, DType downDtype, MemorySegment rows, long count, long recordBytes,
                                     long dim, boolean gated) {
        if (!bundleTakes(rowDtype) || !bundleTakes(downDtype)) { // (no array: this runs per token and allocates nothing)
            throw new IllegalArgumentException("the sparse FFN kernels take f32, f16 and the block types, not "
                    + (bundleTakes(rowDtype) ? downDtype : rowDtype) + " (dense matvec takes every dtype)");
        }
        long rowBytes = dim > MAX_DIM ? 0 : rowBytesOrZero(rowDtype, dim);
        long downBytes = dim > MAX_DIM ? 0 : rowBytesOrZero(downDtype, dim);
        int parts = gated ? 3 : 2;
        long used = (parts - 1) * rowBytes + downBytes;
        if (rowBytes == 0 || downBytes == 0 || recordBytes < used || recordBytes > MAX_RECORD_BYTES) {
            throw new IllegalArgumentException("records of " + recordBytes + " bytes cannot hold " + (parts - 1)
                    + " rows of " + dim + " values of " + rowDtype + " and a down column of " + downDtype);
        }
        if (count < 0 || rows.byteSize() < (count == 0 ? 0 : plus(product(count - 1, recordBytes), used))) {
            throw new IllegalArgumentException("the record matrix holds " + rows.byteSize() + " bytes, too few for "
                    + count + " rows of " + recordBytes);
        }
    }

    /**
     * Bytes of a row of cols values, or 0 when cols is not positive or not a whole number of blocks.
     * Block sizes are powers of two (1, 32, 256): masks and shifts, no division on the per-call path.
     */
    static long rowBytesOrZero(DType dtype, long cols) {
        int block = dtype.blockSize();
        if (cols <= 0 || (cols & (block - 1)) != 0) {
            return 0;
        }
        return (cols >> Integer.numberOfTrailingZeros(block)) * dtype.bytesPerBlock();
    }

    /** a * b for a, b >= 0, saturating at Long.MAX_VALUE (no size can be that large). */
    private static long product(long a, long b) {
        long p = a * b;
        return Math.multiplyHigh(a, b) != 0 || p < 0 ? Long.MAX_VALUE : p;
    }

    private static long plus(long a, long b) {
        return a > Long.MAX_VALUE - b ? Long.MAX_VALUE : a + b;
    }
}
