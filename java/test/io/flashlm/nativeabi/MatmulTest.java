package io.flashlm.nativeabi;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batched product: each y[t * rows + r] is matvec's y[r] for x_t bit for bit (assertArrayEquals on
 * floats compares bits via Float.floatToIntBits), through Kernels and through ComputePool with 1 and 2
 * threads; the size checks refuse what would read or write past a segment.
 */
class MatmulTest {
    /** matvec, token by token, over [rowBegin, rowEnd); other entries keep y's fill. */
    private static float[] byMatvec(Arena arena, DType type, MemorySegment w, int rows, int cols, MemorySegment x,
                                    int batch, long rowBegin, long rowEnd) {
        MemorySegment y = filled(arena, (long) batch * rows);
        for (int t = 0; t < batch; t++) {
            Kernels.matvec(type, w, rows, cols, x.asSlice((long) t * cols * 4, (long) cols * 4),
                    y.asSlice((long) t * rows * 4, (long) rows * 4), rowBegin, rowEnd);
        }
        return y.toArray(JAVA_FLOAT);
    }

    private static MemorySegment filled(Arena arena, long n) {
        MemorySegment y = arena.allocate(JAVA_FLOAT, n);
        for (long i = 0; i < n; i++) {
            y.setAtIndex(JAVA_FLOAT, i, -3f - i);
        }
        return y;
    }

    private static MemorySegment weights(Arena arena, DType type, int rows, int cols) {
        long rowBytes = Kernels.rowBytes(type, cols);
        MemorySegment w = arena.allocate((long) rows * rowBytes, 64);
        boolean plain = Kernels.encodes(type);
        Kernels.synthFill(type, w, rows, cols, rowBytes, plain ? 0.01f : 0f, 0.5f, 7 + type.ordinal(), 0);
        return w;
    }

    private static MemorySegment tokens(Arena arena, int batch, int cols, Random rnd) {
        MemorySegment x = arena.allocate(JAVA_FLOAT, (long) batch * cols);
        for (long i = 0; i < (long) batch * cols; i++) {
            x.setAtIndex(JAVA_FLOAT, i, rnd.nextFloat() * 2 - 1);
        }
        return x;
    }

    @Test
    void everyDtypeGivesMatvecsBitsPerToken() {
        Random rnd = new Random(13);
        try (Arena arena = Arena.ofConfined()) {
            for (DType type : DType.values()) {
                int cols = type.blockSize() == 256 ? 512 : 96 * Math.max(1, type.blockSize() / 32 * 4 / 3);
                cols = cols / type.blockSize() * type.blockSize();
                int rows = 23;
                MemorySegment w = weights(arena, type, rows, cols);
                for (int batch : new int[] {1, 2, 5, 9}) {
                    MemorySegment x = tokens(arena, batch, cols, rnd);
                    float[] expected = byMatvec(arena, type, w, rows, cols, x, batch, 2, 21);
                    MemorySegment y = filled(arena, (long) batch * rows);
                    Kernels.matmul(type, w, rows, cols, x, batch, y, 2, 21);
                    assertArrayEquals(expected, y.toArray(JAVA_FLOAT), type + " batch " + batch);
                }
            }
        }
    }

    @Test
    void computePoolSplitsTheRowsWithTheSameBits() {
        int rows = 1031, cols = 512, batch = 6; // 2 MiB of f32: above the pool's parallel threshold
        Random rnd = new Random(21);
        try (Arena arena = Arena.ofShared(); ComputePool one = new ComputePool(1); ComputePool two = new ComputePool(2)) {
            for (DType type : new DType[] {DType.F32, DType.F16, DType.Q8_0, DType.Q4_K}) {
                MemorySegment w = weights(arena, type, rows, cols);
                MemorySegment x = tokens(arena, batch, cols, rnd);
                float[] expected = byMatvec(arena, type, w, rows, cols, x, batch, 0, rows);
                for (ComputePool pool : new ComputePool[] {one, two}) {
                    MemorySegment y = filled(arena, (long) batch * rows);
                    pool.matmul(type, w, rows, cols, x, batch, y);
                    assertArrayEquals(expected, y.toArray(JAVA_FLOAT), type + ", " + pool.threads() + " threads");
                }
                MemorySegment y1 = filled(arena, rows);
                two.matmul(type, w, rows, cols, x, 1, y1);
                float[] first = new float[rows];
                System.arraycopy(expected, 0, first, 0, rows);
                assertArrayEquals(first, y1.toArray(JAVA_FLOAT), type + ", batch 1");
            }
        }
    }

    @Test
    void matmulRefusesEveryBadBound() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate(JAVA_FLOAT, 4 * 32);
            MemorySegment x = arena.allocate(JAVA_FLOAT, 3 * 32);
            MemorySegment y = arena.allocate(JAVA_FLOAT, 3 * 4);
            Kernels.matmul(DType.F32, w, 4, 32, x, 3, y, 0, 4);
            Kernels.matmul(DType.F32, w, 4, 32, x, 0, y, 0, 4);
            assertBad("x holds", () -> Kernels.matmul(DType.F32, w, 4, 32, x, 4, y, 0, 4));
            assertBad("y holds", () -> Kernels.matmul(DType.F32, w, 4, 16, x, 4, y, 0, 4));
            assertBad("weight holds", () -> Kernels.matmul(DType.F32, w, 5, 32, x, 2, y, 0, 5));
            assertBad("negative", () -> Kernels.matmul(DType.F32, w, 4, 32, x, -1, y, 0, 4));
            assertBad("columns", () -> Kernels.matmul(DType.Q8_0, w, 1, 20, x, 1, y, 0, 1));
            assertBad("columns", () -> Kernels.matmul(DType.F32, w, 4, 0, x, 1, y, 0, 4));
            assertBad("rows [", () -> Kernels.matmul(DType.F32, w, 4, 32, x, 3, y, 0, 5));
            assertBad("rows [", () -> Kernels.matmul(DType.F32, w, 4, 32, x, 3, y, -1, 2));
            assertBad("rows [", () -> Kernels.matmul(DType.F32, w, 4, 32, x, 3, y, 3, 2));
            assertBad("weight holds", () -> Kernels.matmul(DType.F32, w, -1, 32, x, 3, y, 0, 0));
            assertBad("weight holds", () -> Kernels.matmul(DType.F32, w, Long.MAX_VALUE / 2, 32, x, 3, y, 0, 1));
            assertBad("x holds", () -> Kernels.matmul(DType.F32, w, 0, 1L << 39, x, Integer.MAX_VALUE, y, 0, 0));
            try (ComputePool pool = new ComputePool(2)) {
                assertThrows(IllegalArgumentException.class, () -> pool.matmul(DType.F32, w, 4, 32, x, 4, y));
                assertThrows(IllegalArgumentException.class, () -> pool.matmul(DType.F32, w, 5, 32, x, 2, y));
            }
        }
    }

    private static void assertBad(String fragment, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage() + " should say " + fragment);
        assertEquals(true, e.getMessage().startsWith("matmul: "), e.getMessage());
    }
}
