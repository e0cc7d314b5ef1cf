package io.flashlm.nativeabi;

import io.flashlm.tensor.DType;
import io.flashlm.tensor.QuantBlocks;
import io.flashlm.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The typed kernels compute what they say, and refuse every out-of-bounds segment before C runs. */
class KernelsTest {
    @Test
    void matvecComputesTheRangeAndNothingElse() {
        int rows = 5, cols = 32;
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(3);
            MemorySegment w = arena.allocate(JAVA_FLOAT, (long) rows * cols);
            MemorySegment x = arena.allocate(JAVA_FLOAT, cols);
            MemorySegment y = arena.allocate(JAVA_FLOAT, rows);
            for (int i = 0; i < rows * cols; i++) {
                w.setAtIndex(JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            }
            for (int i = 0; i < cols; i++) {
                x.setAtIndex(JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            }
            y.fill((byte) 0x7f); // a marker the range must leave alone outside [1, 4)
            float marker = y.getAtIndex(JAVA_FLOAT, 0);
            Kernels.matvec(DType.F32, w, rows, cols, x, y, 1, 4);
            assertEquals(Float.floatToRawIntBits(marker), Float.floatToRawIntBits(y.getAtIndex(JAVA_FLOAT, 0)));
            assertEquals(Float.floatToRawIntBits(marker), Float.floatToRawIntBits(y.getAtIndex(JAVA_FLOAT, 4)));
            for (int r = 1; r < 4; r++) {
                double dot = 0;
                for (int c = 0; c < cols; c++) {
                    dot += (double) w.getAtIndex(JAVA_FLOAT, (long) r * cols + c) * x.getAtIndex(JAVA_FLOAT, c);
                }
                assertEquals(dot, y.getAtIndex(JAVA_FLOAT, r), 1e-5, "row " + r);
            }
        }
    }

    /**
     * Every dtype through the native kernels (AVX2 or portable, whichever this machine runs) against the
     * Java decoding (Tensor / QuantBlocks) summed in double: random quants, random f16 scales and mins.
     * A row's terms pass through at most k = cols / 8 + 2 * cols / 32 + 16 roundings (lanes, block scale
     * and min, x sums, the final lane sum, the Java decoding's two), so the bound is k * 2^-24 * S, with S
     * the sum of (|value| + 2 |min|) * |x|, which is at least the sum of (|d q| + |m|) * |x|.
     *
     * <p>Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL and the k-quants dot with x quantized to int8 in blocks of 32 (the native
     * kern_quantize_x: step d = the block's largest |x| / 127 in float, |x - d q| <= d / 2), so their bound
     * adds Q = sum over blocks of d / 2 * sum |value|, and their roundings act on d q, up to |x| + d / 2.
     */
    @Test
    void matvecOfEveryDtypeMatchesTheJavaDecoding() {
        int rows = 11, cols = 512;
        Random rnd = new Random(17);
        for (DType type : DType.values()) {
            try (Arena arena = Arena.ofConfined()) {
                long rowBytes = Kernels.rowBytes(type, cols);
                MemorySegment w = arena.allocate(rows * rowBytes, 64);
                randomWeights(type, w, rnd);
                MemorySegment x = arena.allocate(JAVA_FLOAT, cols);
                float[] xs = new float[cols];
                for (int i = 0; i < cols; i++) {
                    xs[i] = rnd.nextFloat() * 2 - 1;
                    x.setAtIndex(JAVA_FLOAT, i, xs[i]);
                }
                MemorySegment y = arena.allocate(JAVA_FLOAT, rows);
                Kernels.matvec(type, w, rows, cols, x, y);
                Tensor t = Tensor.of("w", type, w, rows, cols);
                boolean int8x = quantizesX(type);
                for (int r = 0; r < rows; r++) {
                    double dot = 0, size = 0, quantization = 0;
                    for (int c = 0; c < cols; c++) {
                        float v = t.getFloat(r, c);
                        float m = min(type, w, r * rowBytes + c / type.blockSize() * type.bytesPerBlock(),
                                c % type.blockSize());
                        double step = int8x ? xStep(xs, c / 32) : 0;
                        dot += (double) v * xs[c];
                        size += (Math.abs(v) + 2.0 * Math.abs(m)) * (Math.abs(xs[c]) + step / 2);
                        quantization += step / 2 * Math.abs(v);
                    }
                    double bound = quantization + (cols / 8 + 2 * cols / 32 + 16) * Math.scalb(size, -24);
                    float got = y.getAtIndex(JAVA_FLOAT, r);
                    assertTrue(Math.abs(got - dot) <= bound, type + " row " + r + ": " + got + " vs " + dot
                            + " (bound " + bound + ")");
                }
                // any split of the rows gives the same bits
                MemorySegment y2 = arena.allocate(JAVA_FLOAT, rows);
                Kernels.matvec(type, w, rows, cols, x, y2, 0, 5);
                Kernels.matvec(type, w, rows, cols, x, y2, 5, 6);
                Kernels.matvec(type, w, rows, cols, x, y2, 6, rows);
                assertArrayEquals(y.toArray(JAVA_INT), y2.toArray(JAVA_INT), type.toString());
            }
        }
    }

    /** The types whose native kernels dot with x quantized to int8. */
    static boolean quantizesX(DType type) {
        return switch (type) {
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, Q6_K, Q4_K, Q5_K, Q3_K, Q2_K, IQ4_XS -> true;
            default -> false;
        };
    }

    /** x's quantization step in block b of 32 values, as the native kern_quantize_x computes it. */
    static double xStep(float[] xs, int b) {
        float amax = 0;
        for (int i = 32 * b; i < 32 * b + 32; i++) {
            amax = Math.max(amax, Math.abs(xs[i]));
        }
        return amax / 127f;
    }

    /**
     * The offsets of a k-quant super-block's f16 scale d and min scale dmin (-1: none), from the format; null
     * for the other types.
     */
    static int[] superBlockScales(DType type) {
        return switch (type) {
            case Q6_K -> new int[] {208, -1};
            case Q4_K, Q5_K -> new int[] {0, 2};
            case Q3_K -> new int[] {108, -1};
            case Q2_K -> new int[] {80, 82};
            case IQ4_XS -> new int[] {0, -1};
            default -> null;
        };
    }

    /** The min added to (legacy blocks) or subtracted from (k-quants) value i of the block at {@code block}. */
    private static float min(DType type, MemorySegment w, long block, int i) {
        return switch (type) {
            case Q4_1, Q5_1 -> QuantBlocks.min(w, block);
            case Q4_K, Q5_K -> { // dmin * the sub-block's 6-bit min, from the 12 bytes after d and dmin
                int j = i / 32;
                int at = (int) block + 4;
                int mj = j < 4 ? w.get(JAVA_BYTE, at + j + 4) & 63
                        : ((w.get(JAVA_BYTE, at + j + 4) & 0xFF) >>> 4) | ((w.get(JAVA_BYTE, at + j) & 0xFF) >>> 6) << 4;
                yield Float.float16ToFloat(w.get(JAVA_SHORT_UNALIGNED, block + 2)) * mj;
            }
            case Q2_K -> Float.float16ToFloat(w.get(JAVA_SHORT_UNALIGNED, block + 82))
                    * ((w.get(JAVA_BYTE, block + i / 16) & 0xFF) >>> 4);
            default -> 0f;
        };
    }

    /** Random values of about +-1 (plain types), or blocks of random quants after random normal f16 scales. */
    private static void randomWeights(DType type, MemorySegment w, Random rnd) {
        byte[] bytes = new byte[(int) w.byteSize()];
        rnd.nextBytes(bytes);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, w, 0, bytes.length);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < w.byteSize() / 4; i++) {
                    w.setAtIndex(JAVA_FLOAT, i, rnd.nextFloat() * 2 - 1);
                }
            }
            case F16 -> {
                for (long i = 0; i < w.byteSize() / 2; i++) {
                    w.set(JAVA_SHORT_UNALIGNED, 2 * i, Float.floatToFloat16(rnd.nextFloat() * 2 - 1));
                }
            }
            case BF16 -> {
                for (long i = 0; i < w.byteSize() / 2; i++) {
                    int bits = Float.floatToRawIntBits(rnd.nextFloat() * 2 - 1);
                    w.set(JAVA_SHORT_UNALIGNED, 2 * i, (short) (bits >>> 16));
                }
            }
            case Q6_K, Q4_K, Q5_K, Q3_K, Q2_K, IQ4_XS -> {
                for (long b = 0; b < w.byteSize(); b += type.bytesPerBlock()) {
                    for (int at : superBlockScales(type)) {
                        if (at >= 0) {
                            float v = (rnd.nextFloat() + 0.01f) * (rnd.nextBoolean() ? 1 : -1) / 256;
                            w.set(JAVA_SHORT_UNALIGNED, b + at, Float.floatToFloat16(v));
                        }
                    }
                }
            }
            default -> {
                int scales = type == DType.Q4_1 || type == DType.Q5_1 ? 2 : 1;
                for (long b = 0; b < w.byteSize(); b += type.bytesPerBlock()) {
                    for (int s = 0; s < scales; s++) {
                        float v = (rnd.nextFloat() + 0.01f) * (rnd.nextBoolean() ? 1 : -1) / 16;
                        w.set(JAVA_SHORT_UNALIGNED, b + 2L * s, Float.floatToFloat16(v));
                    }
                }
            }
        }
    }

    /**
     * The 4- and 5-bit block types and the k-quants: the sparse kernels take them (SparseFfnTest checks
     * their results) but refuse parts that are not whole blocks, naming the type; the encoders refuse them by name.
     */
    @Test
    void encodersRefuseTheLegacyBlocksAndTheSparseKernelsCheckTheirBlocks() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rows = arena.allocate(4 * 256L);
            MemorySegment x = arena.allocate(JAVA_FLOAT, 64);
            MemorySegment h = arena.allocate(JAVA_FLOAT, 4);
            for (DType type : new DType[] {DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.IQ4_NL, DType.Q6_K,
                DType.Q4_K, DType.Q5_K, DType.Q3_K, DType.Q2_K,
                DType.IQ4_XS}) {
                assertTrue(Kernels.bundleTakes(type), type.toString());
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(
                        type, type, rows, 4, 256, 48, false, FfnActivation.RELU, null, x, null, 0, 4, h));
                String message = e.getMessage();
                assertTrue(message.contains(type.toString()), message);
                assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnDown(type, type, rows, 4, 256, 48, false,
                        h, arena.allocate(16), 4, x, 0, 32));
                e = assertThrows(IllegalArgumentException.class, () -> Kernels.encodeF32(type, x, rows, 32));
                assertTrue(e.getMessage().contains(type.toString()) && e.getMessage().contains("no encoder"),
                        e.getMessage());
                // the synthetic filler writes random quants, centred on 0 only
                e = assertThrows(IllegalArgumentException.class, () -> Kernels.synthFill(type, rows, 1, 256, 256, 1f,
                        1f, 1, 0));
                assertTrue(e.getMessage().contains("centred on 0"), e.getMessage());
                Kernels.synthFill(type, rows, 1, 256, 256, 0f, 1f, 1, 0);
                assertFalse(Kernels.encodes(type));
            }
            assertFalse(Kernels.bundleTakes(DType.BF16));
        }
    }

    @Test
    void matvecRefusesEveryBadBound() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(JAVA_FLOAT, 4 * 32);
            MemorySegment x = arena.allocate(JAVA_FLOAT, 32);
            MemorySegment y = arena.allocate(JAVA_FLOAT, 4);
            Kernels.matvec(DType.F32, w, 4, 32, x, y);
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, 5, 32, x, y), "w rows");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, 2, 64, x, y), "x");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F16, w, 8, 32, x, y), "y");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.Q8_0, w, 1, 20, x, y), "q8 cols");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, 4, 0, x, y), "no cols");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, -1, 32, x, y), "rows");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, 4, 32, x, y, 0, 5),
                    "past the last row");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, 4, 32, x, y, -1, 2),
                    "negative first row");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, 4, 32, x, y, 3, 2),
                    "empty range backwards");
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.F32, w, Long.MAX_VALUE / 2, 32,
                    x, y), "an overflowing size");
            assertThrows(IllegalArgumentException.class, () -> Kernels.rowBytes(DType.Q4_0, 31));
            // the k-quants take whole super-blocks of 256 only
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Kernels.rowBytes(DType.Q6_K, 288));
            assertTrue(e.getMessage().contains("256") && e.getMessage().contains("Q6_K"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Kernels.matvec(DType.Q6_K, w, 1, 32, x, y), "q6_k cols");
        }
    }

    @Test
    void bundleKernelsRefuseEveryBadBound() {
        long dim = 32, part = 128, record = 256;
        int count = 4;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rows = arena.allocate(count * record);
            MemorySegment x = arena.allocate(dim * 4);
            MemorySegment y = arena.allocate(dim * 4);
            MemorySegment h = arena.allocate(count * 4L);
            MemorySegment bias = arena.allocate(count * 4L);
            MemorySegment order = arena.allocate(count * 4L);
            for (int i = 0; i < count; i++) {
                order.setAtIndex(JAVA_INT, i, count - 1 - i);
            }
            FfnActivation relu = FfnActivation.RELU;
            Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record, dim, false, relu, bias, x, order, 0, count, h);
            Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record, dim, false, relu, null, x, null, 0, count, h);
            Kernels.bundleFfnDown(DType.F32, DType.F32, rows, count, record, dim, false, h, order, count, y, 0, dim);

            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, 2 * part - 1,
                    dim, false, relu, null, x, order, 0, count, h), "records too short for their parts");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record,
                    dim, true, relu, null, x, order, 0, count, h), "gated records need three parts");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count + 1, record,
                    dim, false, relu, null, x, order, 0, count, h), "more records than the matrix holds");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.BF16, DType.BF16, rows, count, record,
                    dim, false, relu, null, x, order, 0, count, h), "a dtype the kernels do not take");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record,
                    dim, false, relu, null, x.asSlice(4), order, 0, count, h), "x short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record,
                    dim, false, relu, null, x, order, 0, count, h.asSlice(4)), "h short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record,
                    dim, false, relu, bias.asSlice(4), x, order, 0, count, h), "bias short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record,
                    dim, false, relu, null, x, order.asSlice(4), 0, count, h), "order short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record,
                    dim, false, relu, null, x, order, 2, 1, h), "backwards range");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnUp(DType.F32, DType.F32, rows, count, record,
                    dim, false, relu, null, x, order, 0, count + 1, h), "range past the records");

            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnDown(DType.F32, DType.F32, rows, count, record,
                    dim, false, h, order, count + 1, y, 0, dim), "more rows than records");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnDown(DType.F32, DType.F32, rows, count, record,
                    dim, false, h, order.asSlice(4), count, y, 0, dim), "order short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnDown(DType.F32, DType.F32, rows, count, record,
                    dim, false, h.asSlice(4), order, count, y, 0, dim), "h short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnDown(DType.F32, DType.F32, rows, count, record,
                    dim, false, h, order, count, y.asSlice(4), 0, dim), "y short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.bundleFfnDown(DType.F32, DType.F32, rows, count, record,
                    dim, false, h, order, count, y, 0, dim + 1), "columns past dim");

            // an index out of range is the native code's to refuse: it sees the order array, Java does not read it
            order.setAtIndex(JAVA_INT, 0, count);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Kernels.bundleFfnDown(DType.F32, DType.F32,
                    rows, count, record, dim, false, h, order, count, y, 0, dim));
            assertTrue(e.getMessage().contains("down"), e.getMessage());
        }
    }

    @Test
    void encodeAndSynthCheckTheirDestinations() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(JAVA_FLOAT, 64);
            for (int i = 0; i < 64; i++) {
                src.setAtIndex(JAVA_FLOAT, i, i * 0.25f - 3);
            }
            MemorySegment f16 = arena.allocate(128);
            Kernels.encodeF32(DType.F16, src, f16, 64);
            assertEquals(Float.floatToFloat16(-3f), f16.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 0));
            assertThrows(IllegalArgumentException.class, () -> Kernels.encodeF32(DType.F16, src, f16.asSlice(2), 64));
            assertThrows(IllegalArgumentException.class, () -> Kernels.encodeF32(DType.F32, src, arena.allocate(512),
                    65), "source short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.encodeF32(DType.Q8_0, src, f16, 33));
            assertThrows(IllegalArgumentException.class, () -> Kernels.encodeF32(DType.Q4_0, src, f16, 32));

            // rows from their own streams: one call or two give the same bytes
            MemorySegment a = arena.allocate(4 * 80L), b = arena.allocate(4 * 80L);
            Kernels.synthFill(DType.F16, a, 4, 32, 80, 0f, 1f, 42, 0);
            Kernels.synthFill(DType.F16, b, 1, 32, 80, 0f, 1f, 42, 0);
            Kernels.synthFill(DType.F16, b.asSlice(80), 3, 32, 80, 0f, 1f, 42, 1);
            assertArrayEquals(a.toArray(JAVA_INT), b.toArray(JAVA_INT));
            assertThrows(IllegalArgumentException.class, () -> Kernels.synthFill(DType.F16, a, 5, 32, 80, 0f, 1f, 42,
                    0), "destination short");
            assertThrows(IllegalArgumentException.class, () -> Kernels.synthFill(DType.F16, a, 4, 32, 63, 0f, 1f, 42,
                    0), "stride shorter than a row");
            assertThrows(IllegalArgumentException.class, () -> Kernels.synthFill(DType.Q4_0, a, 1, 32, 80, 0.5f, 1f, 42,
                    0), "q4_0 with a mean");
        }
    }

    @Test
    void streamReadAndHugePageAdvice() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zeros = arena.allocate(4 << 20, 2 << 20);
            MemorySegment sum = arena.allocate(8);
            sum.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, -1);
            assertEquals(0, Kernels.streamRead(zeros, sum));
            assertEquals(0, sum.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0));
            assertThrows(IllegalArgumentException.class, () -> Kernels.streamRead(zeros, sum.asSlice(1)));
            Kernels.adviseHugepage(zeros); // taken or not, never an error
            Kernels.simd();
        }
    }
}
