package io.flashlm.kernels;

import io.flashlm.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Splitting a product across threads never changes a bit, and sizes are checked before native code runs. */
class ComputePoolTest {
    @Test
    void parallelSplitGivesTheSameBitsAsOneThread() {
        int rows = 1031, cols = 512; // 2 MiB of f32: above the parallel threshold, rows not a multiple of 2 or 4
        try (Arena arena = Arena.ofShared(); ComputePool one = new ComputePool(1); ComputePool two = new ComputePool(2);
             ComputePool three = new ComputePool(3)) {
            Random rnd = new Random(5);
            MemorySegment w = arena.allocate(JAVA_FLOAT, (long) rows * cols);
            MemorySegment x = arena.allocate(JAVA_FLOAT, cols);
            for (long i = 0; i < (long) rows * cols; i++) {
                w.setAtIndex(JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            }
            for (int i = 0; i < cols; i++) {
                x.setAtIndex(JAVA_FLOAT, i, rnd.nextFloat() - 0.5f);
            }
            float[] expected = run(one, arena, w, x, rows, cols);
            for (int repeat = 0; repeat < 20; repeat++) {
                assertArrayEquals(expected, run(two, arena, w, x, rows, cols), "2 threads, call " + repeat);
                assertArrayEquals(expected, run(three, arena, w, x, rows, cols), "3 threads, call " + repeat);
            }
            double dot0 = 0;
            for (int c = 0; c < cols; c++) {
                dot0 += (double) w.getAtIndex(JAVA_FLOAT, c) * x.getAtIndex(JAVA_FLOAT, c);
            }
            assertTrue(Math.abs(dot0 - expected[0]) < 1e-4, "row 0: " + expected[0] + " vs " + dot0);
        }
    }

    @Test
    void undersizedSegmentsAreRefusedInJava() {
        try (Arena arena = Arena.ofConfined(); ComputePool pool = new ComputePool(1)) {
            MemorySegment w = arena.allocate(JAVA_FLOAT, 16);
            MemorySegment x = arena.allocate(JAVA_FLOAT, 4);
            MemorySegment y = arena.allocate(JAVA_FLOAT, 4);
            assertThrows(IllegalArgumentException.class, () -> pool.matvec(DType.F32, w, 5, 4, x, y));
            assertThrows(IllegalArgumentException.class, () -> pool.matvec(DType.F32, w, 4, 8, x, y));
            assertThrows(IllegalArgumentException.class, () -> pool.matvec(DType.Q8_0, w, 1, 20, x, y));
        }
    }

    private static float[] run(ComputePool pool, Arena arena, MemorySegment w, MemorySegment x, int rows, int cols) {
        MemorySegment y = arena.allocate(JAVA_FLOAT, rows);
        pool.matvec(DType.F32, w, rows, cols, x, y);
        return y.toArray(JAVA_FLOAT);
    }
}
