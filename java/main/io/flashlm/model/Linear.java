package io.flashlm.model;

import io.flashlm.kernels.ComputePool;
import io.flashlm.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/** y = W x for a weight tensor [out, in] in any storage type, computed by the native kernels. */
public final class Linear {
    private Linear() {
    }

    public static void apply(ComputePool pool, Tensor w, MemorySegment x, MemorySegment y) {
        pool.matvec(w.dtype(), w.data(), w.rowCount(), w.rowLength(), x, y);
    }

    /**
     * Y = W X for n inputs: x holds n vectors of W's row length one after another, y receives n outputs of
     * W's row count the same way, each bit for bit what {@link #apply} gives.
     */
    public static void applyBatch(ComputePool pool, Tensor w, MemorySegment x, int n, MemorySegment y) {
        pool.matmul(w.dtype(), w.data(), w.rowCount(), w.rowLength(), x, n, y);
    }
}
