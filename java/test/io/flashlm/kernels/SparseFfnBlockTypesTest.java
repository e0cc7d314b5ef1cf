package io.flashlm.kernels;

import io.flashlm.nativeabi.FfnActivation;
import io.flashlm.nativeabi.Kernels;
import io.flashlm.tensor.DType;
import io.flashlm.tensor.QuantBlocks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The sparse FFN over records whose rows and down columns are GGUF block types (a quantized GGUF's rows
 * kept as stored, its down columns re-quantized), against a dense FFN computed in Java: up and gate by
 * flm_matvec over the same rows, the down columns decoded by the Java decoders ({@link QuantBlocks#value})
 * and accumulated with one {@link Math#fma} per element in neuron order. Bit for bit, so the C decoders of
 * the down columns have the Java decoders' values, on the AVX2 path and the portable one alike; any thread
 * count gives the same bits.
 */
class SparseFfnBlockTypesTest {

    /** Byte offsets of a block's f16 fields (scales and mins): set to sane values, the rest random. */
    private static int[] f16Fields(DType type) {
        return switch (type) {
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            case Q3_K -> new int[] {108};
            case Q2_K -> new int[] {80, 82};
            case Q8_0, Q4_0, Q5_0, IQ4_NL, IQ4_XS -> new int[] {0};
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    /** dim values of type at dst: random quants, f16 scales (and mins) of 2^-8 .. 2^-11 with random mantissas. */
    private static void randomPart(DType type, int dim, MemorySegment dst, Random rnd) {
        long blocks = dim / type.blockSize();
        for (long b = 0; b < blocks; b++) {
            long at = b * type.bytesPerBlock();
            for (int i = 0; i < type.bytesPerBlock(); i++) {
                dst.set(ValueLayout.JAVA_BYTE, at + i, (byte) rnd.nextInt(256));
            }
            for (int f : f16Fields(type)) {
                int e = 15 - 8 - rnd.nextInt(4);
                int bits = e << 10 | rnd.nextInt(1024) | (f == 0 && rnd.nextBoolean() ? 0x8000 : 0);
                dst.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + f, (short) bits);
            }
        }
    }

    @ParameterizedTest(name = "rows {0}, down {1}, gated {2}")
    @CsvSource({
        "Q4_0, Q4_0, false", "Q4_0, Q4_0, true", "Q4_K, Q4_K, true", "Q5_K, Q5_K, true", "Q6_K, Q6_K, true",
        "Q4_K, Q6_K, true", "Q4_K, Q8_0, true", "Q4_1, Q4_1, false", "Q5_0, Q5_0, true", "Q5_1, Q5_1, true",
        "IQ4_NL, IQ4_NL, true", "Q3_K, Q3_K, true", "Q2_K, Q2_K, true", "IQ4_XS, IQ4_XS, true", "F16, Q4_K, true",
        "Q8_0, Q6_K, false"})
    void bitIdenticalToDenseWithTheJavaDecoders(DType rowType, DType downType, boolean gated) {
        int dim = 512, neurons = 37;
        int parts = gated ? 3 : 2;
        long rowBytes = (long) dim / rowType.blockSize() * rowType.bytesPerBlock();
        long downBytes = (long) dim / downType.blockSize() * downType.bytesPerBlock();
        long record = (parts - 1) * rowBytes + downBytes + 10; // some padding
        Random rnd = new Random(rowType.ordinal() * 31L + downType.ordinal() + (gated ? 7 : 0));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment records = arena.allocate(record * neurons, 64);
            MemorySegment gate = arena.allocate(rowBytes * neurons), up = arena.allocate(rowBytes * neurons);
            MemorySegment scratch = arena.allocate(dim * 4L);
            for (int n = 0; n < neurons; n++) {
                for (int p = 0; p < parts; p++) {
                    boolean down = p == parts - 1;
                    DType type = down ? downType : rowType;
                    MemorySegment part = records.asSlice(n * record + p * rowBytes, down ? downBytes : rowBytes);
                    if (type == DType.F16) {
                        for (int j = 0; j < dim; j++) {
                            scratch.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) (rnd.nextGaussian() / 16));
                        }
                        Kernels.encodeF32(type, scratch, part, dim);
                    } else {
                        randomPart(type, dim, part, rnd);
                    }
                    if (!down) {
                        MemorySegment.copy(part, 0, gated && p == 0 ? gate : up, n * rowBytes, rowBytes);
                    }
                }
            }
            MemorySegment x = arena.allocate(dim * 4L);
            for (int j = 0; j < dim; j++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, j, (float) rnd.nextGaussian());
            }
            MemorySegment bias = arena.allocate(neurons * 4L);
            for (int n = 0; n < neurons; n++) {
                bias.setAtIndex(ValueLayout.JAVA_FLOAT, n, (float) (rnd.nextGaussian() * 0.1));
            }
            // ReLU only: SiLU's exp is libm's in C and Math.exp in Java, which may differ in the last bit
            for (FfnActivation act : new FfnActivation[] {FfnActivation.RELU}) {
                float[] expected = dense(rowType, downType, gated, act, records, record, rowBytes, gate, up, bias, x,
                        dim, neurons, arena);
                int[] order = new int[neurons];
                for (int n = 0; n < neurons; n++) {
                    order[n] = n;
                }
                for (int threads = 1; threads <= 3; threads++) {
                    MemorySegment y = arena.allocate(dim * 4L);
                    try (SparseFfn ffn = new SparseFfn(threads, neurons, 0, arena)) {
                        ffn.compute(rowType, downType, records, neurons, record, dim, gated, act, bias, order, neurons,
                                x, y);
                    }
                    float[] got = y.toArray(ValueLayout.JAVA_FLOAT);
                    for (int j = 0; j < dim; j++) {
                        assertEquals(Float.floatToRawIntBits(expected[j]), Float.floatToRawIntBits(got[j]),
                                rowType + "/" + downType + " " + act + " " + threads + " threads, element " + j + ": "
                                        + got[j] + " vs " + expected[j]);
                    }
                }
            }
        }
    }

    private static float[] dense(DType rowType, DType downType, boolean gated, FfnActivation act, MemorySegment records,
                                 long record, long rowBytes, MemorySegment gate, MemorySegment up, MemorySegment bias,
                                 MemorySegment x, int dim, int neurons, Arena arena) {
        MemorySegment u = arena.allocate(neurons * 4L), g = arena.allocate(neurons * 4L);
        Kernels.matvec(rowType, up, neurons, dim, x, u);
        if (gated) {
            Kernels.matvec(rowType, gate, neurons, dim, x, g);
        }
        float[] y = new float[dim];
        long downAt = (gated ? 2 : 1) * rowBytes;
        for (int n = 0; n < neurons; n++) {
            float uu = u.getAtIndex(ValueLayout.JAVA_FLOAT, n) + bias.getAtIndex(ValueLayout.JAVA_FLOAT, n);
            float h = gated ? activate(act, g.getAtIndex(ValueLayout.JAVA_FLOAT, n)) * uu : activate(act, uu);
            if (h == 0f) {
                continue;
            }
            long base = n * record + downAt;
            for (int j = 0; j < dim; j++) {
                long block = base + (long) (j / downType.blockSize()) * downType.bytesPerBlock();
                float w = downType == DType.F16
                        ? Float.float16ToFloat(records.get(ValueLayout.JAVA_SHORT_UNALIGNED, base + 2L * j))
                        : QuantBlocks.value(downType, records, block, j % downType.blockSize());
                y[j] = Math.fma(h, w, y[j]);
            }
        }
        return y;
    }

    private static float activate(FfnActivation act, float v) {
        return act == FfnActivation.RELU ? Math.max(v, 0f) : (float) (v / (1.0 + Math.exp(-(double) v)));
    }
}
